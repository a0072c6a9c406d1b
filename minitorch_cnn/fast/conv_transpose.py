"""The fast ConvTranspose2d, which replaces core/conv_transpose.py's while minitorch_cnn.backends.fast
is enabled.  Its definition: core/conv_transpose.py (the convolution's adjoint, derived in
docs/12_conv_transpose.md); tests/test_core_toolbox_fast.py holds everything below equal to it.

The transposed convolution is the convolution's input gradient run forward, so it runs the
steps of fast/conv.py's Conv2d in the other order, with the convolution's weight being the
transposed convolution's own (C_in, C_out/groups, kh, kw), read as (O, C/groups, kh, kw):

    forward    y  = col2im(x rows · W)         Conv2d.backward's dX step, with G = x
    backward   dX = im2col(G) · Wᵀ             a convolution of G
               dW = x rowsᵀ · im2col(G)        Conv2d.backward's dW step
               db = Σ_{n,y,x} G

Departures from core.conv_transpose.ConvTranspose2d, for speed or for torch's edge cases (timed
by tools/time_tricks.py, float32, batch 64, the autoencoder's decoder layers 32→16 channels
7×7→14×14 and 16→1 channels 14×14→28×28, kernel 3, stride 2, padding 1, output_padding 1, on a
2-core AMD EPYC, 1 BLAS thread):
  * col's columns are (i, j, c), channels last, where the core's are (c, i, j); W is reordered
    to match, so the products are the same;
  * the forward's column matrix is written tap by tap by fast/conv.py's _column_gradient and read
    in place by its col2im, whose padding argument makes the core's cut (y_full[p : p + out])
    for free; only an axis with output_padding ≥ stride (allowed below the dilation) still works
    on the windows' whole span and cuts afterwards;
  * the backward's im2col(G) in whichever of fast/conv.py's layouts copies faster
    (tap_major_pays), dX's GEMM ordered by col's layout (_convolve), dW and dX skipped when
    not asked for, db as two matrix-vector products (1.6× (16 channels) and 1.9×
    (1 channel) faster than sum(axis=(0, 2, 3)));
  * x is kept transposed, (C_in, N·H·W), the layout of the forward's and dW's GEMMs;
  * on CuPy arrays im2col and col2im run the CUDA kernels of kernels/im2col.cu (@cuda_twin);
  * float16 runs in float32 and rounds the results once (as torch's CPU kernel; ops/conv_transpose.py
    already hands it float32, so this matters to direct callers only);
  * an empty batch returns torch's empty result (and zero weight and bias gradients) without a
    GEMM or a kernel launch;
  * int64 (the only other dtype ops/conv_transpose.py lets through, exact as torch's) runs the
    core's own forward and backward: the kernels and the float GEMMs are not for it.
Measured against the core (OPENBLAS_NUM_THREADS=1 python tools/time_tricks.py conv_transpose_decoder):
forward / backward 1.9–2.0× / 1.8× faster for 32→16; 1.3–1.7× / 1.1–1.2× for 16→1, whose GEMMs are
matrix-vector sized (a training step of that layer 1.27–1.39×); four runs, load average < 1.  So
it runs on NumPy too.
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import conv_transpose as core_conv_transpose
from ..core.autograd import Function
from ..ops.pairs import compute_dtype
from . import conv as fast_conv   # read at call time, so the kernel tests' swaps reach it

FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _geometry(in_hw, kernel_size, stride, padding, output_padding, dilation):
    """(image, image padding, offset, out_hw): col2im and im2col work on `image` with `image
    padding`, and y = image[offset:] cut or zero-extended to out_hw.  Per axis: with
    output_padding < stride exactly in_h windows fit in y itself with padding p, so image = y
    (offset 0); otherwise the windows' whole span, unpadded, and y starts at row p of it."""
    image, image_padding, offset, out_hw = [], [], [], []
    for n, k, s, p, op, d in zip(in_hw, kernel_size, stride, padding, output_padding, dilation):
        span = (n - 1) * s + d * (k - 1) + 1
        out_hw.append(span - 2 * p + op)
        fits = op < s
        image.append(out_hw[-1] if fits else span)
        image_padding.append(p if fits else 0)
        offset.append(0 if fits else p)
    return tuple(image), tuple(image_padding), tuple(offset), tuple(out_hw)


