"""The bytes a training step holds (minitorch_cnn/summary/memory.py) against tracemalloc.

NumPy reports its array allocations to tracemalloc, so on the CPU the peak of a step can be
measured exactly; the computed peak walks the recorded graph and adds each convolution's
backward temporaries from the shapes.  It leaves out Python objects and the temporaries of
the non-convolution ops, so it may miss a little: the tests allow 3% plus 64 KiB for the
graph's Python objects (the arrays of the four bundled models' steps measured within 0.5%).
"""
import gc
import importlib.util
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F
from minitorch_cnn.backends import fast as fast_backend
from minitorch_cnn.fast import conv as np_conv
from minitorch_cnn.summary import memory
from minitorch_cnn.summary.memory import conv_backward_temporaries, step_memory

TOLERANCE = 0.03
PYTHON_OBJECTS = 64 << 10


@pytest.fixture(autouse=True)
def fast_conv(monkeypatch):
    """These tests measure the fast Conv2d's allocations: the fast paths are on here even
    under MINITORCH_CNN_FAST=0."""
    monkeypatch.setattr(fast_backend, "enabled", True)


def small_model():
    mt.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * 7 * 7, 10))


def measured_step_peak(model, x, y):
    """tracemalloc's peak of the second SGD step, above what was allocated before it."""
    return memory.measured_step_peak(model, F.cross_entropy, x, y,
                                     mt.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))


@pytest.mark.parametrize("batch", [8, 64])
def test_computed_step_peak_matches_tracemalloc(batch):
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((batch, 1, 14, 14)).astype(np.float32))
    y = mt.tensor(rng.integers(0, 10, batch))
    measured = measured_step_peak(small_model(), x, y)
    _, computed = step_memory(small_model(), F.cross_entropy, (1, 14, 14), batch)
    assert abs(measured - computed) <= TOLERANCE * measured + PYTHON_OBJECTS, (measured, computed)


def test_layouts_differ_by_one_column_gradient_copy():
    """'before' (the CUDA wrapper copying the column gradient) holds one more col-sized array at
    the backward of the convolution whose input needs a gradient; the first one has none."""
    rows = {layout: step_memory(small_model(), F.cross_entropy, (1, 14, 14), 16, layout)[0]
            for layout in ("cuda", "before")}
    convs = [(now, old) for now, old in zip(rows["cuda"], rows["before"]) if now["op"] == "Conv2d"]
    (first_now, first_old), (second_now, second_old) = convs
    assert first_now["at_backward"] == first_old["at_backward"]
    assert second_old["at_backward"] - second_now["at_backward"] == second_now["col"]


def test_step_memory_refuses_an_unknown_layout():
    with pytest.raises(ValueError, match="step_memory: layout must be one of"):
        step_memory(small_model(), F.cross_entropy, (1, 14, 14), 2, layout="gpu")


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_backward_makes_no_column_sized_copy_on_the_cpu(groups):
    """The backward's own allocations: Gᵀ, the column gradient, col2im's padded dx, dx and the
    weight gradients; a second column-sized array (a copy of the column gradient) would
    exceed the bound by col's size, far more than its 5% slack."""
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((8, 16, 20, 20)), requires_grad=True)
    w = mt.tensor(rng.standard_normal((16, 16 // groups, 5, 5)), requires_grad=True)
    b = mt.tensor(rng.standard_normal(16), requires_grad=True)
    out = F.conv2d(x, w, b, padding=2, groups=groups)
    node = out._node
    col_bytes = node.saved[0].nbytes
    g = mt.tensor(rng.standard_normal(out.shape))
    bound = (conv_backward_temporaries(node, "cpu") + x.array.nbytes + w.array.nbytes
             + b.array.nbytes + (col_bytes // groups if groups > 1 else 0)   # _group_columns' copy
             + col_bytes // 20)
    assert bound < 3 * col_bytes                   # a second column-sized copy would not fit
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        out.backward(g)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert peak <= bound, (peak, bound, col_bytes)
    assert peak >= col_bytes                       # the column gradient itself was allocated
    assert peak + col_bytes > bound                # ... and one more would break the bound


def test_cpu_column_gradient_reaches_col2im_as_a_view(monkeypatch):
    """Conv2d.backward hands col2im a view of the GEMM's output, which NumPy's col2im reshapes
    without copying."""
    seen = []
    real = np_conv.col2im
    monkeypatch.setattr(np_conv, "col2im", lambda col, *args: seen.append(col) or real(col, *args))
    rng = np.random.default_rng(2)
    x = mt.tensor(rng.standard_normal((2, 4, 7, 7)), requires_grad=True)
    F.conv2d(x, mt.tensor(rng.standard_normal((6, 4, 3, 3)))).sum().backward()
    (col,) = seen
    assert col.base is not None and col.transpose(1, 0, 2, 3).flags.c_contiguous
    n, oh, ow = 2, 5, 5
    assert np.shares_memory(col.reshape((n, oh, ow, 9, 4)), col)


def test_the_cli_prints_a_table_per_layout_and_the_summary(capsys):
    path = Path(__file__).resolve().parents[1] / "tools" / "conv_memory.py"
    spec = importlib.util.spec_from_file_location("conv_memory", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--model", "lenet5", "--batch-size", "4", "--measure"]) == 0
    out = capsys.readouterr().out
    for layout in ("cpu", "cuda", "before"):
        assert f"lenet5, batch 4, float32, layout {layout!r}: peak" in out
    (summary,) = [line for line in out.splitlines() if line.startswith("| lenet5 | 4 |")]
    cpu, measured, before, now = (float(v) for v in summary.strip("|").split("|")[2:])
    assert before > now and abs(cpu - measured) <= 0.05 * measured + 0.1
