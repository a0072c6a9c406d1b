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

At the bottom, the arrays-in, arrays-out steps of the pools no core Function defines (dilation,
ceil_mode, return_indices, divisor_override, adaptive max pooling), which ops/pool.py's
MaxPool2dWithIndices, AdaptiveMaxPool2d and ClippedAvgPool2d run in both engine modes; written
for any array module (no CUDA twin: NumPy or CuPy whole-array steps).
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


# ---------------------------------------------------------------------------------------------
# torch's other pooling parameters: dilation, ceil_mode, return_indices, divisor_override and
# adaptive max pooling.  No core Function defines them, so ops/pool.py's MaxPool2dWithIndices,
# AdaptiveMaxPool2d and ClippedAvgPool2d call these in both engine modes.  Window (oy, ox) starts
# at row oy·sh − ph and column ox·sw − pw of x and takes every dh-th row and dw-th column,
# kh × kw of them; with ceil_mode the last window may run past the padding, and the pixels
# there are skipped (torch clips the window).

def _extended(x, padding, kernel_size, stride, dilation, out_hw, fill):
    """x (N, C, H, W) inside a border of `fill`: `padding` rows/columns on the top/left and as
    many on the bottom/right as the last window reaches (at least the padding's)."""
    xp = get_array_module(x)
    (n, c, h, w), (ph, pw) = x.shape, padding
    rows = max(h + 2 * ph, (out_hw[0] - 1) * stride[0] + (kernel_size[0] - 1) * dilation[0] + 1)
    columns = max(w + 2 * pw, (out_hw[1] - 1) * stride[1] + (kernel_size[1] - 1) * dilation[1] + 1)
    out = xp.full((n, c, rows, columns), fill, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _first_real(starts, dilation, xp):
    """The first row (column) at or after each window start that is not padding: torch's
    `while (ih0 < 0) ih0 += dilation`."""
    behind = xp.maximum(-starts, 0)
    return starts + (behind + dilation - 1) // dilation * dilation


def max_pool2d_with_indices_forward(x, kernel_size, stride, padding, dilation, out_hw):
    """x (N, C, H, W) -> (values, indices, every_window_real), values and indices (N, C, out_h, out_w).

    values: each window's maximum over its real (non-padding) pixels; indices (int64): where it
    is in its H × W plane, row · W + column.  torch's scan, row-major over the window: a pixel
    wins when it is greater than the best so far or is NaN, so ties keep the first maximum and
    NaN the last NaN; a window of −inf (the integer minimum) keeps its first real pixel.
    every_window_real: False when some window holds only padding (there torch gives −inf and
    an index that is not in the window).
    """
    xp = get_array_module(x)
    (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = x.shape, kernel_size, stride, padding, dilation
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    row_starts = xp.arange(out_hw[0], dtype=np.int64) * sh - ph
    column_starts = xp.arange(out_hw[1], dtype=np.int64) * sw - pw
    first_row, first_column = _first_real(row_starts, dh, xp), _first_real(column_starts, dw, xp)
    values = xp.full((n, c) + tuple(out_hw), lowest, dtype=x.dtype)
    indices = xp.empty(values.shape, dtype=np.int64)
    indices[...] = first_row[:, None] * w + first_column[None, :]
    taps = window_taps(kernel_size, stride, dilation, out_hw)
    extended = _extended(x, padding, kernel_size, stride, dilation, out_hw, lowest)
    for k, (rows, columns) in enumerate(taps):
        tap = extended[:, :, rows, columns]
        better = tap > values          # the padding (lowest) never passes this
        if x.dtype.kind == "f":
            better |= xp.isnan(tap)
        i, j = divmod(k, kw)
        xp.copyto(values, tap, where=better)
        xp.copyto(indices, (row_starts + i * dh)[:, None] * w + (column_starts + j * dw)[None, :], where=better)
    rows_real = first_row < xp.minimum(row_starts + (kh - 1) * dh + 1, h)
    columns_real = first_column < xp.minimum(column_starts + (kw - 1) * dw + 1, w)
    return values, indices, bool(rows_real.all()) and bool(columns_real.all())


def scatter_to_indices(grad_out, indices, x_shape):
    """dx (N, C, H, W): dx[n, c] at plane position indices[n, c, ·] += grad_out[n, c, ·], the
    gradients of windows that share a winner summed (in float64, then rounded once)."""
    xp = get_array_module(grad_out)
    n, c, h, w = x_shape
    planes = xp.arange(n * c, dtype=np.int64)[:, None] * (h * w)
    positions = (indices.reshape(n * c, indices[0, 0].size if n * c else 0) + planes).ravel()
    dx = xp.bincount(positions, weights=grad_out.reshape(-1).astype(np.float64), minlength=n * c * h * w)
    return dx.astype(grad_out.dtype, copy=False).reshape(x_shape)


def _first_max_last_nan(a, axis):
    """Index along `axis` of torch's scan winner: the last NaN if there is one, else the first maximum."""
    xp = get_array_module(a)
    index = a.argmax(axis=axis)
    if a.dtype.kind == "f":
        nan = xp.isnan(a)
        last_nan = a.shape[axis] - 1 - xp.flip(nan, axis=axis).argmax(axis=axis)
        index = xp.where(nan.any(axis=axis), last_nan, index)
    return index


def adaptive_max_pool2d_forward(x, output_size):
    """x (N, C, H, W) -> (values, indices), (N, C, out_h, out_w): the maximum over window (i, j),
    rows [⌊i·H/out_h⌋, ⌈(i+1)·H/out_h⌉) and columns alike, and its plane position row · W + column.

    Separably: each row's winner within each column window, then the winning row of each row
    window.  The scan's rule (last NaN, else first maximum in row-major order) survives the
    split: the first maximum lies in the first row holding the maximum, the last NaN in the
    last row holding a NaN.
    """
    xp = get_array_module(x)
    (n, c, h, w), (out_h, out_w) = x.shape, output_size
    row_best = xp.empty((n, c, h, out_w), dtype=x.dtype)
    row_winner = xp.empty((n, c, h, out_w), dtype=np.int64)
    for j, (start, end) in enumerate(_windows(w, out_w)):
        window = x[:, :, :, start:end]
        index = _first_max_last_nan(window, axis=3)
        row_best[:, :, :, j] = xp.take_along_axis(window, index[..., None], axis=3)[..., 0]
        row_winner[:, :, :, j] = index + start
    values = xp.empty((n, c, out_h, out_w), dtype=x.dtype)
    indices = xp.empty((n, c, out_h, out_w), dtype=np.int64)
    for i, (start, end) in enumerate(_windows(h, out_h)):
        index = _first_max_last_nan(row_best[:, :, start:end, :], axis=2)[:, :, None, :]
        values[:, :, i, :] = xp.take_along_axis(row_best[:, :, start:end, :], index, axis=2)[:, :, 0, :]
        column = xp.take_along_axis(row_winner[:, :, start:end, :], index, axis=2)[:, :, 0, :]
        indices[:, :, i, :] = (index[:, :, 0, :] + start) * w + column
    return values, indices


def avg_pool2d_divisors(hw, kernel_size, stride, padding, out_hw, count_include_pad, xp=np):
    """(out_h, out_w) int64: torch's divisor per window.  A window's rows [s, s + kh), s = oy·sh − ph,
    are cut to the padded input, [s, min(s + kh, H + ph)), and counted so with count_include_pad
    (ceil_mode's last windows count fewer than kh); without it, to the real rows [max(s, 0),
    min(s + kh, H)).  Columns alike; the divisor is rows · columns."""
    lengths = []
    for size, k, s, p, out in zip(hw, kernel_size, stride, padding, out_hw):
        starts = xp.arange(out, dtype=np.int64) * s - p
        ends = xp.minimum(starts + k, size + p)
        if not count_include_pad:
            starts, ends = xp.maximum(starts, 0), xp.minimum(ends, size)
        lengths.append(xp.maximum(ends - starts, 1))     # (a window always holds a real pixel)
    return lengths[0][:, None] * lengths[1][None, :]


def clipped_avg_pool2d_forward(x, kernel_size, stride, padding, out_hw, divisor):
    """out = (Σ of the window's real pixels) / divisor, divisor an int or (out_h, out_w) array.
    Integers divide with truncation toward zero, as torch's C++ division."""
    xp = get_array_module(x)
    extended = _extended(x, padding, kernel_size, stride, (1, 1), out_hw, 0)
    taps = _taps(extended, kernel_size, stride, out_hw)
    sums = taps[0].copy()
    for tap in taps[1:]:
        sums += tap
    if x.dtype.kind in "iu":
        divisor = xp.asarray(divisor, dtype=sums.dtype)
        quotient = xp.abs(sums) // xp.abs(divisor)
        return xp.where((sums < 0) != (divisor < 0), -quotient, quotient).astype(x.dtype, copy=False)
    return sums / xp.asarray(divisor, dtype=x.dtype)


def clipped_avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding, divisor):
    """dx: each window's g / divisor added to every real pixel of the window."""
    xp = get_array_module(grad_out)
    (ph, pw), (h, w) = padding, x_shape[2:]
    share = grad_out / xp.asarray(divisor, dtype=grad_out.dtype)
    holder = xp.zeros(x_shape, dtype=grad_out.dtype)
    dx = _extended(holder, padding, kernel_size, stride, (1, 1), grad_out.shape[2:], 0)
    for view in _taps(dx, kernel_size, stride, grad_out.shape[2:]):
        view += share
    return dx[:, :, ph:ph + h, pw:pw + w]
