"""Elementwise ops: arithmetic, unary functions, comparisons, clamp, where, masked_fill.

Operands broadcast (NumPy's rule, torch's) and promote to one dtype by torch's rules
(promotion.py); Python numbers take part without upcasting a tensor of their category.
Each Function computes in the promoted dtype and hands every input a gradient of the input's
own shape (`unbroadcast`: summed over the broadcast axes) and dtype.

The arithmetic and unary Functions are core/elementwise.py's (fast/elementwise.py replaces some
while minitorch_cnn.backends.fast is enabled); this module checks the arguments and picks the
result dtype.  Clamp, Where and MaskedFill live here.
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import choose
from ..core import elementwise as core_elementwise
from ..core.autograd import Function, is_grad_enabled
from ..core.elementwise import unbroadcast  # noqa: F401  (matmul, inplace, docs/02 import it here)
from ..core.tensor import Tensor
from ..fast import elementwise as _fast_elementwise  # registers the fast Add ... Pow, Abs
from ..fast.elementwise import _array, _array_module, _grad_for, _meta
from .promotion import FLOAT, broadcast_shapes, category, check_fits, is_number, result_type


def as_operands(a, b):
    """Turn Python numbers / arrays into tensors of a matching dtype and device (matmul's
    operand rule: a number takes the tensor's dtype, an integer tensor meets a float by
    becoming that float type)."""
    like = a if isinstance(a, Tensor) else b
    xp = get_array_module(like.array)

    def convert(v):
        if isinstance(v, Tensor):
            return v
        if isinstance(v, (bool, int, float)):
            dtype = like.dtype if (like.dtype.kind in "fc" or isinstance(v, int)) else np.float32
            if like.dtype.kind == "b" and type(v) is int:
                dtype = np.int64
            return Tensor(xp.asarray(v, dtype=dtype))
        return Tensor(xp.asarray(v))

    a, b = convert(a), convert(b)
    if a.dtype != b.dtype and (a.dtype.kind in "fc") != (b.dtype.kind in "fc"):
        if a.dtype.kind in "fc":
            b = Tensor(b.array.astype(a.dtype))
        else:
            a = Tensor(a.array.astype(b.dtype))
    return a, b


# ---- operand checks --------------------------------------------------------------------
def _operand(op, value, what="operand"):
    """A Tensor or a number as it is; a NumPy array as a tensor (torch converts those too);
    anything else a TypeError naming the op."""
    if isinstance(value, np.generic) and is_number(value):
        return value.item()
    if isinstance(value, Tensor) or is_number(value):
        return value
    if isinstance(value, np.ndarray):
        return Tensor(value)
    if isinstance(value, complex):
        raise TypeError(f"{op}: complex numbers are not supported, got {value!r}")
    raise TypeError(f"{op}: expected a tensor or a number as {what}, got {type(value).__name__}")


def check_same_device(op, values):
    """A RuntimeError naming the op when the tensors among `values` sit on different devices
    (checked before any array work, which would fail less clearly)."""
    devices = {v.device for v in values if isinstance(v, Tensor)}
    if len(devices) > 1:
        raise RuntimeError(f"{op}: expected all tensors to be on the same device, but found at "
                           f"least two devices, {' and '.join(sorted(map(str, devices)))}")


def _shape(value):
    return tuple(value.shape) if hasattr(value, "shape") else ()


def _binary_dtype(op, a, b):
    a, b = _operand(op, a), _operand(op, b)
    for v in (a, b):
        if isinstance(v, int) and not -2**63 <= v < 2**64:
            raise RuntimeError(f"{op}: the integer {v} overflows int64")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one tensor operand, got "
                        f"{type(a).__name__} and {type(b).__name__}")
    broadcast_shapes(op, _shape(a), _shape(b))
    return a, b, result_type(a, b)


def _wrapped(values, dtype):
    """A Python int operand cast into an integer result dtype as torch casts it, wrapping around
    (uint8 tensor + (-1) adds 255): the Functions take numbers their dtype holds."""
    if category(dtype) == FLOAT:
        return values
    return tuple(_array(np, v, dtype).item() if type(v) is int else v for v in values)


def add(input, other, *, alpha=1, out=None):  # noqa: A002  (torch's names)
    """out = input + alpha * other, any shapes that broadcast -> the broadcast shape (dtype by
    torch's promotion of input and other; alpha takes no part in it);
    with a = input, b = other:  da = g,  db = alpha * g  (each summed over its broadcast axes)."""
    _no_out("add", out)
    a, b, dtype = _binary_dtype("add", input, other)
    b = _scaled("add", b, alpha, dtype)
    return choose(core_elementwise.Add).apply(*_wrapped((a, b), dtype), dtype=dtype)


def sub(input, other, *, alpha=1, out=None):  # noqa: A002
    """out = input - alpha * other, broadcast shapes -> the broadcast shape;
    da = g,  db = -alpha * g  (a = input, b = other).
    A bool operand (tensor or Python bool) is refused, as in torch."""
    _no_out("sub", out)
    a, b, dtype = _binary_dtype("sub", input, other)
    if any(isinstance(v, bool) or isinstance(v, Tensor) and v.dtype == np.bool_ for v in (a, b)):
        raise RuntimeError("sub: subtraction with a bool operand is not supported; use ^ (logical_xor) "
                           "or ~ (logical_not) instead")
    b = _scaled("sub", b, alpha, dtype)
    return choose(core_elementwise.Sub).apply(*_wrapped((a, b), dtype), dtype=dtype)


def _no_out(op, out):
    """out= is accepted at its default only: results here are always new tensors."""
    if out is not None:
        raise TypeError(f"{op}: out= is not supported by minitorch_cnn (assign the result instead)")


def _scaled(op, other, alpha, dtype):
    """alpha * other for add/sub(alpha=), with torch's checks of alpha against the result dtype;
    other is first cast to that dtype, so that alpha cannot change the result's dtype."""
    if isinstance(alpha, np.generic) and is_number(alpha):
        alpha = alpha.item()
    if not is_number(alpha):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    if isinstance(alpha, bool) and dtype != np.bool_:
        raise RuntimeError(f"{op}: Boolean alpha only supported for Boolean results (result dtype {dtype})")
    if isinstance(alpha, float) and category(dtype) != FLOAT:
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating "
                           f"point number (got alpha={alpha}, result dtype {dtype})")
    if alpha == 1:
        return other
    if not isinstance(other, Tensor):
        return (other and alpha) if isinstance(other, bool) else other * alpha
    return mul(other if other.dtype == dtype else other.to(dtype=dtype), alpha)


