"""Datasets and loaders: what feeds a training step.

    dataset.py        Dataset, TensorDataset, Subset, random_split, ImageDataset (a split in memory)
    loader.py         DataLoader: batches of Tensors, shuffled under the engine's seed
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
from .dataset import Dataset, ImageDataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .download import ChecksumError, DatasetNotFoundError
from .idx import read_idx, write_idx
from .loader import DataLoader
from .mnist import MNIST, FashionMNIST
from .registry import DATASET_NAMES, load_dataset, resolve_default_dataset
from .torchvision_datasets import TorchvisionDataset
from .transforms import FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD, Compose, Normalize, ToFloat

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "ImageDataset", "DataLoader", "DistributedSampler",
    "ToFloat", "Normalize", "Compose", "MNIST_MEAN", "MNIST_STD", "FASHION_MNIST_MEAN", "FASHION_MNIST_STD",
    "MNIST", "FashionMNIST", "BundledDigits", "TorchvisionDataset",
    "DatasetNotFoundError", "ChecksumError", "read_idx", "write_idx",
    "load_dataset", "resolve_default_dataset", "DATASET_NAMES",
]
