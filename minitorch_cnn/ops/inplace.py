"""In-place ops (x.add_(y), x += y, x[i] = v, x.zero_(), ...) with PyTorch's rules.

An in-place op computes its result out of place, then writes it into the tensor's own
array, so every view and every other holder of that array sees the change:

    with mt.no_grad():
        for p in model.parameters():
            p -= lr * p.grad          # updates the model's weights, not a loop variable

The rules, as in torch:
* the result must keep the tensor's shape (y may broadcast to x, not x to y) and be
  castable to its dtype (no float into an int tensor, no int into a bool one);
* a leaf that requires grad is written only under no_grad (else its .grad would describe
  values it no longer holds);
* when a gradient is recorded, the op becomes the tensor's new node: `y = x * 2; y.add_(1)`
  differentiates like `y = x * 2 + 1`;
* each write bumps the tensor's version counter; a recorded op that saved the old values
  for its backward sees the bump and backward() raises instead of using stale values.
"""
import numpy as np

from ..core.autograd import Function, is_grad_enabled
from ..backend import get_array_module
from ..core.tensor import Tensor
from .elementwise import check_same_device, unbroadcast
from .promotion import broadcast_shapes, check_fits
from .shape import _wraps_out_of_range, check_index_bounds, to_array_index

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def can_cast(source, target):
    """torch.can_cast: within a category anything goes (float64 -> float16 too); never down
    a category (float -> int, int -> bool)."""
    return _KIND_RANK[np.dtype(source).kind] <= _KIND_RANK[np.dtype(target).kind]