def mul(input, other, *, out=None):  # noqa: A002  (torch's names)
    """out = a * b (a = input, b = other), broadcast shapes -> the broadcast shape;
    da = g * b,  db = g * a."""
    _no_out("mul", out)
    a, b, dtype = _binary_dtype("mul", input, other)
    return choose(core_elementwise.Mul).apply(*_wrapped((a, b), dtype), dtype=dtype)


def div(input, other, *, rounding_mode=None, out=None):  # noqa: A002
    """out = input / other, broadcast shapes -> the broadcast shape.
    rounding_mode=None: true division (integer and bool operands divide as float32, as torch);
    da = g / b,  db = -g * out / b  (a = input, b = other).
    'trunc' / 'floor': the quotient rounded toward zero / toward -inf, in the promoted dtype
    (integers stay integers); piecewise constant: da = 0, db = 0."""
    _no_out("div", out)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                               f"but found {rounding_mode!r}")
        return _rounded_div("div", input, other, rounding_mode)
    a, b, dtype = _binary_dtype("div", input, other)
    if category(dtype) != FLOAT:
        dtype = np.dtype(np.float32)
    return choose(core_elementwise.Div).apply(a, b, dtype=dtype)



def floor_divide(input, other, *, out=None):  # noqa: A002
    """out = floor(input / other) (Python's //), broadcast shapes -> the broadcast shape, in the
    promoted dtype; an integer division by zero is a RuntimeError.  As torch, no derivative:
    backward through it raises (div(..., rounding_mode='floor') has the zero gradient)."""
    _no_out("floor_divide", out)
    return _rounded_div("floor_divide", input, other, "floor")


def remainder(input, other, *, out=None):  # noqa: A002
    """out = input - floor(input / other) * other (Python's %: the sign of other), broadcast
    shapes -> the broadcast shape, in the promoted dtype;
    da = g,  db = -g * floor(a / b)  (a = input, b = other)."""
    _no_out("remainder", out)
    a, b, dtype = _integral_operands("remainder", input, other)
    return Remainder.apply(*_wrapped((a, b), dtype), dtype=dtype)


