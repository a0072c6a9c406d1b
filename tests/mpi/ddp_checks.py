"""Run under `mpiexec -n 2`: asserts that data parallelism on 2 ranks is one process on the whole batch.

tests/test_distributed.py launches it; every check prints one "ok ..." line on rank 0, and the
last line is "ALL OK" when every check passed on every rank (a failing assert aborts all ranks).
"""
import sys

import numpy as np
from mpi4py import MPI

import minitorch_cnn as mt
from minitorch_cnn import distributed as dist
from minitorch_cnn import models, optim
from minitorch_cnn.data import DistributedSampler
from minitorch_cnn.nn import functional as F

TOL = 1e-10     # float64; the two runs differ only in how the batch's gradient sum is grouped


def build(name, seed):
    mt.manual_seed(seed)
    model = models.get_model(name).double()
    if hasattr(model, "dropout"):
        model.dropout.p = 0.0     # dropout masks would differ between the split and the whole batch
    return model


def make_optimizer(kind, params):
    return optim.SGD(params, lr=0.05, momentum=0.9) if kind == "sgd" else optim.Adam(params, lr=1e-3)


def batches(steps, batch, seed=123):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 1, 28, 28)), rng.integers(0, 10, batch)) for _ in range(steps)]


def weights(model):
    return [p.array.copy() for p in model.parameters()]


def check(condition, message):
    if not condition:
        print(f"rank {dist.get_rank()}: FAILED {message}", flush=True)
        MPI.COMM_WORLD.Abort(1)


def check_equivalence(name, kind, rank, size, bucket_cap_mb):
    data = batches(steps=3, batch=4 * size)
    # the reference: one process on the whole batches, from rank 0's initial weights (seed 0)
    reference = build(name, seed=0)
    ref_opt = make_optimizer(kind, reference.parameters())
    for x, y in data:
        ref_opt.zero_grad()
        F.cross_entropy(reference(mt.tensor(x)), mt.tensor(y)).backward()
        ref_opt.step()
    # the split run: each rank starts from its own seed; DDP's broadcast makes them rank 0's
    model = build(name, seed=rank)
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)
    start = build(name, seed=0)
    check(all(np.array_equal(a, b) for a, b in zip(weights(model), weights(start))),
          f"{name}: rank {rank}'s weights after construction are not rank 0's")
    opt = make_optimizer(kind, ddp.parameters())
    for x, y in data:
        shard = slice(rank * 4, (rank + 1) * 4)
        opt.zero_grad()
        F.cross_entropy(ddp(mt.tensor(x[shard])), mt.tensor(y[shard])).backward()
        opt.step()
    for (pname, p), q in zip(model.named_parameters(), reference.parameters()):
        err = float(np.max(np.abs(p.array - q.array)))
        check(err <= TOL, f"{name}/{kind}: {pname} differs from the whole-batch run by {err:.3g}")
    gathered = MPI.COMM_WORLD.allgather(weights(model))
    check(all(np.array_equal(a, b) for a, b in zip(gathered[0], gathered[1])),
          f"{name}/{kind}: the ranks' weights differ")


def check_no_sync(rank, size):
    """Two micro-batches (the first under no_sync), then the step: the big batch's gradient."""
    (x, y), = batches(steps=1, batch=8 * size, seed=7)
    reference = build("lenet5", seed=0)
    F.cross_entropy(reference(mt.tensor(x)), mt.tensor(y)).backward()
    model = build("lenet5", seed=0)
    ddp = dist.DistributedDataParallel(model)
    mine = x[rank * 8:(rank + 1) * 8], y[rank * 8:(rank + 1) * 8]
    with ddp.no_sync():
        (F.cross_entropy(ddp(mt.tensor(mine[0][:4])), mt.tensor(mine[1][:4])) / 2).backward()
    local = [p.grad.array.copy() for p in model.parameters()]
    gathered = MPI.COMM_WORLD.allgather(local)
    check(any(not np.array_equal(a, b) for a, b in zip(gathered[0], gathered[1])),
          "no_sync: gradients were reduced inside no_sync")
    (F.cross_entropy(ddp(mt.tensor(mine[0][4:])), mt.tensor(mine[1][4:])) / 2).backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        err = float(np.max(np.abs(p.grad.array - q.grad.array)))
        check(err <= TOL, f"no_sync: accumulated then averaged gradient differs by {err:.3g}")


class PartlyUsed(mt.nn.Module):
    """first on every rank, second only where use_second, third nowhere."""

    def __init__(self):
        super().__init__()
        self.first, self.second, self.third = mt.nn.Linear(3, 2), mt.nn.Linear(2, 1), mt.nn.Linear(3, 1)

    def forward(self, x, use_second):
        hidden = self.first(x)
        return hidden.sum() + (self.second(hidden).sum() if use_second else 0.0)


