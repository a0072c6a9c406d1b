"""The fast MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, which replace core/pool.py's while
minitorch_cnn.backends.fast is enabled.  Their definition: core/pool.py and
minitorch_cnn/reference.py's max_pool2d, max_pool2d_backward, avg_pool2d and
avg_pool2d_backward (loops, one window at a time); tests/test_core_pool_norm.py and
tests/test_reference.py hold everything below equal to them.

Like the core, a pool walks the kh·kw offsets of the window: for offset (i, j), the strided
view `x[:, :, i::sh, j::sw]` (cut to out_h × out_w) holds that offset's element of every
window at once.  (With kernel == stride these are the views
x.reshape(N, C, out_h, kh, out_w, kw)[:, :, :, i, :, j].)  The four *_forward/*_backward
functions are the NumPy code; on CuPy arrays their CUDA twins (kernels/pool.cu) run.  Each
trick's comment says what it buys, timed by tools/time_tricks.py on LeNet-5-sized float32
inputs.

Departures from core.pool:
  MaxPool2d
  * the maxima are in-place np.maximum steps, and the argmax (the winner's offset i·kw + j,
    int8 for most kernels) is found by counting the leading offsets that missed the maximum;
    NaN windows are fixed up afterwards (only when there is a NaN);
  * inference (no gradient needed) skips the argmax passes;
  * a window of −inf beside the padding gets its first real pixel as argmax afterwards;
  * the backward multiplies g by the argmax mask (select only when g has inf/NaN) and, when
    windows do not overlap, writes straight into dx;
  * integer inputs pad with their dtype's minimum; an empty batch returns without a launch;
  * CUDA twins max_pool2d_forward / max_pool2d_backward (@cuda_twin).
  AvgPool2d
  * when the windows tile the input, the backward copies each share in (no zero-fill, no +=);
  * float16 runs in float32; int64 takes torch's integer mean (truncation toward zero);
    an empty batch returns without a launch;
  * CUDA twins avg_pool2d_forward / avg_pool2d_backward (@cuda_twin).
  AdaptiveAvgPool2d
  * when the output divides the input it is a plain average pool (kernel = stride = H / out_h)
    and takes its CUDA twin; otherwise the window sums run separably, rows first, then columns:
    out_h + out_w whole-array steps instead of out_h · out_w;
  * float16 runs in float32; an empty input or output returns zeros; the backward raises
    torch's error for a gradient with no channels, height or width.
"""
import numpy as np

from ..backend import cuda_twin, get_array_module
from ..backends.fast import replaces
from ..core import pool as core_pool
from ..core.autograd import Function
from ..ops.pairs import compute_dtype, conv_output_size, window_taps


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
    out = get_array_module(x).full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
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
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min    # integers pad with their minimum
    taps = _taps(_padded(x, padding, lowest), kernel_size, stride, out_hw)
    # kh·kw in-place maxima over strided views: 22× faster than .max() over as_strided
    # windows (LeNet-5's pool, (64, 6, 28, 28), 2×2, float32; tools/time_tricks.py)
    out = taps[0].copy()
    for tap in taps[1:]:
        np.maximum(out, tap, out=out)          # NaN propagates
    if not need_argmax:
        return out, None
    # The first maximum's offset = how many leading offsets missed the maximum:
    # compare-and-count passes, no masked copies; 10× faster than argmax over the stacked taps.
    argmax = np.zeros(out.shape, dtype=np.int8 if len(taps) <= 127 else np.int32)
    missed = np.ones(out.shape, dtype=bool)
    for tap in taps[:-1]:
        missed &= tap != out
        argmax += missed
    # (NumPy arrays only, like all of this function: a CuPy array goes to the kernel, so this
    # host read is never a GPU synchronisation)
    if np.isnan(out).any():                    # rare: a window with NaN names its last NaN
        for k, tap in enumerate(taps):
            np.copyto(argmax, k, where=np.isnan(tap))
    return out, argmax


def _tiles(x_shape, kernel_size, stride, padding):
    """Whether the windows cover every pixel exactly once (kernel = stride, no padding, sizes
    divisible)."""
    return (kernel_size == stride and padding == (0, 0)
            and x_shape[2] % kernel_size[0] == 0 and x_shape[3] % kernel_size[1] == 0)