def _integral_operands(op, a, b):
    """Operands and dtype for //, % and the rounded divisions: no bool kernel, as torch."""
    a, b, dtype = _binary_dtype(op, a, b)
    if dtype == np.bool_:
        raise NotImplementedError(f'"{op}" not implemented for \'Bool\' (convert with .int() or .long())')
    check_same_device(op, (a, b))
    return a, b, dtype


def _rounded_div(op, a, b, mode):
    a, b, dtype = _integral_operands(op, a, b)
    return RoundedDiv.apply(*_wrapped((a, b), dtype), dtype=dtype, mode=mode, op=op)


def _check_no_zero_divisor(divisor):
    """torch raises for an integer division by zero (floats give inf or nan)."""
    if divisor.dtype.kind in "iu" and bool((divisor == 0).any()):
        raise RuntimeError("ZeroDivisionError: integer division by zero")


class RoundedDiv(Function):
    """out = a / b rounded toward -inf (mode 'floor') or toward 0 ('trunc'), in `dtype`;
    piecewise constant, so da = 0 and db = 0 (torch's div(rounding_mode=)).  For floor_divide
    torch defines no derivative, and backward raises as torch's does."""
    @staticmethod
    def forward(ctx, a, b, dtype, mode, op):
        ctx.inputs_meta, ctx.op = _meta(a, b), op
        xp = _array_module(a, b)
        xa, xb = _array(xp, a, dtype), _array(xp, b, dtype)
        _check_no_zero_divisor(xb)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            if mode == "floor":
                return xp.floor_divide(xa, xb)
            if category(dtype) == FLOAT:
                return xp.trunc(xa / xb)
            floored = xp.floor_divide(xa, xb)
            inexact = (floored * xb != xa) & ((xa < 0) != (xb < 0))
            return floored + inexact.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.op == "floor_divide":
            raise RuntimeError("floor_divide: the derivative for floor_divide is not implemented "
                               "(as in torch); use div(a, b, rounding_mode='floor'), whose gradient is 0")
        zeros = get_array_module(g).zeros_like(g)
        return tuple(_grad_for(zeros, meta, need) for meta, need in zip(ctx.inputs_meta, ctx.needs_input_grad))


