"""Activations, one element at a time, and softmax / log-softmax along one dim.

g is the gradient of the loss with respect to the output (docs/01_graph.md).
"""
from ..backend import get_array_module
from .autograd import Function


class ReLU(Function):
    """x (any shape) -> max(x, 0), same shape;  dx = 0 where x <= 0, else g  (0 at x = 0, as torch)."""
    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).maximum(x, 0)
        ctx.save_for_backward(out)     # out > 0 exactly where x > 0
        return out

    @staticmethod
    def backward(ctx, g):
        # a select, not g · [x > 0]: an inf in g must not become inf · 0 = NaN, and a NaN x
        # passes its gradient on (NaN <= 0 is false), as in torch
        return (get_array_module(g).where(ctx.saved[0] <= 0, 0, g),)


class LeakyReLU(Function):
    """x (any shape) -> x where x > 0, else s · x (s = negative_slope), same shape;
    dx = g where x > 0, else s · g."""
    @staticmethod
    def forward(ctx, x, negative_slope):
        positive = x > 0
        ctx.save_for_backward(positive)
        ctx.slope = x.dtype.type(negative_slope)
        return get_array_module(x).where(positive, x, x * ctx.slope)

    @staticmethod
    def backward(ctx, g):
        return (get_array_module(g).where(ctx.saved[0], g, g * ctx.slope),)


class Tanh(Function):
    """x (any shape) -> y = tanh(x), same shape;  dx = g · (1 − y²)."""
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
    """x (any shape) -> y = 1 / (1 + e⁻ˣ), same shape;  dx = g · y · (1 − y)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        # 1 / (1 + e⁻ˣ) overflows e⁻ˣ for x << 0; e^(−log(1 + e⁻ˣ)) is the same number, never inf.
        out = xp.exp(-xp.logaddexp(0, -x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (g * out * (1 - out),)


class Softmax(Function):
    """x (any shape) -> p = eˣ / Σ_dim eˣ, same shape;  dx = p · (g − Σ_dim g · p)."""
    @staticmethod
    def forward(ctx, x, dim):
        # e^(x − max) ≤ 1: no overflow, and the max cancels in the ratio (docs/10_cross_entropy.md)
        e = get_array_module(x).exp(x - x.max(axis=dim, keepdims=True))
        out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (out * (g - (g * out).sum(axis=ctx.dim, keepdims=True)),)


class LogSoftmax(Function):
    """x (any shape) -> x − log Σ_dim eˣ, same shape;  dx = g − softmax(x) · Σ_dim g."""
    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        shifted = x - x.max(axis=dim, keepdims=True)    # log Σ eˣ = max + log Σ e^(x − max)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]     # softmax(x) = e^out
        return (g - get_array_module(g).exp(out) * g.sum(axis=ctx.dim, keepdims=True),)
