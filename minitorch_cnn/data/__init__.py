"""Datasets and loaders: what feeds a training step.

    dataset.py        Dataset, IterableDataset, TensorDataset, ConcatDataset, ChainDataset, Subset,
                      random_split, ImageDataset (a split in memory)
    loader.py         DataLoader (torch's): samplers, collation, worker processes
    collate.py        default_collate, default_convert
    sampler.py        Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler,
                      WeightedRandomSampler, BatchSampler
    worker.py         the worker processes' loop, get_worker_info
    distributed.py    DistributedSampler: each rank's shard of one shared permutation
    transforms.py     ToFloat, Normalize, Compose (vectorised over whole splits)
    idx.py            the IDX file format of MNIST-style data
    download.py       mirrors, MD5 checks, failing fast offline
    mnist.py          MNIST, FashionMNIST (files on disk, Debian's copy, or downloaded)
    bundled.py        BundledDigits: 5,000 real MNIST digits shipped in the package
    torchvision_datasets.py   torchvision datasets as array-backed datasets (optional)
    registry.py       load_dataset(name, ...), resolve_default_dataset(root)
"""
from .bundled import BundledDigits
from .collate import default_collate, default_convert
from .dataset import (ChainDataset, ConcatDataset, Dataset, ImageDataset, IterableDataset, Subset, TensorDataset,
                      random_split)
from .distributed import DistributedSampler
from .download import ChecksumError, DatasetNotFoundError
from .idx import read_idx, write_idx
from .loader import DataLoader
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)
from .worker import get_worker_info
from .mnist import MNIST, FashionMNIST
from .registry import DATASET_NAMES, load_dataset, resolve_default_dataset
from .torchvision_datasets import TorchvisionDataset
from .transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD, Compose, Normalize, ToFloat

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "Subset", "random_split",
    "ImageDataset", "DataLoader", "DistributedSampler", "default_collate", "default_convert", "get_worker_info",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
    "ToFloat", "Normalize", "Compose", "MNIST_MEAN", "MNIST_STD", "FASHION_MNIST_MEAN", "FASHION_MNIST_STD",
    "MNIST", "FashionMNIST", "BundledDigits", "TorchvisionDataset",
    "DatasetNotFoundError", "ChecksumError", "read_idx", "write_idx",
    "load_dataset", "resolve_default_dataset", "DATASET_NAMES",
]
