"""Data parallelism across processes on MPI, with torch.distributed's names.

    mpiexec -n 2 python train.py        # each rank: init_process_group(); model = DistributedDataParallel(model)

One process group (MPI's COMM_WORLD: the ranks `mpiexec -n N` starts, on one machine or on
the hosts of a hostfile), and collectives on Tensors done in place on `tensor.array`:

    init_process_group(backend="mpi")     "nccl": the same group, with CuPy arrays reduced by NCCL
    get_rank(), get_world_size(), barrier(), all_reduce(t, op), broadcast(t, src), destroy_process_group()
    DistributedDataParallel(module)       gradients averaged over ranks by the end of loss.backward()

mpi4py is imported by `init_process_group` only (``pip install ".[distributed]"`` brings mpi4py
and the mpich wheel with its `mpiexec`), so importing this module costs nothing without it.
Under MPI the buffers are NumPy arrays; a CuPy array goes through a host copy (the mpich wheel is
not CUDA-aware) unless the group was made with backend="nccl", where all_reduce (and so DDP's
gradient buckets) runs on NCCL; broadcast and barrier stay on MPI with host copies.  The NCCL
path is kept small and is untested here (no GPU in CI).
"""
import contextlib
import os
import weakref

import numpy as np

from . import autograd, backend
from .nn.module import Module
from .tensor import Tensor

__all__ = ["init_process_group", "is_initialized", "get_rank", "get_world_size", "barrier",
           "all_reduce", "broadcast", "destroy_process_group", "ReduceOp", "launched_by_mpiexec",
           "DistributedDataParallel"]

INSTALL_HINT = 'install mpi4py and mpich with pip install ".[distributed]"'


class ReduceOp:
    """What all_reduce combines the ranks' values with (torch.distributed.ReduceOp)."""
    SUM, AVG, MAX, MIN = "sum", "avg", "max", "min"


class _NotInitializedError(ValueError, RuntimeError):
    """torch 2.13 raises ValueError here; RuntimeError too, so either `except` catches it."""


class _Group:
    def __init__(self, comm, backend_name, nccl_comm=None):
        self.comm, self.backend, self.nccl_comm = comm, backend_name, nccl_comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()


_group = None


def _mpi():
    try:
        from mpi4py import MPI     # importing it initializes MPI (a singleton without mpiexec)
    except ImportError:
        raise RuntimeError(f"init_process_group: mpi4py is not installed; {INSTALL_HINT}.") from None
    return MPI


def _require_group(name):
    if _group is None:
        raise _NotInitializedError(f"{name}: Default process group has not been initialized, "
                                   f"please make sure to call init_process_group.")
    return _group


def launched_by_mpiexec():
    """True when an MPI launcher started this process (its environment names a rank or a size:
    MPICH/Hydra's PMI_*, PMIx, Open MPI's OMPI_COMM_WORLD_*, MVAPICH's MV2_*), read without
    importing mpi4py."""
    names = ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_SIZE",
             "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK")
    return any(name in os.environ for name in names)


def init_process_group(backend="mpi"):
    """Join the group of every rank mpiexec started (one rank when run without mpiexec).

    backend="mpi": collectives through MPI on host arrays.  backend="nccl": the same ranks, each
    on GPU (local rank mod the GPU count), reducing CuPy arrays with cupy.cuda.nccl; the NCCL id
    travels over MPI, so mpi4py is needed either way.
    """
    global _group
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"init_process_group: backend must be 'mpi' or 'nccl', got {backend!r}")
    if _group is not None:
        raise RuntimeError("init_process_group: trying to initialize the default process group twice!")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    nccl_comm = _nccl_communicator(comm) if backend == "nccl" else None
    _group = _Group(comm, backend, nccl_comm)


