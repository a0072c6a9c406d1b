"""Samplers: the order in which a DataLoader visits a dataset (torch.utils.data's samplers).

A sampler is an iterable of dataset indices with a length; BatchSampler groups one into lists of
`batch_size` indices.  The DataLoader builds SequentialSampler (shuffle=False) or RandomSampler
(shuffle=True) wrapped in a BatchSampler unless given its own.  Random ones draw from their
`generator` (an mt.Generator, or a numpy.random.Generator) or, without one, from the engine's
generator (mt.manual_seed), once per pass: the same seed gives the same orders, not torch's numbers.
"""
import itertools

import numpy as np

from ..generator import numpy_generator
from ..tensor import Tensor


class Sampler:
    """Base class: subclasses define __iter__ (indices) and, usually, __len__."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation of the indices each pass; with replacement=True, `num_samples` indices
    drawn uniformly with replacement.  Without replacement, num_samples > len(data_source) chains
    whole permutations and then part of one, as torch."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        if isinstance(self.num_samples, bool) or not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")
        numpy_generator(generator, "RandomSampler")      # a wrong type refused now, not at the first pass

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        return iter(self.order().tolist())

    def order(self):
        """This pass's indices as one int64 array (what __iter__ yields), drawn now."""
        n, rng = len(self.data_source), numpy_generator(self.generator, "RandomSampler")
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples, dtype=np.int64)
        whole, part = divmod(self.num_samples, n)
        passes = [rng.permutation(n) for _ in range(whole)] + ([rng.permutation(n)[:part]] if part else [])
        return np.concatenate(passes)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a fresh random order each pass."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = indices, generator
        numpy_generator(generator, "SubsetRandomSampler")

    def __iter__(self):
        for i in numpy_generator(self.generator, "SubsetRandomSampler").permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices in [0, len(weights)) drawn with probability weights[i] / sum(weights)
    (torch.multinomial's rule); replacement=False never draws an index twice in one pass."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        array = np.asarray(weights.array if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(array.shape)}")
        self.weights = Tensor(array)
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator
        numpy_generator(generator, "WeightedRandomSampler")

    def __iter__(self):
        weights = np.asarray(self.weights.array)
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise RuntimeError("WeightedRandomSampler: weights must be finite and >= 0 (torch.multinomial's rule)")
        if weights.sum() <= 0:
            raise RuntimeError("WeightedRandomSampler: the weights sum to zero; invalid multinomial distribution")
        if not self.replacement and self.num_samples > np.count_nonzero(weights):
            raise RuntimeError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without "
                               f"replacement from {np.count_nonzero(weights)} non-zero weights")
        rng = numpy_generator(self.generator, "WeightedRandomSampler")
        drawn = rng.choice(len(weights), size=self.num_samples, replace=self.replacement, p=weights / weights.sum())
        return iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of `batch_size` consecutive indices of `sampler`; the last, shorter one kept unless
    drop_last=True."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        while True:
            batch = list(itertools.islice(indices, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class _InfiniteConstantSampler(Sampler):
    """None forever: the 'index' of each next sample of an IterableDataset."""

    def __iter__(self):
        return itertools.repeat(None)