@cuda_twin
def max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding):
    """dx: each window's gradient added to the element its argmax names."""
    dx = _zeros_padded(x_shape, padding, grad_out.dtype)
    overlapping = stride[0] < kernel_size[0] or stride[1] < kernel_size[1]
    # g·[argmax = k] is one fast multiply per offset; select (`where`, 4.7× slower per offset
    # on LeNet-5's pool) only when g holds inf/NaN, which the multiply would leak into other
    # pixels as NaN·0.  A host read, free on NumPy; CuPy arrays never get here (the kernel selects
    # per element), so it costs the GPU no synchronisation.
    finite = bool(np.isfinite(grad_out).all())
    for k, view in enumerate(_taps(dx, kernel_size, stride, grad_out.shape[2:])):
        hit = argmax == k
        if not finite:
            view += np.where(hit, grad_out, 0)
        elif overlapping:
            view += grad_out * hit
        else:   # each pixel is in one window at most: write straight into dx (1.7× faster than +=)
            np.multiply(grad_out, hit, out=view)
    return _cropped(dx, x_shape, padding)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, dtype, xp=np):
    """kh·kw, or per window the number of real (non-padding) pixels it covers."""
    if count_include_pad or padding == (0, 0):
        return kernel_size[0] * kernel_size[1]
    ones = _padded(xp.ones((1, 1) + tuple(x_shape[2:]), dtype=dtype), padding, 0)
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
    if _tiles(x_shape, kernel_size, stride, padding):
        # Every pixel is in exactly one window: copy each offset's share in, no zero-fill and
        # no +=.  LeNet-5's pool1, (64, 6, 28, 28): 2.0× faster (tools/time_tricks.py).
        dx = np.empty(x_shape, dtype=grad_out.dtype)
        for view in _taps(dx, kernel_size, stride, grad_out.shape[2:]):
            np.copyto(view, share)
        return dx
    dx = _zeros_padded(x_shape, padding, grad_out.dtype)
    for view in _taps(dx, kernel_size, stride, grad_out.shape[2:]):
        view += share
    return _cropped(dx, x_shape, padding)


def _first_real_offset(x_shape, kernel_size, stride, padding, out_hw, xp):
    """Per window (out_h, out_w): the offset i·kw + j of its first non-padding pixel."""
    (_, kw), (sh, sw), (ph, pw), (out_h, out_w) = kernel_size, stride, padding, out_hw
    first_row = xp.maximum(ph - sh * xp.arange(out_h), 0)
    first_column = xp.maximum(pw - sw * xp.arange(out_w), 0)
    return first_row[:, None] * kw + first_column[None, :]


@replaces(core_pool.MaxPool2d)
class MaxPool2d(Function):
    """out[n, c, y, x] = max over the window at (y, x);  dx = g routed to each window's argmax."""
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding):
        xp = get_array_module(x)
        ctx.params = x.shape, kernel_size, stride, padding
        out_hw = conv_output_size(x.shape[2:], kernel_size, stride, padding)
        if x.size == 0:   # an empty batch: nothing to launch
            ctx.save_for_backward(None)
            return xp.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
        # Inference (no input needs a gradient) skips the argmax passes: the forward runs 2.1× faster.
        out, argmax = max_pool2d_forward(x, kernel_size, stride, padding,
                                         need_argmax=ctx.needs_input_grad[0])
        if argmax is not None and padding != (0, 0):
            # A window of −inf beside the padding: torch never looks at the padding, so its
            # argmax (and the gradient) is the window's first real pixel, not a padding cell.
            first = _first_real_offset(x.shape, kernel_size, stride, padding, out_hw, xp)
            argmax = xp.where(out == -np.inf, first, argmax).astype(argmax.dtype, copy=False)
        ctx.save_for_backward(argmax)
        return out

    @staticmethod
    def backward(ctx, g):
        if g.size == 0:
            return (get_array_module(g).zeros(ctx.params[0], dtype=g.dtype),)
        return (max_pool2d_backward(g, ctx.saved[0], *ctx.params),)


@replaces(core_pool.AvgPool2d)
class AvgPool2d(Function):
    """out = window mean;  dx = g / divisor spread over each window.

    float16 runs in float32 (one rounding, as torch); int64 takes torch's integer mean,
    the window sum divided with truncation toward zero.
    """
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, count_include_pad):
        xp = get_array_module(x)
        ctx.params = x.shape, kernel_size, stride, padding, count_include_pad
        out_hw = conv_output_size(x.shape[2:], kernel_size, stride, padding)
        if x.size == 0:
            return xp.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
        if x.dtype.kind in "iu":
            sums = _window_sum(_padded(x, padding, 0), kernel_size, stride, out_hw)
            divisor = _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, x.dtype, xp)
            quotient = xp.abs(sums) // divisor
            return xp.where(sums < 0, -quotient, quotient).astype(x.dtype, copy=False)
        work = compute_dtype(x.dtype)
        out = avg_pool2d_forward(x.astype(work, copy=False), kernel_size, stride, padding, count_include_pad)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        if g.size == 0:
            return (get_array_module(g).zeros(ctx.params[0], dtype=g.dtype),)
        dx = avg_pool2d_backward(g.astype(compute_dtype(g.dtype), copy=False), *ctx.params)
        return (dx.astype(g.dtype, copy=False),)


