"""The process group under --distributed: joining it, the few collectives the CLI needs beyond
DistributedDataParallel's gradient all-reduce, and the ranks' agreement before each step."""
import math
import os
import sys
import time

import numpy as np

from .. import Tensor, backend
from .errors import Agreed, Stop, UsageError


class _Group:
    """The CLI's view of the process group: its rank and size and the few collectives the CLI
    needs beyond DistributedDataParallel's gradient all-reduce.  Every call here is collective:
    all ranks make the same calls in the same order, or the ones ahead wait forever."""

    def __init__(self, dist):
        self.dist, self.rank, self.size = dist, dist.get_rank(), dist.get_world_size()
        self.stderr = sys.stderr    # the real one: a rank other than 0 writes here only what it alone saw

    def _reduce(self, values, op):
        numbers = Tensor(np.asarray(values, dtype=np.float64))
        self.dist.all_reduce(numbers, op)
        return numbers.array.tolist()

    def sum(self, values):
        return self._reduce(values, self.dist.ReduceOp.SUM)

    def max_code(self, code):
        """The largest of every rank's `code` (0 = go on)."""
        return int(self._reduce([code], self.dist.ReduceOp.MAX)[0])

    def broadcast_int(self, value):
        number = Tensor(np.asarray([value], dtype=np.float64))
        self.dist.broadcast(number, src=0)
        return int(number.array[0])

    def broadcast_text(self, text):
        """Rank 0's `text` on every rank (the bytes travel as float64: exact, and any backend has it)."""
        raw = text.encode() if self.rank == 0 else b""
        length = self.broadcast_int(len(raw))
        data = Tensor(np.frombuffer(raw, dtype=np.uint8).astype(np.float64) if self.rank == 0 else np.zeros(length))
        self.dist.broadcast(data, src=0)
        return bytes(data.array.astype(np.uint8).tolist()).decode()

    def agree(self, step):
        """step() on every rank; when it raises UsageError on any rank, all stop with status 2 (Agreed),
        the message said once: by rank 0, or else by a rank that saw it."""
        try:
            result, failure = step(), None
        except UsageError as exc:
            result, failure = None, exc
        failed, rank0_failed = self.sum([failure is not None, failure is not None and self.rank == 0])
        if failed:
            if failure is not None and (self.rank == 0 or not rank0_failed):
                print(f"error: {'' if self.rank == 0 else f'rank {self.rank}: '}{failure}", file=self.stderr)
            raise Agreed(2)
        return result

    def abort(self, status):
        """End every rank now (MPI_Abort): for a failure on some ranks only, which would leave the
        others waiting in a collective forever."""
        self.stderr.flush()
        # mpiexec forwards each rank's output through a pipe and stops reading it once the abort
        # lands, so the message just flushed was sometimes lost (seen once in CI); give it a moment.
        time.sleep(0.5)
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(status)


def _join_group():
    """init_process_group("mpi") -> a _Group; UsageError when mpi4py is missing.  Ranks other than 0
    print nothing from here on (their stdout and stderr go to os.devnull)."""
    from .. import distributed as dist
    try:
        dist.init_process_group(backend="mpi")
    except (ImportError, RuntimeError) as exc:
        if isinstance(exc, ImportError) or "pip install" in str(exc):
            raise UsageError('--distributed needs mpi4py and an MPI library: pip install ".[distributed]"') from None
        raise UsageError(f"--distributed: {exc}") from None
    group = _Group(dist)
    if group.rank != 0:
        sys.stdout = sys.stderr = open(os.devnull, "w")
    return group


def _mpiexec_world_size():
    """How many processes the launching mpiexec started (MPICH's, Open MPI's or Intel MPI's
    environment), without importing mpi4py; 1 when none did."""
    from .. import distributed as dist
    if not dist.launched_by_mpiexec():
        return 1
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def _warn_if_alone_under_mpiexec(args):
    """mpiexec -n N without --distributed: N independent runs of the whole data, all writing to the
    same folder.  Warned once (rank 0), not refused: it is a legal, if rarely meant, thing to do."""
    size = _mpiexec_world_size()
    if args.distributed or size <= 1 or os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")) != "0":
        return
    print(f"warning: launched by mpiexec with {size} processes but without --distributed: every rank "
          f"trains alone on all the data and they all write to {args.out}; add --distributed to train one "
          f"model on their shards", file=sys.stderr)


def _distribute(args, model, train_set):
    """(DistributedDataParallel(model), a loader of this rank's shard, reshuffled by set_epoch)."""
    from ..data import DataLoader, DistributedSampler
    from ..distributed import DistributedDataParallel
    sampler = DistributedSampler(train_set, num_replicas=args.group.size, rank=args.group.rank,
                                 shuffle=True, seed=args.seed)
    return DistributedDataParallel(model), DataLoader(train_set, batch_size=args.batch_size,
                                                      sampler=sampler).to(args.device)


def _agree_on_step(group, loss, ctrl_c, reader):
    """Before a backward under --distributed: every rank takes this step or none does.  A rank that
    stopped alone (a NaN loss, a Ctrl-C) would leave the others waiting in the gradients' all-reduce
    forever, so each step costs one more all-reduce of one number: the largest of every rank's
    0 (go on), 1 (Ctrl-C) or 2 (non-finite loss).  On a stop this batch is not counted."""
    finite = math.isfinite(float(backend.to_numpy(loss)))
    code = group.max_code(0 if finite and not ctrl_c.requested else 1 if finite else 2)
    if code == 0:
        return
    if not finite:
        reader.read()           # raises Stop naming this batch
    reader.drop_last()
    reader.read()
    if code == 2:
        raise Stop(f"the loss became non-finite on another rank at batch {reader.position['batches'] + 1}")
    raise Stop("interrupted")
