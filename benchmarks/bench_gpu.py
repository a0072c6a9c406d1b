"""Training throughput on one NVIDIA GPU: minitorch_cnn on CuPy vs PyTorch on CUDA, in one run.

For each model (LeNet5, DigitCNN, SimpleCNN, DeepCNN) and batch size (64, 256) it
measures images/s of whole training steps: forward, cross-entropy, backward and
an Adam step, in float32, on random 28×28 inputs already on the GPU (so no data
loading is timed).  The two frameworks start from the same weights (PyTorch's
initialisation of tests/torch_models.py, loaded into the engine),
keep their dropout on, and are timed alternately: repeat r runs the engine then
PyTorch, repeat r + 1 PyTorch then the engine, so clock and temperature drift
hit both alike.  Each repeat is
`--steps` steps between two device synchronisations; the table shows the median
images/s over the repeats and the ratio engine / PyTorch.  PyTorch runs eagerly
with its defaults (for example cuDNN may use TF32 for convolutions; the engine's
CuPy GEMMs are plain float32 unless CUPY_TF32=1); the settings are written into
the results.

    python benchmarks/bench_gpu.py [--models digitcnn ...] [--batch-sizes 64 256]
                                   [--steps 30] [--repeats 7] [--warmup 5]
                                   [--no-torch] [--out benchmarks/results]

Writes <out>/gpu.json (every sample, device, versions, settings) and <out>/gpu.md
(the table), each atomically.  gpu.json's `results` holds one summary record per
configuration, {model, batch_size, ours_img_s, torch_img_s, ratio, peak_bytes}, the
form tools/gpu_check.sh reports; `rows` keeps every sample.  peak_bytes is the most
device memory CuPy's memory pool held while the configuration ran (its model, Adam
state, input batches and the step's temporaries): the pool starts empty and never
hands blocks back on its own, so its final size is its high-water mark, an upper
bound on the step's live bytes by the pool's rounding and fragmentation.  PyTorch's
counterparts are torch_peak_bytes (torch.cuda.max_memory_allocated, live tensors)
and torch_peak_reserved_bytes (max_memory_reserved, its caching allocator's holding,
the one comparable with peak_bytes).  Target (issue 4): DigitCNN at batch 256
reaches at least half of PyTorch's throughput.  Without a GPU, CuPy, or a CUDA build of PyTorch it prints
one line saying what is missing and exits with status 2.  The defaults run
8 configurations × 2 frameworks × (5 + 7·30) steps, sized to stay well under
5 minutes on an H100 (not yet timed on one).
"""
import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODELS = ("lenet5", "digitcnn", "simplecnn", "deepcnn")
TARGET = ("digitcnn", 256, 0.5)      # (model, batch size, minimum engine / PyTorch ratio)
INPUT = (1, 28, 28)
NUM_CLASSES = 10


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 256])
    p.add_argument("--steps", type=int, default=30, help="training steps per timed repeat")
    p.add_argument("--repeats", type=int, default=7, help="timed repeats per framework (median reported)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (kernel compilation, allocators)")
    p.add_argument("--no-torch", action="store_true", help="time minitorch_cnn alone (no ratio)")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"))
    args = p.parse_args(argv)
    if min(args.batch_sizes + [args.steps, args.repeats]) < 1 or args.warmup < 0:
        p.error("batch sizes, --steps and --repeats must be at least 1, --warmup at least 0")
    return args


class CannotRun(Exception):
    """What this machine lacks for the benchmark: reported as one line, exit status 2."""


def require_gpu_stack(no_torch):
    """(minitorch_cnn, cupy, torch or None), or CannotRun saying what is missing."""
    sys.path.insert(0, str(REPO))          # time the checkout this script belongs to
    sys.path.insert(0, str(REPO / "tests"))  # and compare with its models' twins in tests/torch_models.py
    import minitorch_cnn as mt
    try:
        cupy = mt.backend.require_cuda()
    except RuntimeError as exc:
        raise CannotRun(str(exc)) from None
    if no_torch:
        return mt, cupy, None
    try:
        import torch
    except ImportError:
        raise CannotRun("PyTorch is not installed; install a CUDA build of torch, "
                        "or pass --no-torch to time minitorch_cnn alone") from None
    if not torch.cuda.is_available():
        raise CannotRun(f"PyTorch {torch.__version__} sees no CUDA GPU (a CPU-only build?); install a "
                        "CUDA build of torch, or pass --no-torch to time minitorch_cnn alone")
    return mt, cupy, torch


# ---- one framework's training step, and timing it -------------------------------------

class EngineRun:
    def __init__(self, mt, model, batches):
        self.mt, self.model, self.batches = mt, model, batches
        self.optimizer = mt.optim.Adam(model.parameters(), lr=1e-3)
        from minitorch_cnn.nn import functional
        self.cross_entropy = functional.cross_entropy

    def step(self, i):
        x, y = self.batches[i % len(self.batches)]
        self.optimizer.zero_grad()
        loss = self.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()

    def logits(self, i):
        with self.mt.no_grad():
            return self.mt.backend.to_numpy(self.model.eval()(self.batches[i][0]).array)