def _nccl_communicator(comm):
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError:
        raise RuntimeError("init_process_group: backend='nccl' needs CuPy built with NCCL "
                           "(pip install \".[cuda12]\"); use backend='mpi'") from None
    local_rank = int(os.environ.get("MPI_LOCALRANKID", os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", comm.Get_rank())))
    cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount()).use()
    unique_id = comm.bcast(nccl.get_unique_id() if comm.Get_rank() == 0 else None, root=0)
    return nccl.NcclCommunicator(comm.Get_size(), unique_id, comm.Get_rank())


def is_initialized():
    return _group is not None


def get_rank():
    return _require_group("get_rank").rank


def get_world_size():
    return _require_group("get_world_size").size


def barrier():
    _require_group("barrier").comm.Barrier()


def destroy_process_group():
    """Leave the group (MPI itself is finalized by mpi4py at exit, so a new group may follow)."""
    global _group
    _require_group("destroy_process_group")
    _group = None


def _check_tensor(name, tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")


def all_reduce(tensor, op=ReduceOp.SUM):
    """Replace `tensor`'s values, on every rank, by op over the ranks' values (in place)."""
    group = _require_group("all_reduce")
    _check_tensor("all_reduce", tensor)
    if op not in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.MAX, ReduceOp.MIN):
        raise ValueError(f"all_reduce: op must be a ReduceOp (SUM, AVG, MAX, MIN), got {op!r}")
    if op == ReduceOp.AVG and tensor.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating point tensor, got {tensor.dtype}")
    if tensor.dtype.kind == "c" and op in (ReduceOp.MAX, ReduceOp.MIN):
        raise ValueError(f"all_reduce does not support {op.upper()} on complex tensors")
    if tensor.dtype == np.bool_:
        # MPI has no reductions on bool: as bytes, SUM saturates to True (logical or), as torch's
        _all_reduce_array(group, tensor.array.view(np.uint8), ReduceOp.MIN if op == ReduceOp.MIN else ReduceOp.MAX)
    else:
        _all_reduce_array(group, tensor.array, ReduceOp.SUM if op == ReduceOp.AVG else op)
    if op == ReduceOp.AVG:
        tensor.array /= group.size
    tensor._version_counter.value += 1


def _all_reduce_array(group, array, op):
    """In-place op-reduction of `array` over the ranks (array is NumPy or CuPy, any layout)."""
    if group.nccl_comm is not None and backend.device_of(array) == "cuda":
        _nccl_all_reduce(group.nccl_comm, array, op)
        return
    MPI = _mpi()
    mpi_op = {ReduceOp.SUM: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN}[op]
    host = backend.to_numpy(array)
    # MPI needs one contiguous buffer: reduce a copy when the array is a strided view or on the GPU
    buffer = host if host is array and host.flags.c_contiguous else np.ascontiguousarray(host).copy()
    if buffer.size:
        group.comm.Allreduce(MPI.IN_PLACE, buffer, op=mpi_op)
    if buffer is not array:
        array[...] = backend.to_device(buffer, backend.device_of(array))


def _nccl_all_reduce(comm, array, op):
    import cupy
    from cupy.cuda import nccl
    buffer = array if array.flags.c_contiguous else cupy.ascontiguousarray(array)
    nccl_op = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.MAX: nccl.NCCL_MAX, ReduceOp.MIN: nccl.NCCL_MIN}[op]
    nccl_dtype = {np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64,
                  np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.int32): nccl.NCCL_INT32,
                  np.dtype(np.int64): nccl.NCCL_INT64}[np.dtype(array.dtype)]
    stream = cupy.cuda.get_current_stream().ptr
    comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, nccl_dtype, nccl_op, stream)
    if buffer is not array:
        array[...] = buffer


def broadcast(tensor, src=0):
    """Replace `tensor`'s values on every rank by rank `src`'s (in place)."""
    group = _require_group("broadcast")
    _check_tensor("broadcast", tensor)
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)) or not 0 <= src < group.size:
        raise ValueError(f"broadcast: src must be a rank in [0, {group.size - 1}], got {src!r}")
    _broadcast_array(group, tensor.array, int(src))
    tensor._version_counter.value += 1


def _broadcast_array(group, array, src):
    host = backend.to_numpy(array)
    buffer = host if host is array and host.flags.c_contiguous else np.ascontiguousarray(host).copy()
    if buffer.size:
        group.comm.Bcast(buffer, root=src)
    if buffer is not array:
        array[...] = backend.to_device(buffer, backend.device_of(array))


