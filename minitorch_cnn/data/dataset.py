"""Datasets: indexable collections of samples (as torch.utils.data), and the array-backed fast path.

A Dataset has ``__len__`` and ``__getitem__(i) -> sample`` (usually ``(x, y)``).
One that holds its split in memory also offers ``arrays()``: one array per sample
field, sample i being row i of each, so the DataLoader gathers a batch with one
fancy index per field instead of a Python loop.  TensorDataset, ImageDataset
(the base of MNIST and friends) and a Subset of either do.
"""
import math

import numpy as np

from ..random import get_rng
from ..tensor import Tensor
from .transforms import default_transform


class Dataset:
    """Base class: subclasses define __len__ and __getitem__ (like torch.utils.data.Dataset)."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _check_index(index, n, who):
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"{who}: index {index} out of range for {n} samples")
    return index % n


class TensorDataset(Dataset):
    """Samples are the rows of arrays (or Tensors) sharing their first dimension: (a[i], b[i], ...)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.tensors = tuple(a.data if isinstance(a, Tensor) else a if hasattr(a, "dtype") else np.asarray(a)
                             for a in arrays)
        if any(a.ndim == 0 for a in self.tensors):
            raise ValueError("TensorDataset: arrays must have a first (sample) dimension, got a 0-d array")
        sizes = [int(a.shape[0]) for a in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: every array needs the same first dimension, got sizes {sizes}")

    def __len__(self):
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index):
        # a slice selects rows of every array, as torch's TensorDataset (whose tensors slice so)
        index = index if isinstance(index, slice) else _check_index(index, len(self), "TensorDataset")
        return tuple(a[index] for a in self.tensors)

    def arrays(self):
        return self.tensors


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (array-backed when `dataset` is)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of {n} samples")
        self.indices %= max(n, 1)
        self._cache = None        # (the dataset's arrays, this subset's rows of them)
        if hasattr(dataset, "arrays"):
            self.arrays = self._arrays

    def __len__(self):
        return int(self.indices.size)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[_check_index(index, len(self), "Subset")])]

    def _arrays(self):
        """The subset's rows of the dataset's arrays, gathered again only when the dataset hands out
        other arrays: the same arrays each call, so that a DataLoader on the GPU (which keeps the
        uploaded copy while its dataset's arrays stay the same objects) uploads them once, not
        every epoch.  Writing into the dataset's arrays in place is not seen: make new ones."""
        source = tuple(self.dataset.arrays())
        if (self._cache is None or len(source) != len(self._cache[0])
                or any(a is not b for a, b in zip(self._cache[0], source))):
            self._cache = (source, tuple(a[self.indices] for a in source))
        return self._cache[1]


def random_split(dataset, lengths, generator=None):
    """Subsets of one random permutation of `dataset`, of the given lengths (as torch's).

    `lengths` are counts summing to len(dataset), or fractions summing to 1 (each
    floored, the remainder handed out one by one from the first).  The permutation
    comes from `generator` (a numpy Generator) or the engine's (see manual_seed).
    """
    n, lengths = len(dataset), list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:      # fractions
        if not all(0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in lengths):
        raise TypeError(f"random_split: lengths must be integers or fractions summing to 1, got {lengths}")
    if min(lengths, default=0) < 0 or sum(lengths) != n:
        raise ValueError(f"random_split: expected counts >= 0 summing to the dataset's {n} samples, "
                         f"got {lengths}")
    order = (generator if generator is not None else get_rng()).permutation(n)
    ends = np.cumsum(lengths, dtype=np.int64)
    return [Subset(dataset, order[end - k:end]) for k, end in zip(lengths, ends)]


class ImageDataset(Dataset):
    """An image-classification split in memory: `data` uint8 (N, H, W) or (N, C, H, W),
    `targets` int64 (N,), `classes` naming each label.

    ``dataset[i]`` is ``(transform(data[i]), int(targets[i]))``; the default transform is
    ToFloat then Normalize(mean, std) (see default_transform for `normalize`), a custom one
    gets the raw uint8 image.  ``arrays()`` is the whole split transformed, cached.
    """

    def __init__(self, images, labels, transform=None, target_transform=None, normalize=True,
                 mean=0.5, std=0.5, classes=None):
        images, labels = np.asarray(images), np.asarray(labels)
        name = type(self).__name__
        if images.ndim not in (3, 4):
            raise ValueError(f"{name}: images must be (N, H, W) or (N, C, H, W), got {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(f"{name}: expected {images.shape[0]} labels (N,), got shape {labels.shape}")
        if labels.dtype.kind not in "iu":
            raise TypeError(f"{name}: labels must be integers, got {labels.dtype}")
        self.data, self.targets = images, labels.astype(np.int64, copy=False)
        self.classes = list(classes if classes is not None else
                            map(str, range(int(self.targets.max(initial=-1)) + 1)))
        self.mean, self.std = mean, std
        self.transform = (default_transform(mean, std, normalize, add_channel=images.ndim == 3)
                          if transform is None else transform)
        self.target_transform = target_transform
        self._cache = (None, None)      # ((transform, target_transform), arrays)

    def __len__(self):
        return int(self.targets.shape[0])

    def __getitem__(self, index):
        index = _check_index(index, len(self), type(self).__name__)
        x, y = self.data[index], int(self.targets[index])
        return (x if self.transform is None else self.transform(x),
                y if self.target_transform is None else self.target_transform(y))

    def arrays(self):
        """(images, labels) of the whole split, transformed; cached after the first call."""
        key = (self.transform, self.target_transform)
        if self._cache[0] is None or any(a is not b for a, b in zip(self._cache[0], key)):
            x, y = self.data, self.targets
            if getattr(self.transform, "batched", False):
                x = self.transform(x)
            elif self.transform is not None and len(self):
                x = np.stack([np.asarray(self.transform(img)) for img in x])
            if self.target_transform is not None:
                y = np.asarray([self.target_transform(int(t)) for t in y])
            self._cache = (key, (x, y))
        return self._cache[1]

    def class_counts(self):
        """How many samples each class has, as a list indexed by label."""
        return np.bincount(self.targets, minlength=len(self.classes)).tolist()

    def __repr__(self):
        return (f"{type(self).__name__}({len(self)} samples, images {tuple(self.data.shape[1:])} "
                f"{self.data.dtype}, {len(self.classes)} classes, transform={self.transform!r})")