def check_unused_parameters(rank):
    """A parameter only rank 1 uses: averaged with rank 0's zero; one nobody uses stays None."""
    mt.manual_seed(0)
    model = PartlyUsed().double()
    ddp = dist.DistributedDataParallel(model)
    x = mt.tensor(np.full((2, 3), 1.0 + rank))
    ddp(x, use_second=rank == 1).backward()
    check(model.third.weight.grad is None, "unused everywhere: .grad should stay None")
    check(model.second.weight.grad is not None, "used on one rank: .grad should exist on every rank")
    grads = MPI.COMM_WORLD.allgather(model.second.weight.grad.array.copy())
    check(np.array_equal(grads[0], grads[1]), "used on one rank: ranks' grads differ")
    # rank 1 alone: d/dW2 of sum(W2 h + b2) = sum of h over the batch, halved by the average
    hidden = np.full((2, 3), 2.0) @ model.first.weight.array.T + model.first.bias.array
    expected = hidden.sum(axis=0, keepdims=True) / 2
    check(np.allclose(grads[0], expected, rtol=1e-12, atol=0), "used on one rank: not the average with zero")


def check_collectives(rank, size):
    t = mt.tensor([1.0 + rank, -rank, 4.0], dtype=mt.float64)
    dist.all_reduce(t)
    check(t.tolist() == [3.0, -1.0, 8.0], f"all_reduce SUM: {t.tolist()}")
    t = mt.tensor([[1.0 + rank, 2.0], [3.0, 4.0 * rank]], dtype=mt.float32)
    view = mt.Tensor(t.array.T)                      # a transposed view: reduced and written through
    dist.all_reduce(view, dist.ReduceOp.AVG)
    check(t.tolist() == [[1.5, 2.0], [3.0, 2.0]] and t.dtype == np.float32, f"all_reduce AVG: {t.tolist()}")
    for op, expected in ((dist.ReduceOp.MAX, [1, 5]), (dist.ReduceOp.MIN, [0, 3])):
        t = mt.tensor([rank, 5 - 2 * rank])
        dist.all_reduce(t, op)
        check(t.tolist() == expected, f"all_reduce {op}: {t.tolist()}")
    for op, expected in ((dist.ReduceOp.SUM, [True, True, False]), (dist.ReduceOp.MIN, [False, True, False])):
        t = mt.tensor([rank == 0, True, False])
        dist.all_reduce(t, op)
        check(t.tolist() == expected and t.dtype == np.bool_, f"all_reduce bool {op}: {t.tolist()}")
    t = mt.tensor(np.arange(6.0).reshape(2, 3) * (rank + 1))
    dist.broadcast(t, src=1)
    check(np.array_equal(t.array, np.arange(6.0).reshape(2, 3) * 2), f"broadcast from 1: {t.tolist()}")


def check_batchnorm_statistics(rank):
    """Per-rank batch statistics; rank 0's running statistics broadcast at each forward."""
    mt.manual_seed(rank)
    model = mt.nn.Sequential(mt.nn.Conv2d(1, 2, 3), mt.nn.BatchNorm2d(2)).double()
    ddp = dist.DistributedDataParallel(model)
    bn = model[1]
    rng = np.random.default_rng(10 + rank)
    first, second = rng.standard_normal((4, 1, 5, 5)) + rank, rng.standard_normal((4, 1, 5, 5)) - rank
    ddp(mt.tensor(first)).sum().backward()
    after_first = MPI.COMM_WORLD.allgather(bn.running_mean.array.copy())
    check(not np.array_equal(after_first[0], after_first[1]), "BatchNorm: running means should be per rank")
    with mt.no_grad():
        conv_out = model[0](mt.tensor(second)).array
    ddp(mt.tensor(second)).sum().backward()
    expected = 0.9 * after_first[0] + 0.1 * conv_out.mean(axis=(0, 2, 3))
    err = float(np.max(np.abs(bn.running_mean.array - expected)))
    check(err <= 1e-12, f"BatchNorm: running mean is not rank 0's updated with this rank's batch ({err:.3g})")


def check_sampler(rank, size):
    for n, drop_last in ((11, False), (11, True), (12, False), (1, False)):
        sampler = DistributedSampler(range(n), seed=5, drop_last=drop_last)
        sampler.set_epoch(2)
        shards = MPI.COMM_WORLD.allgather(list(sampler))
        lengths = {len(s) for s in shards}
        check(lengths == {len(sampler)}, f"sampler n={n}: shard lengths {lengths}")
        merged = sorted(i for s in shards for i in s)
        if drop_last:
            check(len(set(merged)) == len(merged) == (n // size) * size, f"sampler n={n} drop_last: {shards}")
        else:
            check(set(merged) == set(range(n)), f"sampler n={n}: shards {shards} do not cover the epoch")
            check(len(merged) - len(set(merged)) == -n % size, f"sampler n={n}: more repeats than padding")
        sampler.set_epoch(3)
        check(list(sampler) != shards[rank] or n < 3, f"sampler n={n}: set_epoch did not reshuffle")


def main():
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    check(size == 2, f"expected 2 ranks, got {size}")
    only = sys.argv[1:]
    for name, kind, cap in (("lenet5", "sgd", 25), ("lenet5", "adam", 0.001),
                            ("digitcnn", "sgd", 0.25), ("digitcnn", "adam", 25)):
        if not only or name in only:
            check_equivalence(name, kind, rank, size, cap)
            if rank == 0:
                print(f"ok equivalence {name} {kind} bucket_cap_mb={cap}", flush=True)
    check_no_sync(rank, size)
    check_unused_parameters(rank)
    check_sampler(rank, size)
    check_collectives(rank, size)
    check_batchnorm_statistics(rank)
    dist.barrier()
    if rank == 0:
        print("ok no_sync, unused parameters, sampler, collectives, batchnorm statistics", flush=True)
        print("ALL OK", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
