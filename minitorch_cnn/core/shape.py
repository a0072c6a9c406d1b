"""Shape ops: reshape, permute and indexing.  None of them changes a value, so each backward
only carries the gradient back to where the values came from.
"""
from .. import backend
from .autograd import Function


class Reshape(Function):
    """x (any shape) -> the same values, in row-major order, as `shape` (same element count);
    dx = g reshaped to x.shape."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(ctx.shape),)


class Permute(Function):
    """x -> out with its axes reordered: axis i of out is axis dims[i] of x;
    dx = g with the inverse order (axis i of dx is axis dims.index(i) of g)."""
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return (g.transpose([ctx.dims.index(i) for i in range(len(ctx.dims))]),)


class GetItem(Function):
    """x -> out = x[index] (ints, slices, None, ..., integer arrays, bool masks: NumPy's rules);
    dx = zeros of x's shape with g added at index.  Added, not written: an integer array may
    read one entry several times, and each read sends back its own term (a fan-out)."""
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        grad = backend.get_array_module(g).zeros(ctx.shape, dtype=g.dtype)
        backend.scatter_add(grad, ctx.index, g)
        return (grad,)
