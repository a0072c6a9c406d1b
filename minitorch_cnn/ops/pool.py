"""Max and average pooling over 2-D windows.

Both walk the kh·kw offsets of the window: for offset (i, j), the strided view
`x[:, :, i::sh, j::sw]` (cut to out_h × out_w) holds that offset's element of
every window at once.  So a pool is kh·kw whole-array steps and never unfolds
the windows into a copy of kh·kw times the input.  (With kernel == stride these are
the views x.reshape(N, C, out_h, kh, out_w, kw)[:, :, :, i, :, j].)  The four
*_forward/*_backward functions are the NumPy code; on CuPy arrays their CUDA twins run.
"""
import numpy as np

from ..autograd import Function
from ..backend import cuda_twin
from .pairs import conv_output_size, pair, window_taps


def _taps(a, kernel_size, stride, out_hw):
    """For each window offset (i, j), row-major: that element of every window, as a
    strided view (N, C, out_h, out_w) of a."""
    return [a[:, :, rows, columns] for rows, columns in window_taps(kernel_size, stride, (1, 1), out_hw)]


def _window_sum(a, kernel_size, stride, out_hw):
    taps = _taps(a, kernel_size, stride, out_hw)
    out = taps[0].copy()
    for tap in taps[1:]:
        out += tap
    return out


def _padded(x, padding, fill):
    (ph, pw), (n, c, h, w) = padding, x.shape
    if not (ph or pw):
        return x
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _zeros_padded(x_shape, padding, dtype):
    (ph, pw), (n, c, h, w) = padding, x_shape
    return np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dtype)


def _cropped(dx_padded, x_shape, padding):
    (ph, pw), (h, w) = padding, x_shape[2:]
    return dx_padded[:, :, ph:ph + h, pw:pw + w]


@cuda_twin
def max_pool2d_forward(x, kernel_size, stride, padding, need_argmax=True):
    """-> (out, argmax): the window maxima and the offset i·kw + j of each one
    (argmax None when not needed: no gradient will be routed).

    Ties go to the first maximum in row-major order; NaN wins its window and the
    last NaN is its argmax, as in PyTorch.
    """
    out_hw = conv_output_size(x.shape[2:], kernel_size, stride, padding)
    taps = _taps(_padded(x, padding, -np.inf), kernel_size, stride, out_hw)
    out = taps[0].copy()
    for tap in taps[1:]:
        np.maximum(out, tap, out=out)          # NaN propagates
    if not need_argmax:
        return out, None
    # The first maximum's offset = how many leading offsets missed the maximum:
    # compare-and-count passes, no masked copies.
    argmax = np.zeros(out.shape, dtype=np.int8 if len(taps) <= 127 else np.int32)
    missed = np.ones(out.shape, dtype=bool)
    for tap in taps[:-1]:
        missed &= tap != out
        argmax += missed
    if np.isnan(out).any():                    # rare: a window with NaN names its last NaN
        for k, tap in enumerate(taps):
            np.copyto(argmax, k, where=np.isnan(tap))
    return out, argmax


@cuda_twin
def max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding):
    """dx: each window's gradient added to the element its argmax names."""
    dx = _zeros_padded(x_shape, padding, grad_out.dtype)
    overlapping = stride[0] < kernel_size[0] or stride[1] < kernel_size[1]
    # g·[argmax = k] is one fast multiply per offset; select (`where`, ~15× slower) only
    # when g holds inf/NaN, which the multiply would leak into other pixels as NaN·0.
    finite = bool(np.isfinite(grad_out).all())
    for k, view in enumerate(_taps(dx, kernel_size, stride, grad_out.shape[2:])):
        hit = argmax == k
        if not finite:
            view += np.where(hit, grad_out, 0)
        elif overlapping:
            view += grad_out * hit
        else:   # each pixel is in one window at most: write straight into dx
            np.multiply(grad_out, hit, out=view)
    return _cropped(dx, x_shape, padding)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, dtype):
    """kh·kw, or per window the number of real (non-padding) pixels it covers."""
    if count_include_pad or padding == (0, 0):
        return kernel_size[0] * kernel_size[1]
    ones = _padded(np.ones((1, 1) + tuple(x_shape[2:]), dtype=dtype), padding, 0)
    return _window_sum(ones, kernel_size, stride, conv_output_size(x_shape[2:], kernel_size, stride, padding))


@cuda_twin
def avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad):
    """out = Σ_window x / divisor (zeros in the padding)."""
    out_hw = conv_output_size(x.shape[2:], kernel_size, stride, padding)
    out = _window_sum(_padded(x, padding, 0), kernel_size, stride, out_hw)
    out /= _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, x.dtype)
    return out


@cuda_twin
def avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding, count_include_pad):
    """dx: each window's gradient / divisor added to every pixel of the window."""
    share = grad_out / _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, grad_out.dtype)
    dx = _zeros_padded(x_shape, padding, grad_out.dtype)
    for view in _taps(dx, kernel_size, stride, grad_out.shape[2:]):
        view += share
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
    """F.max_pool2d: (N, C, H, W) -> (N, C, out_h, out_w), each window's maximum; stride defaults to
    kernel_size, padding is −∞.  dx = g routed to each window's argmax (the first, on ties)."""
    kernel_size, stride, padding = _pool_args("max_pool2d", x, kernel_size, stride, padding)
    return MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """F.avg_pool2d: (N, C, H, W) -> (N, C, out_h, out_w), each window's mean; padding is 0,
    counted in the mean unless count_include_pad=False.  dx = g / divisor spread over the window."""
    kernel_size, stride, padding = _pool_args("avg_pool2d", x, kernel_size, stride, padding)
    return AvgPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                           count_include_pad=bool(count_include_pad))
