"""Max, average and adaptive average pooling, x (N, C, H, W) -> (N, C, out_h, out_w)
(docs/07_pooling.md).  Windows are placed like a convolution's.  For window offset (i, j),
the padded input's strided view from (i, j) with steps (sh, sw) holds that offset's pixel of
every window, so a pool is kh·kw whole-array steps, its backward kh·kw additions into views.
"""
import numpy as np

from ..backend import get_array_module
from .autograd import Function
from .conv import output_size


def _padded(a, padding, fill):
    """a with `padding` rows/columns of `fill` around its last two axes."""
    widths = [(0, 0)] * (a.ndim - 2) + [(padding[0],) * 2, (padding[1],) * 2]
    return get_array_module(a).pad(a, widths, constant_values=fill)


def _cropped(a, padding):
    (ph, pw), (h, w) = padding, a.shape[-2:]
    return a[..., ph:h - ph, pw:w - pw]


def _taps(a, kernel_size, stride, out_hw):
    """For each window offset (i, j) in row-major order, the view of a holding that
    offset's element of every window: (..., out_h, out_w)."""
    (kh, kw), (sh, sw), (out_h, out_w) = kernel_size, stride, out_hw
    return (a[..., i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]
            for i in range(kh) for j in range(kw))


class MaxPool2d(Function):
    """out[n, c, oy, ox] = max of x[n, c] over window (oy, ox); the padding is never a candidate.

    argmax is the winner's window offset k = i·kw + j: the first maximum in row-major order
    on ties, the last NaN when the window holds NaN (as torch).  dx[argmax] += g: each
    window's gradient is routed to its winner; overlapping windows add up there.
    """
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        xp = get_array_module(x)
        out_hw = output_size(x.shape[2:], kernel_size, stride, padding)
        out = xp.full(x.shape[:2] + out_hw, -np.inf, dtype=x.dtype)
        argmax = xp.zeros(out.shape, dtype=np.int64)
        taken = xp.zeros(out.shape, dtype=bool)   # seen a real pixel? (all −inf: the first wins, as torch)
        real = _padded(xp.ones(x.shape[2:], dtype=bool), padding, False)
        taps = zip(_taps(_padded(x, padding, -np.inf), kernel_size, stride, out_hw),
                   _taps(real, kernel_size, stride, out_hw))
        for k, (tap, is_real) in enumerate(taps):
            better = is_real & (~taken | (tap > out) | xp.isnan(tap))
            out, argmax = xp.where(better, tap, out), xp.where(better, k, argmax)
            taken |= is_real
        ctx.geometry = x.shape, kernel_size, stride, padding
        ctx.save_for_backward(argmax)
        return out

    @staticmethod
    def backward(ctx, g):
        (x_shape, kernel_size, stride, padding), (argmax,) = ctx.geometry, ctx.saved
        xp = get_array_module(g)
        grad_x = _padded(xp.zeros(x_shape, dtype=g.dtype), padding, 0)
        for k, view in enumerate(_taps(grad_x, kernel_size, stride, g.shape[2:])):
            view += xp.where(argmax == k, g, 0)     # select, not g·mask: an inf in g stays put
        return (_cropped(grad_x, padding),)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, like):
    """D per window: kh·kw, or the number of real (non-padding) pixels it covers (out_h, out_w),
    in the array module and dtype of `like`."""
    if count_include_pad:
        return kernel_size[0] * kernel_size[1]
    real = _padded(get_array_module(like).ones(x_shape[2:], dtype=like.dtype), padding, 0)
    return sum(_taps(real, kernel_size, stride, output_size(x_shape[2:], kernel_size, stride, padding)))


class AvgPool2d(Function):
    """out = (Σ of the window's pixels, padding as zeros) / D, with D = kh·kw, or the window's
    number of real pixels when count_include_pad is False.

    dx[p] = Σ over the windows containing p of g_window / D_window.
    """
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        out_hw = output_size(x.shape[2:], kernel_size, stride, padding)
        total = sum(_taps(_padded(x, padding, 0), kernel_size, stride, out_hw))
        ctx.geometry = x.shape, kernel_size, stride, padding, count_include_pad
        return total / _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, x)

    @staticmethod
    def backward(ctx, g):
        x_shape, kernel_size, stride, padding, count_include_pad = ctx.geometry
        xp = get_array_module(g)
        share = g / _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, g)
        grad_x = _padded(xp.zeros(x_shape, dtype=g.dtype), padding, 0)
        for view in _taps(grad_x, kernel_size, stride, g.shape[2:]):
            view += share
        return (_cropped(grad_x, padding),)


def _windows(size, out):
    """Adaptive pooling's windows along one axis: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) for i < out."""
    return [slice(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


class AdaptiveAvgPool2d(Function):
    """out[n, c, i, j] = mean of x[n, c, rows_i, columns_j], rows_i = [⌊i·H/out_h⌋, ⌈(i+1)·H/out_h⌉)
    (columns alike): windows of uneven size that overlap when out does not divide H.

    dx[rows_i, columns_j] += g[i, j] / (window's pixel count).  (`unbatched`: for the fast one.)
    """
    @staticmethod
    def forward(ctx, x, output_size, unbatched=False):
        xp = get_array_module(x)
        rows, columns = _windows(x.shape[2], output_size[0]), _windows(x.shape[3], output_size[1])
        out = xp.empty(x.shape[:2] + tuple(output_size), dtype=x.dtype)
        for i, r in enumerate(rows):
            for j, c in enumerate(columns):
                out[:, :, i, j] = x[:, :, r, c].mean(axis=(2, 3))
        ctx.x_shape, ctx.windows = x.shape, (rows, columns)
        return out

    @staticmethod
    def backward(ctx, g):
        (rows, columns), xp = ctx.windows, get_array_module(g)
        grad_x = xp.zeros(ctx.x_shape, dtype=g.dtype)
        for i, r in enumerate(rows):
            for j, c in enumerate(columns):
                count = (r.stop - r.start) * (c.stop - c.start)
                grad_x[:, :, r, c] += g[:, :, i:i + 1, j:j + 1] / count
        return (grad_x,)
