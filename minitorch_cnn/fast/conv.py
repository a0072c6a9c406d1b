"""The fast Conv2d, which replaces core/conv.py's Conv2d while minitorch_cnn.backends.fast
is enabled.  Its definition: core/conv.py (and minitorch_cnn/reference.py's loops);
tests/test_core_conv.py and tests/test_reference.py hold everything below equal to them.

It computes the same numbers as im2col + one matrix product per group:

    x (N, C, H, W) ──im2col──► col (N·out_h·out_w, kh·kw·C)
    out = col @ Wᵀ             W reshaped to (C_out, kh·kw·C)

so the convolution is a single GEMM whose M dimension is the whole batch of
output pixels.  col2im is im2col's adjoint: it adds each row of a column
gradient back onto the pixels that row was read from.

Departures from core.conv.Conv2d, for speed or for torch's edge cases (each trick's comment
says what it buys, timed by tools/time_tricks.py on LeNet-5-sized float32 inputs):
  * col's columns are (i, j, c), channels last, where the core's are (c, i, j);
    W is reordered to match, so the product is the same;
  * im2col stores col in one of two memory layouts, picked by shape;
  * without a backward (inference) the batch goes through in slices of INFERENCE_COL_BYTES;
  * the GEMMs are ordered so that every reordering copy moves long contiguous runs, and
    db is a matrix-vector product;
  * on CuPy arrays im2col and col2im run the CUDA kernels of kernels/im2col.cu (@cuda_twin);
  * float16 runs in float32 and rounds the results once (as torch's CPU kernels do);
  * an empty batch, or zero input channels, returns torch's empty result without a GEMM.
"""
import numpy as np

from ..backend import cuda_twin, get_array_module
from ..backends.fast import replaces
from ..core import conv as core_conv
from ..core.autograd import Function
from ..ops.pairs import compute_dtype, conv_output_size, window_taps


@cuda_twin
def im2col(x, kernel_size, stride, padding, dilation):
    """x (N, C, H, W) -> col (N·out_h·out_w, kh·kw·C), in whichever memory order copies faster.

    Row (n, oy, ox), column (i, j, c) holds x[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw]
    (0 outside the image).
    """
    (_, kw), (sw, dw), c = kernel_size, (stride[1], dilation[1]), x.shape[1]
    out_w = conv_output_size(x.shape[2:], kernel_size, stride, padding, dilation)[1]
    # A copy runs fast only over long contiguous runs.  Channels last, a receptive field's
    # row is one run of kw·C values; channels first, a kernel tap's row is a run of out_w.
    # Picking the longer run buys: LeNet-5's conv1 (C=1) 4.3×, conv2 (C=6) 1.9× faster than
    # the other layout, at batch 64 (tools/time_tricks.py, float32, on a 2-core AMD EPYC).
    if (out_w if sw == 1 else 1) > (kw * c if dw == 1 else c):
        return im2col_tap_major(x, kernel_size, stride, padding, dilation)
    return im2col_channels_last(x, kernel_size, stride, padding, dilation)


def im2col_tap_major(x, kernel_size, stride, padding, dilation):
    """im2col's layout for few channels (the first layer): col stored transposed,
    (kh·kw·C, rows) in memory, one copy per kernel tap.  The GEMMs read it as it is."""
    n, c, h, w = x.shape
    (kh, kw), (ph, pw) = kernel_size, padding
    out_h, out_w = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    x_pad = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    x_pad[:, :, ph:ph + h, pw:pw + w] = x.transpose(1, 0, 2, 3)
    col_t = np.empty((kh * kw, c, n, out_h, out_w), dtype=x.dtype)
    for k, (rows, columns) in enumerate(window_taps(kernel_size, stride, dilation, (out_h, out_w))):
        col_t[k] = x_pad[:, :, rows, columns]
    return col_t.reshape(kh * kw * c, n * out_h * out_w).T


