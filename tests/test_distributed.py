"""minitorch_cnn.distributed and DistributedSampler.

In one process: the process group on MPI's singleton COMM_WORLD (mpi4py needs no mpiexec for a
world of one), the errors, DistributedDataParallel's plumbing, the sampler's semantics against
hand-computed shards (and torch's sampler where torch is installed), DataLoader(sampler=).
Under real MPI: tests/mpi/ddp_checks.py on `mpiexec -n 2` (skipped without mpi4py or mpiexec).
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.core import hooks
from minitorch_cnn import autograd, distributed as dist
from minitorch_cnn.data import DataLoader, DistributedSampler, TensorDataset
from minitorch_cnn.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
needs_mpi4py = pytest.mark.skipif(not HAVE_MPI4PY, reason='mpi4py is not installed (pip install ".[distributed]")')


def find_mpiexec():
    beside = Path(sys.executable).parent / "mpiexec"     # the mpich wheel's, in a venv
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.fixture
def no_group():
    if dist.is_initialized():
        dist.destroy_process_group()
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


@pytest.fixture
def group(no_group):
    if not HAVE_MPI4PY:
        pytest.skip('mpi4py is not installed (pip install ".[distributed]")')
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


# ---- before init_process_group ---------------------------------------------------------------
@pytest.mark.parametrize("call, name", [
    (dist.get_rank, "get_rank"), (dist.get_world_size, "get_world_size"), (dist.barrier, "barrier"),
    (dist.destroy_process_group, "destroy_process_group"),
    (lambda: dist.all_reduce(mt.tensor([1.0])), "all_reduce"),
    (lambda: dist.broadcast(mt.tensor([1.0])), "broadcast"),
    (lambda: dist.DistributedDataParallel(mt.nn.Linear(2, 1)), "DistributedDataParallel"),
])
def test_calls_before_init_raise_like_torch(no_group, call, name):
    # torch 2.13 raises ValueError; the error is a RuntimeError too
    for kind in (ValueError, RuntimeError):
        with pytest.raises(kind, match=f"^{name}: Default process group has not been initialized"):
            call()


def test_sampler_defaults_need_a_group(no_group):
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
    assert list(DistributedSampler(range(4), num_replicas=2, rank=1, shuffle=False)) == [1, 3]


def test_is_initialized_follows_init_and_destroy(group):
    assert dist.is_initialized()
    dist.destroy_process_group()
    assert not dist.is_initialized()
    dist.init_process_group()       # a new group after destroy
    assert dist.is_initialized()


def test_importing_distributed_does_not_import_mpi4py():
    code = "import sys, minitorch_cnn.distributed, minitorch_cnn.data; assert 'mpi4py' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_init_without_mpi4py_says_what_to_install(no_group, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)      # import mpi4py now raises ImportError
    with pytest.raises(RuntimeError) as info:
        dist.init_process_group()
    message = str(info.value)
    assert 'pip install ".[distributed]"' in message and message.count(". ") == 0 and message.endswith(".")
    assert not dist.is_initialized()


def test_init_refuses_unknown_backend(no_group):
    with pytest.raises(ValueError, match="init_process_group: backend must be 'mpi' or 'nccl', got 'gloo'"):
        dist.init_process_group("gloo")


def test_init_twice_raises(group):
    with pytest.raises(RuntimeError, match="initialize the default process group twice"):
        dist.init_process_group()


def test_launched_by_mpiexec_reads_the_environment(monkeypatch):
    for name in ("PMI_RANK", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_SIZE",
                 "OMPI_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert dist.launched_by_mpiexec() is False
    monkeypatch.setenv("PMI_SIZE", "2")
    assert dist.launched_by_mpiexec() is True
    monkeypatch.delenv("PMI_SIZE")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert dist.launched_by_mpiexec() is True


# ---- a world of one ------------------------------------------------------------------------
def test_world_of_one(group):
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    dist.barrier()


@pytest.mark.parametrize("op", [dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN])
def test_all_reduce_of_one_rank_keeps_values_in_place(group, op):
    t = mt.tensor([[1.5, -2.0], [3.0, np.nan]], dtype=mt.float64)
    data, version = t.array, t._version
    assert dist.all_reduce(t, op) is None
    assert t.array is data and t._version == version + 1
    np.testing.assert_array_equal(t.array, [[1.5, -2.0], [3.0, np.nan]])


def test_all_reduce_of_a_strided_view_writes_through(group):
    base = mt.tensor(np.arange(12.0).reshape(3, 4))
    view = mt.Tensor(base.array[::-1, ::2])
    dist.all_reduce(view, dist.ReduceOp.AVG)
    np.testing.assert_array_equal(base.array, np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(view.array, np.arange(12.0).reshape(3, 4)[::-1, ::2])


def test_all_reduce_of_integers_and_empty(group):
    t = mt.tensor([1, 2, 3])
    dist.all_reduce(t, dist.ReduceOp.MAX)
    assert t.tolist() == [1, 2, 3] and t.dtype == np.int64
    empty = mt.zeros(0, 3)
    dist.all_reduce(empty)
    assert empty.shape == (0, 3)


@pytest.mark.parametrize("op", [dist.ReduceOp.SUM, dist.ReduceOp.MAX, dist.ReduceOp.MIN])
def test_all_reduce_of_bool(group, op):
    t = mt.tensor([True, False])
    dist.all_reduce(t, op)
    assert t.tolist() == [True, False] and t.dtype == np.bool_


def test_all_reduce_of_complex(group):
    t = mt.Tensor(np.array([1 + 2j, -1j]))
    dist.all_reduce(t)
    assert t.tolist() == [1 + 2j, -1j]
    for op in (dist.ReduceOp.MAX, dist.ReduceOp.MIN):
        with pytest.raises(ValueError, match=f"all_reduce does not support {op.upper()} on complex tensors"):
            dist.all_reduce(t, op)


def test_all_reduce_refuses_bad_arguments(group):
    with pytest.raises(TypeError, match="all_reduce: expected a Tensor, got ndarray"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match="all_reduce: op must be a ReduceOp"):
        dist.all_reduce(mt.tensor([1.0]), op="product")
    with pytest.raises(TypeError, match="all_reduce: ReduceOp.AVG needs a floating point tensor, got int64"):
        dist.all_reduce(mt.tensor([1, 2]), op=dist.ReduceOp.AVG)


def test_broadcast_of_one_rank(group):
    t = mt.tensor([1.0, 2.0])
    dist.broadcast(t, src=0)
    assert t.tolist() == [1.0, 2.0]
    for src in (1, -1, True, 0.0):
        with pytest.raises(ValueError, match=r"broadcast: src must be a rank in \[0, 0\]"):
            dist.broadcast(t, src=src)
    with pytest.raises(TypeError, match="broadcast: expected a Tensor, got list"):
        dist.broadcast([1.0])


# ---- DistributedDataParallel in one process ---------------------------------------------------
def small_model(seed=0):
    mt.manual_seed(seed)
    return mt.nn.Sequential(mt.nn.Linear(4, 3), mt.nn.ReLU(), mt.nn.Linear(3, 2)).double()


def test_ddp_of_one_rank_matches_the_plain_module(group):
    x, y = mt.tensor(np.random.default_rng(0).standard_normal((5, 4))), mt.tensor([0, 1, 1, 0, 1])
    plain, wrapped = small_model(), small_model()
    ddp = dist.DistributedDataParallel(wrapped)
    F.cross_entropy(plain(x), y).backward()
    F.cross_entropy(ddp(x), y).backward()
    for p, q in zip(plain.parameters(), ddp.parameters()):
        np.testing.assert_array_equal(p.grad.array, q.grad.array)
    assert ddp.module is wrapped
    assert [id(p) for p in ddp.parameters()] == [id(p) for p in wrapped.parameters()]
    assert list(ddp.state_dict()) == list(wrapped.state_dict())     # the plain model's names


def test_ddp_load_state_dict_delegates(group):
    ddp = dist.DistributedDataParallel(small_model(0))
    other = small_model(1)
    ddp.load_state_dict(other.state_dict())
    for p, q in zip(ddp.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.array, q.array)


def test_ddp_refuses_bad_arguments(group):
    with pytest.raises(TypeError, match="DistributedDataParallel: expected a Module, got Tensor"):
        dist.DistributedDataParallel(mt.tensor([1.0]))
    for cap in (0, -1, True, "25"):
        with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number"):
            dist.DistributedDataParallel(small_model(), bucket_cap_mb=cap)


def test_ddp_reduces_after_a_backward_of_its_forward_only(group, monkeypatch):
    ddp = dist.DistributedDataParallel(small_model())
    calls = []
    monkeypatch.setattr(type(ddp), "_reduce_gradients", lambda self: calls.append("reduce"))
    x = mt.tensor(np.ones((2, 4)))
    ddp(x).sum().backward()
    assert calls == ["reduce"]
    ddp.module(x).sum().backward()           # not through the wrapper: not reduced
    assert calls == ["reduce"]
    with ddp.no_sync():
        ddp(x).sum().backward()
    assert calls == ["reduce"]
    ddp(x).sum().backward()
    assert calls == ["reduce", "reduce"]
    with mt.no_grad():
        ddp(x)
    mt.tensor([1.0], requires_grad=True).sum().backward()
    assert calls == ["reduce", "reduce"]


def test_no_sync_accumulates_locally(group):
    x = mt.tensor(np.ones((2, 4)))
    plain, ddp = small_model(), dist.DistributedDataParallel(small_model())
    for _ in range(2):
        plain(x).sum().backward()
    with ddp.no_sync():
        ddp(x).sum().backward()
    ddp(x).sum().backward()
    for p, q in zip(plain.parameters(), ddp.parameters()):
        np.testing.assert_array_equal(p.grad.array, q.grad.array)


def test_ddp_hook_goes_with_the_wrapper(group):
    mt.tensor([1.0], requires_grad=True).sum().backward()     # other tests' dead wrappers' hooks go
    before = len(hooks._post_backward_hooks)
    ddp = dist.DistributedDataParallel(small_model())
    assert len(hooks._post_backward_hooks) == before + 1
    del ddp
    mt.tensor([1.0], requires_grad=True).sum().backward()     # the dead wrapper's hook removes itself
    assert len(hooks._post_backward_hooks) == before


# ---- the autograd hook point -----------------------------------------------------------------
def test_post_backward_hook_runs_after_the_gradients_are_in():
    w = mt.tensor([2.0], requires_grad=True)
    seen = []
    handle = autograd.register_post_backward_hook(lambda: seen.append(None if w.grad is None else w.grad.tolist()))
    try:
        (w * 3).sum().backward()
        w.sum().backward()                    # a leaf as the root runs the hooks too
        assert seen == [[3.0], [4.0]]
    finally:
        handle.remove()
    (w * 3).sum().backward()
    assert len(seen) == 2


def test_post_backward_hook_skipped_when_backward_fails():
    w = mt.tensor([2.0], requires_grad=True)
    seen = []
    handle = autograd.register_post_backward_hook(lambda: seen.append(1))
    try:
        y = (w * w).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()
        assert seen == [1]
    finally:
        handle.remove()


# ---- DistributedSampler -----------------------------------------------------------------------
@pytest.mark.parametrize("n, replicas, drop_last, expected", [
    (5, 2, False, [[0, 2, 4], [1, 3, 0]]),            # padded with index 0 from the start
    (5, 2, True, [[0, 2], [1, 3]]),                    # the tail cut
    (6, 3, False, [[0, 3], [1, 4], [2, 5]]),
    (2, 5, False, [[0], [1], [0], [1], [0]]),          # padding longer than the dataset repeats it
    (2, 5, True, [[], [], [], [], []]),
    (0, 2, False, [[], []]),
    (7, 3, False, [[0, 3, 6], [1, 4, 0], [2, 5, 1]]),
])
def test_sampler_shards_in_order(n, replicas, drop_last, expected):
    samplers = [DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last) for r in range(replicas)]
    assert [list(s) for s in samplers] == expected
    assert [len(s) for s in samplers] == [len(e) for e in expected]


def test_sampler_shuffle_shares_one_permutation_per_epoch():
    def shards(epoch, seed=3):
        out = []
        for r in range(3):
            s = DistributedSampler(range(10), 3, r, seed=seed)
            s.set_epoch(epoch)
            out.append(list(s))
        return out
    first = shards(0)
    flat = [i for s in first for i in s]
    assert sorted(set(flat)) == list(range(10)) and len(flat) == 12     # 2 repeats pad 10 to 12
    assert shards(0) == first                                           # the same on every "rank"
    assert shards(1) != first and shards(0, seed=4) != first
    assert all(len(s) == 4 for s in first)
    assert first[0] + first[1] + first[2] != [0, 3, 6, 9, 1, 4, 7, 0, 2, 5, 8, 1]   # shuffled


def test_sampler_without_set_epoch_repeats_its_order():
    s = DistributedSampler(range(9), 2, 0, seed=1)
    assert list(s) == list(s)


def test_sampler_defaults_from_the_group(group):
    s = DistributedSampler(range(5), shuffle=False)
    assert (s.num_replicas, s.rank, list(s)) == (1, 0, [0, 1, 2, 3, 4])


@pytest.mark.parametrize("replicas, rank, interval", [(2, 2, "[0, 1]"), (2, -1, "[0, 1]"), (0, 0, "[0, -1]")])
def test_sampler_refuses_invalid_ranks_like_torch(replicas, rank, interval):
    with pytest.raises(ValueError, match="^" + re.escape(f"Invalid rank {rank}, rank should be in the interval {interval}") + "$"):
        DistributedSampler(range(4), num_replicas=replicas, rank=rank)


def test_sampler_refuses_wrong_types():
    with pytest.raises(TypeError, match="DistributedSampler: dataset must define __len__, got generator"):
        DistributedSampler((i for i in range(3)), 1, 0)
    with pytest.raises(TypeError, match="DistributedSampler: rank must be an int, got float"):
        DistributedSampler(range(3), 2, 1.0)


@pytest.mark.parametrize("n", [0, 1, 5, 6, 7, 13])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_torch_without_shuffle(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert (list(ours), len(ours)) == (list(theirs), len(theirs))
        assert torch is not None


# ---- DataLoader(sampler=) ---------------------------------------------------------------------
class SampleByIndex:
    """A dataset without arrays(): the loader's slow path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.float64(i), i


