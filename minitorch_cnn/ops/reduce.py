"""Reductions: sum, mean, max over an axis (or all), with keepdims."""
from ..autograd import Function
from ..backend import get_array_module
from .shape import normalize_dim


def _normalize_axes(axis, ndim, op):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(normalize_dim(a, ndim, op, "axis") for a in axes))


def _expand(grad, shape, axes, keepdims):
    """Broadcast a reduced gradient back to the input shape."""
    xp = get_array_module(grad)
    if not keepdims:
        grad = grad.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return xp.broadcast_to(grad, shape)


class Sum(Function):
    """out = Σ_axes x;  dx = g broadcast back over the summed axes."""
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return get_array_module(x).sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return (_expand(g, ctx.shape, ctx.axes, ctx.keepdims),)


class Mean(Function):
    """out = Σ_axes x / n;  dx = g / n broadcast back."""
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        ctx.count = 1
        for a in axes:
            ctx.count *= x.shape[a]
        return get_array_module(x).mean(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return (_expand(g / ctx.count, ctx.shape, ctx.axes, ctx.keepdims),)


class Max(Function):
    """out = max_axes x;  dx = g at the maxima, shared equally among ties (as torch.amax)."""
    @staticmethod
    def forward(ctx, x, axes, keepdims):
        out = get_array_module(x).max(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.shape, ctx.axes, ctx.keepdims = x.shape, axes, keepdims
        return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved
        mask = (x == out).astype(x.dtype)
        mask /= mask.sum(axis=ctx.axes, keepdims=True)
        return (_expand(g, ctx.shape, ctx.axes, ctx.keepdims) * mask,)


def _reduction(fn, name):
    def op(x, axis=None, keepdims=False):
        if fn is Max and x.data.size == 0:
            raise ValueError("max: cannot reduce an empty tensor")
        return fn.apply(x, axes=_normalize_axes(axis, x.ndim, name), keepdims=bool(keepdims))
    op.__name__ = name
    op.__doc__ = fn.__doc__
    return op


sum = _reduction(Sum, "sum")     # noqa: A001
mean = _reduction(Mean, "mean")
max = _reduction(Max, "max")     # noqa: A001
