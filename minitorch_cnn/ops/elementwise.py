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
    xp = get_array_module(like.data)

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
            b = Tensor(b.data.astype(a.dtype))
        else:
            a = Tensor(a.data.astype(b.dtype))
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
                           f"least two devices, {' and '.join(sorted(devices))}")


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


def add(a, b):
    """out = a + b, any shapes that broadcast -> the broadcast shape (dtype by torch's promotion);
    da = g,  db = g  (each summed over its broadcast axes)."""
    a, b, dtype = _binary_dtype("add", a, b)
    return choose(core_elementwise.Add).apply(*_wrapped((a, b), dtype), dtype=dtype)


def sub(a, b):
    """out = a - b, broadcast shapes -> the broadcast shape;  da = g,  db = -g.
    A bool operand (tensor or Python bool) is refused, as in torch."""
    a, b, dtype = _binary_dtype("sub", a, b)
    if any(isinstance(v, bool) or isinstance(v, Tensor) and v.dtype == np.bool_ for v in (a, b)):
        raise RuntimeError("sub: subtraction with a bool operand is not supported; use ^ (logical_xor) "
                           "or ~ (logical_not) instead")
    return choose(core_elementwise.Sub).apply(*_wrapped((a, b), dtype), dtype=dtype)


def mul(a, b):
    """out = a * b, broadcast shapes -> the broadcast shape;  da = g * b,  db = g * a."""
    a, b, dtype = _binary_dtype("mul", a, b)
    return choose(core_elementwise.Mul).apply(*_wrapped((a, b), dtype), dtype=dtype)


def div(a, b):
    """out = a / b (true division), broadcast shapes -> the broadcast shape;
    da = g / b,  db = -g * out / b.  Integer and bool operands divide as float32, as torch."""
    a, b, dtype = _binary_dtype("div", a, b)
    if category(dtype) != FLOAT:
        dtype = np.dtype(np.float32)
    return choose(core_elementwise.Div).apply(a, b, dtype=dtype)


def pow(a, b):  # noqa: A001  (torch.pow)
    """out = a ** b, broadcast shapes -> the broadcast shape;  da = g * b * a ** (b - 1)  (0 where b = 0),
    db = g * out * log(a)  (0 where a = 0 and b >= 0).  Integer ** integer stays integer."""
    a, b, dtype = _binary_dtype("pow", a, b)
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
    return x if category(x.dtype) == FLOAT else Tensor(x.data.astype(np.float32))


def neg(x):
    """out = -x, any shape -> the same shape;  dx = -g.  A bool tensor is refused (use ~), as torch."""
    x = _tensor_arg("neg", x)
    if x.dtype == np.bool_:
        raise RuntimeError("neg: negating a bool tensor is not supported; use ~ (logical_not) instead")
    return choose(core_elementwise.Neg).apply(x)


def exp(x):
    """out = exp(x), any shape -> the same shape (integers -> float32);  dx = g * out."""
    return choose(core_elementwise.Exp).apply(_float_input("exp", x))


def log(x):
    """out = log(x), any shape -> the same shape (integers -> float32);  dx = g / x."""
    return choose(core_elementwise.Log).apply(_float_input("log", x))


def sqrt(x):
    """out = sqrt(x), any shape -> the same shape (integers -> float32);  dx = g / (2 out)."""
    return choose(core_elementwise.Sqrt).apply(_float_input("sqrt", x))


def abs(x):  # noqa: A001  (shadows the builtin inside this module only, as torch.abs)
    """out = |x|, any shape -> the same shape and dtype;  dx = g * sign(x)  (0 at x = 0, as torch).
    A bool tensor is refused, as torch."""
    x = _tensor_arg("abs", x)
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
    xa_raw, xb_raw = (v.data if isinstance(v, Tensor) else v for v in (a, b))
    xp = _array_module(xa_raw, xb_raw)
    xa, xb = _array(xp, xa_raw, dtype), _array(xp, xb_raw, dtype)
    with np.errstate(invalid="ignore"):
        return Tensor(getattr(xp, COMPARISONS[op])(xa, xb))


def _comparison(op):
    def fn(input, other):
        """out = input <op> other, broadcast shapes -> a bool tensor (no gradient: dx = 0)."""
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


def clamp(input, min=None, max=None):  # noqa: A002  (torch's argument names)
    """out = min(max(input, min), max), shapes broadcast -> the broadcast shape; min and max are
    numbers or tensors (a missing one is no bound; min > max gives max everywhere);
    dx = g where min <= x <= max (boundaries included),  dmin = g where x < min < max,
    dmax = g where x > max or max < min."""
    return _clamp("clamp", input, min, max)


def clip(input, min=None, max=None):  # noqa: A002
    """torch.clip, the alias of clamp: out = min(max(input, min), max) -> the broadcast shape;
    dx = g where min <= x <= max,  dmin = g where x < min < max,  dmax = g where x > max or max < min."""
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


def where(condition, input=None, other=None):  # noqa: A002
    """out = input where condition else other, broadcast shapes -> the broadcast shape (input and
    other: tensors or numbers, promoted as torch);  dinput = g where condition,
    dother = g where not condition.  where(condition) alone: the indices of the nonzero
    elements, one int64 tensor per dimension."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: expected a tensor condition, got {type(condition).__name__}")
    if condition.dtype not in (np.bool_, np.uint8):
        raise RuntimeError(f"where: expected condition to be a bool tensor, got dtype {condition.dtype}")
    if input is None and other is None:
        xp = get_array_module(condition.data)
        return tuple(Tensor(i.astype(np.int64)) for i in xp.nonzero(xp.atleast_1d(condition.data)))
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
