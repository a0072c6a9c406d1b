"""More activations: gelu, silu, elu, relu6, hardtanh, softplus, hardswish.

The API: torch's signatures, checks and dtype rules, then the Functions of core/activation_extra.py
(formulas and the sides taken at the kinks there).  float16 is computed in float32 and cast back, as
torch does on the CPU; integer and bool tensors are refused, except by hardtanh and relu6, which clamp
integers as torch does.  inplace=True gives torch's values but computes out of place (the input is left
unchanged and a new tensor returned), as relu's; as torch, it is refused on a leaf that requires grad.
"""
import math
import numbers

import numpy as np

from ..backends.fast import choose
from ..core import activation_extra as core
from .checks import check_inplace, expect_tensor


def _number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__}")
    return float(value)


def _floating_input(op, input, inplace=False):  # noqa: A002
    x = expect_tensor(input, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point tensor, got dtype {x.dtype} "
                        f"(torch has no {op} kernel for it; convert with .float())")
    check_inplace(x, op, inplace)
    return x


def _run(function, x, **params):
    """function on x; a float16 x goes through float32 and its result comes back as float16."""
    if x.dtype == np.float16:
        return choose(function).apply(x.to(dtype=np.float32), **params).to(dtype=np.float16)
    return choose(function).apply(x, **params)


def gelu(input, *, approximate="none"):  # noqa: A002  (torch's parameter names, here and below)
    """F.gelu: x (any shape) -> x · Φ(x) (Φ the standard normal CDF), or with approximate='tanh'
    x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)));  dx = g · (Φ(x) + x φ(x)) (or the tanh form's
    derivative, core/activation_extra.py).  approximate is keyword-only, as torch's."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")
    return _run(core.GELU, _floating_input("gelu", input), approximate=approximate)


def silu(input, inplace=False):  # noqa: A002
    """F.silu: x (any shape) -> x · σ(x);  dx = g · σ(x) (1 + x (1 − σ(x)))."""
    return _run(core.SiLU, _floating_input("silu", input, inplace))


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """F.elu: x (any shape) -> x where x > 0, else α (eˣ − 1);  dx = g where x > 0, else g α eˣ
    (x = 0 takes α, as torch)."""
    alpha = _number("elu", "alpha", alpha)
    return _run(core.ELU, _floating_input("elu", input, inplace), alpha=alpha)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """F.hardtanh: x (any shape) -> min(max(x, min_val), max_val), same dtype (integers too: the bounds
    are truncated to integers, as torch);  dx = g where min_val < x < max_val, else 0."""
    return _hardtanh("hardtanh", input, min_val, max_val, inplace)


def relu6(input, inplace=False):  # noqa: A002
    """F.relu6: x (any shape) -> min(max(x, 0), 6) (hardtanh(x, 0, 6));  dx = g where 0 < x < 6, else 0."""
    return _hardtanh("relu6", input, 0.0, 6.0, inplace)


def _hardtanh(op, input, min_val, max_val, inplace):  # noqa: A002
    x = expect_tensor(input, op)
    if x.dtype.kind == "b":
        raise TypeError(f"{op}: Bool inputs not supported for hardtanh")
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{op}: expected a real tensor, got dtype {x.dtype}")
    low, high = _number(op, "min_val", min_val), _number(op, "max_val", max_val)
    if low > high:
        raise ValueError(f"{op}: min_val cannot be greater than max_val, got min_val={min_val}, max_val={max_val}")
    check_inplace(x, op, inplace)
    if x.dtype.kind in "iu":
        low, high = _integer_bounds(op, x.dtype, low, high)
    return choose(core.Hardtanh).apply(x, min_val=low, max_val=high)


def _integer_bounds(op, dtype, low, high):
    """torch casts the bounds to the integer type (truncating), refusing negative bounds for an
    unsigned type and bounds the type cannot hold."""
    low, high = math.trunc(low), math.trunc(high)
    if dtype.kind == "u" and min(low, high) < 0:
        raise RuntimeError(f"{op}: cannot do hardtanh on an unsigned type with negative limits, "
                           f"got {low} and {high} for {dtype}")
    info = np.iinfo(dtype)
    if not (info.min <= low <= info.max and info.min <= high <= info.max):
        raise RuntimeError(f"{op}: bounds {low}, {high} cannot be converted to {dtype} without overflow")
    return low, high


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """F.softplus: x (any shape) -> log(1 + e^(βx)) / β, or x where βx > threshold;
    dx = g · σ(βx), or g where βx > threshold."""
    beta = _number("softplus", "beta", beta)
    threshold = _number("softplus", "threshold", threshold)
    return _run(core.Softplus, _floating_input("softplus", input), beta=beta, threshold=threshold)


def hardswish(input, inplace=False):  # noqa: A002
    """F.hardswish: x (any shape) -> x · relu6(x + 3) / 6;  dx = 0 where x ≤ −3, g (x/3 + 1/2) where
    −3 < x < 3, g where x ≥ 3."""
    return _run(core.Hardswish, _floating_input("hardswish", input, inplace))