def _windows(size, out):
    """Adaptive pooling's windows along one axis: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


@replaces(core_pool.AdaptiveAvgPool2d)
class AdaptiveAvgPool2d(Function):
    """out[n, c, i, j] = mean of x[n, c, rows_i, columns_j];  dx = g / window size added to
    every pixel of each window (windows overlap when the output does not divide the input).

    When the output divides the input, the windows are a plain average pool (kernel = stride
    = H / out_h) and take its CUDA twin.  Otherwise the rectangle sums run separably, rows
    first, then columns: out_h + out_w whole-array steps.  float16 runs in float32.
    """
    @staticmethod
    def forward(ctx, x, output_size, unbatched=False):
        xp = get_array_module(x)
        (n, c, h, w), (out_h, out_w) = x.shape, output_size
        ctx.params = x.shape, output_size, x.dtype
        ctx.unbatched = unbatched
        if x.size == 0 or out_h * out_w == 0:
            return xp.zeros((n, c, out_h, out_w), dtype=x.dtype)
        x = x.astype(compute_dtype(x.dtype), copy=False)
        if _is_plain_pool(x.shape, output_size):
            kernel = (h // out_h, w // out_w)
            return avg_pool2d_forward(x, kernel, kernel, (0, 0), True).astype(ctx.params[2], copy=False)
        rows, columns = _windows(h, out_h), _windows(w, out_w)
        row_sums = xp.empty((n, c, out_h, w), dtype=x.dtype)
        for i, (start, end) in enumerate(rows):
            xp.sum(x[:, :, start:end, :], axis=2, out=row_sums[:, :, i, :])
        out = xp.empty((n, c, out_h, out_w), dtype=x.dtype)
        for j, (start, end) in enumerate(columns):
            xp.sum(row_sums[:, :, :, start:end], axis=3, out=out[:, :, :, j])
        out /= _window_counts(rows, columns, x.dtype, xp)
        return out.astype(ctx.params[2], copy=False)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        (n, c, h, w), (out_h, out_w), dtype = ctx.params
        if (out_h, out_w) != (1, 1) and (0 in (out_h, out_w) or (c == 0 and not ctx.unbatched)):
            raise RuntimeError(f"adaptive_avg_pool2d (AdaptiveAvgPool2d) backward: expects a gradient with non-zero "
                               f"channels, height and width, got shape {g.shape} (as torch)")
        if n * c == 0:
            return (xp.zeros((n, c, h, w), dtype=dtype),)
        g = g.astype(compute_dtype(dtype), copy=False)
        if _is_plain_pool((n, c, h, w), (out_h, out_w)):
            kernel = (h // out_h, w // out_w)
            dx = avg_pool2d_backward(g, (n, c, h, w), kernel, kernel, (0, 0), True)
            return (dx.astype(dtype, copy=False),)
        rows, columns = _windows(h, out_h), _windows(w, out_w)
        share = g / _window_counts(rows, columns, g.dtype, xp)
        spread_columns = xp.zeros((n, c, out_h, w), dtype=g.dtype)
        for j, (start, end) in enumerate(columns):
            spread_columns[:, :, :, start:end] += share[:, :, :, j:j + 1]
        dx = xp.zeros((n, c, h, w), dtype=g.dtype)
        for i, (start, end) in enumerate(rows):
            dx[:, :, start:end, :] += spread_columns[:, :, i:i + 1, :]
        return (dx.astype(dtype, copy=False),)


def _is_plain_pool(x_shape, output_size):
    (n, c, h, w), (out_h, out_w) = x_shape, output_size
    return n * c > 0 and out_h > 0 and out_w > 0 and h % out_h == 0 and w % out_w == 0


def _window_counts(rows, columns, dtype, xp):
    """(out_h, out_w): the number of pixels in each window."""
    heights = xp.asarray([end - start for start, end in rows], dtype=dtype)
    widths = xp.asarray([end - start for start, end in columns], dtype=dtype)
    return heights[:, None] * widths[None, :]