class TorchRun:
    def __init__(self, torch, model, batches):
        self.torch, self.model, self.batches = torch, model, batches
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(self, i):
        x, y = self.batches[i % len(self.batches)]
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()

    def logits(self, i):
        with self.torch.no_grad():
            return self.model.eval()(self.batches[i][0]).cpu().numpy()


def timed(run, steps, synchronize):
    """Seconds for `steps` training steps, between two device synchronisations."""
    synchronize()
    start = time.perf_counter()
    for i in range(steps):
        run.step(i)
    synchronize()
    return time.perf_counter() - start


def bench_config(name, batch, args, mt, cupy, torch):
    """One (model, batch size): images/s samples for each framework, and a sanity check."""
    # Both pools start empty, so what they hold at the end is this configuration's peak.
    release_memory(cupy, torch)
    pool = cupy.get_default_memory_pool()
    pool_before = pool.total_bytes()
    if torch is not None:
        torch.cuda.reset_peak_memory_stats()
    rng = np.random.default_rng(0)
    arrays = [(rng.standard_normal((batch,) + INPUT).astype(np.float32), rng.integers(0, NUM_CLASSES, batch))
              for _ in range(4)]
    mt.manual_seed(0)
    engine_model = mt.models.get_model(name)
    torch_model = None
    if torch is not None:
        torch.manual_seed(0)
        from torch_models import TORCH_MODELS   # tests/torch_models.py: the same models in PyTorch
        torch_model = TORCH_MODELS[name]().cuda()
        engine_model.load_state_dict(torch_model.state_dict())          # strict: checks the twins
    engine = EngineRun(mt, engine_model.to("cuda"),
                       [(mt.tensor(x, device="cuda"), mt.tensor(y, device="cuda")) for x, y in arrays])
    runs = {"minitorch_cnn": (engine, cupy.cuda.Device().synchronize)}
    if torch is not None:
        runs["pytorch"] = (TorchRun(torch, torch_model, [(torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda())
                                                         for x, y in arrays]), torch.cuda.synchronize)

    # Before any step: both models hold the same weights, so their eval-mode logits agree
    # (to TF32/float32 rounding).  A benchmark of a wrong computation would show here.
    agreement = None
    if torch is not None:
        a, b = engine.logits(0), runs["pytorch"][0].logits(0)
        agreement = float(np.abs(a - b).max() / np.abs(b).max())
    for run, synchronize in runs.values():
        run.model.train()
        if args.warmup:
            timed(run, args.warmup, synchronize)

    samples = {key: [] for key in runs}
    for r in range(args.repeats):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for key in order:
            run, synchronize = runs[key]
            samples[key].append(args.steps * batch / timed(run, args.steps, synchronize))

    row = {"model": name, "batch": batch, "steps_per_repeat": args.steps,
           "minitorch_images_per_s": statistics.median(samples["minitorch_cnn"]),
           "minitorch_samples": samples["minitorch_cnn"],
           "peak_bytes": pool.total_bytes() - pool_before}
    if torch is not None:
        row.update(torch_images_per_s=statistics.median(samples["pytorch"]), torch_samples=samples["pytorch"],
                   eval_logits_max_rel_diff=agreement,
                   torch_peak_bytes=torch.cuda.max_memory_allocated(),
                   torch_peak_reserved_bytes=torch.cuda.max_memory_reserved())
        row["ratio"] = row["minitorch_images_per_s"] / row["torch_images_per_s"]
    return row


def summary(row):
    """One configuration as tools/gpu_check.sh reports it (None where PyTorch was not timed)."""
    return {"model": row["model"], "batch_size": row["batch"],
            "ours_img_s": row["minitorch_images_per_s"], "torch_img_s": row.get("torch_images_per_s"),
            "ratio": row.get("ratio"), "peak_bytes": row["peak_bytes"],
            "torch_peak_bytes": row.get("torch_peak_bytes")}


def release_memory(cupy, torch):
    """Give the finished configuration's blocks back, so both pools start the next one alike."""
    gc.collect()
    cupy.get_default_memory_pool().free_all_blocks()
    if torch is not None:
        torch.cuda.empty_cache()


# ---- report --------------------------------------------------------------------------

