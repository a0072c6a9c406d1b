"""The bytes one training step holds at its peak, per layer, computed from the shapes.

    python tools/conv_memory.py --model digitcnn --batch-size 256

A training step allocates, on top of the parameters, the optimizer state and the input
batch (all there before it starts):

  * forward: every op's output, and what each op saves for its backward that is not one of
    those outputs (a convolution's im2col columns `col`, a max-pool's argmax, a dropout
    mask, a batch norm's normalised input).  The graph keeps every op's inputs, so all
    outputs live until the step ends; the saved arrays are freed one op at a time as the
    backward passes it (core/autograd.py's backward);
  * backward of op k: its incoming gradient (shaped like its output), its temporaries, the
    gradients it returns (shaped like its inputs), and the parameter gradients written so far.

For a convolution the temporaries are what the fast Conv2d.backward (fast/conv.py) allocates:
Gᵀ (output-sized), the column gradient G·W (col-sized, when the input needs a gradient),
the weight gradient, and on the CPU col2im's padded channels-last dx.  Before issue 13 the
CUDA col2im wrapper also made a contiguous copy of the column gradient (`layout="before"`).

The other ops' temporaries are left out (they are the size of an activation at most, where
the peak is set by a convolution's columns); tests/test_conv_memory.py holds the result to
a tracemalloc measurement of the CPU step.

The graph walked is that of one real forward pass at the asked batch size on the CPU (with
zeros), so every shape and dtype is the engine's own; on the GPU the same graph holds the
same shapes, except that max-pool's argmax is int32 (int8 on the CPU).
"""
import gc
import tracemalloc

import numpy as np

from ..core.autograd import topological_order as _topological_order
from ..tensor import Tensor

LAYOUTS = ("cpu", "cuda", "before")   # cuda before issue 13: + one copy of the column gradient


def _owner(array):
    """The array that owns `array`'s memory (views share their base's bytes)."""
    while getattr(array, "base", None) is not None and isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _nbytes(shape, itemsize):
    return int(np.prod(shape, dtype=np.int64)) * itemsize


def conv_backward_temporaries(node, layout):
    """Bytes Conv2d.backward allocates besides the gradients it returns, for one graph node."""
    col, _ = node.saved
    x_shape, w_shape, stride, padding, dilation, groups = node.params
    out_c, per_group, kh, kw = w_shape
    item = col.dtype.itemsize
    rows = col.shape[0]
    grad_t = rows * out_c * item                      # Gᵀ, shaped like the output
    grad_w = 2 * _nbytes(w_shape, item)               # (O, kh·kw·C) and its (O, C, kh, kw) copy
    total = grad_t + grad_w
    if node.needs_input_grad[0]:
        grad_col = col.size * item
        total += grad_col
        if layout == "cpu":                           # col2im's padded channels-last sum
            n, c, h, w = x_shape
            total += n * (h + 2 * padding[0]) * (w + 2 * padding[1]) * c * item
        elif layout == "before":                      # the wrapper's contiguous copy
            total += grad_col
    return total


def step_memory(model, loss_fn, input_shape, batch_size, layout="cpu", dtype=np.float32):
    """Per graph node (forward order) and the peak of one training step, in bytes.

    Returns (rows, peak): rows are dicts with the op's name, `output` (bytes of its
    output), `saved` (bytes it saves beyond the outputs), `col` (a convolution's columns),
    `temporaries` (its backward's, see conv_backward_temporaries) and `at_backward` (the
    bytes the step holds while this op's backward runs); peak is the largest of those
    and of the end of the forward.  loss_fn(out, target) builds the loss.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"step_memory: layout must be one of {LAYOUTS}, got {layout!r}")
    x = Tensor(np.zeros((batch_size,) + tuple(input_shape), dtype=dtype))
    target = Tensor(np.zeros(batch_size, dtype=np.int64))
    loss = loss_fn(model(x), target)
    nodes = list(reversed(list(_topological_order(loss))))   # forward order
    outputs = {}      # owner id -> bytes of every array an op's output or input lives in
    for node in nodes:
        for t in node.inputs:
            if t is not None and t is not x and t._node is not None:
                outputs[id(_owner(t.array))] = _owner(t.array).nbytes
    outputs[id(_owner(loss.array))] = _owner(loss.array).nbytes
    rows = []
    for node in nodes:
        name = node.function.__name__
        saved = {}
        for array in node.saved or ():
            if array is None or not hasattr(array, "nbytes"):
                continue
            owner = _owner(array)
            if id(owner) in outputs:
                continue
            nbytes = owner.nbytes
            if layout != "cpu" and name == "MaxPool2d" and array.dtype == np.int8:
                nbytes *= 4                                   # the kernel's argmax is int32
            saved[id(owner)] = nbytes
        out_node = next((t for n in nodes for t in n.inputs if t is not None and t._node is node), loss)
        input_grads = sum(t.array.nbytes for t, need in zip(node.inputs, node.needs_input_grad)
                          if t is not None and need)
        rows.append({"op": name, "output": out_node.array.nbytes, "saved": sum(saved.values()),
                     "col": node.saved[0].nbytes if name == "Conv2d" and node.saved else 0,
                     "temporaries": conv_backward_temporaries(node, layout) if name == "Conv2d" and node.saved else 0,
                     "input_grads": input_grads,
                     "param_grads": sum(t.array.nbytes for t, need in zip(node.inputs, node.needs_input_grad)
                                        if t is not None and need and t._node is None)})
    all_outputs = sum(outputs.values())
    end_of_forward = all_outputs + sum(r["saved"] for r in rows)
    saved_left, param_grads = end_of_forward - all_outputs, 0
    for r in reversed(rows):           # the backward, last op first
        r["at_backward"] = (all_outputs + saved_left + r["output"] + r["temporaries"]
                            + r["input_grads"] + param_grads)
        saved_left -= r["saved"]
        param_grads += r["param_grads"]
    peak = max([end_of_forward] + [r["at_backward"] for r in rows])
    return rows, peak


def measured_step_peak(model, loss_fn, x, y, optimizer):
    """tracemalloc's peak of one CPU training step, above what was allocated before it, in bytes.

    NumPy reports its array allocations to tracemalloc, so this is the CPU step's real peak.
    One step runs first, unmeasured: it allocates the optimizer's state (momentum, Adam's
    moments), which is there before every later step.
    """
    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    step()
    optimizer.zero_grad()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
