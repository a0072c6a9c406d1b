"""Max, average and adaptive average pooling: the public functions (F.max_pool2d, F.avg_pool2d,
F.adaptive_avg_pool2d).  They check their arguments, handle the unbatched (C, H, W) input and
run core/pool.py's Functions, or their fast replacements in fast/pool.py
(minitorch_cnn.backends.fast).  The definition: minitorch_cnn/reference.py's max_pool2d,
max_pool2d_backward, avg_pool2d and avg_pool2d_backward; tests/test_reference.py holds the
ops equal to them.
"""
import numbers

from ..backends.fast import choose
from ..core import pool as core_pool
from ..fast import pool as _fast_pool  # noqa: F401  (registers the fast pooling Functions)
from .checks import expect_tensor
from .pairs import conv_output_size, pair


def _check_pool_input(op, x, integer_dtypes):
    """The input checks every pool shares; integer_dtypes: the integer dtypes torch pools."""
    expect_tensor(x, op, "input")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D input (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f" and x.dtype.name not in integer_dtypes:
        raise TypeError(f"{op}: not implemented for dtype {x.dtype}")


def _pool_args(op, x, kernel_size, stride, padding):
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
    conv_output_size(x.shape[2:], kernel_size, stride, padding, op=op)
    return kernel_size, stride, padding


INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


def _refuse_unbuilt(op, **arguments):
    """torch's parameters whose feature is not built here: accepted at their default, refused by
    name otherwise (name=(value, default)), so a positional argument never lands in the wrong one."""
    for name, (value, default) in arguments.items():
        if value != default:
            raise RuntimeError(f"{op}: {name}={value!r} is not supported by minitorch_cnn "
                                      f"(only {name}={default!r}); this call needs real PyTorch")


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """F.max_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w), each window's
    maximum; stride defaults to kernel_size, padding is −∞ (never chosen over a real pixel).
    dx = g routed to each window's argmax (the first, on ties; the last NaN).
    torch's dilation, ceil_mode and return_indices are taken at their defaults only."""
    _check_pool_input("max_pool2d", x, INTEGERS)
    _refuse_unbuilt("max_pool2d", dilation=(pair(dilation, "max_pool2d: dilation", 1), (1, 1)),
                    ceil_mode=(bool(ceil_mode), False), return_indices=(bool(return_indices), False))
    if x.ndim == 3:
        return max_pool2d(x.unsqueeze(0), kernel_size, stride, padding).squeeze(0)
    kernel_size, stride, padding = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    return choose(core_pool.MaxPool2d, x).apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """F.avg_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w), each window's mean;
    padding is 0, counted in the mean unless count_include_pad=False.
    dx = g / divisor spread over the window.  torch's parameter order (ceil_mode is the 5th);
    ceil_mode and divisor_override are taken at their defaults only."""
    _check_pool_input("avg_pool2d", x, ("int64",))
    _refuse_unbuilt("avg_pool2d", ceil_mode=(bool(ceil_mode), False), divisor_override=(divisor_override, None))
    if x.ndim == 3:
        return avg_pool2d(x.unsqueeze(0), kernel_size, stride, padding,
                          count_include_pad=count_include_pad).squeeze(0)
    kernel_size, stride, padding = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    return choose(core_pool.AvgPool2d, x).apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                                              count_include_pad=bool(count_include_pad))


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


def adaptive_avg_pool2d(x, output_size):
    """F.adaptive_avg_pool2d: (N, C, H, W) or unbatched (C, H, W) -> (N, C, out_h, out_w);
    window (i, j) covers rows ⌊i·H/out_h⌋ .. ⌈(i+1)·H/out_h⌉ − 1 (columns alike), output_size an int
    or (out_h, out_w) with None keeping that input size.
    dx = g / window size added to every pixel of each window."""
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
