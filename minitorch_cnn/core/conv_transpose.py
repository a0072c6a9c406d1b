"""The transposed convolution: the convolution's adjoint, run forward (docs/12_conv_transpose.md).

The convolution maps an image to window rows, col = im2col(image), then rows = col · Wᵀ.  Its
input gradient walks that back, dX = col2im(dY rows · W).  The transposed convolution is that
walk as a forward pass, from a small input x to a larger image y:

    x (N, C_in, H, W) as rows (N·H·W, C_in) ──· W──► col (N·H·W, C_out·kh·kw) ──col2im──► y

so y is the input gradient of the convolution (same stride, padding, dilation, weight) whose
output is x, and the convolution is the transposed convolution's input gradient in turn.
"""
from ..backend import get_array_module
from .autograd import Function
from .conv import col2im, im2col


def _span(in_hw, kernel_size, stride, dilation):
    """(rows, columns) the windows of an in_h × in_w input cover: (in − 1)·s + d·(k − 1) + 1."""
    return tuple((n - 1) * s + d * (k - 1) + 1 for n, k, s, d in zip(in_hw, kernel_size, stride, dilation))


def _fit(a, hw):
    """a (N, C, h, w) cut or zero-extended at the bottom and right to (N, C, H, W), hw = (H, W)."""
    xp = get_array_module(a)
    a = a[:, :, :hw[0], :hw[1]]
    return xp.pad(a, ((0, 0), (0, 0), (0, hw[0] - a.shape[2]), (0, hw[1] - a.shape[3])))


def _grouped(rows, weight, groups):
    """rows (R, C_in) and W (C_in, C_out/groups, kh, kw) per group k: rows_k (groups, R, C_in/groups)
    and W_k (groups, C_in/groups, C_out/groups·kh·kw).  Input block k feeds output block k only."""
    in_c = weight.shape[0]
    return (rows.reshape(rows.shape[0], groups, in_c // groups).transpose(1, 0, 2),
            weight.reshape(groups, in_c // groups, weight[0].size))


class ConvTranspose2d(Function):
    """x (N, C_in, H, W), W (C_in, C_out/groups, kh, kw), b (C_out,) or None -> y (N, C_out, out_h, out_w),
    out_h = (H − 1)·sh − 2·ph + dh·(kh − 1) + output_padding_h + 1 (and the same across):

        y_full[n, c_out, iy·sh + i·dh, ix·sw + j·dw] += Σ_c x[n, c, iy, ix] · W[c, c_out, i, j]
        y = b + y_full[:, :, ph : ph + out_h, pw : pw + out_w]   (zeros past y_full's end)

    Each input pixel stamps its kernel-sized patch onto the output; overlaps add.  Per group k,
    with x as rows (R = N·H·W, C_in) and col_k = rows_k · W_k, y_full = col2im(col) (no padding).
    With G = dY, G_full = G put back at offset (ph, pw) in y_full's shape and col_G = im2col(G_full):
        dX rows_k = col_G,k · W_kᵀ,   dW_k = rows_kᵀ · col_G,k,   db = Σ_{n,y,x} G.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        n, in_c, h, w = x.shape
        kernel_size, out_c = weight.shape[2:], weight.shape[1] * groups
        span = _span((h, w), kernel_size, stride, dilation)
        out_hw = tuple(s - 2 * p + op for s, p, op in zip(span, padding, output_padding))
        rows = x.transpose(0, 2, 3, 1).reshape(-1, in_c)
        rows_groups, w_groups = _grouped(rows, weight, groups)
        col = (rows_groups @ w_groups).transpose(1, 0, 2).reshape(rows.shape[0], w_groups.shape[2] * groups)
        y_full = col2im(col, (n, out_c) + span, kernel_size, stride, (0, 0), dilation)
        y = _fit(y_full[:, :, padding[0]:, padding[1]:], out_hw)
        if bias is not None:
            y = y + bias.reshape(1, -1, 1, 1)
        ctx.save_for_backward(rows, weight)
        ctx.params = x.shape, span, stride, padding, groups, dilation
        return y

    @staticmethod
    def backward(ctx, grad_out):
        rows, weight = ctx.saved
        x_shape, span, stride, padding, groups, dilation = ctx.params
        xp = get_array_module(grad_out)
        (ph, pw), in_c = padding, x_shape[1]
        grad_full = _fit(xp.pad(grad_out, ((0, 0), (0, 0), (ph, 0), (pw, 0))), span)
        col_grad = im2col(grad_full, weight.shape[2:], stride, (0, 0), dilation)
        rows_groups, w_groups = _grouped(rows, weight, groups)
        grad_groups = col_grad.reshape(rows.shape[0], groups, w_groups.shape[2]).transpose(1, 0, 2)  # col_G,k
        grad_rows = (grad_groups @ w_groups.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(-1, in_c)
        grad_x = grad_rows.reshape(x_shape[0], x_shape[2], x_shape[3], in_c).transpose(0, 3, 1, 2)
        grad_weight = (rows_groups.transpose(0, 2, 1) @ grad_groups).reshape(weight.shape)
        grad_bias = grad_out.sum(axis=(0, 2, 3))
        return grad_x, grad_weight, grad_bias