def _fit(a, offset, hw):
    """a (N, C, h, w) from row/column `offset` on, cut or zero-extended at the bottom and right to
    hw; a itself when that changes nothing."""
    a = a[:, :, offset[0]:offset[0] + hw[0], offset[1]:offset[1] + hw[1]]
    if a.shape[2:] == tuple(hw):
        return a
    xp = get_array_module(a)
    out = xp.zeros(a.shape[:2] + tuple(hw), dtype=a.dtype)
    out[:, :, :a.shape[2], :a.shape[3]] = a
    return out


def _place(grad_out, offset, image_hw):
    """The adjoint of _fit: grad_out put at `offset` in an image_hw image, cut or zero-extended."""
    if offset == (0, 0) and grad_out.shape[2:] == tuple(image_hw):
        return grad_out
    xp = get_array_module(grad_out)
    out = xp.zeros(grad_out.shape[:2] + tuple(image_hw), dtype=grad_out.dtype)
    rows, columns = (max(0, min(g, i - o)) for g, i, o in zip(grad_out.shape[2:], image_hw, offset))
    out[:, :, offset[0]:offset[0] + rows, offset[1]:offset[1] + columns] = grad_out[:, :, :rows, :columns]
    return out


def tap_major_pays(g, kernel_size, stride, dilation):
    """Whether G's columns are made by fast/conv.py's im2col_tap_major rather than its im2col (whose
    rule never picks that layout for a strided window): on NumPy, for a strided window with
    kw·C ≤ 12, where channels last copies runs of at most 12 values.  Measured at batch 64, G of
    28×28 (3×3 windows, stride 2): C = 1 3.15×, C = 4 1.44× faster than channels last, C = 8 0.69×
    (slower) (tools/time_tricks.py conv_transpose_tap_major).  The kernel tests turn it off to
    keep every im2col on the (emulated) kernel."""
    c, (_, kw), (_, sw), (_, dw) = g.shape[1], kernel_size, stride, dilation
    return get_array_module(g) is np and sw > 1 and (kw * c if dw == 1 else c) <= 12


def _columns(g, kernel_size, stride, padding, dilation):
    """im2col(G), columns (i, j, c), in the layout that copies faster."""
    if tap_major_pays(g, kernel_size, stride, dilation):
        return fast_conv.im2col_tap_major(g, kernel_size, stride, padding, dilation)
    return fast_conv.im2col(g, kernel_size, stride, padding, dilation)


def _convolve(xp, col, w_mat, groups, taps, x_shape):
    """dX = im2col(G) · Wᵀ (N, C_in, H, W), one GEMM per group.  From a tap-major col (or the GPU's,
    also stored transposed) as W · colᵀ (C_in, N·H·W), reordered by copying runs of H·W; from a
    channels-last col as col · Wᵀ (N·H·W, C_in), reordered by a transposing copy.  Each order is
    the faster one for its layout: 16→1 channels (tap-major) 1.41×, 32→16 (channels last) 1.34×
    faster than the other order (tools/time_tricks.py conv_transpose_dx_order)."""
    (n, in_c, h, w), rows, o = x_shape, col.shape[0], x_shape[1] // groups
    if col.T.flags.c_contiguous:
        grad_t = xp.empty((in_c, rows), dtype=col.dtype)
        for g in range(groups):
            group_col = fast_conv._group_columns(col, g, groups, taps)
            xp.matmul(w_mat[g * o:(g + 1) * o], group_col.T, out=grad_t[g * o:(g + 1) * o])
        return xp.ascontiguousarray(grad_t.reshape(in_c, n, h, w).transpose(1, 0, 2, 3))
    grad_rows = xp.empty((groups, rows, o), dtype=col.dtype)
    for g in range(groups):
        xp.matmul(fast_conv._group_columns(col, g, groups, taps), w_mat[g * o:(g + 1) * o].T, out=grad_rows[g])
    grad_x = xp.ascontiguousarray(grad_rows.reshape(groups, n, h, w, o).transpose(1, 0, 4, 2, 3))
    return grad_x.reshape(x_shape)