def in_place(x, op, compute, *others, elementwise=True):
    """x's values ← compute(x, *others), in x's own array; returns x.

    `compute` is the out-of-place op (e.g. elementwise.add); when a gradient is recorded it
    runs on a copy of x's values (the op may save its inputs, and x's array is about to be
    overwritten) that stands where x stood in the graph.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    if elementwise:      # the other operands broadcast to x's shape, never x to theirs
        for other in others:
            if isinstance(other, Tensor):
                shape = broadcast_shapes(op, x.shape, other.shape)
                if shape != x.shape:
                    raise RuntimeError(f"{op}: output with shape {x.shape} doesn't match the broadcast "
                                       f"shape {shape}")
    record = is_grad_enabled() and (x.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                                           for o in others))
    if record and x.requires_grad and x.is_leaf:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad is being used in an in-place "
                           f"operation; do it under `with mt.no_grad():` (an optimizer step), or on "
                           f"x.detach()")
    if record and x._version_counter.is_view:
        raise RuntimeError(f"{op}: in-place operation on a tensor that is a view of another (or has "
                           f"views) while a gradient is recorded; minitorch_cnn does not rewrite the "
                           f"other tensor's graph as torch does: compute out of place (y = y + 1)")
    if record:
        source = Tensor(x.array.copy())
        source.requires_grad, source._node = x.requires_grad, x._node
    else:
        source = x
    out = compute(source, *others)
    if out.shape != x.shape:
        raise RuntimeError(f"{op}: output with shape {x.shape} doesn't match the broadcast shape {out.shape}")
    if not can_cast(out.dtype, x.dtype):
        raise RuntimeError(f"{op}: result type {out.dtype} can't be cast to the desired output "
                           f"type {x.dtype} of the tensor written in place")
    if out.array is not x.array:
        try:
            x.array[...] = out.array
        except ValueError as exc:     # a read-only array: a broadcast (expanded) view
            raise RuntimeError(f"{op}: cannot write into this tensor in place ({exc}); "
                               f"clone() it first") from None
    x._version_counter.value += 1
    if record:
        x._node, x.requires_grad = out._node, True
    return x


class Fill(Function):
    """out = value everywhere (x's shape and dtype);  dx = 0,  dvalue = Σ g."""
    @staticmethod
    def forward(ctx, x, value):
        return get_array_module(x).full(x.shape, value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        need_x, need_value = ctx.needs_input_grad
        return (get_array_module(g).zeros_like(g) if need_x else None,
                g.sum() if need_value else None)


def fill(x, value):
    """x.fill_(value): value a number or a 0-d tensor."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_: only supports a 0-dimension value tensor, but got tensor "
                               f"with {value.ndim} dimension(s)")
        return Fill.apply(x, value)
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        check_fits("fill_", value, x.dtype, x.numel())
        return Fill.apply(x, Tensor(get_array_module(x.array).asarray(value)))
    raise TypeError(f"fill_: expected a number or a 0-d tensor as the value, got {type(value).__name__}")


class Copy(Function):
    """out = src broadcast to x's shape, in x's dtype;  dx = 0,  dsrc = g summed to src's shape."""
    @staticmethod
    def forward(ctx, x, src):
        xp = get_array_module(x)
        ctx.src_shape = src.shape
        return xp.broadcast_to(src, x.shape).astype(x.dtype, copy=True)

    @staticmethod
    def backward(ctx, g):
        need_x, need_src = ctx.needs_input_grad
        return (get_array_module(g).zeros_like(g) if need_x else None,
                unbroadcast(g, ctx.src_shape) if need_src else None)


def copy(x, src):
    """x.copy_(src): src's values (broadcast to x's shape, cast to x's dtype; any dtype goes,
    as in torch)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor as the source, got {type(src).__name__}")
    try:
        np.broadcast_shapes(src.shape, x.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the source of shape {src.shape} cannot be broadcast to the "
                           f"destination's shape {x.shape}") from None
    if np.broadcast_shapes(src.shape, x.shape) != x.shape:
        raise RuntimeError(f"copy_: the source of shape {src.shape} cannot be broadcast to the "
                           f"destination's shape {x.shape}")
    return Copy.apply(x, src)


class IndexPut(Function):
    """out = x with out[index] = value;  dx = g with zeros at index,  dvalue = g[index] summed
    to value's shape."""
    @staticmethod
    def forward(ctx, x, value, index):
        out = x.copy()
        out[index] = value
        ctx.index, ctx.value_shape = index, getattr(value, "shape", ())
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_value = ctx.needs_input_grad
        grad_x = None
        if need_x:
            grad_x = g.copy()
            grad_x[ctx.index] = 0
        return grad_x, (unbroadcast(g[ctx.index], ctx.value_shape) if need_value else None)


def _index_and_value(x, index, value):
    """(x's array index, value as a Tensor) for x[index] = value, checked as torch checks them."""
    array_index = to_array_index(index)
    xp = get_array_module(x.array)
    if _wraps_out_of_range(x.array):     # CuPy wraps out-of-range indices: checked first, as on the CPU
        check_index_bounds("setitem", array_index, x.shape)
    if isinstance(array_index, tuple):
        array_index = tuple(xp.asarray(i) if hasattr(i, "shape") else i for i in array_index)
    elif hasattr(array_index, "shape"):
        array_index = xp.asarray(array_index)
    try:
        target_shape = x.array[array_index].shape
    except IndexError as exc:
        raise IndexError(f"setitem: {exc}") from None
    if not isinstance(value, Tensor):
        if isinstance(value, (bool, int, float, np.number, np.bool_)):
            check_fits("setitem", value, x.dtype, x.numel())
        elif not (hasattr(value, "shape") or isinstance(value, (list, tuple))):
            raise TypeError(f"setitem: expected a number, an array or a Tensor as the value, got "
                            f"{type(value).__name__}")
        value = Tensor(xp.asarray(value))
    try:
        shape = np.broadcast_shapes(value.shape, target_shape)
    except ValueError:
        shape = None
    if shape != target_shape:
        raise RuntimeError(f"setitem: shape mismatch: value tensor of shape {value.shape} cannot be "
                           f"broadcast to indexing result of shape {target_shape}")
    check_same_device("setitem", (x, value))
    return array_index, value


def index_put(x, index, value):
    """out = x with out[index] = value, out of place (value a number, an array or a tensor
    broadcast to x[index]'s shape)."""
    array_index, value = _index_and_value(x, index, value)
    return IndexPut.apply(x, value, index=array_index)


def set_item(x, index, value):
    """x[index] = value.  Recorded through in_place (and IndexPut) when a gradient is; otherwise
    written straight into x's array: no copy of the whole tensor to set a few elements."""
    if is_grad_enabled() and (x.requires_grad or (isinstance(value, Tensor) and value.requires_grad)):
        return in_place(x, "setitem", lambda t, v: index_put(t, index, v), value, elementwise=False)
    array_index, value = _index_and_value(x, index, value)
    try:
        x.array[array_index] = value.array
    except ValueError as exc:     # a read-only array: a broadcast (expanded) view
        raise RuntimeError(f"setitem: cannot write into this tensor in place ({exc}); clone() it first") from None
    x._version_counter.value += 1
    return x
