"""Max, average and adaptive pooling: the public functions (F.max_pool2d, F.max_pool1d, F.avg_pool2d,
F.avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d and the *_with_indices forms).  They
check their arguments and handle the unbatched input.  A call at torch's defaults (no dilation,
ceil_mode, return_indices or divisor_override) runs core/pool.py's Functions, or their fast
replacements in fast/pool.py (minitorch_cnn.backends.fast); the definition: minitorch_cnn/reference.py's
max_pool2d, max_pool2d_backward, avg_pool2d and avg_pool2d_backward, which tests/test_reference.py
holds the ops equal to.  The other parameters, which no core Function defines, run this module's
MaxPool2dWithIndices, AdaptiveMaxPool2d and ClippedAvgPool2d in both engine modes
(tests/test_pool_features.py holds them to torch).
"""
import numbers

import numpy as np

from ..backend import get_array_module
from ..backends.fast import choose
from ..core import pool as core_pool
from ..core.autograd import Function
from ..core.tensor import Tensor
from ..fast import pool as fast_pool
from .checks import expect_tensor
from .pairs import compute_dtype, conv_output_size, is_int, pair


def _check_pool_input(op, x, integer_dtypes):
    """The input checks every pool shares; integer_dtypes: the integer dtypes torch pools."""
    expect_tensor(x, op, "input")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D input (N, C, H, W), got shape {x.shape}")
    _check_pool_dtype(op, x, integer_dtypes)


def _check_pool_dtype(op, x, integer_dtypes):
    if x.dtype.kind != "f" and x.dtype.name not in integer_dtypes:
        raise TypeError(f"{op}: not implemented for dtype {x.dtype}")


def _parse_pool_args(op, x, kernel_size, stride, padding):
    kernel_size = pair(kernel_size, f"{op}: kernel_size", 1)
    # stride=None or () means "the kernel size", as in torch
    empty = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    stride = kernel_size if empty else pair(stride, f"{op}: stride", 1)
    padding = pair(padding, f"{op}: padding", 0)
    if 0 in x.shape[1:]:
        raise ValueError(f"{op}: expected non-zero channels, height and width (only the batch may "
                         f"be empty), got shape {x.shape}")
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel_size}")
    return kernel_size, stride, padding


def _pool_args(op, x, kernel_size, stride, padding):
    kernel_size, stride, padding = _parse_pool_args(op, x, kernel_size, stride, padding)
    conv_output_size(x.shape[2:], kernel_size, stride, padding, op=op)
    return kernel_size, stride, padding


def pooled_size(size, kernel, stride, padding, dilation, ceil_mode):
    """torch's pooling_output_shape along one axis: ⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1,
    rounded up instead with ceil_mode, less one when that last window would start past the input and its left
    padding ((out − 1)·stride ≥ size + padding): every window starts inside the input or its left padding."""
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _window_args(op, x, kernel_size, stride, padding, dilation, ceil_mode):
    """-> kernel_size, stride, padding, dilation, out_hw, checked as torch checks them."""
    kernel_size, stride, padding = _parse_pool_args(op, x, kernel_size, stride, padding)
    out_hw = tuple(pooled_size(*axis, ceil_mode) for axis in zip(x.shape[2:], kernel_size, stride, padding, dilation))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: output size {out_hw} is too small: input {tuple(x.shape[2:])}, kernel_size "
                         f"{kernel_size}, stride {stride}, padding {padding}, dilation {dilation}, "
                         f"ceil_mode {ceil_mode}")
    return kernel_size, stride, padding, dilation, out_hw


