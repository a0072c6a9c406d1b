"""Training and inference throughput: minitorch_cnn vs PyTorch (CPU), side by side.

For LeNet5, DigitCNN, SimpleCNN and DeepCNN, in one run:
  - training images/s: forward + cross-entropy + backward + Adam step, batch 64, float32,
    both engines from the same weights on the same batch, in alternating blocks with a
    pause before each (see QUIET_S);
  - inference images/s: batch 1000, no graph, eval mode;
  - peak RSS of a short training run of each engine, each in its own process;
  - this engine's time per op type for one training step, and the GEMM-bound ceiling:
    the summed time of the step's matrix products alone.

    python benchmarks/bench_train.py [--repeats 7] [--steps 10] [--models lenet5 digitcnn]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np

# The models' PyTorch twins live with the tests (tests/torch_models.py): the package never needs torch.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))

MODELS = ["lenet5", "digitcnn", "simplecnn", "deepcnn"]


def make_pair(name, seed=0):
    """(minitorch model, torch model) with the same initial weights."""
    import torch

    import minitorch_cnn as mt
    import torch_models
    from minitorch_cnn.models import get_model
    mt.manual_seed(seed)
    ours = get_model(name)
    theirs = torch_models.TORCH_MODELS[name]()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def batch(size, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((size, 1, 28, 28)).astype(np.float32),
            rng.integers(0, 10, size).astype(np.int64))


def mt_stepper(model):
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F
    opt = mt.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_stepper(model):
    import torch
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def timed(fn, steps):
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return time.perf_counter() - start


# OpenBLAS's idle worker threads spin for about 0.1 s after each matrix product, and
# PyTorch's OpenMP workers for a few ms after each op; a block of the other engine
# started inside that window shares a core with them (measured: PyTorch's LeNet5 step
# 3× slower right after one NumPy GEMM, back to full speed after 0.2 s).  So every
# block starts after a pause that lets the other engine's threads go to sleep.
QUIET_S = 0.5


def alternate(ours, theirs, repeats, steps, images):
    """img/s of each engine: `repeats` blocks of `steps` calls each, alternating."""
    rates = {"minitorch": [], "torch": []}
    for _ in range(repeats):
        for engine, fn in (("minitorch", ours), ("torch", theirs)):
            time.sleep(QUIET_S)
            fn()      # first call after the pause: wakes threads and caches, untimed
            rates[engine].append(images * steps / timed(fn, steps))
    return rates


def throughput(name, repeats, steps):
    import torch

    import minitorch_cnn as mt
    ours, theirs = make_pair(name)
    x, y = batch(64)
    mx, my, tx, ty = mt.Tensor(x), mt.Tensor(y), torch.from_numpy(x), torch.from_numpy(y)
    ours_step, theirs_step = mt_stepper(ours), torch_stepper(theirs)
    timed(lambda: ours_step(mx, my), 3)
    timed(lambda: theirs_step(tx, ty), 3)
    train = alternate(lambda: ours_step(mx, my), lambda: theirs_step(tx, ty), repeats, steps, 64)

    xi, _ = batch(1000, seed=1)
    ours.eval(), theirs.eval()
    mxi, txi = mt.Tensor(xi), torch.from_numpy(xi)

    def infer_ours():
        with mt.no_grad():
            ours(mxi)

    def infer_theirs():
        with torch.no_grad():
            theirs(txi)
    infer = alternate(infer_ours, infer_theirs, repeats, max(1, steps // 5), 1000)
    med = {k: statistics.median(v) for k, v in train.items()}
    med_inf = {k: statistics.median(v) for k, v in infer.items()}
    return {"model": name, "train_img_s": med, "infer_img_s": med_inf,
            "train_ratio": med["minitorch"] / med["torch"], "infer_ratio": med_inf["minitorch"] / med_inf["torch"]}


def op_profile(name, steps=21):
    """Seconds per training step spent in each Function's forward and backward: the median
    over `steps` steps of each op's time and of the whole step (medians, because a noisy
    neighbour slows single steps of a shared machine by up to 40%)."""
    import minitorch_cnn as mt
    from minitorch_cnn.core.autograd import Function   # the engine's Functions (mt.Function)
    ours, _ = make_pair(name)
    x, y = batch(64)
    step = mt_stepper(ours)
    totals = defaultdict(float)
    patched = []

    def classes(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from classes(sub)

    depth = [0]

    def timer(label, fn):
        def run(*args, **kwargs):
            # only the outermost call counts: a fast Function may call its core parent's method
            depth[0] += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    totals[label] += time.perf_counter() - start
        return staticmethod(run)

    for cls in set(classes(Function)):
        for method in ("forward", "backward"):
            if method in cls.__dict__:     # a subclass may inherit one of them from a core Function
                patched.append((cls, method, cls.__dict__[method]))
                setattr(cls, method, timer(f"{cls.__name__} {method}", cls.__dict__[method].__func__))
    per_step, wholes = defaultdict(list), []
    try:
        step(mt.Tensor(x), mt.Tensor(y))
        for _ in range(steps):
            totals.clear()
            start = time.perf_counter()
            step(mt.Tensor(x), mt.Tensor(y))
            wholes.append(time.perf_counter() - start)
            for label, seconds in totals.items():
                per_step[label].append(seconds)
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)
    whole = statistics.median(wholes)
    per_op = {k: statistics.median(v) for k, v in per_step.items()}
    per_op = dict(sorted(per_op.items(), key=lambda kv: -kv[1]))
    per_op["(optimizer, graph walk, Python)"] = whole - sum(per_op.values())
    return whole, per_op


def gemm_ceiling(name, repeats=20):
    """Summed time of the step's matrix products, each timed alone with its real shapes."""
    from minitorch_cnn import nn
    from minitorch_cnn.summary import summary_rows
    model, _ = make_pair(name)
    rows = summary_rows(model, (1, 28, 28), batch_size=64)
    modules = dict(model.named_modules())
    shapes = []
    for layer, _, out_shape, *_ in rows:
        m = modules[layer]
        if isinstance(m, nn.Conv2d):
            pixels = out_shape[0] * out_shape[2] * out_shape[3]
            k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            o = m.out_channels
            shapes += [(pixels, k, o), (o, pixels, k), (pixels, o, k)]   # forward, dW, dX
        elif isinstance(m, nn.Linear):
            shapes += [(64, m.in_features, m.out_features), (m.out_features, 64, m.in_features),
                       (64, m.out_features, m.in_features)]
    rng = np.random.default_rng(0)
    total = 0.0
    for mm, kk, nn_ in shapes:
        a = rng.standard_normal((mm, kk)).astype(np.float32)
        b = rng.standard_normal((kk, nn_)).astype(np.float32)
        a @ b
        total += statistics.median(timed(lambda: a @ b, 1) for _ in range(repeats))
    return total, len(shapes)


