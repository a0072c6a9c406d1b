"""Forward + backward time of each op, minitorch_cnn vs PyTorch (CPU), in one run.

Shapes are the layers of a 28×28 MNIST CNN at batch 64.  Both engines get the
same float32 inputs; each op is timed in blocks, one engine at a time, alternating
for a few rounds after a warm-up; the table gives the fastest of the repeats and the
ratio of the medians.

    python benchmarks/bench_ops.py [--repeats 20] [--rounds 3] [--only conv2d] [--out benchmarks/results]
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as TF

import minitorch_cnn as mt
from minitorch_cnn.allocator import keep_freed_memory
from minitorch_cnn.nn import functional as F


def make_cases(rng):
    """(name, shapes, mt fn, torch fn): each fn takes the input tensors and returns the output."""
    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    target = rng.integers(0, 10, 64)
    return [
        ("conv2d 1→16 3×3 pad 1, x (64,1,28,28)", [arr(64, 1, 28, 28), arr(16, 1, 3, 3), arr(16)],
         lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: TF.conv2d(x, w, b, padding=1)),
        ("conv2d 16→32 3×3 pad 1, x (64,16,14,14)", [arr(64, 16, 14, 14), arr(32, 16, 3, 3), arr(32)],
         lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: TF.conv2d(x, w, b, padding=1)),
        ("conv2d 6→16 5×5, x (64,6,14,14)", [arr(64, 6, 14, 14), arr(16, 6, 5, 5), arr(16)],
         lambda x, w, b: F.conv2d(x, w, b), lambda x, w, b: TF.conv2d(x, w, b)),
        ("max_pool2d 2, x (64,16,28,28)", [arr(64, 16, 28, 28)],
         lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2)),
        ("max_pool2d 3 stride 2 pad 1, x (64,32,14,14)", [arr(64, 32, 14, 14)],
         lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1)),
        ("avg_pool2d 2, x (64,6,28,28)", [arr(64, 6, 28, 28)],
         lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2)),
        ("relu, x (64,16,28,28)", [arr(64, 16, 28, 28)], F.relu, TF.relu),
        ("tanh, x (64,6,28,28)", [arr(64, 6, 28, 28)], F.tanh, torch.tanh),
        ("batch_norm train, x (64,32,14,14)", [arr(64, 32, 14, 14), arr(32), arr(32)],
         lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
         lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True)),
        ("linear 1568→128, x (64,1568)", [arr(64, 1568), arr(128, 1568), arr(128)], F.linear, TF.linear),
        ("dropout 0.5, x (64,128)", [arr(64, 128)],
         lambda x: F.dropout(x, 0.5), lambda x: TF.dropout(x, 0.5)),
        ("cross_entropy, logits (64,10)", [arr(64, 10)],
         lambda z: F.cross_entropy(z, mt.tensor(target)),
         lambda z: TF.cross_entropy(z, torch.from_numpy(target))),
    ]


def time_once(fn, tensors, grad_out, backward):
    start = time.perf_counter()
    out = fn(*tensors)
    backward(out, grad_out)
    return time.perf_counter() - start


def bench(case, repeats, rounds):
    name, arrays, mt_fn, torch_fn = case
    mt_inputs = [mt.tensor(a, requires_grad=True) for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_shape = mt_fn(*mt_inputs).shape
    grad = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
    mt_grad, torch_grad = mt.tensor(grad), torch.from_numpy(grad)

    def mt_backward(out, g):
        out.backward(g)
        for t in mt_inputs:
            t.grad = None

    def torch_backward(out, g):
        out.backward(g)
        for t in torch_inputs:
            t.grad = None

    def block(fn, inputs, grad_in, backward):
        # One engine at a time: PyTorch's OpenMP workers spin for a while after each
        # op and would otherwise steal the second core from NumPy's BLAS threads.
        time.sleep(0.2)
        for _ in range(3):   # warm-up: caches, allocator, BLAS threads
            time_once(fn, inputs, grad_in, backward)
        return [time_once(fn, inputs, grad_in, backward) for _ in range(repeats)]

    # Several rounds of one block per engine, so that a slow spell of this shared
    # machine lands on both engines rather than on whichever happened to run then.
    mt_times, torch_times = [], []
    for _ in range(rounds):
        mt_times += block(mt_fn, mt_inputs, mt_grad, mt_backward)
        torch_times += block(torch_fn, torch_inputs, torch_grad, torch_backward)
    # The fastest repeat is each engine's time with the least interference from the
    # rest of the machine (timeit's advice); the medians are kept as well.
    mt_ms, torch_ms = 1e3 * min(mt_times), 1e3 * min(torch_times)
    mt_med, torch_med = 1e3 * statistics.median(mt_times), 1e3 * statistics.median(torch_times)
    return {"op": name, "minitorch_ms": mt_ms, "torch_ms": torch_ms, "ratio": mt_ms / torch_ms,
            "minitorch_median_ms": mt_med, "torch_median_ms": torch_med, "median_ratio": mt_med / torch_med}


def machine():
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}, PyTorch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per block")
    parser.add_argument("--rounds", type=int, default=3, help="blocks per engine, alternating")
    parser.add_argument("--only", default="", help="run only the ops whose name contains this")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args()
    keep_freed_memory()     # as training has it (minitorch_cnn/allocator.py)
    rng = np.random.default_rng(0)
    cases = [case for case in make_cases(rng) if args.only in case[0]]
    if not cases:
        parser.error(f"--only {args.only!r} matches no op")
    rows = [bench(case, args.repeats, args.rounds) for case in cases]
    lines = ["| op (forward + backward, float32) | minitorch_cnn ms | PyTorch ms | ratio (×PyTorch time) "
             "| ratio of medians |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['op']} | {r['minitorch_ms']:.3f} | {r['torch_ms']:.3f} | {r['ratio']:.2f} | "
              f"{r['median_ratio']:.2f} |" for r in rows]
    table = "\n".join(lines)
    print(f"machine: {machine()}\n")
    print(table)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ops.json"), "w") as f:
        json.dump({"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rows": rows}, f, indent=2)
    with open(os.path.join(args.out, "ops.md"), "w") as f:
        f.write(f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n\n{table}\n")


if __name__ == "__main__":
    main()
