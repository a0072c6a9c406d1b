"""The fast Unfold and Fold, which replace core/fold.py's while minitorch_cnn.backends.fast is
enabled.  Their definition: core/fold.py (im2col and col2im in torch's layout); tests/
test_core_toolbox_fast.py holds everything below equal to it.

    unfold   x (N, C, H, W) -> blocks (N, C·kh·kw, L),
             blocks[n, (c, i, j), (oy, ox)] = x_pad[n, c, oy·sh + i·dh, ox·sw + j·dw]
    fold     blocks -> y (N, C, H, W), the same entries added back

Departures from core.fold, for speed (timed by `OPENBLAS_NUM_THREADS=1 python tools/time_tricks.py
unfold_fold`, float32, unfold of (64, 6, 28, 28) with a 5×5 kernel and its fold back, on a 2-core
AMD EPYC):
  * the core goes through im2col's (N·L, C·kh·kw) rows and transposes them into torch's layout;
    here blocks are made and read in torch's layout directly.  unfold is one copy of a strided
    (N, C, kh, kw, out_h, out_w) view of the padded x: 16.8× faster than the core (Fold's
    backward, the same step, 17.3×).  fold adds each tap's (N, C, out_h, out_w) block into the
    padded y, reading runs of out_w values: 5.7× faster than the core's copy to im2col's rows
    and its col2im (Unfold's backward likewise).  Per pixel the additions are the core's, in the
    same (i, j) order, so float16 and bool give the core's (and torch's) bits;
  * on CuPy arrays of float32/float64 the CUDA kernels of kernels/im2col.cu run (fast/conv.py's
    @cuda_twin im2col and col2im), with the batch folded into the channels: fold's blocks are
    then read in place by the col2im kernel, unfold's columns reordered by one copy.  Other
    dtypes on CuPy (float16, bool) run the core's code;
  * an empty input returns an empty (or zero) output without a copy loop or a kernel launch.
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import conv as core_conv
from ..core import fold as core_fold
from ..core.autograd import Function
from ..ops.pairs import conv_output_size, window_taps
from . import conv as fast_conv   # read at call time, so the kernel tests' swaps reach it

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def on_kernels(array):
    """Whether `array` goes to the CUDA kernels: a float32/float64 CuPy array.  The tests
    flip it to run the kernels' code path through the host emulation."""
    return get_array_module(array) is not np and array.dtype in KERNEL_DTYPES


def unfold_blocks(x, kernel_size, stride, padding, dilation):
    """x (N, C, H, W) -> blocks (N, C·kh·kw, out_h·out_w), a new array in C order."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    if x.size == 0:
        return get_array_module(x).zeros((n, c * kh * kw, out_h * out_w), dtype=x.dtype)
    if on_kernels(x):   # columns (i, j, n, c), pixels fastest in memory: one reordering copy
        col_t = fast_conv.im2col(x.reshape(1, n * c, h, w), kernel_size, stride, padding, dilation).T
        blocks = col_t.reshape(kh * kw, n, c, out_h * out_w).transpose(1, 2, 0, 3)
        return get_array_module(x).ascontiguousarray(blocks).reshape(n, c * kh * kw, out_h * out_w)
    if get_array_module(x) is not np:
        return core_fold._blocks(core_conv.im2col(x, kernel_size, stride, padding, dilation), n, out_h * out_w)
    x_pad = x
    if ph or pw:
        x_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
        x_pad[:, :, ph:ph + h, pw:pw + w] = x
    s_n, s_c, s_h, s_w = x_pad.strides
    windows = np.lib.stride_tricks.as_strided(      # (N, C, kh, kw, out_h, out_w), no copy
        x_pad, (n, c, kh, kw, out_h, out_w), (s_n, s_c, s_h * dh, s_w * dw, s_h * sh, s_w * sw))
    return windows.copy().reshape(n, c * kh * kw, out_h * out_w)   # the one copy (never x's memory)


def fold_blocks(blocks, image_size, kernel_size, stride, padding, dilation):
    """blocks (N, C·kh·kw, L) -> y (N, C) + image_size, overlapping entries added."""
    (n, width, windows), (kh, kw), (ph, pw) = blocks.shape, kernel_size, padding
    (h, w), c = image_size, width // (kh * kw)
    xp = get_array_module(blocks)
    if blocks.size == 0:
        return xp.zeros((n, c, h, w), dtype=blocks.dtype)
    if on_kernels(blocks):   # the batch as channels: (L, kh·kw, N·C) is a view of blocks, read in place
        col = blocks.reshape(n * c, kh * kw, windows).transpose(2, 1, 0)
        return fast_conv.col2im(col, (1, n * c, h, w), kernel_size, stride, padding, dilation).reshape(n, c, h, w)
    if xp is not np:
        return core_conv.col2im(core_fold._col(blocks), (n, c, h, w), kernel_size, stride, padding, dilation)
    out_hw = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    taps = blocks.reshape((n, c, kh * kw) + out_hw)
    y_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=blocks.dtype)
    for k, (rows, columns) in enumerate(window_taps(kernel_size, stride, dilation, out_hw)):
        # within one tap no two windows share a pixel, so a plain += is the sum
        y_pad[:, :, rows, columns] += taps[:, :, k]
    return y_pad[:, :, ph:ph + h, pw:pw + w]


@replaces(core_fold.Unfold)
class Unfold(Function):
    """x (N, C, H, W) -> blocks (N, C·kh·kw, L), every window as one column;  dx = fold(G)."""
    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        ctx.params = x.shape[2:], kernel_size, stride, padding, dilation
        return unfold_blocks(x, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_out):
        image_size, kernel_size, stride, padding, dilation = ctx.params
        return (fold_blocks(grad_out, image_size, kernel_size, stride, padding, dilation),)


@replaces(core_fold.Fold)
class Fold(Function):
    """blocks (N, C·kh·kw, L) -> y (N, C, H, W) with (H, W) = image_size, the windows added back;
    dblocks = unfold(G)."""
    @staticmethod
    def forward(ctx, blocks, image_size, kernel_size, dilation, padding, stride):
        ctx.params = kernel_size, stride, padding, dilation
        return fold_blocks(blocks, tuple(image_size), kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_out):
        kernel_size, stride, padding, dilation = ctx.params
        return (unfold_blocks(grad_out, kernel_size, stride, padding, dilation),)
