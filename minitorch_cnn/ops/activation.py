"""Activations: relu, leaky_relu, tanh, sigmoid, and the numerically stable softmax / log_softmax."""
import numbers

import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor, as_dtype
from .checks import check_inplace, expect_floating, expect_tensor
from .shape import normalize_dim


class ReLU(Function):
    """out = max(x, 0);  dx = g · [not out ≤ 0]  (0 at x = 0, and g passes where x is NaN, as torch)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        # max against a zeros array, not the scalar 0: NumPy's maximum only vectorises
        # when both operands are arrays (about 2.5× faster here, even counting the zeros).
        out = xp.zeros_like(x)
        xp.maximum(x, out, out=out)
        ctx.save_for_backward(out)   # the output lives on anyway as the next layer's input
        return out

    @staticmethod
    def backward(ctx, g):
        # torch's threshold_backward zeroes g where out ≤ 0; NaN ≤ 0 is false, so a NaN input
        # lets the gradient through ([out > 0] would block it).
        blocked = ctx.saved[0] <= 0
        get_array_module(g).logical_not(blocked, out=blocked)   # one mask, not a second for ~
        return (g * blocked,)


class LeakyReLU(Function):
    """out = x if x > 0 else slope · x;  dx = g if x > 0 else slope · g  (slope at x = 0 and NaN, as torch)."""
    @staticmethod
    def forward(ctx, x, negative_slope):
        xp = get_array_module(x)
        positive = x > 0
        slope = x.dtype.type(negative_slope)
        ctx.save_for_backward(positive)
        ctx.slope = slope
        return xp.where(positive, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        return (xp.where(ctx.saved[0], g, g * ctx.slope),)


class Tanh(Function):
    """out = tanh(x);  dx = g · (1 − out²)."""
    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (g * (1 - out * out),)


class Sigmoid(Function):
    """out = 1 / (1 + e⁻ˣ);  dx = g · out · (1 − out)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        # 1/(1+exp(-x)) overflows exp for x << 0; this form never does.
        out = xp.exp(-xp.logaddexp(0, -x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (g * out * (1 - out),)


class Softmax(Function):
    """out = eˣ / Σ_dim eˣ;  dx = out · (g − Σ_dim g · out)."""
    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        if x.size == 0:       # max() has nothing to reduce over; the result is empty anyway
            out = xp.empty_like(x)
        else:
            e = xp.exp(x - x.max(axis=dim, keepdims=True))   # shift by the max: no overflow
            out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (out * (g - (g * out).sum(axis=ctx.dim, keepdims=True)),)


class LogSoftmax(Function):
    """out = x − log Σ_dim eˣ;  dx = g − softmax(x) · Σ_dim g."""
    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        if x.size == 0:
            out = xp.empty_like(x)
        else:
            shifted = x - x.max(axis=dim, keepdims=True)
            out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        xp = get_array_module(g)
        return (g - xp.exp(out) * g.sum(axis=ctx.dim, keepdims=True),)


def relu(x, inplace=False):
    """F.relu: x (any shape) -> max(x, 0), same shape and dtype (integers too, not bool);
    dx = g · [x > 0]  (g passes where x is NaN, as torch).

    inplace=True gives the same values but computes out of place: x is left unchanged and a
    new tensor is returned (torch overwrites x); as torch, it is refused on a leaf that
    requires grad."""
    expect_tensor(x, "relu")
    if x.dtype.kind == "b":
        raise TypeError("relu: Boolean inputs not supported for relu")
    check_inplace(x, "relu", inplace)
    return ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """F.leaky_relu: x (any shape, floating) -> x where x > 0 else negative_slope · x, same shape;
    dx = g where x > 0 else negative_slope · g  (x = 0 and NaN take the slope, as torch).

    inplace=True computes out of place (x is left unchanged), as relu."""
    expect_tensor(x, "leaky_relu")
    if not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    expect_floating(x, "leaky_relu")
    check_inplace(x, "leaky_relu", inplace)
    return LeakyReLU.apply(x, negative_slope=float(negative_slope))


def _as_float(x):
    """Integer and bool tensors enter tanh/sigmoid as float32, torch's default float type."""
    return x if x.dtype.kind == "f" else Tensor(x.data.astype(np.float32))


def tanh(x):
    """F.tanh: x (any shape) -> tanh(x), same shape (float32 for integer or bool x);
    dx = g · (1 − out²)."""
    expect_tensor(x, "tanh")
    return Tanh.apply(_as_float(x))


def sigmoid(x):
    """F.sigmoid: x (any shape) -> 1 / (1 + e⁻ˣ), same shape (float32 for integer or bool x);
    dx = g · out · (1 − out)."""
    expect_tensor(x, "sigmoid")
    return Sigmoid.apply(_as_float(x))


def _softmax_input(x, dim, dtype, op):
    expect_tensor(x, op)
    if dim is None:
        raise ValueError(f"{op}: pass dim explicitly (e.g. dim=1 for (N, C) logits)")
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if dtype is not None:       # torch casts first, so an integer x with dtype=float works
        x = x.to(dtype=as_dtype(dtype))
    if x.data.size:             # torch returns an empty integer tensor as it is
        expect_floating(x, op)
    axis = normalize_dim(dim, max(x.ndim, 1), op)   # a 0-d tensor takes dim -1 or 0, as torch
    return x, (axis if x.ndim else None)    # a 0-d tensor reduces over its single element


def softmax(x, dim, _stacklevel=3, dtype=None):
    """F.softmax: x (any shape, floating; or any x with dtype=) -> eˣ / Σ_dim eˣ, same shape;
    dx = out · (g − Σ_dim g · out).  (_stacklevel: torch's signature; unused.)"""
    x, axis = _softmax_input(x, dim, dtype, "softmax")
    return Softmax.apply(x, dim=axis)


def log_softmax(x, dim, _stacklevel=3, dtype=None):
    """F.log_softmax: x (any shape, floating; or any x with dtype=) -> x − log Σ_dim eˣ, same shape;
    dx = g − softmax(x) · Σ_dim g.  (_stacklevel: torch's signature; unused.)"""
    x, axis = _softmax_input(x, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, dim=axis)