@pytest.mark.parametrize("make", [lambda n: TensorDataset(mt.tensor(np.arange(n, dtype=np.float64)),
                                                          mt.tensor(np.arange(n))),
                                  SampleByIndex])
def test_loader_follows_the_sampler(make):
    data = make(7)
    sampler = DistributedSampler(data, 2, 1, shuffle=False)          # [1, 3, 5, 0]
    loader = DataLoader(data, batch_size=3, sampler=sampler)
    batches = [(x.tolist(), y.tolist()) for x, y in loader]
    assert batches == [([1.0, 3.0, 5.0], [1, 3, 5]), ([0.0], [0])]
    assert len(loader) == 2
    assert len(DataLoader(data, batch_size=3, sampler=sampler, drop_last=True)) == 1
    assert [y.tolist() for _, y in DataLoader(data, batch_size=3, sampler=sampler, drop_last=True)] == [[1, 3, 5]]


def test_loader_with_a_shuffling_sampler_visits_its_shard():
    data = TensorDataset(mt.tensor(np.arange(10)))
    sampler = DistributedSampler(data, 2, 0, seed=2)
    sampler.set_epoch(1)
    seen = [i for (batch,) in DataLoader(data, batch_size=4, sampler=sampler) for i in batch.tolist()]
    assert seen == list(sampler)


def test_loader_refuses_shuffle_with_a_sampler():
    data = SampleByIndex(4)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(data, shuffle=True, sampler=DistributedSampler(data, 1, 0))
    with pytest.raises(TypeError, match="DataLoader: sampler must define __iter__ .*got int"):
        DataLoader(data, sampler=3)


# ---- real MPI: 2 ranks ------------------------------------------------------------------------
@needs_mpi4py
def test_two_ranks_under_mpiexec():
    mpiexec = find_mpiexec()
    if mpiexec is None:
        pytest.skip("mpiexec not found (the mpich wheel brings it: pip install \".[distributed]\")")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    done = subprocess.run([mpiexec, "-n", "2", sys.executable, str(ROOT / "tests" / "mpi" / "ddp_checks.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    for line in ("ok equivalence lenet5 sgd", "ok equivalence lenet5 adam", "ok equivalence digitcnn sgd",
                 "ok equivalence digitcnn adam", "ok no_sync, unused parameters, sampler, collectives, batchnorm statistics", "ALL OK"):
        assert line in report, report
