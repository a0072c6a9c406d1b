"""DataLoader: a dataset, cut into batches of Tensors (as torch.utils.data.DataLoader).

Each ``iter(loader)`` visits every sample once, in order or (shuffle=True) in a fresh
permutation from `generator` or the engine's (``manual_seed``); the last, smaller batch
is kept unless drop_last=True.  A `sampler` (DistributedSampler, or any iterable of indices with
a length) gives the order instead.  An array-backed dataset (``arrays()``) is batched by one
fancy index per field on `device` (copied there once), any other sample by sample.  A
batch is a tuple of Tensors, one per sample field (one Tensor for non-tuple samples);
integer fields become int64, as cross_entropy expects.
"""
import numpy as np

from .. import backend
from ..random import get_rng
from ..ops.loss import vouch_range
from ..tensor import Tensor


class DataLoader:
    """DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, device=None,
    sampler=None)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, device=None,
                 sampler=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be an integer >= 1, got {batch_size!r}")
        for flag, value in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"DataLoader: {flag} must be True or False, got {value!r}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator or None, "
                            f"got {type(generator).__name__}")
        if sampler is not None:
            if not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
                raise TypeError(f"DataLoader: sampler must define __iter__ and __len__, got {type(sampler).__name__}")
            if shuffle:
                raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.generator = dataset, int(batch_size), generator
        self.sampler = sampler
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.device = backend.normalize_device(device)
        if self.device == "cuda":
            backend.require_cuda()      # fail here, with the reason, not at the first batch
        self._on_device = None          # (the dataset's arrays, the same on self.device)

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64, count=-1)
        else:
            rng = self.generator if self.generator is not None else get_rng()
            order = rng.permutation(n) if self.shuffle else np.arange(n)
        in_order = self.sampler is None and not self.shuffle     # batches are plain slices
        arrays, ranges = self._device_arrays() if hasattr(self.dataset, "arrays") else (None, None)
        if arrays is not None and not in_order:    # the order goes to the arrays' device once per epoch
            order = backend.get_array_module(arrays[0]).asarray(order)
        batches = len(self) if self.sampler is None or len(order) == len(self.sampler) else (
            len(order) // self.batch_size if self.drop_last else -(-len(order) // self.batch_size))
        for start in range(0, batches * self.batch_size, self.batch_size):
            index = order[start:start + self.batch_size]
            if arrays is None:
                fields = _collate([self.dataset[int(i)] for i in index])
            elif in_order:
                fields = tuple(a[start:start + self.batch_size].copy() for a in arrays)   # never a view
            else:
                fields = tuple(a[index] for a in arrays)
            yield self._to_tensors(fields, ranges)

    def _device_arrays(self):
        """(the dataset's arrays on self.device, the value range of each integer one), uploaded and
        measured again only when the dataset gives other arrays (a Subset keeps giving the same)."""
        arrays = tuple(self.dataset.arrays())
        if (self._on_device is None or len(arrays) != len(self._on_device[0])
                or any(a is not b for a, b in zip(self._on_device[0], arrays))):
            self._on_device = (arrays, tuple(backend.to_device(a, self.device) for a in arrays),
                               tuple(_value_range(a) for a in arrays))
        return self._on_device[1:]

    def _to_tensors(self, fields, ranges=None):
        single = not isinstance(fields, tuple)
        fields = (fields,) if single else fields
        if ranges is None:        # batch by batch, on the host before the upload: a cheap min/max
            ranges = tuple(_value_range(a) for a in fields)
        out = []
        for a, bounds in zip(fields, ranges):
            tensor = Tensor(backend.to_device(a.astype(np.int64, copy=False) if a.dtype.kind in "iu" else a,
                                              self.device))
            # the labels' bounds, known on the host: cross_entropy checks the targets against its
            # classes from them instead of reading the GPU every step (ops/loss.py, vouch_range)
            out.append(tensor if bounds is None else vouch_range(tensor, *bounds))
        return out[0] if single else tuple(out)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, {'' if self.sampler is None else 'sampler, '}drop_last={self.drop_last}, {len(self)} batches)")


def _value_range(array):
    """(min, max) of an integer array (labels), or None for other arrays and empty ones.  Read once
    per dataset for arrays the loader keeps (one read even if they already live on the GPU)."""
    if array.dtype.kind not in "iu" or array.size == 0:
        return None
    return int(array.min()), int(array.max())


def _collate(samples):
    """Stack per-sample fields into batch arrays: a tuple per field for tuple samples."""
    if not isinstance(samples[0], (tuple, list)):
        return _stack(samples, 0)
    if any(len(s) != len(samples[0]) for s in samples):
        raise ValueError("DataLoader: samples of one batch have different numbers of fields")
    return tuple(_stack([s[k] for s in samples], k) for k in range(len(samples[0])))


def _stack(values, field):
    try:    # Tensors, CuPy or NumPy arrays and scalars, Python numbers -> one NumPy array
        return np.stack([backend.to_numpy(v.data if isinstance(v, Tensor) else v) for v in values])
    except ValueError as exc:
        raise ValueError(f"DataLoader: cannot stack field {field} of a batch "
                         f"(samples of different shapes?): {exc}") from None
