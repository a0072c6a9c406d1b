"""Datasets: indexable collections of samples (as torch.utils.data), and the array-backed fast path.

A map-style Dataset has ``__getitem__(i) -> sample`` (usually ``(x, y)``) and ``__len__``; an
IterableDataset has ``__iter__`` instead.  ``a + b`` concatenates (ConcatDataset, or ChainDataset
for iterable ones).  One that holds its split in memory also offers ``arrays()``: one array per
sample field, sample i being row i of each, so the DataLoader gathers a batch with one fancy index
per field instead of a Python loop.  TensorDataset, ImageDataset (the base of MNIST and friends) and
a Subset of either do.
"""
import bisect
import math
import warnings

import numpy as np

from ..creation import tensor as make_tensor
from ..generator import default_generator, numpy_generator
from ..tensor import Tensor
from .transforms import default_transform


class Dataset:
    """Base class: subclasses define __getitem__ and usually __len__ (torch.utils.data.Dataset)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of datasets read as a stream: subclasses define __iter__.  With DataLoader workers
    each worker iterates its own copy; split the stream with get_worker_info() to avoid duplicates."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


def _check_index(index, n, who):
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"{who}: index {index} out of range for {n} samples")
    return index % n


def _as_tensor(data):
    """A Tensor as it is, an array as a Tensor over its memory, anything else through mt.tensor."""
    if isinstance(data, Tensor):
        return data
    if hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
        if getattr(data, "dtype", np.dtype("f")).kind not in "biuf":
            raise TypeError(f"TensorDataset: expected arrays of numbers, got dtype {data.dtype}")
        return Tensor(data if hasattr(data, "shape") else np.asarray(data))
    return make_tensor(data)


class TensorDataset(Dataset):
    """TensorDataset(*tensors): sample i is (t[i] for t in tensors), a tuple of Tensors.

    The Tensors are kept as given (NumPy arrays are wrapped without a copy); every one needs the
    same first dimension.  An index may be an int, a slice or a list of indices: each Tensor is
    indexed with it, as torch's."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        self.tensors = tuple(_as_tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            raise ValueError("TensorDataset: tensors must have a first (sample) dimension, got a 0-d tensor")
        sizes = [t.shape[0] for t in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: Size mismatch between tensors: every tensor needs the same "
                             f"first dimension, got sizes {sizes}")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.array
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            index = _check_index(index, len(self), "TensorDataset")
        return tuple(_row(t, index) for t in self.tensors)

    def arrays(self):
        return tuple(t.array for t in self.tensors)


def _row(tensor, index):
    """tensor[index]; without a graph when none is needed (a dataset read sample by sample)."""
    if tensor.requires_grad:
        return tensor[index]
    if isinstance(index, list):
        index = np.asarray(index, dtype=np.int64)
    return Tensor(tensor.array[index])


class ConcatDataset(Dataset):
    """The samples of each dataset in turn; `cumulative_sizes[k]` is where dataset k ends."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if isinstance(index, slice) or hasattr(index, "__len__"):
            raise TypeError(f"ConcatDataset: index must be an int, got {type(index).__name__}")
        index = _check_index(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """The streams of several IterableDatasets, one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(dataset).__name__}")
            yield from dataset

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (array-backed when `dataset` is).
    `indices` is kept as given, as torch's."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices
        rows = np.asarray(indices.array if isinstance(indices, Tensor) else indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if rows.size and (rows.min() < -n or rows.max() >= n):
            raise IndexError(f"Subset: indices must lie in [-{n}, {n}) for a dataset of {n} samples")
        self._rows = rows % max(n, 1)
        self._cache = None        # (the dataset's arrays, this subset's rows of them)
        if hasattr(dataset, "arrays"):
            self.arrays = self._arrays

    def __len__(self):
        return int(self._rows.size)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[int(self._rows[_check_index(i, len(self), "Subset")]) for i in index]]
        return self.dataset[int(self._rows[_check_index(index, len(self), "Subset")])]

    def __getitems__(self, indices):
        """The samples at `indices` (the DataLoader's batched read), through the dataset's own
        __getitems__ where it has one."""
        rows = [int(self._rows[_check_index(i, len(self), "Subset")]) for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(rows)
        return [self.dataset[row] for row in rows]

    def _arrays(self):
        """The subset's rows of the dataset's arrays, gathered again only when the dataset hands out
        other arrays: the same arrays each call, so that a DataLoader on the GPU (which keeps the
        uploaded copy while its dataset's arrays stay the same objects) uploads them once, not
        every epoch.  Writing into the dataset's arrays in place is not seen: make new ones."""
        source = tuple(self.dataset.arrays())
        if (self._cache is None or len(source) != len(self._cache[0])
                or any(a is not b for a, b in zip(self._cache[0], source))):
            self._cache = (source, tuple(a[self._rows] for a in source))
        return self._cache[1]


def random_split(dataset, lengths, generator=default_generator):
    """Subsets of one random permutation of `dataset`, of the given lengths (as torch's).

    `lengths` are counts summing to len(dataset), or fractions summing to 1 (each
    floored, the remainder handed out one by one from the first; an empty split warns as
    torch's).  The permutation comes from `generator`: an mt.Generator (by default the engine's,
    mt.manual_seed's) or a numpy Generator; each Subset's indices are a list of ints.
    """
    n, lengths = len(dataset), list(lengths)
    rng = numpy_generator(generator, "random_split")
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:      # fractions
        if not all(0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = counts
    if not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in lengths):
        raise TypeError(f"random_split: lengths must be integers or fractions summing to 1, got {lengths}")
    if min(lengths, default=0) < 0 or sum(lengths) != n:
        raise ValueError(f"random_split: expected counts >= 0 summing to the dataset's {n} samples, "
                         f"got {lengths}")
    order = rng.permutation(n).tolist()
    ends = np.cumsum(lengths, dtype=np.int64).tolist()
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
