"""The small GPU steps of tools/gpu_check.sh: preflight, versions, kernel resources, a sanitizer case.

    python tools/gpu_probe.py preflight            # one line and status 2 when something is missing
    python tools/gpu_probe.py versions --json F    # driver, CUDA runtime, CuPy, torch, device
    python tools/gpu_probe.py kernels --json F     # compile kernels/*.cu (float32, float64): registers, local memory
    python tools/gpu_probe.py sanitize-case        # every kernel once on tiny inputs (run under compute-sanitizer)

Each subcommand imports only what it needs, so `preflight` names the first missing piece
(CuPy, a GPU CuPy can use, torch, torch's CUDA, pytest) in the order the check needs them.
"""
import argparse
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))      # the checkout this script belongs to, not an installed copy

PREFLIGHT_EXIT = 2                 # "cannot run here", as benchmarks/bench_gpu.py uses


class Missing(Exception):
    """One line saying what this machine lacks for the GPU check."""


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def probe_cupy():
    """(cupy, device count), or Missing naming why CuPy cannot use a GPU (the CUDA error text)."""
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:    # ImportError, or a CUDA library that fails to load
        raise Missing(f"CuPy is not importable ({type(exc).__name__}: {_first_line(exc)}); "
                      "pip install \".[cuda12]\" or \".[cuda13]\"") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:    # CUDARuntimeError: no device, driver too old for the runtime, ...
        raise Missing(f"CuPy {cupy.__version__} cannot use a GPU: {_first_line(exc)}") from None
    if count < 1:
        raise Missing(f"CuPy {cupy.__version__} finds no NVIDIA GPU (device count 0)")
    return cupy, count


def probe_torch():
    """torch with CUDA, or Missing naming what is wrong with it."""
    try:
        torch = importlib.import_module("torch")
    except Exception as exc:
        raise Missing(f"torch is not importable ({type(exc).__name__}: {_first_line(exc)}); "
                      "install a CUDA build of torch") from None
    if torch.version.cuda is None:
        raise Missing(f"torch {torch.__version__} is a build without CUDA; install a CUDA build of torch")
    if not torch.cuda.is_available():
        raise Missing(f"torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU "
                      "(torch.cuda.is_available() is False)")
    return torch


def probe_pytest():
    try:
        importlib.import_module("pytest")
    except Exception as exc:
        raise Missing(f"pytest is not importable ({_first_line(exc)}); pip install \".[gradcheck]\"") from None


def preflight():
    """Everything the check needs, in the order it needs it; the first gap raises Missing."""
    probe_cupy()
    probe_torch()
    probe_pytest()


# ---- versions -----------------------------------------------------------------------------

def _version_text(number):
    """CUDA's 12040 -> '12.4'."""
    return f"{number // 1000}.{number % 1000 // 10}"