def _flag(op, name, value):
    """torch's bool-only arguments (ceil_mode, count_include_pad): an int or None is a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be bool, got {type(value).__name__} {value!r}")
    return bool(value)


INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


class MaxPool2dWithIndices(Function):
    """The differentiable step of a max pool whose winners are already found (by
    fast/pool.py's max_pool2d_with_indices_forward): out = values, x's pixel at `indices` in its
    H × W plane.  x (N, C, H, W); values, indices (N, C, out_h, out_w).

    dx[n, c, p] = Σ over the windows (oy, ox) with indices[n, c, oy, ox] = p of g[n, c, oy, ox].
    routable=False (some window holds only padding; torch's index there points outside the
    window and its backward writes out of bounds) refuses the backward.
    """
    @staticmethod
    def forward(ctx, x, values, indices, routable=True):
        ctx.x_shape, ctx.routable = x.shape, routable
        ctx.save_for_backward(indices)
        return values

    @staticmethod
    def backward(ctx, g):
        if not ctx.routable:
            raise RuntimeError(f"{ctx.function.__name__} backward: a window holds only padding, so it has "
                               f"no pixel to route its gradient to (torch writes out of bounds there)")
        return (fast_pool.scatter_to_indices(g, ctx.saved[0], ctx.x_shape),)


class AdaptiveMaxPool2d(MaxPool2dWithIndices):
    """MaxPool2dWithIndices for F.adaptive_max_pool2d's windows (fast/pool.py's
    adaptive_max_pool2d_forward): out = values; dx = g summed at each window's winner.
    As torch, the backward refuses a gradient with no channels, height or width."""
    @staticmethod
    def backward(ctx, g):
        if 0 in g.shape[1:]:
            raise RuntimeError(f"AdaptiveMaxPool2d backward: expects a gradient with non-zero channels, height "
                               f"and width, got shape {g.shape} (as torch)")
        return MaxPool2dWithIndices.backward(ctx, g)


class ClippedAvgPool2d(Function):
    """Average pooling with torch's ceil_mode and divisor_override: x (N, C, H, W) ->
    (N, C, out_h, out_w), out = (Σ of the window's real pixels) / D, D per window
    (fast/pool.py's avg_pool2d_divisors: the window cut to the padded input, or to the real
    pixels without count_include_pad) or divisor_override.

    dx[p] = Σ over the windows holding p of g / D.  float16 runs in float32; int64 divides
    with truncation toward zero.
    """
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, out_hw, divisor):
        ctx.params = x.shape, kernel_size, stride, padding, divisor
        if x.dtype.kind in "iu":
            return fast_pool.clipped_avg_pool2d_forward(x, kernel_size, stride, padding, out_hw, divisor)
        work = x.astype(compute_dtype(x.dtype), copy=False)
        out = fast_pool.clipped_avg_pool2d_forward(work, kernel_size, stride, padding, out_hw, divisor)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        dx = fast_pool.clipped_avg_pool2d_backward(g.astype(compute_dtype(g.dtype), copy=False), *ctx.params)
        return (dx.astype(g.dtype, copy=False),)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """F.max_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w), each window's
    maximum; stride defaults to kernel_size, padding is −∞ (never chosen over a real pixel),
    dilation spaces the window's taps, ceil_mode keeps a last partial window (it must start
    inside the input or its left padding); out_h = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1 (⌈⌉ with ceil_mode).
    return_indices: also each maximum's position row · W + column in its plane (int64).
    dx = g routed to each window's argmax (the first, on ties; the last NaN)."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
                            return_indices=False):
    """F.max_pool2d_with_indices: (N, C, H, W) or (C, H, W) -> (values, indices), each (N, C, out_h, out_w):
    F.max_pool2d's pair, whatever return_indices says (as torch).  dx = g added at each window's index."""
    return _max_pool("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _max_pool(op, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    _check_pool_input(op, x, INTEGERS)
    dilation = pair(dilation, f"{op}: dilation", 1)
    ceil_mode = _flag(op, "ceil_mode", ceil_mode)
    if return_indices or ceil_mode or dilation != (1, 1):
        return _max_pool_with_indices(op, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    if x.ndim == 3:
        return _max_pool(op, x.unsqueeze(0), kernel_size, stride, padding, 1, False, False).squeeze(0)
    kernel_size, stride, padding = _pool_args(op, x, kernel_size, stride, padding)
    return choose(core_pool.MaxPool2d, x).apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def _max_pool_with_indices(op, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if x.ndim == 3:
        pooled = _max_pool_with_indices(op, x.unsqueeze(0), kernel_size, stride, padding, dilation,
                                        ceil_mode, return_indices)
        return tuple(t.squeeze(0) for t in pooled) if return_indices else pooled.squeeze(0)
    kernel_size, stride, padding, dilation, out_hw = _window_args(op, x, kernel_size, stride, padding,
                                                                  dilation, ceil_mode)
    values, indices, routable = fast_pool.max_pool2d_with_indices_forward(
        x.array, kernel_size, stride, padding, dilation, out_hw)
    out = MaxPool2dWithIndices.apply(x, values=values, indices=indices, routable=routable)
    return (out, Tensor(indices)) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """F.avg_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w), each window's mean;
    padding is 0, counted in the mean unless count_include_pad=False; ceil_mode keeps a last
    partial window, whose divisor counts only its rows/columns inside the padded input (inside
    the input without count_include_pad); divisor_override (a non-zero int) replaces every divisor.
    dx = g / divisor spread over the window.  torch's parameter order (ceil_mode is the 5th)."""
    return _avg_pool("avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _avg_pool(op, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    _check_pool_input(op, x, ("int64",))
    ceil_mode = _flag(op, "ceil_mode", ceil_mode)
    count_include_pad = _flag(op, "count_include_pad", count_include_pad)
    if divisor_override is not None:
        if not is_int(divisor_override):
            raise TypeError(f"{op}: divisor_override must be an int or None, got "
                            f"{type(divisor_override).__name__} {divisor_override!r}")
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must not be zero")
    if x.ndim == 3:
        return _avg_pool(op, x.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override).squeeze(0)
    if ceil_mode or divisor_override is not None:
        kernel_size, stride, padding, _, out_hw = _window_args(op, x, kernel_size, stride, padding, (1, 1),
                                                               ceil_mode)
        divisor = int(divisor_override) if divisor_override is not None else fast_pool.avg_pool2d_divisors(
            x.shape[2:], kernel_size, stride, padding, out_hw, count_include_pad, get_array_module(x.array))
        return ClippedAvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, out_hw=out_hw,
                                      divisor=divisor)
    kernel_size, stride, padding = _pool_args(op, x, kernel_size, stride, padding)
    return choose(core_pool.AvgPool2d, x).apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                                              count_include_pad=count_include_pad)


def _single(value, name):
    """The 1-D pools' int or one-element tuple/list -> int (a pair is refused, as torch)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a tuple of one int, got {value!r}")
        value = value[0]
    if not is_int(value):
        raise TypeError(f"{name} must be an int or a tuple of one int, got {type(value).__name__} {value!r}")
    return int(value)


def _as_plane(op, x, kernel_size, stride, padding, dilation=1):
    """A 1-D pool's input (N, C, L) or (C, L) and arguments as a 2-D pool's: (N, C, 1, L), (1, k), ..."""
    expect_tensor(x, op, "input")
    if x.ndim not in (2, 3) or 0 in x.shape[-2:]:
        raise ValueError(f"{op}: expected a 2-D (C, L) or 3-D input (N, C, L) with non-zero C and L, "
                         f"got shape {x.shape}")
    empty = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    kernel_size = _single(kernel_size, f"{op}: kernel_size")
    stride = kernel_size if empty else _single(stride, f"{op}: stride")
    as_pairs = [(1, v) for v in (kernel_size, stride, _single(padding, f"{op}: padding"),
                                 _single(dilation, f"{op}: dilation"))]
    as_pairs[2] = (0, as_pairs[2][1])
    return (x.unsqueeze(-2), *as_pairs)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """F.max_pool1d: (N, C, L) or unbatched (C, L) -> (N, C, out_l): F.max_pool2d on (N, C, 1, L);
    the indices are positions along L.  Without return_indices torch has no integer kernel.
    dx = g routed to each window's argmax (the first, on ties; the last NaN)."""
    plane, kernel_size, stride, padding, dilation = _as_plane("max_pool1d", input, kernel_size, stride,
                                                              padding, dilation)
    if not return_indices:
        _check_pool_dtype("max_pool1d", input, ())
    pooled = _max_pool("max_pool1d", plane, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return tuple(t.squeeze(-2) for t in pooled) if return_indices else pooled.squeeze(-2)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
                            return_indices=False):
    """F.max_pool1d_with_indices: (N, C, L) or (C, L) -> (values, indices), each (N, C, out_l):
    F.max_pool1d's pair, whatever return_indices says (as torch).  dx = g added at each window's index."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """F.avg_pool1d: (N, C, L) or unbatched (C, L) -> (N, C, out_l): F.avg_pool2d on (N, C, 1, L).
    dx = g / divisor spread over the window."""
    plane, kernel_size, stride, padding, _ = _as_plane("avg_pool1d", input, kernel_size, stride, padding)
    return _avg_pool("avg_pool1d", plane, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None).squeeze(-2)


def adaptive_output_size(output_size, hw, op="adaptive_avg_pool2d"):
    """int, or a pair of ints / None (None: keep that input size) -> (out_h, out_w)."""
    if isinstance(output_size, int) and not isinstance(output_size, bool):
        sizes = (output_size, output_size)
    elif isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"{op}: output_size must be an int or 2 values, got {output_size!r}")
        for v in output_size:
            if v is not None and (not isinstance(v, numbers.Integral) or isinstance(v, bool)):
                raise TypeError(f"{op}: output_size must hold ints or None, got {type(v).__name__} {v!r}")
        sizes = tuple(size if v is None else int(v) for v, size in zip(output_size, hw))
    else:
        raise TypeError(f"{op}: output_size must be an int or a pair of ints/None, "
                        f"got {type(output_size).__name__} {output_size!r}")
    if min(sizes) < 0:
        raise ValueError(f"{op}: output_size must be non-negative, got {output_size!r}")
    return sizes


def adaptive_avg_pool2d(input, output_size):  # noqa: A002  (torch's parameter name)
    """F.adaptive_avg_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w);
    window (i, j) covers rows ⌊i·H/out_h⌋ .. ⌈(i+1)·H/out_h⌉ − 1 (columns alike), output_size an int
    or (out_h, out_w) with None keeping that input size.
    dx = g / window size added to every pixel of each window."""
    x = input
    expect_tensor(x, "adaptive_avg_pool2d", "input")
    if x.ndim < 2:
        raise ValueError(f"adaptive_avg_pool2d: expected a 3-D (C, H, W) or 4-D input (N, C, H, W), "
                         f"got shape {x.shape}")
    if isinstance(output_size, (tuple, list)) and None in output_size and x.ndim < 3:
        raise ValueError(f"adaptive_avg_pool2d: output_size {output_size!r} with None needs an input "
                         f"of at least 3 dimensions, got shape {x.shape}")
    output_size = adaptive_output_size(output_size, x.shape[-2:])
    # torch's kernels (and their dtype check) never run for an empty input or output, except
    # for a 1 × 1 output, which torch takes as a mean over the last two dims
    if x.dtype.kind != "f" and ((x.numel() and output_size[0] * output_size[1]) or output_size == (1, 1)):
        raise TypeError(f"adaptive_avg_pool2d: not implemented for dtype {x.dtype}")
    if output_size == (1, 1) and (x.ndim not in (3, 4) or 0 in x.shape[-2:]):
        # that mean accepts any rank, before any check: an empty H or W gives NaN
        return x.mean(dim=(-2, -1), keepdim=True)
    _check_pool_input("adaptive_avg_pool2d", x, INTEGERS + ("bool",))
    if 0 in x.shape[-2:]:
        raise ValueError(f"adaptive_avg_pool2d: expected non-zero height and width, got shape {x.shape}")
    adaptive = choose(core_pool.AdaptiveAvgPool2d, x, plain=output_size[0] * output_size[1] > 0)
    if x.ndim == 3:
        return adaptive.apply(x.unsqueeze(0), output_size=output_size, unbatched=True).squeeze(0)
    return adaptive.apply(x, output_size=output_size)


def adaptive_max_pool2d(input, output_size, return_indices=False):  # noqa: A002
    """F.adaptive_max_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w), the maximum
    of window (i, j): rows ⌊i·H/out_h⌋ .. ⌈(i+1)·H/out_h⌉ − 1, columns alike; output_size an int or
    (out_h, out_w) with None keeping that input size.  return_indices: also each maximum's position
    row · W + column in its plane (int64).  dx = g added at each window's winner (the first maximum,
    or the last NaN)."""
    op = "adaptive_max_pool2d"
    expect_tensor(input, op, "input")
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D input (N, C, H, W) with non-zero C, H and W, "
                         f"got shape {input.shape}")
    _check_pool_dtype(op, input, ())
    output_size = adaptive_output_size(output_size, input.shape[-2:], op=op)
    x = input.unsqueeze(0) if input.ndim == 3 else input
    values, indices = fast_pool.adaptive_max_pool2d_forward(x.array, output_size)
    out, indices = AdaptiveMaxPool2d.apply(x, values=values, indices=indices), Tensor(indices)
    if input.ndim == 3:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):  # noqa: A002
    """F.adaptive_max_pool2d_with_indices: (N, C, H, W) or (C, H, W) -> (values, indices), each
    (N, C, out_h, out_w): F.adaptive_max_pool2d's pair, whatever return_indices says (as torch).
    dx = g added at each window's index."""
    return adaptive_max_pool2d(input, output_size, True)
