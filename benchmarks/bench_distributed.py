"""Data-parallel scaling on this machine: DigitCNN training images/s on 1 and 2 MPI ranks (each on
one BLAS thread) against one process on two threads, and the all-reduce's share of a step.

    python benchmarks/bench_distributed.py [--steps 30] [--repeats 5]

Each configuration runs in its own processes (`mpiexec -n N python this --worker ...`):
  - "1 rank":  mpiexec -n 1, OPENBLAS_NUM_THREADS=1, batch 64
  - "2 ranks": mpiexec -n 2, OPENBLAS_NUM_THREADS=1 each, batch 64 per rank (128 per step, as the
               CLI's --batch-size is per rank), DistributedDataParallel
  - "1 process, 2 threads": no MPI, OPENBLAS_NUM_THREADS=2, batch 128 (the 2 ranks' step)
A step is forward + cross-entropy + backward (with DDP's bucketed gradient all-reduce) + Adam, on
a fixed random batch.  The all-reduce time per step is measured inside DDP: the calls it makes to
distributed._all_reduce_array are timed (their sum per step; the unused-parameter flag reduce is
counted too, it is part of what DDP costs).  Then a standalone MPI Allreduce of a float32 buffer
the size of DigitCNN's and of DeepCNN's gradients shows how the cost grows with model size.

Writes benchmarks/results/distributed.json and .md (atomically) and prints the table.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

CONFIGS = [  # (label, ranks or 0 for no mpiexec, BLAS threads, batch per process)
    ("1 rank, 1 thread", 1, 1, 64),
    ("2 ranks, 1 thread each", 2, 1, 64),
    ("1 process, 2 threads", 0, 2, 128),
]
ALLREDUCE_MODELS = ("digitcnn", "deepcnn")


# ---- one configuration, in the worker processes ------------------------------------------------
def worker(batch, steps, repeats):
    import minitorch_cnn as mt
    from minitorch_cnn import distributed as dist
    from minitorch_cnn.models import get_model
    from minitorch_cnn.nn import functional as F

    ranks, rank = 1, 0
    if dist.launched_by_mpiexec():
        dist.init_process_group("mpi")
        ranks, rank = dist.get_world_size(), dist.get_rank()
    reduce_seconds = [0.0]
    if ranks > 1:
        timed_reduce = _timed(dist._all_reduce_array, reduce_seconds)
        dist._all_reduce_array = timed_reduce          # what DDP calls for every bucket
    mt.manual_seed(0)
    model = get_model("digitcnn")
    trained = dist.DistributedDataParallel(model) if ranks > 1 else model
    optimizer = mt.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    x = mt.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, batch))

    def step():
        loss = F.cross_entropy(trained(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    step_seconds, reduce_per_step = [], []
    for _ in range(repeats):
        if ranks > 1:
            dist.barrier()
        reduce_seconds[0] = 0.0
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if ranks > 1:
            dist.barrier()
        step_seconds.append((time.perf_counter() - start) / steps)
        reduce_per_step.append(reduce_seconds[0] / steps)
    result = {"ranks": ranks, "batch_per_rank": batch, "step_ms": 1e3 * statistics.median(step_seconds),
              "images_per_s": ranks * batch / statistics.median(step_seconds),
              "allreduce_ms_per_step": 1e3 * statistics.median(reduce_per_step) if ranks > 1 else 0.0,
              "gradient_bytes": int(sum(p.array.nbytes for p in model.parameters()))}
    if ranks > 1:
        result["standalone_allreduce"] = [_standalone_allreduce(dist, name, ranks) for name in ALLREDUCE_MODELS]
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)
    if ranks > 1:
        dist.destroy_process_group()


def _timed(function, total):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            total[0] += time.perf_counter() - start
    return timed


def _standalone_allreduce(dist, name, ranks, calls=30):
    """The median time of one in-place MPI Allreduce(SUM) of a float32 buffer of `name`'s gradient size."""
    from minitorch_cnn.models import get_model
    n = sum(p.array.size for p in get_model(name).parameters())
    buffer = np.ones(n, dtype=np.float32)
    group = dist._require_group("bench")
    from mpi4py import MPI
    times = []
    for i in range(calls + 3):
        group.comm.Barrier()
        start = time.perf_counter()
        group.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        if i >= 3:
            times.append(time.perf_counter() - start)
        buffer[...] = 1.0
    nbytes = buffer.nbytes
    return {"model": name, "parameters": int(n), "bytes": int(nbytes), "ms": 1e3 * statistics.median(times),
            "ring_bytes_per_rank": int(round(2 * (ranks - 1) / ranks * nbytes)),
            "gb_per_s": 2 * (ranks - 1) / ranks * nbytes / statistics.median(times) / 1e9}