def device_info(mt, cupy, torch):
    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    runtime, driver = cupy.cuda.runtime.runtimeGetVersion(), cupy.cuda.runtime.driverGetVersion()
    capability = cupy.cuda.Device().compute_capability
    info = {"device": name, "python": platform.python_version(), "numpy": np.__version__,
            "cupy": cupy.__version__, "cuda_runtime": runtime, "cuda_driver": driver,
            # as tools/gpu_check.sh names them: "12.8" for 12080
            "cuda": f"{runtime // 1000}.{runtime % 1000 // 10}",
            "driver": f"CUDA {driver // 1000}.{driver % 1000 // 10} (driver API)",
            "compute_capability": f"{capability[:-1]}.{capability[-1]}",     # "90" -> "9.0"
            "minitorch_cnn": mt.__version__, "torch": None,
            "CUPY_TF32": os.environ.get("CUPY_TF32", "0")}
    if torch is not None:
        info.update(torch=torch.__version__, torch_cuda=torch.version.cuda,
                    torch_cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                    torch_matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
                    torch_cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info


def table(rows, with_torch):
    if with_torch:
        lines = ["| model | batch | minitorch_cnn img/s | PyTorch img/s | ratio (engine / PyTorch) "
                 "| engine peak MB | PyTorch peak MB |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['model']} | {r['batch']} | {r['minitorch_images_per_s']:,.0f} | "
                  f"{r['torch_images_per_s']:,.0f} | {r['ratio']:.2f} | {r['peak_bytes'] / 2**20:,.1f} | "
                  f"{r['torch_peak_reserved_bytes'] / 2**20:,.1f} |" for r in rows]
    else:
        lines = ["| model | batch | minitorch_cnn img/s | engine peak MB |", "|---|---:|---:|---:|"]
        lines += [f"| {r['model']} | {r['batch']} | {r['minitorch_images_per_s']:,.0f} | "
                  f"{r['peak_bytes'] / 2**20:,.1f} |" for r in rows]
    return "\n".join(lines)


def write_atomically(path, text):
    """A reader never sees a half-written file: the engine's one atomic-write helper."""
    from minitorch_cnn.serialization import atomic_write
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def target_line(rows):
    model, batch, minimum = TARGET
    row = next((r for r in rows if r["model"] == model and r["batch"] == batch and "ratio" in r), None)
    if row is None:
        return None, f"target ({model} at batch {batch}, ratio ≥ {minimum}): not measured in this run"
    met = row["ratio"] >= minimum
    return met, (f"target ({model} at batch {batch}: at least {minimum:.0%} of PyTorch's throughput): "
                 f"ratio {row['ratio']:.2f}, {'met' if met else 'NOT met'}")


def main(argv=None):
    args = parse_args(argv)
    try:
        mt, cupy, torch = require_gpu_stack(args.no_torch)
    except CannotRun as exc:
        print(f"bench_gpu: cannot run: {exc}", file=sys.stderr)
        return 2
    from minitorch_cnn.allocator import keep_freed_memory
    keep_freed_memory()     # as training has it (minitorch_cnn/allocator.py)
    info = device_info(mt, cupy, torch)
    print(f"device: {info['device']}; CuPy {info['cupy']}"
          + (f", PyTorch {info['torch']} (CUDA {info['torch_cuda']})" if torch is not None else ""), flush=True)
    started = time.perf_counter()
    rows = []
    for name in args.models:
        for batch in args.batch_sizes:
            row = bench_config(name, batch, args, mt, cupy, torch)
            release_memory(cupy, torch)
            rows.append(row)
            print(f"  {name} batch {batch}: {row['minitorch_images_per_s']:,.0f} img/s"
                  + (f" vs PyTorch {row['torch_images_per_s']:,.0f} img/s (ratio {row['ratio']:.2f}; "
                     f"eval logits agree to {row['eval_logits_max_rel_diff']:.1e})" if torch is not None else ""),
                  flush=True)
    seconds = time.perf_counter() - started
    text = table(rows, torch is not None)
    met, target = target_line(rows)
    print()
    print(text)
    print()
    print(target)

    date = time.strftime("%Y-%m-%d")
    settings = {k: getattr(args, k) for k in ("steps", "repeats", "warmup", "batch_sizes", "models")}
    settings.update(dtype="float32", optimizer="Adam(lr=1e-3)", input=list(INPUT), seconds=round(seconds, 1))
    os.makedirs(args.out, exist_ok=True)
    write_atomically(os.path.join(args.out, "gpu.json"), json.dumps(
        {"date": date, **info, "settings": settings, "results": [summary(r) for r in rows], "rows": rows,
         "target": {"model": TARGET[0], "batch": TARGET[1], "min_ratio": TARGET[2], "met": met}},
        indent=2) + "\n")
    write_atomically(os.path.join(args.out, "gpu.md"),
                     f"Training throughput (forward + backward + Adam, float32, 28×28 inputs), measured {date} on "
                     f"{info['device']} with CuPy {info['cupy']}"
                     + (f" and PyTorch {info['torch']} (CUDA {info['torch_cuda']}, eager, default settings)"
                        if torch is not None else "")
                     + f"; median of {args.repeats} repeats of {args.steps} steps. Peak MB: the most "
                     "memory each framework's allocator held during the configuration.\n\n"
                     f"{text}\n\n{target}\n")
    print(f"\nwrote {os.path.join(args.out, 'gpu.json')} and gpu.md ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