def nvidia_smi_query():
    """{'name', 'driver', 'compute_cap', 'memory_total'} from nvidia-smi, or {} without it."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return {}
    fields = ("name", "driver_version", "compute_cap", "memory.total")
    try:
        out = subprocess.run([exe, "--query-gpu=" + ",".join(fields), "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if out.returncode != 0 or not out.stdout.strip():
        # older drivers lack compute_cap: ask without it
        out = subprocess.run([exe, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        fields = ("name", "driver_version")
        if out.returncode != 0:
            return {}
    values = [v.strip() for v in out.stdout.strip().splitlines()[0].split(",")]
    return dict(zip(("name", "driver", "compute_cap", "memory_total"), values))


def versions():
    cupy, count = probe_cupy()
    torch = probe_torch()
    import numpy
    device = cupy.cuda.Device()
    props = cupy.cuda.runtime.getDeviceProperties(device.id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    smi = nvidia_smi_query()
    driver_api = cupy.cuda.runtime.driverGetVersion()
    info = {
        "device": name,
        "device_count": count,
        "compute_capability": f"{device.compute_capability[:-1]}.{device.compute_capability[-1]}",
        "memory_bytes": int(props["totalGlobalMem"]),
        # the driver's own version (e.g. 570.124.06) when nvidia-smi is there, else the CUDA
        # version the driver supports
        "driver": smi.get("driver") or f"CUDA {_version_text(driver_api)} (driver API)",
        "driver_cuda": _version_text(driver_api),
        "cuda": _version_text(cupy.cuda.runtime.runtimeGetVersion()),
        "cuda_local_runtime": _optional(lambda: _version_text(cupy.cuda.get_local_runtime_version())),
        "cupy": cupy.__version__,
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "torch_device": torch.cuda.get_device_name(0),
        "numpy": numpy.__version__,
        "python": sys.version.split()[0],
        "nvcc": _nvcc_version(),
    }
    return info


def _optional(read):
    """A version that is good to know but must not stop the step: its text, or why it is missing."""
    try:
        return read()
    except Exception as exc:
        return f"unknown ({type(exc).__name__}: {_first_line(exc)})"


def _nvcc_version():
    exe = shutil.which("nvcc")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    release = [line for line in out.splitlines() if "release" in line]
    lines = out.strip().splitlines()
    return release[0].strip() if release else (lines[-1] if lines else None)


# ---- kernels ------------------------------------------------------------------------------

def kernel_resources():
    """Compile every kernel of kernels/*.cu for float and double: one row per kernel.

    The numbers are the driver's, for the binary NVRTC built for this GPU (CuPy's RawKernel
    attributes): registers per thread, local memory per thread (non-zero means spills),
    static shared memory, and the largest block the kernel can be launched with."""
    from minitorch_cnn.cuda import loader
    from minitorch_cnn.cuda.kernels import BLOCK
    rows, problems = [], []
    for source in loader.kernel_sources():
        names = loader.kernel_names(source.read_text(encoding="utf-8"))
        for ctype in ("float", "double"):
            for name in names:
                expression = f"{name}<{ctype}>"
                try:
                    kernel = loader.get_kernel(source.name, expression)
                    row = {"file": source.name, "kernel": expression,
                           "num_regs": int(kernel.num_regs),
                           "local_size_bytes": int(kernel.local_size_bytes),
                           "shared_size_bytes": int(kernel.shared_size_bytes),
                           "max_threads_per_block": int(kernel.max_threads_per_block),
                           "binary_version": int(kernel.binary_version)}
                except Exception as exc:
                    problems.append(f"{source.name} {expression}: {type(exc).__name__}: {exc}")
                    continue
                if row["max_threads_per_block"] < BLOCK:
                    problems.append(f"{source.name} {expression}: launches use {BLOCK} threads per "
                                    f"block, the kernel allows {row['max_threads_per_block']}")
                rows.append(row)
    return rows, problems


def kernel_table(rows):
    lines = [f"{'file':<12} {'kernel':<32} {'regs':>5} {'local B':>8} {'shared B':>9} {'max thr/blk':>11} {'sm':>4}"]
    for r in rows:
        lines.append(f"{r['file']:<12} {r['kernel']:<32} {r['num_regs']:>5} {r['local_size_bytes']:>8} "
                     f"{r['shared_size_bytes']:>9} {r['max_threads_per_block']:>11} {r['binary_version']:>4}"
                     + ("   <- spills to local memory" if r["local_size_bytes"] else ""))
    return "\n".join(lines)


# ---- a tiny case for compute-sanitizer --------------------------------------------------

def sanitize_case():
    """Every kernel once, forward and backward, float32 and float64, on odd tiny shapes.

    CuPy's memory pool is switched off first: pooled blocks sit next to each other inside one
    large allocation, so an out-of-bounds access would land in a neighbour and memcheck would
    not see it; with one cudaMalloc per array it does."""
    import cupy
    import numpy as np
    cupy.cuda.set_allocator(None)
    import minitorch_cnn as mt
    from minitorch_cnn.nn import functional as F
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        # odd sizes, stride, padding and dilation: the edges of every index computation
        x = mt.Tensor(cupy.asarray(rng.standard_normal((2, 3, 7, 9)).astype(dtype)), requires_grad=True)
        w = mt.Tensor(cupy.asarray(rng.standard_normal((4, 3, 3, 2)).astype(dtype)), requires_grad=True)
        y = F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(2, 1))
        y.backward(mt.Tensor(cupy.ones_like(y.array)))
        for pool in (lambda t: F.max_pool2d(t, 3, stride=2, padding=1),
                     lambda t: F.avg_pool2d(t, (2, 3), stride=(1, 2), padding=(1, 1))):
            x.grad = None
            out = pool(x)
            out.backward(mt.Tensor(cupy.ones_like(out.array)))
        cupy.cuda.Device().synchronize()
    print("sanitize-case: conv2d, max_pool2d and avg_pool2d forward and backward ran "
          "(float32, float64)")


# ---- command line -------------------------------------------------------------------------

def _write_json(path, value):
    """Write JSON atomically, with the engine's one helper (a temporary file, then a rename)."""
    from minitorch_cnn.serialization import atomic_write
    atomic_write(path, lambda f: f.write((json.dumps(value, indent=2) + "\n").encode("utf-8")))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("command", choices=("preflight", "versions", "kernels", "sanitize-case"))
    p.add_argument("--json", help="also write the result here (versions, kernels)")
    args = p.parse_args(argv)
    try:
        if args.command == "preflight":
            preflight()
            print("preflight: CuPy sees a GPU, torch has CUDA, pytest imports")
            return 0
        if args.command == "versions":
            info = versions()
            for key, value in info.items():
                print(f"{key:>20}: {value}")
            if args.json:
                _write_json(args.json, info)
            return 0
        if args.command == "kernels":
            rows, problems = kernel_resources()
            print(kernel_table(rows))
            for problem in problems:
                print(f"kernels: FAILED {problem}")
            if args.json:
                _write_json(args.json, {"kernels": rows, "problems": problems})
            return 1 if problems or not rows else 0
        sanitize_case()
        return 0
    except Missing as exc:
        print(exc)
        return PREFLIGHT_EXIT


if __name__ == "__main__":
    sys.exit(main())
