"""Which dtype and shape an op on several operands produces, by PyTorch's rules.

Dtypes fall into three categories, bool < integer < floating.  The result takes the highest
category among the operands; inside it, the widest dtype.  But operands count in three tiers:
tensors with dimensions, 0-d tensors, and Python numbers.  A lower tier decides the dtype only
when it brings a higher category than the tiers above it:

    float32 (3,) + float64 0-d   -> float32    (same category: the dimensioned tensor wins)
    int32 (3,)   + float64 0-d   -> float64    (the 0-d tensor brings floats)
    int32 (3,)   + 2.5           -> float32    (a Python float counts as the default float32)
    bool (3,)    + 2             -> int64      (a Python int counts as int64)
    uint8 (3,)   + -1            -> uint8      (same category: the number is cast, and wraps)
"""
import numbers

import numpy as np

BOOL, INT, FLOAT = 0, 1, 2


def category(dtype):
    kind = np.dtype(dtype).kind
    return BOOL if kind == "b" else INT if kind in "iu" else FLOAT


def promote_types(a, b):
    """The smallest dtype holding both (torch.promote_types): a float beats any integer,
    an integer beats bool; within a category NumPy's rule is torch's."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def is_number(value):
    """A Python (or NumPy scalar) bool, int or float: what ops accept beside tensors."""
    return isinstance(value, (bool, np.bool_, numbers.Integral, numbers.Real)) and not isinstance(value, complex)


def number_dtype(value):
    """The dtype a Python number counts as in promotion: bool, int64, or the default float32."""
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    return np.dtype(np.float32)


def result_type(*operands):
    """The dtype of an op on these operands (Tensors, arrays or numbers; None is skipped)."""
    tiers = [None, None, None]   # tensors with dims, 0-d tensors, Python numbers
    for v in operands:
        if v is None:
            continue
        if is_number(v):
            tier, dtype = 2, number_dtype(v)
        else:
            tier, dtype = (1 if v.ndim == 0 else 0), np.dtype(v.dtype)
        tiers[tier] = dtype if tiers[tier] is None else promote_types(tiers[tier], dtype)
    return _combine(tiers[0], _combine(tiers[1], tiers[2]))


def _combine(higher, lower):
    """Merge a higher tier's dtype with a lower tier's: the lower one counts only when it
    brings a higher category."""
    if higher is None:
        return lower
    if lower is None or category(lower) <= category(higher):
        return higher
    return promote_types(higher, lower)


def check_fits(op, value, dtype, numel=None):
    """Refuse a fill value that overflows dtype, as torch: an int may wrap into an unsigned type
    (-1 fills uint8 with 255, -256 overflows), a float may not (-1.0 into uint8 overflows); NaN
    and inf fit no integer type."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if isinstance(value, float):
            low = 0 if dtype.kind == "u" else info.min
            fits = np.isfinite(value) and low <= value <= info.max
        else:
            fits = (-info.max if dtype.kind == "u" else info.min) <= value <= info.max
    else:
        # torch fills a one-element float16 tensor without the check (1e10 -> inf)
        fits = not np.isfinite(value) or abs(value) <= float(np.finfo(dtype).max) or (
            dtype == np.float16 and numel == 1)
    if not fits:
        raise RuntimeError(f"{op}: value {value} cannot be converted to {dtype} without overflow")


def broadcast_shapes(op, *shapes):
    """The broadcast shape of `shapes` (NumPy's rule, which is torch's), or a RuntimeError
    that names the op and every shape."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(ndim):
        sizes = {s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            listed = " and ".join(str(tuple(s)) for s in shapes)
            raise RuntimeError(f"{op}: shapes {listed} cannot be broadcast together "
                               f"(sizes {sorted(sizes)} at dimension {axis} of the result)")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)
