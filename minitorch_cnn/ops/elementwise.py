"""Elementwise arithmetic with NumPy broadcasting.

When an input was broadcast in the forward, its gradient is the output
gradient summed over the broadcast axes (`unbroadcast`).
"""
import numpy as np

from ..autograd import Function, _check_same_device
from ..backend import get_array_module
from ..tensor import Tensor


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: over leading axes, and axes where shape has 1."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def as_operands(a, b):
    """Turn Python numbers / arrays into tensors of a matching dtype and device.

    As in PyTorch, a Python scalar takes the tensor's dtype (x * 2.0 stays
    float32), and an integer tensor meets a float by becoming that float type.
    """
    like = a if isinstance(a, Tensor) else b
    xp = get_array_module(like.data)

    def convert(v):
        if isinstance(v, Tensor):
            return v
        if isinstance(v, (bool, int, float)):
            dtype = like.dtype if (like.dtype.kind in "fc" or isinstance(v, int)) else np.float32
            if like.dtype.kind == "b" and type(v) is int:
                dtype = np.int64    # a bool tensor + 2 counts (int64), as torch; bool would give True
            return Tensor(xp.asarray(v, dtype=dtype))
        return Tensor(xp.asarray(v))

    a, b = convert(a), convert(b)
    if a.dtype != b.dtype and (a.dtype.kind in "fc") != (b.dtype.kind in "fc"):
        if a.dtype.kind in "fc":
            b = Tensor(b.data.astype(a.dtype))
        else:
            a = Tensor(a.data.astype(b.dtype))
    return a, b


class Add(Function):
    """out = a + b;  da = g,  db = g  (each summed to its own shape)."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a + b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None,
                unbroadcast(g, sb) if need_b else None)


class Sub(Function):
    """out = a - b;  da = g,  db = -g."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return a - b

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, sa) if need_a else None,
                unbroadcast(-g, sb) if need_b else None)


class Mul(Function):
    """out = a * b;  da = g * b,  db = g * a."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, a.shape) if need_a else None,
                unbroadcast(g * a, b.shape) if need_b else None)


class Div(Function):
    """out = a / b;  da = g / b,  db = -g * out / b."""
    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / b, a.shape) if need_a else None,
                unbroadcast(-g * out / b, b.shape) if need_b else None)


class Pow(Function):
    """out = a ** b;  da = g * b * a ** (b - 1),  db = g * out * log(a)."""
    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        xp = get_array_module(a)
        need_a, need_b = ctx.needs_input_grad
        grad_a = unbroadcast(g * b * a ** (b - 1), a.shape) if need_a else None
        grad_b = None
        if need_b:
            # log(a) is undefined for a <= 0; torch gives 0 where out is 0 as well
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_b = unbroadcast(g * xp.where(out == 0, 0, out * xp.log(a)), b.shape)
        return grad_a, grad_b


class Neg(Function):
    """out = -x;  dx = -g."""
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Exp(Function):
    """out = exp(x);  dx = g * out."""
    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)


class Log(Function):
    """out = log(x);  dx = g / x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)

    @staticmethod
    def backward(ctx, g):
        return (g / ctx.saved[0],)


class Sqrt(Function):
    """out = sqrt(x);  dx = g / (2 out)."""
    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return (g / (2 * ctx.saved[0]),)


class Abs(Function):
    """out = |x|;  dx = g * sign(x)  (0 at x = 0, as torch)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)

    @staticmethod
    def backward(ctx, g):
        return (g * get_array_module(g).sign(ctx.saved[0]),)


def _binary(fn):
    def op(a, b):
        a, b = as_operands(a, b)
        return fn.apply(a, b)
    op.__name__, op.__doc__ = fn.__name__.lower(), fn.__doc__
    return op


add, sub, mul, pow = (_binary(f) for f in (Add, Sub, Mul, Pow))


def div(a, b):
    """out = a / b;  da = g / b,  db = -g * out / b.  Integer operands divide as float32
    (torch), not float64 (NumPy)."""
    a, b = as_operands(a, b)
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":   # ints never require grad
        a, b = Tensor(a.data.astype(np.float32)), Tensor(b.data.astype(np.float32))
    return Div.apply(a, b)


def _unary(fn):
    def op(x):
        return fn.apply(x)
    op.__name__, op.__doc__ = fn.__name__.lower(), fn.__doc__
    return op


# `abs` shadows the builtin inside this module only.
neg, exp, log, sqrt, abs = (_unary(f) for f in (Neg, Exp, Log, Sqrt, Abs))  # noqa: A001


def compare(a, b, ufunc_name):
    """Elementwise comparison; a bool tensor that carries no gradient."""
    if not isinstance(b, Tensor) and not isinstance(a, Tensor):
        raise TypeError("compare needs at least one tensor")
    a, b = as_operands(a, b)
    _check_same_device(compare, (a, b))   # no Function.apply here to check it
    xp = get_array_module(a.data)
    return Tensor(getattr(xp, ufunc_name)(a.data, b.data))