class DistributedDataParallel(Module):
    """Train `module` on every rank with gradients averaged over the ranks (torch's DDP).

    At construction rank 0's parameters and buffers are broadcast, so every rank starts from the
    same weights.  Each rank then runs forward and backward on its own share of the batch; when
    `loss.backward()` returns, every parameter's `.grad` holds the average over the ranks, so the
    optimizer (the same on every rank) takes the same step everywhere and the weights stay equal.

    Why the average is the full batch's gradient: with R ranks each on b samples of a batch of
    B = R·b, rank r's loss is the mean (1/b) Σ_{i∈r} ℓ_i, and

        (1/R) Σ_r (1/b) Σ_{i∈r} ∇ℓ_i = (1/(R·b)) Σ_i ∇ℓ_i = ∇ of the batch's mean loss.

    This needs equal per-rank batch sizes (DistributedSampler pads the epoch so they are; a
    smaller last batch split unevenly would weight its samples unevenly, as in torch).

    How: after every backward through a forward of this wrapper (see autograd's
    register_post_backward_hook) the gradients are flattened, in reverse parameter order (the
    order backward produces them in, as DDP does), into buckets of at most `bucket_cap_mb`
    megabytes, one per dtype and device run, and each bucket is summed over the ranks by one
    all-reduce, divided by the world size and copied back.  One message per bucket instead of one
    per parameter saves the per-message latency; here the reduction runs after backward, not
    overlapped with it.

    Parameters no rank computed a gradient for keep `.grad` None; a parameter that some ranks
    used and others did not counts as zero gradient where unused (the average over all ranks),
    and every rank ends with that `.grad`.  Found by one small all-reduce of per-parameter flags.

    `no_sync()`: forwards run inside it are not reduced, so gradients accumulate locally; the
    first forward+backward outside it averages the accumulated sums (gradient accumulation).

    BatchNorm keeps per-rank batch statistics, as torch's DDP does (no SyncBatchNorm here): in
    training each rank normalises with its own shard's mean and variance.  With
    broadcast_buffers=True (torch's default) rank 0's buffers (running_mean, running_var, ...)
    are broadcast at the start of each forward with gradients enabled (outside no_sync), so all
    ranks carry rank 0's running statistics.

    Save checkpoints from `ddp.module` so the keys are the plain model's names.
    """

    def __init__(self, module, bucket_cap_mb=25, broadcast_buffers=True):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got {type(module).__name__}")
        if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, (int, float)) or not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be a positive number, "
                             f"got {bucket_cap_mb!r}")
        self._group = _require_group("DistributedDataParallel")
        self.module = module
        self.bucket_cap_mb, self.broadcast_buffers = bucket_cap_mb, bool(broadcast_buffers)
        self._require_sync = True
        self._pending_sync = False
        for tensor in list(module.parameters()) + list(module.buffers()):
            _broadcast_array(self._group, tensor.array, 0)
        self._hook_handle = _weak_hook(self)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside accumulate gradients locally, without reducing."""
        previous = self._require_sync
        self._require_sync = False
        try:
            yield
        finally:
            self._require_sync = previous

    def forward(self, *args, **kwargs):
        # as torch decides in forward: a forward with gradients outside no_sync syncs buffers now
        # and has its backward reduce the gradients (a no_grad forward, evaluation, changes nothing)
        if autograd.is_grad_enabled():
            self._pending_sync = self._require_sync
            if self._require_sync and self.broadcast_buffers and self._group.size > 1:
                for buffer in self.module.buffers():
                    _broadcast_array(self._group, buffer.array, 0)
        return self.module(*args, **kwargs)

    def _after_backward(self):
        if self._pending_sync:
            self._pending_sync = False
            self._reduce_gradients()

    def _reduce_gradients(self):
        group = self._group
        params = [p for p in self.module.parameters() if p.requires_grad]
        if group.size == 1 or not params:
            return
        # which parameters any rank has a gradient for (unused ones stay None everywhere)
        flags = np.array([p.grad is not None for p in params], dtype=np.int32)
        _all_reduce_array(group, flags, ReduceOp.MAX)
        cap_bytes = self.bucket_cap_mb * 1024 * 1024
        bucket, bucket_bytes = [], 0
        for p, used in zip(reversed(params), reversed(flags)):
            if not used:
                continue
            if bucket and (p.dtype != bucket[0].dtype or p.device != bucket[0].device
                           or bucket_bytes + p.array.nbytes > cap_bytes):
                self._reduce_bucket(bucket)
                bucket, bucket_bytes = [], 0
            bucket.append(p)
            bucket_bytes += p.array.nbytes
        if bucket:
            self._reduce_bucket(bucket)

    def _reduce_bucket(self, params):
        xp = backend.get_array_module(params[0].array)
        flat = xp.concatenate([(xp.zeros(p.array.size, dtype=p.dtype) if p.grad is None
                                else p.grad.array.reshape(-1)) for p in params])
        _all_reduce_array(self._group, flat, ReduceOp.SUM)
        flat /= self._group.size
        offset = 0
        for p in params:
            values = flat[offset:offset + p.array.size].reshape(p.shape)
            offset += p.array.size
            if p.grad is None:
                p.grad = Tensor(values.copy())
            else:
                p.grad.array[...] = values

    def state_dict(self):
        return self.module.state_dict()

    def load_state_dict(self, state_dict, strict=True):
        return self.module.load_state_dict(state_dict, strict=strict)

    def extra_repr(self):
        return f"world_size={self._group.size}, bucket_cap_mb={self.bucket_cap_mb}"


def _weak_hook(ddp):
    """The post-backward hook, holding the wrapper weakly: a dropped wrapper's hook removes itself."""
    ref, handle = weakref.ref(ddp), []

    def hook():
        target = ref()
        if target is None:
            handle[0].remove()
        else:
            target._after_backward()
    handle.append(autograd.register_post_backward_hook(hook))
    return handle[0]