class Remainder(Function):
    """out = a - floor(a / b) * b, in `dtype` (NaN for a float b = 0);
    da = g,  db = -g * floor(a / b)  (each summed to its own shape)."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        ctx.inputs_meta = _meta(a, b)
        xp = _array_module(a, b)
        xa, xb = _array(xp, a, dtype), _array(xp, b, dtype)
        _check_no_zero_divisor(xb)
        ctx.save_for_backward(xa, xb)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return xp.remainder(xa, xb)

    @staticmethod
    def backward(ctx, g):
        xa, xb = ctx.saved
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        grad_b = None
        if need_b:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                grad_b = _grad_for(-g * get_array_module(g).floor_divide(xa, xb), b, True)
        return _grad_for(g, a, need_a), grad_b


def maximum(input, other, *, out=None):  # noqa: A002  (torch's names)
    """out = the larger of input and other (NaN where either is NaN), shapes broadcast, dtype
    promoted;  da = g where a > b, db = g where b > a, each g / 2 at ties, both g at a NaN."""
    return _extremum("maximum", True, input, other, out)


def minimum(input, other, *, out=None):  # noqa: A002
    """out = the smaller of input and other (NaN where either is NaN); gradients as maximum's
    with the comparisons turned round."""
    return _extremum("minimum", False, input, other, out)


def _extremum(op, largest, input, other, out):  # noqa: A002
    _no_out(op, out)
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")
    a, b, dtype = _binary_dtype(op, input, other)
    check_same_device(op, (a, b))
    return Extremum.apply(a, b, dtype=dtype, largest=largest)


class Extremum(Function):
    """out = maximum(a, b) (or minimum) in `dtype`, NaN propagating;  torch's rule for the
    gradient: g / 2 to each at a tie, else g to the winner (both get g where a NaN is involved,
    since every comparison with NaN is false), each summed to its own shape."""
    @staticmethod
    def forward(ctx, a, b, dtype, largest):
        ctx.inputs_meta, ctx.largest = _meta(a, b), largest
        xp = _array_module(a, b)
        xa, xb = _array(xp, a, dtype), _array(xp, b, dtype)
        ctx.save_for_backward(xa, xb)
        return (xp.maximum if largest else xp.minimum)(xa, xb)

    @staticmethod
    def backward(ctx, g):
        xa, xb = ctx.saved
        xp = get_array_module(g)
        a_loses, b_loses = (xa < xb, xa > xb) if ctx.largest else (xa > xb, xa < xb)
        shared = xp.where(xa == xb, g / 2, g)
        zero = xp.zeros((), dtype=g.dtype)
        a, b = ctx.inputs_meta
        need_a, need_b = ctx.needs_input_grad
        return (_grad_for(xp.where(a_loses, zero, shared), a, need_a),
                _grad_for(xp.where(b_loses, zero, shared), b, need_b))


def pow(input, exponent, *, out=None):  # noqa: A001,A002  (torch.pow, torch's names)
    """out = a ** b (a = input, b = exponent), broadcast shapes -> the broadcast shape;
    da = g * b * a ** (b - 1)  (0 where b = 0),  db = g * out * log(a)  (0 where a = 0 and b >= 0).
    Integer ** integer stays integer."""
    _no_out("pow", out)
    a, b, dtype = _binary_dtype("pow", input, exponent)
    if dtype == np.bool_ and not (isinstance(a, Tensor) and isinstance(b, bool)):
        # torch has a bool kernel only for a bool tensor to a Python bool power
        raise RuntimeError("pow: not implemented for two bool operands, except a bool tensor to a Python bool")
    if category(dtype) != FLOAT and is_number(b) and b < 0:
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed (exponent {b})")
    if category(dtype) != FLOAT:
        # The core Pow is float-only; integer and bool powers carry no gradient, and the fast Pow
        # computes them by torch's rules (negative exponents, bool ** bool) in either mode.
        return _fast_elementwise.Pow.apply(a, b, dtype=dtype)
    return choose(core_elementwise.Pow).apply(a, b, dtype=dtype)


# ---- unary -----------------------------------------------------------------------------
def _tensor_arg(op, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    return x


def _float_input(op, x):
    """exp/log/sqrt of an integer or bool tensor compute in float32, as torch."""
    x = _tensor_arg(op, x)
    return x if category(x.dtype) == FLOAT else Tensor(x.array.astype(np.float32))


def neg(input, *, out=None):  # noqa: A002
    """out = -x, any shape -> the same shape;  dx = -g.  A bool tensor is refused (use ~), as torch."""
    _no_out("neg", out)
    x = _tensor_arg("neg", input)
    if x.dtype == np.bool_:
        raise RuntimeError("neg: negating a bool tensor is not supported; use ~ (logical_not) instead")
    return choose(core_elementwise.Neg).apply(x)


def exp(input, *, out=None):  # noqa: A002
    """out = exp(x), any shape -> the same shape (integers -> float32);  dx = g * out."""
    _no_out("exp", out)
    return choose(core_elementwise.Exp).apply(_float_input("exp", input))


def log(input, *, out=None):  # noqa: A002
    """out = log(x), any shape -> the same shape (integers -> float32);  dx = g / x."""
    _no_out("log", out)
    return choose(core_elementwise.Log).apply(_float_input("log", input))


def sqrt(input, *, out=None):  # noqa: A002
    """out = sqrt(x), any shape -> the same shape (integers -> float32);  dx = g / (2 out)."""
    _no_out("sqrt", out)
    return choose(core_elementwise.Sqrt).apply(_float_input("sqrt", input))


def abs(input, *, out=None):  # noqa: A001,A002  (shadows the builtin inside this module only, as torch.abs)
    """out = |x|, any shape -> the same shape and dtype;  dx = g * sign(x)  (0 at x = 0, as torch).
    A bool tensor is refused, as torch."""
    _no_out("abs", out)
    x = _tensor_arg("abs", input)
    if x.dtype == np.bool_:
        raise RuntimeError("abs: not implemented for bool tensors")
    return choose(core_elementwise.Abs, x).apply(x)


# ---- comparisons -----------------------------------------------------------------------
COMPARISONS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal",
               "gt": "greater", "ge": "greater_equal"}


def compare(a, b, op):
    """out = a <op> b, broadcast shapes -> a bool tensor of the broadcast shape (no gradient).
    The operands are compared in their promoted dtype."""
    op = {v: k for k, v in COMPARISONS.items()}.get(op, op)     # accept NumPy's ufunc names too
    a, b, dtype = _binary_dtype(op, a, b)
    check_same_device(op, (a, b))
    xa_raw, xb_raw = (v.array if isinstance(v, Tensor) else v for v in (a, b))
    xp = _array_module(xa_raw, xb_raw)
    xa, xb = _array(xp, xa_raw, dtype), _array(xp, xb_raw, dtype)
    with np.errstate(invalid="ignore"):
        return Tensor(getattr(xp, COMPARISONS[op])(xa, xb))


def _comparison(op):
    def fn(input, other, *, out=None):  # noqa: A002
        """out = input <op> other, broadcast shapes -> a bool tensor (no gradient: dx = 0)."""
        _no_out(op, out)
        _tensor_arg(op, input)
        return compare(input, other, op)
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = fn.__doc__.replace("<op>", {"eq": "==", "ne": "!=", "lt": "<", "le": "<=",
                                             "gt": ">", "ge": ">="}[op])
    return fn


eq, ne, lt, le, gt, ge = (_comparison(op) for op in COMPARISONS)


# ---- clamp -----------------------------------------------------------------------------
class Clamp(Function):
    """out = min(max(x, lo), hi)  (NaN in any operand gives NaN);
    dx = g where lo <= x <= hi,  dlo = g where x < lo < hi,  dhi = g where x > hi or hi < lo."""
    @staticmethod
    def forward(ctx, x, lo, hi, dtype):
        ctx.inputs_meta = _meta(x, lo, hi)
        xp = get_array_module(x)
        xx = _array(xp, x, dtype)
        xlo = None if lo is None else _array(xp, lo, dtype)
        xhi = None if hi is None else _array(xp, hi, dtype)
        ctx.save_for_backward(xx, xlo, xhi)
        out = xx
        with np.errstate(invalid="ignore"):
            if xlo is not None:
                out = xp.maximum(out, xlo)
            if xhi is not None:
                out = xp.minimum(out, xhi)
        return out

    @staticmethod
    def backward(ctx, g):
        xx, xlo, xhi = ctx.saved
        x, lo, hi = ctx.inputs_meta
        need_x, need_lo, need_hi = ctx.needs_input_grad
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        grads = [None, None, None]
        with np.errstate(invalid="ignore"):
            if need_x:
                inside = True
                if xlo is not None:
                    inside = xx >= xlo
                if xhi is not None:
                    inside = (xx <= xhi) & inside
                grads[0] = _grad_for(xp.where(inside, g, zero), x, True)
            if need_lo:
                below = xx < xlo if xhi is None else (xx < xlo) & (xlo < xhi)
                grads[1] = _grad_for(xp.where(below, g, zero), lo, True)
            if need_hi:
                above = xx > xhi if xlo is None else (xx > xhi) | (xhi < xlo)
                grads[2] = _grad_for(xp.where(above, g, zero), hi, True)
        return tuple(grads)


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002  (torch's argument names)
    """out = min(max(input, min), max), shapes broadcast -> the broadcast shape; min and max are
    numbers or tensors (a missing one is no bound; min > max gives max everywhere);
    dx = g where min <= x <= max (boundaries included),  dmin = g where x < min < max,
    dmax = g where x > max or max < min."""
    _no_out("clamp", out)
    return _clamp("clamp", input, min, max)


def clip(input, min=None, max=None, *, out=None):  # noqa: A002
    """torch.clip, the alias of clamp: out = min(max(input, min), max) -> the broadcast shape;
    dx = g where min <= x <= max,  dmin = g where x < min < max,  dmax = g where x > max or max < min."""
    _no_out("clip", out)
    return _clamp("clip", input, min, max)


def _clamp(op, input, min, max):  # noqa: A002
    x = _tensor_arg(op, input)
    if min is None and max is None:
        raise RuntimeError(f"{op}: at least one of 'min' or 'max' must not be None")
    bounds = [_operand(op, v, "a bound") if v is not None else None for v in (min, max)]
    if any(isinstance(v, Tensor) for v in bounds) and any(is_number(v) for v in bounds):
        # torch's number overload: beside a number bound, a tensor bound must read as a number
        # (0-d, no gradient wanted)
        for i, v in enumerate(bounds):
            if isinstance(v, Tensor):
                if v.ndim != 0 or v.requires_grad:
                    raise TypeError(f"{op}: min and max must be both numbers or both tensors, got a "
                                    f"number and a {v.ndim}-d tensor"
                                    + (" that requires grad" if v.requires_grad else ""))
                bounds[i] = v.item()
    lo, hi = bounds
    dtype = result_type(x, lo, hi)
    if dtype == np.bool_:
        raise RuntimeError(f"{op}: not implemented for bool tensors")
    broadcast_shapes(op, *(_shape(v) for v in (x, lo, hi) if v is not None))
    return Clamp.apply(x, lo, hi, dtype=dtype)


# ---- selection -------------------------------------------------------------------------
class Where(Function):
    """out = a where cond else b;  da = g where cond (0 elsewhere),  db = g where not cond."""
    @staticmethod
    def forward(ctx, cond, a, b, dtype):
        ctx.inputs_meta = _meta(cond, a, b)
        xp = _array_module(cond, a, b)
        mask = cond.astype(bool, copy=False)
        ctx.save_for_backward(mask)
        return xp.where(mask, _array(xp, a, dtype), _array(xp, b, dtype))

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        _, a, b = ctx.inputs_meta
        _, need_a, need_b = ctx.needs_input_grad
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        return (None,
                _grad_for(xp.where(mask, g, zero), a, True) if need_a else None,
                _grad_for(xp.where(mask, zero, g), b, True) if need_b else None)


def where(condition, input=None, other=None, *, out=None):  # noqa: A002
    """out = input where condition else other, broadcast shapes -> the broadcast shape (input and
    other: tensors or numbers, promoted as torch);  dinput = g where condition,
    dother = g where not condition.  where(condition) alone: the indices of the nonzero
    elements, one int64 tensor per dimension."""
    _no_out("where", out)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: expected a tensor condition, got {type(condition).__name__}")
    if condition.dtype not in (np.bool_, np.uint8):
        raise RuntimeError(f"where: expected condition to be a bool tensor, got dtype {condition.dtype}")
    if input is None and other is None:
        xp = get_array_module(condition.array)
        return tuple(Tensor(i.astype(np.int64)) for i in xp.nonzero(xp.atleast_1d(condition.array)))
    a, b = _operand("where", input, "input"), _operand("where", other, "other")
    broadcast_shapes("where", condition.shape, _shape(a), _shape(b))
    check_same_device("where", (condition, a, b))
    return Where.apply(condition, a, b, dtype=result_type(a, b))


class MaskedFill(Function):
    """out = value where mask else x;  dx = g where not mask,  dvalue = Σ g where mask."""
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.inputs_meta = _meta(x, mask, value)
        xp = get_array_module(x)
        ctx.save_for_backward(mask)
        return xp.where(mask, _array(xp, value, x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved
        x, _, value = ctx.inputs_meta
        need_x, _, need_value = ctx.needs_input_grad
        xp = get_array_module(g)
        zero = xp.zeros((), dtype=g.dtype)
        grad_x = _grad_for(xp.where(mask, zero, g), x, True) if need_x else None
        grad_value = xp.asarray(xp.where(mask, g, zero).sum(), dtype=value[1]) if need_value else None
        return grad_x, None, grad_value


def masked_fill(input, mask, value):  # noqa: A002
    """out = value where mask else input, input and a bool mask broadcast -> the broadcast shape,
    input's dtype (value: a number or a 0-d tensor, cast to it);
    dx = g where not mask,  dvalue = Σ g where mask."""
    x = _tensor_arg("masked_fill", input)
    if not isinstance(mask, Tensor):
        raise TypeError(f"masked_fill: expected a bool tensor mask, got {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: only bool masks are supported, got a mask of dtype {mask.dtype}")
    value = _operand("masked_fill", value, "the value")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill: only a 0-d value tensor is supported, got a {value.ndim}-d tensor")
    if (isinstance(value, Tensor) and value.requires_grad and category(x.dtype) != FLOAT
            and is_grad_enabled()):
        raise RuntimeError(f"masked_fill: the result has dtype {x.dtype}, which cannot carry the "
                           "gradient the value tensor requires")
    if is_number(value):
        check_fits("masked_fill", value, x.dtype)
    broadcast_shapes("masked_fill", x.shape, mask.shape)
    check_same_device("masked_fill", (x, mask, value))
    return MaskedFill.apply(x, mask, value)
