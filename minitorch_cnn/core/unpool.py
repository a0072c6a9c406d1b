"""Max unpooling, a partial inverse of max pooling (docs/14_upsampling.md): each pooled value
goes back to the position its window's maximum came from; every other pixel is zero.
"""
from ..backend import get_array_module
from .autograd import Function


class MaxUnpool2d(Function):
    """x (N, C, h, w), indices (N, C, h, w) int64 -> out (N, C, H, W) with output_size = (H, W):

        out[n, c].flat[indices[n, c, i, j]] = x[n, c, i, j],   0 at every position no index names

    (an index is row · W + column in its H × W plane, as max_pool2d's return_indices gives it).
    The forward scatters, so the backward gathers:

        dx[n, c, i, j] = g[n, c].flat[indices[n, c, i, j]];   indices get no gradient.
    """
    @staticmethod
    def forward(ctx, x, indices, output_size):
        xp, (n, c, h, w) = get_array_module(x), x.shape
        plane = indices.reshape(n * c, h * w)                 # one row per (n, c)
        out = xp.zeros((n * c, output_size[0] * output_size[1]), dtype=x.dtype)
        out[xp.arange(n * c)[:, None], plane] = x.reshape(n * c, h * w)
        ctx.save_for_backward(plane)
        ctx.x_shape = x.shape
        return out.reshape(n, c, *output_size)

    @staticmethod
    def backward(ctx, g):
        (plane,), (n, c) = ctx.saved, ctx.x_shape[:2]
        rows = g.reshape(n * c, g.shape[2] * g.shape[3])
        return get_array_module(g).take_along_axis(rows, plane, axis=1).reshape(ctx.x_shape), None
