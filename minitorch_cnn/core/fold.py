"""unfold and fold: im2col and col2im (core/conv.py) in PyTorch's layout (docs/12_conv_transpose.md).

    x (N, C, H, W) ──unfold──► blocks (N, C·kh·kw, L)      L = out_h·out_w windows
    blocks (N, C·kh·kw, L) ──fold──► y (N, C, H, W)        overlapping entries add up

im2col's rows are the windows and its columns the (c, i, j) taps; torch's blocks are the same
matrix per sample, transposed: blocks[n] = col[n·L:(n+1)·L]ᵀ.  fold is unfold's adjoint, as
col2im is im2col's, so each one's backward is the other.
"""
from .autograd import Function
from .conv import col2im, im2col, output_size


def _blocks(col, n, windows):
    """col (N·L, C·kh·kw) -> blocks (N, C·kh·kw, L), L = windows: torch's layout."""
    return col.reshape(n, windows, col.shape[1]).transpose(0, 2, 1)


def _col(blocks):
    """blocks (N, C·kh·kw, L) -> col (N·L, C·kh·kw): im2col's layout."""
    return blocks.transpose(0, 2, 1).reshape(-1, blocks.shape[1])


class Unfold(Function):
    """x (N, C, H, W) -> blocks (N, C·kh·kw, L), every window as one column:

        blocks[n, (c, i, j), (oy, ox)] = x_pad[n, c, oy·sh + i·dh, ox·sw + j·dw]

    Each entry is a copy of one pixel, so the pixel's gradient is the sum of the gradients of
    its copies:  dx = col2im(G as rows)."""
    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        out_h, out_w = output_size(x.shape[2:], kernel_size, stride, padding, dilation)
        ctx.params = x.shape, kernel_size, stride, padding, dilation
        return _blocks(im2col(x, kernel_size, stride, padding, dilation), x.shape[0], out_h * out_w)

    @staticmethod
    def backward(ctx, grad_out):
        x_shape, kernel_size, stride, padding, dilation = ctx.params
        return (col2im(_col(grad_out), x_shape, kernel_size, stride, padding, dilation),)


class Fold(Function):
    """blocks (N, C·kh·kw, L) -> y (N, C, H, W) with (H, W) = image_size, the windows added back:

        y_pad[n, c, oy·sh + i·dh, ox·sw + j·dw] += blocks[n, (c, i, j), (oy, ox)],   y = y_pad without its border

    Every entry lands on one pixel, so its gradient is that pixel's:  dblocks = im2col(G)."""
    @staticmethod
    def forward(ctx, blocks, image_size, kernel_size, dilation, padding, stride):
        n, width, windows = blocks.shape
        y_shape = (n, width // (kernel_size[0] * kernel_size[1])) + tuple(image_size)
        ctx.params = n, windows, kernel_size, stride, padding, dilation
        return col2im(_col(blocks), y_shape, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_out):
        n, windows, kernel_size, stride, padding, dilation = ctx.params
        return (_blocks(im2col(grad_out, kernel_size, stride, padding, dilation), n, windows),)
