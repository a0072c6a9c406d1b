"""2-D convolution as im2col + one matrix product (per group).

im2col unrolls every receptive field of x into one row of a matrix `col`:

    x (N, C, H, W) ──im2col──► col (N·out_h·out_w, C·kh·kw)
    out = col @ Wᵀ             W reshaped to (C_out, C·kh·kw)

so the convolution is a single GEMM whose M dimension is the whole batch of
output pixels.  col2im is im2col's adjoint: it adds each row of a column
gradient back onto the pixels that row was read from.
"""
import numpy as np

from ..autograd import Function
from ..backend import get_array_module
from .pairs import conv_output_size, pair


def _windows(x, kernel_size, stride, dilation, out_hw):
    """A strided view (N, C, out_h, out_w, kh, kw) of every receptive field; no copy."""
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel_size, stride, dilation, out_hw
    sn, sc, s_h, s_w = x.strides
    xp = get_array_module(x)
    return xp.lib.stride_tricks.as_strided(
        x, shape=(x.shape[0], x.shape[1], out_h, out_w, kh, kw),
        strides=(sn, sc, s_h * sh, s_w * sw, s_h * dh, s_w * dw))


def im2col(x, kernel_size, stride, padding, dilation):
    """x (N, C, H, W) -> col (N·out_h·out_w, C·kh·kw).

    Row (n, oy, ox), column (c, i, j) holds x[n, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw]
    (0 outside the image).
    """
    xp = get_array_module(x)
    if xp is not np:
        from ..cuda import kernels
        return kernels.im2col(x, kernel_size, stride, padding, dilation)
    n, c, h, w = x.shape
    (kh, kw), (ph, pw) = kernel_size, padding
    out_h, out_w = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    if ph or pw:
        x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    windows = _windows(x, kernel_size, stride, dilation, (out_h, out_w))
    # The reshape of this transposed view is the one copy im2col makes, and it
    # lands directly in the (rows = pixels, columns = c·kh·kw) layout the GEMM reads.
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, c * kh * kw)


def col2im(col, x_shape, kernel_size, stride, padding, dilation):
    """col (N·out_h·out_w, C·kh·kw) -> dx (N, C, H, W): each entry added back where im2col read it."""
    xp = get_array_module(col)
    if xp is not np:
        from ..cuda import kernels
        return kernels.col2im(col, x_shape, kernel_size, stride, padding, dilation)
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((h, w), kernel_size, stride, padding, dilation)
    dx = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    cols = col.reshape(n, out_h, out_w, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
    # One strided add per kernel offset (kh·kw of them): no np.add.at, no loop over pixels.
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i * dh:i * dh + sh * (out_h - 1) + 1:sh,
                     j * dw:j * dw + sw * (out_w - 1) + 1:sw] += cols[..., i, j]
    return dx[:, :, ph:ph + h, pw:pw + w]


class Conv2d(Function):
    """out[n, o] = Σ_c W[o, c] ⋆ x[n, c] + b[o]    x (N, C, H, W), W (O, C/groups, kh, kw) -> (N, O, out_h, out_w)

    With G = dY as (N·out_h·out_w, O):  dW = Gᵀ · col,  db = Σ_rows G,  dX = col2im(G · W).
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        n, _, h, w = x.shape
        out_c, c_per_group, kh, kw = weight.shape
        out_h, out_w = conv_output_size((h, w), (kh, kw), stride, padding, dilation)
        col = im2col(x, (kh, kw), stride, padding, dilation)
        w_mat = weight.reshape(groups, out_c // groups, c_per_group * kh * kw)
        if groups == 1:
            out = col @ w_mat[0].T
        else:
            out = get_array_module(x).empty((col.shape[0], out_c), dtype=col.dtype)
            k, o = c_per_group * kh * kw, out_c // groups
            for g in range(groups):
                out[:, g * o:(g + 1) * o] = col[:, g * k:(g + 1) * k] @ w_mat[g].T
        if bias is not None:
            out += bias
        ctx.save_for_backward(col, weight)
        ctx.params = x.shape, stride, padding, dilation, groups
        # (N·out_h·out_w, O) -> (N, O, out_h, out_w) as a view: no copy here.
        return out.reshape(n, out_h, out_w, out_c).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_out):
        col, weight = ctx.saved
        x_shape, stride, padding, dilation, groups = ctx.params
        need_x, need_w, need_b = ctx.needs_input_grad
        out_c, c_per_group, kh, kw = weight.shape
        xp = get_array_module(col)
        grad = grad_out.transpose(0, 2, 3, 1).reshape(-1, out_c)   # G: (N·out_h·out_w, O)
        w_mat = weight.reshape(groups, out_c // groups, -1)
        k, o = w_mat.shape[2], out_c // groups
        grad_w = xp.empty_like(w_mat) if need_w else None
        grad_col = xp.empty_like(col) if need_x else None
        for g in range(groups):
            g_rows = grad[:, g * o:(g + 1) * o]
            if need_w:
                grad_w[g] = g_rows.T @ col[:, g * k:(g + 1) * k]
            if need_x:
                grad_col[:, g * k:(g + 1) * k] = g_rows @ w_mat[g]
        grad_x = col2im(grad_col, x_shape, (kh, kw), stride, padding, dilation) if need_x else None
        grad_b = grad.sum(axis=0) if need_b else None
        return grad_x, (grad_w.reshape(weight.shape) if need_w else None), grad_b


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """F.conv2d: x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw), bias (C_out,)
    -> (N, C_out, out_h, out_w),  out_h = (H + 2·ph − dh·(kh − 1) − 1) // sh + 1."""
    stride, padding = pair(stride, "conv2d: stride", 1), pair(padding, "conv2d: padding", 0)
    dilation = pair(dilation, "conv2d: dilation", 1)
    if weight.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D weight (C_out, C_in/groups, kh, kw), got shape {weight.shape}")
    out_c, c_per_group, kh, kw = weight.shape
    if x.ndim != 4:
        raise ValueError(f"conv2d: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups!r}")
    if out_c % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the {out_c} output channels")
    if x.shape[1] % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the {x.shape[1]} input channels "
                         f"of input {x.shape}")
    if x.shape[1] != c_per_group * groups:
        raise ValueError(f"conv2d: expected input with {c_per_group * groups} channels "
                         f"(weight {weight.shape}, groups={groups}), got {x.shape[1]} channels "
                         f"in input of shape {x.shape}")
    if bias is not None and bias.shape != (out_c,):
        raise ValueError(f"conv2d: expected bias of shape ({out_c},), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    conv_output_size(x.shape[2:], (kh, kw), stride, padding, dilation, op="conv2d")
    return Conv2d.apply(x, weight, bias, stride=stride, padding=padding,
                        dilation=dilation, groups=int(groups))