def im2col_channels_last(x, kernel_size, stride, padding, dilation):
    """im2col's layout for many channels: x padded channels last once, so a window row
    (kw taps × C channels) is one run; col (rows, kh·kw·C) in C order."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    x_nhwc = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    x_nhwc[:, ph:ph + h, pw:pw + w, :] = x.transpose(0, 2, 3, 1)
    s_n, s_h, s_w, s_c = x_nhwc.strides
    windows = np.lib.stride_tricks.as_strided(      # (N, out_h, out_w, kh, kw, C), no copy
        x_nhwc, (n, out_h, out_w, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    return windows.reshape(n * out_h * out_w, kh * kw * c)   # the single copy im2col makes


@cuda_twin
def col2im(col, x_shape, kernel_size, stride, padding, dilation):
    """col (N·out_h·out_w, kh·kw·C), or the same as (N·out_h·out_w, kh·kw, C) or
    (N·out_h·out_w, kh·kw, groups, C/groups), in any memory order -> dx (N, C, H, W): each
    entry added back where im2col read it.  The layout Conv2d.backward passes,
    (kh·kw, rows, C) in memory, reshapes without a copy."""
    (n, c, h, w), (ph, pw) = x_shape, padding
    out_hw = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    taps = window_taps(kernel_size, stride, dilation, out_hw)
    col = col.reshape((n,) + out_hw + (len(taps), c))
    dx = np.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=col.dtype)
    # kh·kw strided adds: 2.3× faster than one np.add.at scatter (conv2's dx, batch 64)
    for k, (rows, columns) in enumerate(taps):
        dx[:, rows, columns, :] += col[:, :, :, k, :]
    # (N, H, W, C) -> (N, C, H, W), in NCHW order like every other activation gradient.
    return np.ascontiguousarray(dx[:, ph:ph + h, pw:pw + w, :].transpose(0, 3, 1, 2))


def _group_columns(col, g, groups, taps):
    """The columns of group g: (rows, kh·kw·C/groups), a copy (col interleaves groups per tap)."""
    if groups == 1:
        return col
    per_group = col.shape[1] // (taps * groups)
    return col.reshape(col.shape[0], taps, groups, per_group)[:, :, g, :].reshape(col.shape[0], taps * per_group)


def _convolve(x, w_mat, bias, kernel_size, stride, padding, dilation, groups, out):
    """out (N, O, out_h, out_w) ← conv of x; returns x's columns."""
    xp = get_array_module(x)
    n, out_c, out_h, out_w = out.shape
    col = im2col(x, kernel_size, stride, padding, dilation)
    # W·colᵀ: (O, N·out_h·out_w), each channel's pixels of all images in one run;
    # reordering that to NCHW copies runs of out_h·out_w values, where the
    # (N·out_h·out_w, O) product would need a full transpose.  Measured at batch 64,
    # 1 thread: 2–3.4× faster for LeNet-5's conv1, but 0.5–0.7× (slower) for conv2.
    out_t, o = xp.empty((out_c, col.shape[0]), dtype=x.dtype), out_c // groups
    for g in range(groups):
        group_col = _group_columns(col, g, groups, kernel_size[0] * kernel_size[1])
        xp.matmul(w_mat[g * o:(g + 1) * o], group_col.T, out=out_t[g * o:(g + 1) * o])
    out_t = out_t.reshape(out_c, n, out_h, out_w).transpose(1, 0, 2, 3)
    out[...] = out_t
    if bias is not None:   # (adding it inside the reordering copy measured no faster: 0.8–1.0×)
        out += bias.reshape(-1, 1, 1)
    return col


# Columns per slice of the batch when nothing is kept for a backward: a few MB stay in
# cache between im2col and the GEMM.  Inference at batch 1000, LeNet-5's conv1 / conv2:
# 2.2× / 1.6× faster than one im2col of the whole batch (float32, 1 BLAS thread,
# tools/time_tricks.py; an earlier 2-thread measurement gave 10–35% per layer).
INFERENCE_COL_BYTES = 4 << 20


def pixels_fastest(xp):
    """Whether the column gradient is written pixels fastest: on the GPU, where the col2im
    kernel then reads it coalesced (kernels/im2col.cu); the tests flip it to run that
    layout through the host emulation."""
    return xp is not np


def _column_gradient(xp, grad_t, w_mat, taps, groups):
    """G·W, grad_t (O, rows) and w_mat (O, kh·kw·C/groups) -> a (rows, kh·kw, groups,
    C/groups) view of the GEMMs' own output, for col2im to read in place.

    CPU: (kh·kw, rows, groups, C/groups), one tap at a time, so col2im adds whole
    contiguous (rows, C) blocks: 2.7× faster than from the interleaved (rows, kh·kw·C)
    (conv2, batch 64).  GPU: (groups, kh·kw, C/groups, rows), one plain GEMM per group
    (no operand copied, no batched-matmul temporaries) whose rows are runs of output
    pixels, so neighbouring threads of the col2im kernel read neighbouring elements."""
    out_c, per_tap = w_mat.shape[0], w_mat.shape[1] // taps
    rows, o = grad_t.shape[1], out_c // groups
    if pixels_fastest(xp):
        w_t = xp.ascontiguousarray(w_mat.reshape(groups, o, taps * per_tap).transpose(0, 2, 1))
        grad_col = xp.empty((groups, taps, per_tap, rows), dtype=grad_t.dtype)
        for g in range(groups):
            xp.matmul(w_t[g], grad_t[g * o:(g + 1) * o], out=grad_col[g].reshape(taps * per_tap, rows))
        return grad_col.transpose(3, 1, 0, 2)
    w_taps = xp.ascontiguousarray(w_mat.reshape(out_c, taps, per_tap).transpose(1, 0, 2))
    grad_col = xp.empty((taps, rows, groups, per_tap), dtype=grad_t.dtype)
    for g in range(groups):
        xp.matmul(grad_t[g * o:(g + 1) * o].T, w_taps[:, g * o:(g + 1) * o], out=grad_col[:, :, g, :])
    return grad_col.transpose(1, 0, 2, 3)


