"""Sum and mean over some axes of a tensor.

Every input entry took part in exactly one output entry, with weight 1 (sum) or 1/n (mean), so
the gradient is the output gradient copied back along the reduced axes (broadcast, as in
docs/02_broadcasting.md read backwards).
"""
import math

from ..backend import get_array_module
from .autograd import Function


def spread(grad, shape, axes, keepdim):
    """A gradient of the reduced shape broadcast back to `shape` over `axes` (a view, no copy):
    the dropped axes are put back as size 1 first unless keepdim kept them."""
    if not keepdim:
        grad = grad.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return get_array_module(grad).broadcast_to(grad, shape)


class Sum(Function):
    """x (d0, ..., dn) -> out = Σ_axes x: the shape without `axes` (size 1 there with keepdim);
    dx = g copied along the summed axes.  `dtype`: the result dtype (None: NumPy's default)."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return (spread(g, ctx.shape, ctx.axes, ctx.keepdim),)


class Mean(Function):
    """x (d0, ..., dn) -> out = Σ_axes x / n, n = Π_axes d_i: shape as Sum's;
    dx = g / n copied along the averaged axes."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = math.prod(x.shape[a] for a in axes)
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype) / ctx.count

    @staticmethod
    def backward(ctx, g):
        return (spread(g / ctx.count, ctx.shape, ctx.axes, ctx.keepdim),)
