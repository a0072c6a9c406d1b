"""Max and average pooling over 2-D windows.

Both walk the kh·kw offsets of the window: for offset (i, j), the strided view
`x[:, :, i::sh, j::sw]` (cut to out_h × out_w) holds that offset's element of
every window at once.  So a pool is kh·kw whole-array steps and never unfolds
the windows into a copy of kh·kw times the input.
"""
import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .pairs import conv_output_size, pair


def _offset_view(a, i, j, stride, out_hw):
    """Element (i, j) of every window: a strided view (N, C, out_h, out_w)."""
    (sh, sw), (out_h, out_w) = stride, out_hw
    return a[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]


def _padded(x, padding, fill):
    xp = get_array_module(x)
    (ph, pw), (n, c, h, w) = padding, x.shape
    if not (ph or pw):
        return x
    out = xp.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _cropped(dx_padded, x_shape, padding):
    (ph, pw), (h, w) = padding, x_shape[2:]
    return dx_padded[:, :, ph:ph + h, pw:pw + w]


def max_pool2d_forward(x, kernel_size, stride, padding, need_argmax=True):
    """-> (out, argmax): the window maxima and the offset i·kw + j of each one
    (argmax None when not needed: no gradient will be routed).

    Ties go to the first maximum in row-major order; NaN wins its window and the
    last NaN is its argmax, as in PyTorch.
    """
    xp = get_array_module(x)
    if xp is not np:
        from ..cuda import kernels
        return kernels.max_pool2d_forward(x, kernel_size, stride, padding)
    kh, kw = kernel_size
    out_hw = conv_output_size(x.shape[2:], kernel_size, stride, padding)
    x_pad = _padded(x, padding, -np.inf)
    taps = [_offset_view(x_pad, i, j, stride, out_hw) for i in range(kh) for j in range(kw)]
    out = taps[0].copy()
    for tap in taps[1:]:
        xp.maximum(out, tap, out=out)          # NaN propagates
    if not need_argmax:
        return out, None
    # The first maximum's offset = how many leading offsets missed the maximum:
    # compare-and-count passes, no masked copies.
    argmax = xp.zeros(out.shape, dtype=np.int8 if kh * kw <= 127 else np.int32)
    missed = xp.ones(out.shape, dtype=bool)
    for tap in taps[:-1]:
        missed &= tap != out
        argmax += missed
    if xp.isnan(out).any():                    # rare: a window with NaN names its last NaN
        for k, tap in enumerate(taps):
            xp.copyto(argmax, k, where=xp.isnan(tap))
    return out, argmax


def max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding):
    """dx: each window's gradient added to the element its argmax names."""
    xp = get_array_module(grad_out)
    if xp is not np:
        from ..cuda import kernels
        return kernels.max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding)
    (kh, kw), (ph, pw) = kernel_size, padding
    n, c, h, w = x_shape
    dx = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=grad_out.dtype)
    overlapping = stride[0] < kh or stride[1] < kw
    # g·[argmax = k] is one fast multiply per offset; select (`where`, ~15× slower) only
    # when g holds inf/NaN, which the multiply would leak into other pixels as NaN·0.
    finite = bool(xp.isfinite(grad_out).all())
    for i in range(kh):
        for j in range(kw):
            view = _offset_view(dx, i, j, stride, grad_out.shape[2:])
            hit = argmax == i * kw + j
            if not finite:
                view += xp.where(hit, grad_out, 0)
            elif overlapping:
                view += grad_out * hit
            else:   # each pixel is in one window at most: write straight into dx
                xp.multiply(grad_out, hit, out=view)
    return _cropped(dx, x_shape, padding)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, xp, dtype):
    """kh·kw, or per window the number of real (non-padding) pixels it covers."""
    if count_include_pad or padding == (0, 0):
        return kernel_size[0] * kernel_size[1]
    out_hw = conv_output_size(x_shape[2:], kernel_size, stride, padding)
    ones = _padded(xp.ones((1, 1) + tuple(x_shape[2:]), dtype=dtype), padding, 0)
    count = xp.zeros((1, 1) + out_hw, dtype=dtype)
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            count += _offset_view(ones, i, j, stride, out_hw)
    return count


def avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad):
    """out = Σ_window x / divisor (zeros in the padding)."""
    xp = get_array_module(x)
    if xp is not np:
        from ..cuda import kernels
        return kernels.avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad)
    out_hw = conv_output_size(x.shape[2:], kernel_size, stride, padding)
    x_pad = _padded(x, padding, 0)
    out = _offset_view(x_pad, 0, 0, stride, out_hw).copy()
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            if i or j:
                out += _offset_view(x_pad, i, j, stride, out_hw)
    out /= _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, xp, x.dtype)
    return out


def avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding, count_include_pad):
    """dx: each window's gradient / divisor added to every pixel of the window."""
    xp = get_array_module(grad_out)
    if xp is not np:
        from ..cuda import kernels
        return kernels.avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding, count_include_pad)
    (ph, pw), (n, c, h, w) = padding, x_shape
    share = grad_out / _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad,
                                    xp, grad_out.dtype)
    dx = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=grad_out.dtype)
    for i in range(kernel_size[0]):
        for j in range(kernel_size[1]):
            _offset_view(dx, i, j, stride, grad_out.shape[2:])[...] += share
    return _cropped(dx, x_shape, padding)


class MaxPool2d(Function):
    """out[n, c, y, x] = max over the window at (y, x);  dx = g routed to each window's argmax."""
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        # Inference (no input needs a gradient) skips the argmax passes.
        out, argmax = max_pool2d_forward(x, kernel_size, stride, padding,
                                         need_argmax=ctx.needs_input_grad[0])
        ctx.save_for_backward(argmax)
        ctx.params = x.shape, kernel_size, stride, padding
        return out

    @staticmethod
    def backward(ctx, g):
        return (max_pool2d_backward(g, ctx.saved[0], *ctx.params),)


class AvgPool2d(Function):
    """out = window mean;  dx = g / divisor spread over each window."""
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        ctx.params = x.shape, kernel_size, stride, padding, count_include_pad
        return avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad)

    @staticmethod
    def backward(ctx, g):
        return (avg_pool2d_backward(g, *ctx.params),)


def _pool_args(op, x, kernel_size, stride, padding):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    kernel_size = pair(kernel_size, f"{op}: kernel_size", 1)
    stride = kernel_size if stride is None else pair(stride, f"{op}: stride", 1)
    padding = pair(padding, f"{op}: padding", 0)
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel_size}")
    conv_output_size(x.shape[2:], kernel_size, stride, padding, op=op)
    return kernel_size, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """F.max_pool2d: (N, C, H, W) -> (N, C, out_h, out_w); stride defaults to kernel_size, padding is −∞."""
    kernel_size, stride, padding = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """F.avg_pool2d: (N, C, H, W) -> (N, C, out_h, out_w); padding is 0, counted in the mean
    unless count_include_pad=False."""
    kernel_size, stride, padding = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                           count_include_pad=bool(count_include_pad))