@replaces(core_conv.Conv2d)
class Conv2d(Function):
    """out[n, o] = Σ_c W[o, c] ⋆ x[n, c] + b[o]    x (N, C, H, W), W (O, C/groups, kh, kw) -> (N, O, out_h, out_w)

    With G = dY as (N·out_h·out_w, O):  dW = Gᵀ · col,  db = Σ_rows G,  dX = col2im(G · W).
    float16 runs in float32 and rounds the results once (as torch's CPU kernels do).
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        xp = get_array_module(x)
        out_c, c_per_group, kh, kw = weight.shape
        out_h, out_w = conv_output_size(x.shape[2:], (kh, kw), stride, padding, dilation)
        ctx.dtypes = x.dtype, weight.dtype, None if bias is None else bias.dtype
        ctx.empty = x.shape[0] == 0 or c_per_group == 0
        if ctx.empty:
            # Nothing to convolve (and no kernel launch for zero rows).  Zero input channels
            # give torch's (N, 0, out_h, out_w), not a bias-filled (N, O, out_h, out_w).
            ctx.params = x.shape, weight.shape
            return xp.zeros((x.shape[0], out_c if c_per_group else 0, out_h, out_w), dtype=x.dtype)
        work = compute_dtype(x.dtype)
        x, weight = x.astype(work, copy=False), weight.astype(work, copy=False)
        bias = None if bias is None else bias.astype(work, copy=False)
        out = xp.empty((x.shape[0], out_c, out_h, out_w), dtype=work)
        w_mat = weight.transpose(0, 2, 3, 1).reshape(out_c, kh * kw * c_per_group)   # columns (i, j, c) like col's
        args = (kh, kw), stride, padding, dilation, groups
        if not any(ctx.needs_input_grad) and xp is np:
            col_bytes_per_image = out_h * out_w * kh * kw * x.shape[1] * x.itemsize
            images = max(1, INFERENCE_COL_BYTES // col_bytes_per_image)
            for start in range(0, x.shape[0], images):
                _convolve(x[start:start + images], w_mat, bias, *args, out=out[start:start + images])
            return out.astype(ctx.dtypes[0], copy=False)
        ctx.save_for_backward(_convolve(x, w_mat, bias, *args, out=out), w_mat)
        ctx.params = x.shape, weight.shape, stride, padding, dilation, groups
        return out.astype(ctx.dtypes[0], copy=False)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.empty:
            xp = get_array_module(grad_out)
            x_shape, (out_c, c_per_group, kh, kw) = ctx.params
            shapes = x_shape, (out_c, c_per_group, kh, kw), (out_c,)
            return tuple(xp.zeros(shape, dtype=dtype) if need and dtype is not None else None
                         for shape, dtype, need in zip(shapes, ctx.dtypes, ctx.needs_input_grad))
        col, w_mat = ctx.saved
        x_shape, (out_c, c_per_group, kh, kw), stride, padding, dilation, groups = ctx.params
        need_x, need_w, need_b = ctx.needs_input_grad
        xp, rows, o = get_array_module(col), col.shape[0], out_c // groups
        grad_out = grad_out.astype(col.dtype, copy=False)
        # Gᵀ (O, N·out_h·out_w): runs of out_h·out_w values copied, 8× faster than transposing
        # to G (rows, O) (conv1's gradient, batch 64).
        grad_t = xp.ascontiguousarray(grad_out.transpose(1, 0, 2, 3)).reshape(out_c, rows)
        grad_w = xp.empty_like(w_mat) if need_w else None
        if need_w:
            for g in range(groups):
                group = slice(g * o, (g + 1) * o)
                xp.matmul(grad_t[group], _group_columns(col, g, groups, kh * kw), out=grad_w[group])
        grad_x = None
        if need_x:
            # G·W lands in the layout col2im reads in place (a view, no copy of this
            # column-sized array): see _column_gradient.
            grad_col = _column_gradient(xp, grad_t, w_mat, kh * kw, groups)
            grad_x = col2im(grad_col, x_shape, (kh, kw), stride, padding, dilation)
            del grad_col
        if need_w:   # back from (O, kh, kw, C) column order to (O, C, kh, kw)
            grad_w = xp.ascontiguousarray(grad_w.reshape(out_c, kh, kw, c_per_group).transpose(0, 3, 1, 2))
        # Σ over rows as a matrix-vector product: 2.2× (conv1) to 3.1× (conv2) faster than
        # sum(axis=0) at batch 64, float32, 1 thread.
        grad_b = grad_t @ xp.ones(rows, dtype=grad_t.dtype) if need_b else None
        return tuple(None if g is None else g.astype(dtype, copy=False)
                     for g, dtype in zip((grad_x, grad_w, grad_b), ctx.dtypes))
