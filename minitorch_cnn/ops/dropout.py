"""Inverted dropout: zero each element with probability p, scale the rest by 1/(1 − p)."""
from ..autograd import Function
from ..backend import get_array_module
from ..random import rng_for


class Dropout(Function):
    """out = x · m,  m = [u ≥ p] / (1 − p) with u ~ U[0, 1);  dx = g · m."""
    @staticmethod
    def forward(ctx, x, p):
        xp = get_array_module(x)
        keep = rng_for(xp).random(x.shape, dtype=x.dtype) >= p
        mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)


def dropout(x, p=0.5, training=True):
    """F.dropout: x (any shape) -> x · m, same shape, m = [u ≥ p] / (1 − p), u ~ U[0, 1);
    dx = g · m.  Identity when not training or p = 0; zeros when p = 1."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    return Dropout.apply(x, p=float(p))