def peak_rss_child(engine, name, steps):
    """Run in a fresh process that imports only one engine: a short training run; print peak RSS in MB."""
    x, y = batch(64)
    if engine == "minitorch":
        import minitorch_cnn as mt
        from minitorch_cnn.models import get_model
        step, args = mt_stepper(get_model(name)), (mt.Tensor(x), mt.Tensor(y))
    else:
        import torch

        from torch_models import TORCH_MODELS
        step, args = torch_stepper(TORCH_MODELS[name]()), (torch.from_numpy(x), torch.from_numpy(y))
    for _ in range(steps):
        step(*args)
    # VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's peak.
    with open("/proc/self/status") as f:
        print(next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024)


def peak_rss(engine, name, steps=10):
    out = subprocess.run([sys.executable, __file__, "--rss-child", engine, name, str(steps)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def machine():
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, "
            f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")


def keep_freed_memory():
    """The allocator setting training makes (minitorch_cnn/allocator.py), where minitorch_cnn steps
    are timed; the PyTorch-only peak-RSS child imports no minitorch_cnn and goes without, as before."""
    from minitorch_cnn.allocator import keep_freed_memory as keep
    keep()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed repeat")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        engine, name, steps = args.rss_child
        if engine == "minitorch":
            keep_freed_memory()
        return peak_rss_child(engine, name, int(steps))
    keep_freed_memory()

    results = []
    for name in args.models:
        row = throughput(name, args.repeats, args.steps)
        row["peak_rss_mb"] = {e: peak_rss(e, name) for e in ("minitorch", "torch")}
        step_s, per_op = op_profile(name)
        gemm_s, n_gemm = gemm_ceiling(name)
        row.update(step_s=step_s, per_op_s=per_op, gemm_s=gemm_s, gemm_count=n_gemm,
                   gemm_bound_img_s=64 / gemm_s)
        results.append(row)
        print(f"{name}: train {row['train_img_s']['minitorch']:,.0f} vs {row['train_img_s']['torch']:,.0f} img/s "
              f"({row['train_ratio']:.2f}×), inference {row['infer_img_s']['minitorch']:,.0f} vs "
              f"{row['infer_img_s']['torch']:,.0f} ({row['infer_ratio']:.2f}×), peak RSS "
              f"{row['peak_rss_mb']['minitorch']:.0f} vs {row['peak_rss_mb']['torch']:.0f} MB", flush=True)
        print(f"  one step {1e3 * step_s:.1f} ms; its {n_gemm} GEMMs alone {1e3 * gemm_s:.1f} ms, "
              f"{100 * gemm_s / step_s:.0f}% of the step (GEMM-bound ceiling {row['gemm_bound_img_s']:,.0f} img/s, "
              f"{row['gemm_bound_img_s'] / row['train_img_s']['minitorch']:.1f}× this engine's rate); by op:")
        for op, seconds in per_op.items():
            if seconds >= 0.05 * step_s or op.startswith("("):
                print(f"    {op:34s} {1e3 * seconds:6.2f} ms")

    lines = ["| model | train img/s minitorch_cnn | train img/s PyTorch | ratio | inference img/s minitorch_cnn | "
             "inference img/s PyTorch | ratio | peak RSS minitorch_cnn | peak RSS PyTorch | GEMM-bound ceiling |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['model']} | {r['train_img_s']['minitorch']:,.0f} | {r['train_img_s']['torch']:,.0f} | "
                     f"{r['train_ratio']:.2f} | {r['infer_img_s']['minitorch']:,.0f} | {r['infer_img_s']['torch']:,.0f} | "
                     f"{r['infer_ratio']:.2f} | {r['peak_rss_mb']['minitorch']:.0f} MB | "
                     f"{r['peak_rss_mb']['torch']:.0f} MB | {r['gemm_bound_img_s']:,.0f} img/s |")
    table = "\n".join(lines)
    print(f"\nmachine: {machine()}\n\n{table}")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "cpu.json"), "w") as f:
        json.dump({"machine": machine(), "date": time.strftime("%Y-%m-%d"), "rows": results}, f, indent=2)
    with open(os.path.join(args.out, "cpu.md"), "w") as f:
        f.write(f"Training batch 64 and inference batch 1000, float32, measured {time.strftime('%Y-%m-%d')} on "
                f"{machine()}.\n\n{table}\n")


if __name__ == "__main__":
    main()
