"""(height, width) hyper-parameters, and the argument checks shared by convolution, pooling,
linear and batch norm."""
import numbers

import numpy as np


def is_int(value):
    """A Python or NumPy integer, but not a bool (torch's int arguments refuse True/False)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def compute_dtype(dtype):
    """The dtype an op computes in: float16 goes through float32 (torch's CPU kernels accumulate
    half in float, so rounding every partial sum to half would not match it)."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def promote_types(a, b):
    """torch's promotion of two dtypes: a higher kind wins (bool < integer < float), else NumPy's
    rule (so int64 with float32 gives float32, where NumPy says float64)."""
    rank = {"b": 0, "i": 1, "u": 1, "f": 2}
    a, b = np.dtype(a), np.dtype(b)
    if rank[a.kind] != rank[b.kind]:
        return a if rank[a.kind] > rank[b.kind] else b
    return np.result_type(a, b)


def pair(value, name, minimum):
    """int, (h,) or (h, w) -> (h, w) of ints >= minimum.

    A wrong type (float, str, None, bool) raises a TypeError naming `name`, as torch's
    argument parser does; a wrong length or a value below `minimum` a ValueError.
    """
    if is_int(value):
        values = (value, value)
    elif isinstance(value, (tuple, list)):
        bad = [v for v in value if not is_int(v)]
        if bad:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} "
                            f"(an element of type {type(bad[0]).__name__})")
        values = tuple(value) * 2 if len(value) == 1 else tuple(value)   # (3,) means (3, 3), as torch
        if len(values) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {len(value)} values {value!r}")
    else:
        raise TypeError(f"{name} must be an int or a pair of ints, got {type(value).__name__} {value!r}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(values[0]), int(values[1])


def conv_output_size(hw, kernel_size, stride, padding, dilation=(1, 1), op=None):
    """out = (in + 2·pad − dilation·(k − 1) − 1) // stride + 1 for each of height and width.

    With `op` given, a window larger than the padded input raises a ValueError naming op.
    """
    sizes = []
    for size, k, s, p, d in zip(hw, kernel_size, stride, padding, dilation):
        span = d * (k - 1) + 1
        if op is not None and span > size + 2 * p:
            raise ValueError(f"{op}: kernel size {tuple(kernel_size)} (dilation {tuple(dilation)}) "
                             f"is larger than the padded input {tuple(hw)} + 2·{tuple(padding)}")
        sizes.append((size + 2 * p - span) // s + 1)
    return tuple(sizes)


def window_taps(kernel_size, stride, dilation, out_hw):
    """For each kernel offset (i, j), row-major: the (rows, columns) slices of a padded
    input that hold offset (i, j) of every window, out_h × out_w of them."""
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel_size, stride, dilation, out_hw
    return [(slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh), slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw))
            for i in range(kh) for j in range(kw)]
