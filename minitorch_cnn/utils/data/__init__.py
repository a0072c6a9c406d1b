"""torch.utils.data under its torch name: the DataLoader, datasets, samplers and collation of
minitorch_cnn.data (so `from minitorch_cnn.utils.data import DataLoader` reads as in torch).

Submodules as torch's: `.dataloader`, `.dataset`, `.sampler`, `.distributed`."""
from ...data.collate import default_collate, default_convert
from ...data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset,
                             random_split)
from ...data.distributed import DistributedSampler
from ...data.loader import DataLoader
from ...data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                             WeightedRandomSampler)
from ...data.worker import get_worker_info
from . import dataloader, dataset, distributed, sampler  # noqa: F401  (torch's submodule paths)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
    "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler",
    "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
    "random_split",
]
