"""Inverted dropout (docs/09_dropout.md)."""
from ..backend import get_array_module
from ..random import rng_for
from .autograd import Function


class Dropout(Function):
    """x (any shape) -> y = x · m, same shape, with the mask m = [u ≥ p] / (1 − p),
    u ~ U[0, 1) of shape mask_shape: x's shape, or (N, C, 1, ...) to keep or drop whole
    channels (m broadcast over the rest);  dx = g · m  (the same m: it is never drawn again).
    """
    @staticmethod
    def forward(ctx, x, p, mask_shape):
        xp = get_array_module(x)
        # mt.manual_seed fixes u: drawn from the engine's generator, in x's dtype
        keep = rng_for(xp).random(mask_shape, dtype=x.dtype) >= p
        mask = keep.astype(x.dtype) * (1 / (1 - p))    # E[m] = 1, so E[y] = x
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)