@replaces(core_conv_transpose.ConvTranspose2d)
class ConvTranspose2d(Function):
    """x (N, C_in, H, W), W (C_in, C_out/groups, kh, kw), b (C_out,) or None -> y (N, C_out, out_h, out_w)

    y = col2im(x rows · W) + b;  with G = dY:  dX = im2col(G) · Wᵀ,  dW = x rowsᵀ · im2col(G),  db = Σ G.
    float16 runs in float32 and rounds the results once; int64 runs the core's code.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        xp = get_array_module(x)
        (n, in_c, h, w), (_, per_group, kh, kw) = x.shape, weight.shape
        image, image_padding, offset, out_hw = _geometry((h, w), (kh, kw), stride, padding, output_padding,
                                                         dilation)
        ctx.dtypes = x.dtype, weight.dtype, None if bias is None else bias.dtype
        work = compute_dtype(x.dtype)
        ctx.mode = "empty" if n == 0 else "fast" if work in FAST_DTYPES else "core"
        if ctx.mode == "empty":   # no GEMM of zero rows, no kernel launch
            ctx.params = x.shape, weight.shape
            return xp.zeros((0, per_group * groups) + out_hw, dtype=x.dtype)
        x, weight = x.astype(work, copy=False), weight.astype(work, copy=False)
        bias = None if bias is None else bias.astype(work, copy=False)
        if ctx.mode == "core":    # int64: exact integer products, the core's code
            return core_conv_transpose.ConvTranspose2d.forward(ctx, x, weight, bias, stride, padding,
                                                               output_padding, groups, dilation)
        # x rows as (C_in, N·H·W): the operand of the forward's GEMMs and of dW's
        x_t = xp.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(in_c, n * h * w)
        w_mat = weight.transpose(0, 2, 3, 1).reshape(in_c, kh * kw * per_group)   # columns (i, j, c) like col's
        # x rows · W, written tap by tap (CPU) or pixels fastest (GPU): layouts col2im reads in place
        col = fast_conv._column_gradient(xp, x_t, w_mat, kh * kw, groups)
        y = fast_conv.col2im(col, (n, per_group * groups) + image, (kh, kw), stride, image_padding, dilation)
        del col
        y = _fit(y, offset, out_hw)
        if bias is not None:
            y += bias.reshape(-1, 1, 1)
        if any(ctx.needs_input_grad):   # W itself, so an in-place change to it is caught, as in the core
            ctx.save_for_backward(x_t, weight)
        ctx.params = x.shape, weight.shape, stride, groups, dilation, image, image_padding, offset
        return y.astype(ctx.dtypes[0], copy=False)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.mode == "empty":
            xp = get_array_module(grad_out)
            x_shape, w_shape = ctx.params
            shapes = x_shape, w_shape, (grad_out.shape[1],)
            return tuple(xp.zeros(shape, dtype=dtype) if need and dtype is not None else None
                         for shape, dtype, need in zip(shapes, ctx.dtypes, ctx.needs_input_grad))
        if ctx.mode == "core":
            return core_conv_transpose.ConvTranspose2d.backward(ctx, grad_out)
        x_t, weight = ctx.saved
        x_shape, (in_c, per_group, kh, kw), stride, groups, dilation, image, image_padding, offset = ctx.params
        w_mat = weight.transpose(0, 2, 3, 1).reshape(in_c, kh * kw * per_group)
        need_x, need_w, need_b = ctx.needs_input_grad
        xp, o, taps = get_array_module(grad_out), in_c // groups, kh * kw
        grad_out = grad_out.astype(x_t.dtype, copy=False)
        col = None
        if need_x or need_w:
            col = _columns(_place(grad_out, offset, image), (kh, kw), stride, image_padding, dilation)
        grad_x = grad_w = None
        if need_x:
            grad_x = _convolve(xp, col, w_mat, groups, taps, x_shape)
        if need_w:   # dW = x rowsᵀ · im2col(G), per group
            grad_w = xp.empty_like(w_mat)
            for g in range(groups):
                xp.matmul(x_t[g * o:(g + 1) * o], fast_conv._group_columns(col, g, groups, taps),
                          out=grad_w[g * o:(g + 1) * o])
            # back from (C_in, kh, kw, C_out/groups) column order to (C_in, C_out/groups, kh, kw)
            grad_w = xp.ascontiguousarray(grad_w.reshape(in_c, kh, kw, per_group).transpose(0, 3, 1, 2))
        del col
        grad_b = None
        if need_b:   # Σ over n, then over pixels: two matrix-vector products
            n, out_c = grad_out.shape[:2]
            per_image = xp.ones(n, dtype=grad_out.dtype) @ grad_out.reshape(n, -1)
            grad_b = per_image.reshape(out_c, -1) @ xp.ones(grad_out[0, 0].size, dtype=grad_out.dtype)
        return tuple(None if g is None else g.astype(dtype, copy=False)
                     for g, dtype in zip((grad_x, grad_w, grad_b), ctx.dtypes))
