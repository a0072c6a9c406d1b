"""Datasets: indexable collections of samples, and the array-backed fast path.

A Dataset is anything with ``__len__`` and ``__getitem__(i) -> sample`` (a sample
is usually an ``(x, y)`` tuple).  A dataset that holds its whole split in memory
can also offer ``arrays() -> tuple of arrays`` (one per sample field, each with
len(dataset) rows, sample i being row i of each); the DataLoader then forms a
batch with one fancy-indexing call per field instead of a Python loop over
``__getitem__``.  TensorDataset, ImageDataset (the base of MNIST and friends)
and Subset of those do.
"""
import numpy as np

from ..tensor import Tensor
from .transforms import default_transform


def _as_array(a):
    """A NumPy/CuPy array from an array, a Tensor or a sequence."""
    if isinstance(a, Tensor):
        return a.data                                # its array, uncopied
    return a if hasattr(a, "shape") and hasattr(a, "dtype") else np.asarray(a)


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
    return index % n if n else index


class TensorDataset(Dataset):
    """Samples are the rows of arrays (or Tensors) sharing their first dimension: (a[i], b[i], ...)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        self.tensors = tuple(_as_array(a) for a in arrays)
        for a in self.tensors:
            if a.ndim == 0:
                raise ValueError("TensorDataset: arrays must have a first (sample) dimension, got a 0-d array")
        sizes = [int(a.shape[0]) for a in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: every array needs the same first dimension, got sizes {sizes}")

    def __len__(self):
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index):
        index = _check_index(index, len(self), "TensorDataset")
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
        if hasattr(dataset, "arrays"):
            self.arrays = self._arrays

    def __len__(self):
        return int(self.indices.size)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[_check_index(index, len(self), "Subset")])]

    def _arrays(self):
        return tuple(a[self.indices] for a in self.dataset.arrays())


class ImageDataset(Dataset):
    """An image-classification split held in memory: raw images and integer labels.

    data      the stored images, uint8 (N, H, W) for greyscale or (N, C, H, W)
    targets   int64 labels (N,)
    classes   the class names, label i naming classes[i]

    ``dataset[i]`` is ``(transform(data[i]), int(targets[i]))``.  The default
    transform scales to [0, 1] float32 (1, H, W) and normalises with `mean`/`std`
    (see `normalize`); a custom `transform` replaces it and receives the raw
    uint8 image.  ``arrays()`` returns the whole split transformed, computed once
    and cached (until the transform is replaced): in one vectorised call for
    batched transforms, otherwise one sample at a time.
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
        self.data = images
        self.targets = labels.astype(np.int64, copy=False)
        if classes is None:
            classes = [str(c) for c in range(int(self.targets.max(initial=-1)) + 1)]
        self.classes = list(classes)
        self.mean, self.std = mean, std
        if transform is None:
            transform = default_transform(mean, std, normalize, add_channel=images.ndim == 3)
        self.transform = transform
        self.target_transform = target_transform
        self._cache = None

    def __len__(self):
        return int(self.targets.shape[0])

    def __getitem__(self, index):
        index = _check_index(index, len(self), type(self).__name__)
        x = self.data[index]
        y = int(self.targets[index])
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def arrays(self):
        """(images, labels) of the whole split, transformed; cached after the first call."""
        key = (self.transform, self.target_transform)
        if self._cache is None or any(a is not b for a, b in zip(self._cache[0], key)):
            if self.transform is None:
                x = self.data
            elif getattr(self.transform, "batched", False):
                x = self.transform(self.data)
            else:
                x = np.stack([np.asarray(self.transform(img)) for img in self.data]) if len(self) else self.data
            y = self.targets
            if self.target_transform is not None:
                y = np.asarray([self.target_transform(int(t)) for t in self.targets])
            self._cache = (key, (x, y))
        return self._cache[1]

    def class_counts(self):
        """How many samples each class has, as a list indexed by label."""
        return np.bincount(self.targets, minlength=len(self.classes)).tolist()

    def __repr__(self):
        return (f"{type(self).__name__}({len(self)} samples, images {tuple(self.data.shape[1:])} "
                f"{self.data.dtype}, {len(self.classes)} classes, transform={self.transform!r})")
