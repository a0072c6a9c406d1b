"""DistributedSampler: each rank's shard of one permutation shared by all ranks
(torch.utils.data.distributed.DistributedSampler's semantics).

Every rank draws the same permutation (from seed + epoch, so call set_epoch(epoch) before each
epoch for a fresh one), pads it by repeating its first indices until its length divides by the
number of ranks (or, drop_last=True, cuts the tail), and keeps indices[rank::num_replicas]:
the shards are disjoint (up to the padding) and together cover the epoch, with equal lengths,
so every rank runs the same number of steps.  The permutation is NumPy's
(default_rng(seed + epoch)), not torch's randperm: the same seed gives other orders than torch.
"""
import math

import numpy as np


class DistributedSampler:
    """DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        from .. import distributed as dist    # the process group's state, no mpi4py import
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset must define __len__, got {type(dataset).__name__}")
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
                raise TypeError(f"DistributedSampler: {name} must be an int, got {type(value).__name__}")
        if num_replicas is None:
            num_replicas = dist.get_world_size()
        if rank is None:
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                indices = np.concatenate([indices, np.resize(indices, padding)])   # repeats from the start
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """The next __iter__ draws the permutation of seed + epoch (the same on every rank)."""
        self.epoch = epoch

    def __repr__(self):
        return (f"DistributedSampler(rank {self.rank} of {self.num_replicas}, {self.num_samples} samples, "
                f"shuffle={self.shuffle}, seed={self.seed}, epoch={self.epoch}, drop_last={self.drop_last})")
