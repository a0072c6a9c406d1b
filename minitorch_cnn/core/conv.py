"""The 2-D convolution as one matrix product per group (docs/04_im2col.md, 05, 06).

    x (N, C, H, W) ──im2col──► col (N·out_h·out_w, C·kh·kw)
    out_rows = col · Wᵀ + b    W reshaped to (O, C·kh·kw)

col2im is im2col's adjoint: it carries a column gradient back onto the image.
minitorch_cnn/reference.py defines the same im2col and col2im with loops over pixels.
"""
from ..backend import get_array_module
from .autograd import Function


def output_size(in_hw, kernel_size, stride, padding, dilation=(1, 1)):
    """(out_h, out_w), how many windows fit: out = (in + 2p − d·(k − 1) − 1) // s + 1 per axis."""
    return tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                 for size, k, s, p, d in zip(in_hw, kernel_size, stride, padding, dilation))


def _tap(i, j, out_hw, stride, dilation):
    """The (rows, columns) slices of the padded image that kernel tap (i, j) reads in
    every window: pixel oy·s + i·d for oy = 0 … out_h − 1 (and the same across)."""
    (out_h, out_w), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw))


def im2col(x, kernel_size, stride, padding, dilation):
    """x (N, C, H, W) -> col (N·out_h·out_w, C·kh·kw), one row per output pixel:

        col[(n, oy, ox), (c, i, j)] = x_pad[n, c, oy·sh + i·dh, ox·sw + j·dw]

    (x_pad: x with ph zero rows and pw zero columns on each side).  One strided slice per
    kernel tap (i, j) fills column (·, i, j) of every row at once.
    """
    xp = get_array_module(x)
    (n, c, h, w), (kh, kw), (ph, pw) = x.shape, kernel_size, padding
    out_hw = output_size((h, w), kernel_size, stride, padding, dilation)
    x_pad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = xp.empty((n,) + out_hw + (c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _tap(i, j, out_hw, stride, dilation)
            col[..., i, j] = x_pad[:, :, rows, columns].transpose(0, 2, 3, 1)
    return col.reshape(n * out_hw[0] * out_hw[1], c * kh * kw)


def col2im(col, x_shape, kernel_size, stride, padding, dilation):
    """col (N·out_h·out_w, C·kh·kw) -> dx (N, C, H, W), im2col's adjoint:

        dx_pad[n, c, oy·sh + i·dh, ox·sw + j·dw] += col[(n, oy, ox), (c, i, j)]

    A pixel read by several windows collects the sum; the padding's share is dropped.
    """
    xp = get_array_module(col)
    (n, c, h, w), (kh, kw), (ph, pw) = x_shape, kernel_size, padding
    out_hw = output_size((h, w), kernel_size, stride, padding, dilation)
    col = col.reshape((n,) + out_hw + (c, kh, kw))
    dx_pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _tap(i, j, out_hw, stride, dilation)
            # within one tap no two windows share a pixel, so a plain += is the sum
            dx_pad[:, :, rows, columns] += col[..., i, j].transpose(0, 3, 1, 2)
    return dx_pad[:, :, ph:ph + h, pw:pw + w]


def _by_group(col, weight, groups):
    """col_k and W_k of every group k: (groups, R, C/groups·kh·kw) and (groups, O/groups,
    C/groups·kh·kw).  col's columns are (c, i, j), so group k's channels are one block."""
    (rows, width), out_c = col.shape, weight.shape[0]
    return (col.reshape(rows, groups, width // groups).transpose(1, 0, 2),
            weight.reshape(groups, out_c // groups, width // groups))


class Conv2d(Function):
    """x (N, C, H, W), W (O, C/groups, kh, kw), b (O,) or None -> out (N, O, out_h, out_w)

        out[n, o, oy, ox] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, k·C/groups + c, oy·sh + i·dh, ox·sw + j·dw]

    where output channel o is in group k: the channels split into `groups` equal blocks and
    output block k reads input block k only.  Per group, with R = N·out_h·out_w rows:
        out_rows_k = col_k · W_kᵀ + b_k     col_k (R, C/groups·kh·kw), W_k (O/groups, C/groups·kh·kw)
    With G = dY as rows (R, O), G_k its group's columns:
        dW_k = G_kᵀ · col_k,   db = Σ_rows G,   dX = col2im(dcol),  dcol = [G_0 · W_0 | G_1 · W_1 | …].
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        n, out_c, kernel_size = x.shape[0], weight.shape[0], weight.shape[2:]
        out_h, out_w = output_size(x.shape[2:], kernel_size, stride, padding, dilation)
        col = im2col(x, kernel_size, stride, padding, dilation)
        col_groups, w_groups = _by_group(col, weight, groups)
        out_rows = (col_groups @ w_groups.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(-1, out_c)
        if bias is not None:
            out_rows = out_rows + bias
        ctx.save_for_backward(col, weight)
        ctx.params = x.shape, weight.shape, stride, padding, dilation, groups
        return out_rows.reshape(n, out_h, out_w, out_c).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_out):
        col, weight = ctx.saved
        x_shape, w_shape, stride, padding, dilation, groups = ctx.params
        (rows, width), out_c = col.shape, w_shape[0]
        col_groups, w_groups = _by_group(col, weight, groups)
        grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(rows, out_c)                    # G
        grad_groups = grad_rows.reshape(rows, groups, out_c // groups).transpose(1, 0, 2)   # G_k
        grad_weight = (grad_groups.transpose(0, 2, 1) @ col_groups).reshape(w_shape)
        grad_bias = grad_rows.sum(axis=0)
        grad_col = (grad_groups @ w_groups).transpose(1, 0, 2).reshape(rows, width)
        grad_x = col2im(grad_col, x_shape, w_shape[2:], stride, padding, dilation)
        return grad_x, grad_weight, grad_bias