# ---- the driver -----------------------------------------------------------------------------------
def mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else "mpiexec"


def run_config(ranks, threads, batch, steps, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONPATH=REPO)
    for name in [n for n in env if n.startswith(("PMI_", "OMPI_", "MPI_LOCAL"))]:
        del env[name]          # the no-MPI process must not think mpiexec started it
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--batch", str(batch),
               "--steps", str(steps), "--repeats", str(repeats)]
    if ranks:
        command = [mpiexec(), "-n", str(ranks)] + command
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"bench_distributed: {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    (line,) = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    return json.loads(line[len("RESULT "):])


def machine():
    import mpi4py
    try:
        from importlib.metadata import version
        mpich = f"mpich {version('mpich')}"
    except Exception:
        mpich = "MPI"
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy "
            f"{np.__version__}, mpi4py {mpi4py.__version__}, {mpich}")


def markdown(report):
    base = report["rows"][0]["images_per_s"]
    lines = [f"Measured {report['date']} on {report['machine']}; load average before the run "
             f"{report['load_before']:.2f}. DigitCNN, Adam, float32; median of {report['repeats']} blocks "
             f"of {report['steps']} steps.", "",
             "| configuration | batch per step | step ms | images/s | vs 1 rank | all-reduce ms/step | "
             "all-reduce share |", "|---|---:|---:|---:|---:|---:|---:|"]
    for row in report["rows"]:
        share = row["allreduce_ms_per_step"] / row["step_ms"]
        lines.append(f"| {row['label']} | {row['batch_per_rank'] * row['ranks']} | {row['step_ms']:.1f} | "
                     f"{row['images_per_s']:,.0f} | {row['images_per_s'] / base:.2f}x | "
                     f"{row['allreduce_ms_per_step']:.2f} | {100 * share:.1f}% |")
    lines += ["", "Standalone MPI Allreduce (SUM, in place, float32) on 2 ranks of this machine "
              "(shared memory): bytes each rank sends in a ring/Rabenseifner all-reduce are "
              "2(N-1)/N of the gradient.", "",
              "| gradient of | parameters | MB | ms per all-reduce | MB sent per rank | GB/s |",
              "|---|---:|---:|---:|---:|---:|"]
    for entry in report["standalone_allreduce"]:
        lines.append(f"| {entry['model']} | {entry['parameters']:,} | {entry['bytes'] / 1e6:.2f} | "
                     f"{entry['ms']:.3f} | {entry['ring_bytes_per_rank'] / 1e6:.2f} | {entry['gb_per_s']:.2f} |")
    lines += ["", "The all-reduce time inside DDP is the time in its MPI calls, so it includes each rank's wait "
              "for the slower one to arrive (two ranks sharing two cores with everything else on the machine); "
              "the standalone figure, taken right after a barrier, is the transfer alone.  MPICH's Allreduce "
              "(src/mpi/coll/allreduce.c) uses recursive doubling for messages up to "
              "MPIR_CVAR_ALLREDUCE_SHORT_MSG_SIZE (2048 bytes) and Rabenseifner's reduce-scatter + allgather "
              "above, which moves the same 2(N-1)/N of the bytes per rank as a ring; these gradients are "
              "far above 2 KiB."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown-only", action="store_true",
                        help="rewrite distributed.md from distributed.json, measuring nothing")
    args = parser.parse_args()
    from minitorch_cnn.allocator import keep_freed_memory
    keep_freed_memory()     # as training has it (minitorch_cnn/allocator.py)
    if args.worker:
        return worker(args.batch, args.steps, args.repeats)
    from minitorch_cnn.serialization import atomic_write
    out = os.path.join(HERE, "results")
    if args.markdown_only:
        with open(os.path.join(out, "distributed.json")) as f:
            text = markdown(json.load(f))
        atomic_write(os.path.join(out, "distributed.md"), lambda f: f.write(text.encode()))
        return print(text)
    report = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "load_before": os.getloadavg()[0],
              "steps": args.steps, "repeats": args.repeats, "rows": []}
    for label, ranks, threads, batch in CONFIGS:
        row = dict(run_config(ranks, threads, batch, args.steps, args.repeats), label=label,
                   blas_threads=threads, mpiexec=bool(ranks))
        report["standalone_allreduce"] = row.pop("standalone_allreduce", report.get("standalone_allreduce"))
        report["rows"].append(row)
    atomic_write(os.path.join(out, "distributed.json"), lambda f: f.write(json.dumps(report, indent=2).encode()))
    text = markdown(report)
    atomic_write(os.path.join(out, "distributed.md"), lambda f: f.write(text.encode()))
    print(text)


if __name__ == "__main__":
    main()
