"""The fast binary arithmetic and Abs, which replace core/elementwise.py's Add, Sub, Mul, Div,
Pow and Abs while minitorch_cnn.backends.fast is enabled (Neg, Exp, Log and Sqrt have no
replacement: the core ones run in both modes).  tests/test_core_elementwise_reduce_shape.py holds
them equal to the core's.

Departures from core.elementwise:
  Add, Sub, Mul, Div, Pow
  * a Python int operand is cast as torch casts it, wrapping around into a narrower integer
    dtype, and a value no dtype holds is a RuntimeError naming it (the core's xp.asarray refuses
    an out-of-range int; the API wraps such an int before calling either);
  * a gradient term nobody asked for is not even formed (the core forms both terms and sums
    back only the wanted ones);
  * each gradient comes back in its input's own dtype (the core leaves that cast to autograd).
  Pow
  * bool ** bool and integer ** integer powers, as torch computes them (a negative exponent gives
    1 for base 1, ±1 for base −1 and 0 otherwise; NumPy refuses negative integer powers).  They
    carry no gradient, and the API sends them here in both modes: the core Pow is float-only.
  Abs
  * dx = 0 where x is NaN, as torch's sign (the core's xp.sign gives NaN there).
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import elementwise as core_elementwise
from ..core.autograd import Function
from ..core.elementwise import unbroadcast
from ..ops.promotion import FLOAT, category


# ---- operands: also used by the API's Clamp, Where and MaskedFill (ops/elementwise.py) ----
def _array(xp, value, dtype):
    """`value` (an array or a number) as an array of `dtype`.  A number of the same category
    is cast as torch casts it: an int wraps around into a narrower integer type."""
    if hasattr(value, "dtype"):
        return value.astype(dtype, copy=False)
    try:
        return xp.asarray(value).astype(dtype)
    except OverflowError:
        raise RuntimeError(f"value {value} cannot be converted to {np.dtype(dtype)} without overflow") from None


def _array_module(*values):
    for v in values:
        if hasattr(v, "shape"):
            return get_array_module(v)
    return np


def _meta(*values):
    """(shape, dtype) of each array input, None for a number: what a backward needs of an
    input it does not otherwise keep alive."""
    return tuple((tuple(v.shape), v.dtype) if hasattr(v, "shape") else None for v in values)


def _grad_for(g, meta, needed):
    """The gradient for one input: summed to its shape, in its dtype (None when not needed)."""
    if not needed:
        return None
    shape, dtype = meta
    return unbroadcast(g, shape).astype(dtype, copy=False)


# ---- binary arithmetic -----------------------------------------------------------------
class Binary(Function):
    """Shared forward bookkeeping: the operands in the promoted dtype, inputs' shapes kept."""
    @staticmethod
    def operands(ctx, a, b, dtype):
        ctx.inputs_meta = _meta(a, b)
        xp = _array_module(a, b)
        return xp, _array(xp, a, dtype), _array(xp, b, dtype)


@replaces(core_elementwise.Add)
class Add(Binary):
    """out = a + b;  da = g,  db = g  (each summed to its own shape)."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        _, xa, xb = Binary.operands(ctx, a, b, dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            return xa + xb

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        return _grad_for(g, a, need_a), _grad_for(g, b, need_b)


@replaces(core_elementwise.Sub)
class Sub(Binary):
    """out = a - b;  da = g,  db = -g."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        _, xa, xb = Binary.operands(ctx, a, b, dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            return xa - xb

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        return _grad_for(g, a, need_a), _grad_for(-g, b, need_b)


@replaces(core_elementwise.Mul)
class Mul(Binary):
    """out = a * b;  da = g * b,  db = g * a."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        _, xa, xb = Binary.operands(ctx, a, b, dtype)
        ctx.save_for_backward(xa, xb)
        with np.errstate(over="ignore", invalid="ignore"):
            return xa * xb

    @staticmethod
    def backward(ctx, g):
        xa, xb = ctx.saved
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(over="ignore", invalid="ignore"):
            return (_grad_for(g * xb, a, need_a) if need_a else None,
                    _grad_for(g * xa, b, need_b) if need_b else None)


@replaces(core_elementwise.Div)
class Div(Binary):
    """out = a / b;  da = g / b,  db = -g * out / b."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        _, xa, xb = Binary.operands(ctx, a, b, dtype)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = xa / xb
        ctx.save_for_backward(xb, out)
        return out

    @staticmethod
    def backward(ctx, g):
        xb, out = ctx.saved
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            grad_a = g / xb if need_a else None
            grad_b = -g * (out / xb) if need_b else None
        return (_grad_for(grad_a, a, need_a) if need_a else None,
                _grad_for(grad_b, b, need_b) if need_b else None)


@replaces(core_elementwise.Pow)
class Pow(Binary):
    """out = a ** b;  da = g * b * a ** (b - 1)  (0 where b = 0),
    db = g * out * log(a)  (0 where a = 0 and b >= 0)."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        xp, xa, xb = Binary.operands(ctx, a, b, dtype)
        if dtype == np.bool_:    # bool ** bool: NumPy has no bool power; 0/1 powers give 0/1
            return _integer_pow(xp, xa.astype(np.int8), xb.astype(np.int8)).astype(np.bool_)
        if category(dtype) != FLOAT:
            return _integer_pow(xp, xa, xb)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            out = xa ** xb
        ctx.save_for_backward(xa, xb, out)
        return out

    @staticmethod
    def backward(ctx, g):
        xa, xb, out = ctx.saved
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        grad_a = grad_b = None
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if need_a:
                grad_a = _grad_for(xp.where(xb == 0, zero, g * (xb * xa ** (xb - 1))), a, True)
            if need_b:
                # d(a**b)/db = a**b log a, except 0 ** b (b >= 0), which is flat in b: 0, not NaN
                grad_b = _grad_for(g * xp.where((xa == 0) & (xb >= 0), zero, out * xp.log(xa)), b, True)
        return grad_a, grad_b


def _integer_pow(xp, base, exponent):
    """Integer ** integer, as torch: a negative exponent gives 1 for base 1, ±1 for base -1
    and 0 otherwise (NumPy refuses negative integer powers)."""
    negative = exponent < 0
    out = base ** xp.where(negative, 0, exponent).astype(exponent.dtype, copy=False)
    if not negative.any():
        return out
    odd = (exponent % 2) != 0
    minus_one = xp.where(odd, -1, 1).astype(out.dtype)
    reciprocal = xp.where(base == 1, 1, xp.where(base == -1, minus_one, 0)).astype(out.dtype)
    return xp.where(negative, reciprocal, out)


@replaces(core_elementwise.Abs)
class Abs(core_elementwise.Abs):
    """The core Abs (its forward unchanged); dx = g · sign(x) with sign(NaN) = 0, as torch."""
    @staticmethod
    def backward(ctx, g):
        x = ctx.saved[0]
        # sign as torch: (x > 0) - (x < 0), so NaN gets 0, not NumPy's NaN
        sign = (x > 0).astype(g.dtype) - (x < 0).astype(g.dtype)
        return (g * sign,)
