"""DataLoader: a dataset, cut into batches of Tensors.

Each epoch (each ``iter(loader)``) visits every sample exactly once, in order or
in a fresh random permutation (shuffle=True) drawn from `generator` or, by
default, from the engine's generator (`minitorch_cnn.random.get_rng()`), so
``manual_seed(s)`` makes the batches reproducible.  The last, smaller batch is
kept unless drop_last=True.

Batching.  An array-backed dataset (one with ``arrays()``, see dataset.py) is
batched by fancy indexing its arrays with the batch's indices: one gather per
field, no Python loop per sample.  Any other dataset is read one sample at a
time and each field is stacked with ``np.stack``.

Each batch is a tuple of Tensors, one per sample field (``x, y`` for the image
datasets), or a single Tensor when samples are not tuples.  Integer fields
become int64 (the label dtype cross_entropy expects); floating fields keep
their dtype.  With device='cuda' the batches are CuPy-backed; for an
array-backed dataset the whole split is copied to the GPU once and batches are
gathered there.
"""
import numpy as np

from .. import backend
from ..random import get_rng
from ..tensor import Tensor


class DataLoader:
    """DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, device=None)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None, device=None):
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
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.device = backend.normalize_device(device)
        if self.device == "cuda":
            backend.require_cuda()      # fail here, with the reason, not at the first batch
        self._on_device = None      # (source arrays, the same arrays on self.device)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = None
        if self.shuffle:
            rng = self.generator if self.generator is not None else get_rng()
            order = rng.permutation(n)
        arrays = self._arrays()
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            if arrays is not None:
                fields = self._gather(arrays, order, start, end)
            else:
                indices = range(start, end) if order is None else order[start:end]
                fields = self._collate([self.dataset[int(i)] for i in indices])
            yield self._to_tensors(fields)

    # ---- the two batching paths -------------------------------------------
    def _arrays(self):
        """The dataset's arrays on self.device, or None for a per-sample dataset."""
        if not hasattr(self.dataset, "arrays"):
            return None
        arrays = tuple(self.dataset.arrays())
        if self._on_device is None or any(a is not b for a, b in zip(self._on_device[0], arrays)):
            moved = tuple(backend.to_device(a, self.device) for a in arrays)
            self._on_device = (arrays, moved)
        return self._on_device[1]

    @staticmethod
    def _gather(arrays, order, start, end):
        if order is None:
            return tuple(a[start:end].copy() for a in arrays)    # a copy: batches never alias the dataset
        index = order[start:end]
        xp = backend.get_array_module(arrays[0])
        if xp is not np:
            index = xp.asarray(index)
        return tuple(a[index] for a in arrays)

    def _collate(self, samples):
        first = samples[0]
        if isinstance(first, (tuple, list)):
            if any(len(s) != len(first) for s in samples):
                raise ValueError("DataLoader: samples of one batch have different numbers of fields")
            return tuple(self._stack([s[k] for s in samples], k) for k in range(len(first)))
        return self._stack(samples, 0)

    def _stack(self, values, field):
        try:
            # Tensors, CuPy arrays, NumPy arrays and scalars, Python numbers -> one NumPy array
            return np.stack([backend.to_numpy(v.data if isinstance(v, Tensor) else v) for v in values])
        except ValueError as exc:
            raise ValueError(f"DataLoader: cannot stack field {field} of a batch "
                             f"(samples of different shapes?): {exc}") from None

    def _to_tensors(self, fields):
        single = not isinstance(fields, tuple)
        out = []
        for a in ((fields,) if single else fields):
            if a.dtype.kind in "iu" and a.dtype != np.int64:
                a = a.astype(np.int64)
            out.append(Tensor(backend.to_device(a, self.device)))
        return out[0] if single else tuple(out)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, {len(self)} batches)")
