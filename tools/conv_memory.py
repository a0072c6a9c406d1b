"""Peak bytes of one training step, per layer, computed from the shapes (no GPU needed).

    python tools/conv_memory.py                         # DigitCNN and DeepCNN, batch 256
    python tools/conv_memory.py --model lenet5 --batch-size 64 --measure

Prints, for each model, one markdown table per layout: "cpu" (the NumPy path), "cuda" (the
CuPy path now) and "before" (the CuPy path before issue 13, whose col2im wrapper copied the
column gradient).  --measure adds the CPU step's tracemalloc peak (NumPy reports its
allocations to tracemalloc) next to the computed one.  The model: minitorch_cnn/summary/memory.py.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minitorch_cnn as mt                                   # noqa: E402
from minitorch_cnn.models import get_model                  # noqa: E402
from minitorch_cnn.nn import functional as F                # noqa: E402
from minitorch_cnn.summary.memory import LAYOUTS, measured_step_peak, step_memory   # noqa: E402


def mib(n):
    return f"{n / 2**20:.1f}"


def measured_cpu_peak(name, batch_size):
    """tracemalloc's peak of the second SGD step (the first allocates the momentum buffers)."""
    mt.manual_seed(0)
    model = get_model(name)
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((batch_size, 1, 28, 28)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, batch_size))
    optimizer = mt.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return measured_step_peak(model, F.cross_entropy, x, y, optimizer)


def table(name, batch_size, layout):
    rows, peak = step_memory(get_model(name), F.cross_entropy, (1, 28, 28), batch_size, layout)
    lines = [f"{name}, batch {batch_size}, float32, layout {layout!r}: peak {mib(peak)} MiB",
             "",
             "| op | output MiB | saved MiB (col) | backward temporaries MiB | held during its backward MiB |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        saved = mib(r["saved"]) + (f" ({mib(r['col'])})" if r["col"] else "")
        lines.append(f"| {r['op']} | {mib(r['output'])} | {saved} | {mib(r['temporaries'])} | "
                     f"{mib(r['at_backward'])} |")
    return "\n".join(lines), peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="(default: digitcnn and deepcnn)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--measure", action="store_true", help="also measure the CPU step with tracemalloc")
    args = parser.parse_args(argv)
    summary = ["| model | batch | CPU computed MiB | CPU measured MiB | GPU before MiB | GPU now MiB |",
               "|---|---:|---:|---:|---:|---:|"]
    for name in args.model or ["digitcnn", "deepcnn"]:
        peaks = {}
        for layout in LAYOUTS:
            text, peaks[layout] = table(name, args.batch_size, layout)
            print(text, end="\n\n")
        measured = mib(measured_cpu_peak(name, args.batch_size)) if args.measure else "-"
        summary.append(f"| {name} | {args.batch_size} | {mib(peaks['cpu'])} | {measured} | "
                       f"{mib(peaks['before'])} | {mib(peaks['cuda'])} |")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
