"""The textbook versions of the CNN operations: plain loops over NumPy arrays.

Each function here is the definition of an op, written to be read, not to be
fast: one output pixel (or one window) at a time, in float64 if you pass float64.
The fast ops in `ops/` compute the same numbers with fewer, bigger array steps;
the test suite holds each of them (and each CUDA kernel) equal to the function
here, and the chapters in docs/ derive every backward below from the chain rule.

    fast op                               its definition here
    fast/conv.py  im2col, col2im, Conv2d  im2col, col2im, conv2d, conv2d_backward
    (core/conv.py, the plain Conv2d, has the same im2col and col2im as here)
    fast/pool.py  MaxPool2d, AvgPool2d    max_pool2d(_backward), avg_pool2d(_backward)
    fast/norm.py  BatchNorm               batch_norm(_backward), update_running_stats
    (core/pool.py and core/norm.py, the plain Functions, compute them as the docs derive them)

Shapes: images are (N, C, H, W); a kernel is (kh, kw); stride, padding and
dilation are ints or (rows, columns) pairs.  NumPy arrays in, NumPy arrays out;
no autograd: each backward is a separate function taking the forward's inputs.
"""
import numpy as np


def pair(v):
    """3 -> (3, 3); (3, 2) -> (3, 2)."""
    return (v, v) if isinstance(v, (int, np.integer)) else tuple(v)


def output_size(size, kernel, stride=1, padding=0, dilation=1):
    """How many windows fit along one axis: ⌊(size + 2p − d·(k − 1) − 1) / s⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# ---- convolution -----------------------------------------------------------------------

def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """x (N, C, H, W) -> col (N·out_h·out_w, C·kh·kw): one row per output pixel.

    Row (n, oy, ox) is the receptive field of output pixel (oy, ox) of image n,
    flattened in (c, i, j) order, the order of weight.reshape(C_out, C·kh·kw)
    (and of torch.nn.functional.unfold).  Pixels in the zero padding read as 0.
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel_size, stride, padding, dilation))
    n, c, h, w = x.shape
    out_h, out_w = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    col = np.zeros((n, out_h, out_w, c, kh, kw), dtype=x.dtype)
    for b in range(n):
        for oy in range(out_h):
            for ox in range(out_w):
                top, left = oy * sh, ox * sw            # the window's corner in x_pad
                col[b, oy, ox] = x_pad[b, :, top:top + dh * (kh - 1) + 1:dh, left:left + dw * (kw - 1) + 1:dw]
    return col.reshape(n * out_h * out_w, c * kh * kw)


def col2im(col, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """col (N·out_h·out_w, C·kh·kw) -> dx (N, C, H, W): im2col's adjoint.

    Each entry of col is added back onto the pixel im2col read it from; a pixel
    read by several windows collects the sum.  (For all x and col,
    Σ im2col(x)·col = Σ x·col2im(col): the chain rule through im2col.)
    """
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(pair, (kernel_size, stride, padding, dilation))
    n, c, h, w = x_shape
    out_h, out_w = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    col = col.reshape(n, out_h, out_w, c, kh, kw)
    dx_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=col.dtype)
    for b in range(n):
        for oy in range(out_h):
            for ox in range(out_w):
                top, left = oy * sh, ox * sw
                dx_pad[b, :, top:top + dh * (kh - 1) + 1:dh, left:left + dw * (kw - 1) + 1:dw] += col[b, oy, ox]
    return dx_pad[:, :, ph:ph + h, pw:pw + w]


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O,) -> (N, O, out_h, out_w).

    out[n, o, oy, ox] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x_pad[n, c, oy·sh + i·dh, ox·sw + j·dw],
    computed as one matrix product per group: out = col · Wᵀ, col = im2col(x).
    Group g convolves input channels g·C/groups … and makes output channels g·O/groups ….
    """
    n, c, h, w = x.shape
    out_c, c_per_group, kh, kw = weight.shape
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    out_h, out_w = output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)
    o_per_group = out_c // groups
    out = np.zeros((n, out_h, out_w, out_c), dtype=np.result_type(x, weight))
    for g in range(groups):
        x_g = x[:, g * c_per_group:(g + 1) * c_per_group]
        w_g = weight[g * o_per_group:(g + 1) * o_per_group]
        col = im2col(x_g, (kh, kw), stride, padding, dilation)            # (N·out_h·out_w, C_g·kh·kw)
        out[..., g * o_per_group:(g + 1) * o_per_group] = (
            col @ w_g.reshape(o_per_group, -1).T).reshape(n, out_h, out_w, o_per_group)
    if bias is not None:
        out += bias
    return out.transpose(0, 3, 1, 2)                                      # rows were (n, oy, ox)


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1, groups=1):
    """grad_out (N, O, out_h, out_w) -> (dx, dweight, dbias), the gradients of conv2d.

    With G = grad_out as rows (N·out_h·out_w, O), per group:
        dW = Gᵀ · col        (each weight met every receptive field, scaled by its output's gradient)
        dcol = G · W         (each receptive field entry met every weight of its row)
        dx = col2im(dcol)    (entries return to the pixels they were read from)
        db = Σ_rows G
    """
    n, c, h, w = x.shape
    out_c, c_per_group, kh, kw = weight.shape
    o_per_group = out_c // groups
    grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(-1, out_c)        # G: (N·out_h·out_w, O)
    dx = np.zeros(x.shape, dtype=grad_out.dtype)
    dweight = np.zeros(weight.shape, dtype=grad_out.dtype)
    for g in range(groups):
        channels, outs = slice(g * c_per_group, (g + 1) * c_per_group), slice(g * o_per_group, (g + 1) * o_per_group)
        col = im2col(x[:, channels], (kh, kw), stride, padding, dilation)
        w_mat = weight[outs].reshape(o_per_group, -1)
        dweight[outs] = (grad_rows[:, outs].T @ col).reshape(o_per_group, c_per_group, kh, kw)
        dcol = grad_rows[:, outs] @ w_mat
        dx[:, channels] = col2im(dcol, (n, c_per_group, h, w), (kh, kw), stride, padding, dilation)
    dbias = grad_rows.sum(axis=0)
    return dx, dweight, dbias


# ---- pooling ---------------------------------------------------------------------------

def _windows(x_shape, kernel_size, stride, padding):
    """Yield (n, ch, oy, ox, rows, columns): each window and the real (non-padding) pixels it covers."""
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    n, c, h, w = x_shape
    out_h, out_w = output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)
    for b in range(n):
        for ch in range(c):
            for oy in range(out_h):
                for ox in range(out_w):
                    top, left = oy * sh - ph, ox * sw - pw
                    rows = range(max(top, 0), min(top + kh, h))
                    columns = range(max(left, 0), min(left + kw, w))
                    yield b, ch, oy, ox, rows, columns


def _pooled_shape(x_shape, kernel_size, stride, padding):
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    n, c, h, w = x_shape
    return n, c, output_size(h, kh, sh, ph), output_size(w, kw, sw, pw)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (out, argmax), both (N, C, out_h, out_w); stride defaults to the kernel.

    out is each window's maximum; argmax is where it sits in its image, as the flat
    index y·W + x (torch's return_indices).  The padding is never a candidate.
    Ties go to the first maximum in row-major order; a NaN beats every number
    (the last NaN of a window is its argmax), as in PyTorch.
    """
    out = np.zeros(_pooled_shape(x.shape, kernel_size, stride, padding), dtype=x.dtype)
    argmax = np.zeros(out.shape, dtype=np.int64)
    width = x.shape[3]
    for b, ch, oy, ox, rows, columns in _windows(x.shape, kernel_size, stride, padding):
        best = None
        for y in rows:
            for xx in columns:
                value = x[b, ch, y, xx]
                if best is None or value > best or np.isnan(value):
                    best, argmax[b, ch, oy, ox] = value, y * width + xx
        out[b, ch, oy, ox] = best
    return out, argmax


def max_pool2d_backward(grad_out, argmax, x_shape):
    """dx (N, C, H, W): each window's gradient goes to its maximum, and nowhere else.

    max is locally the identity on the winning element and constant in the others,
    so ∂out/∂x is 1 at the argmax and 0 elsewhere; overlapping windows that share a
    winner add up there.
    """
    n, c, h, w = x_shape
    dx = np.zeros((n, c, h * w), dtype=grad_out.dtype)
    for b in range(n):
        for ch in range(c):
            for g, index in zip(grad_out[b, ch].ravel(), argmax[b, ch].ravel()):
                dx[b, ch, index] += g
    return dx.reshape(x_shape)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """x (N, C, H, W) -> (N, C, out_h, out_w): each window's mean.

    The padding counts as zeros; with count_include_pad=False the divisor is the
    number of real pixels in the window instead of kh·kw.
    """
    kh, kw = pair(kernel_size)
    out = np.zeros(_pooled_shape(x.shape, kernel_size, stride, padding), dtype=x.dtype)
    for b, ch, oy, ox, rows, columns in _windows(x.shape, kernel_size, stride, padding):
        divisor = kh * kw if count_include_pad else len(rows) * len(columns)
        out[b, ch, oy, ox] = x[b, ch, rows.start:rows.stop, columns.start:columns.stop].sum() / divisor
    return out


def avg_pool2d_backward(grad_out, x_shape, kernel_size, stride=None, padding=0, count_include_pad=True):
    """dx (N, C, H, W): each window's gradient, divided by its divisor, added to each of its pixels."""
    kh, kw = pair(kernel_size)
    dx = np.zeros(x_shape, dtype=grad_out.dtype)
    for b, ch, oy, ox, rows, columns in _windows(x_shape, kernel_size, stride, padding):
        divisor = kh * kw if count_include_pad else len(rows) * len(columns)
        dx[b, ch, rows.start:rows.stop, columns.start:columns.stop] += grad_out[b, ch, oy, ox] / divisor
    return dx


# ---- batch normalisation ---------------------------------------------------------------

def batch_norm(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm: x (N, C) or (N, C, H, W) -> (y, mean, var).

    Per channel, over the m = N (·H·W) values it holds:
        μ = Σ x / m,   σ² = Σ (x − μ)² / m   (biased),   x̂ = (x − μ) / √(σ² + eps),
        y = γ · x̂ + β.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
    x_hat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape), mean, var


def batch_norm_backward(grad_out, x, gamma, eps=1e-5):
    """-> (dx, dgamma, dbeta) of training-mode batch_norm, per channel over its m values:

        dβ = Σ g,   dγ = Σ g·x̂,
        dx = γ / √(σ² + eps) · (g − dβ/m − x̂ · dγ/m)

    (μ and σ² depend on every x of the channel: the two subtracted terms are the
    gradient flowing back through them.)
    """
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mean = x.mean(axis=axes)
    var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    dbeta = grad_out.sum(axis=axes)
    dgamma = (grad_out * x_hat).sum(axis=axes)
    dx = (gamma * inv_std).reshape(shape) * (grad_out - dbeta.reshape(shape) / m
                                             - x_hat * dgamma.reshape(shape) / m)
    return dx, dgamma, dbeta


def update_running_stats(running_mean, running_var, mean, var, m, momentum=0.1):
    """-> the new (running_mean, running_var) after one training batch of m values per channel.

    An exponential moving average; the variance enters unbiased, σ² · m / (m − 1),
    as in PyTorch (the normalisation itself used the biased σ²).
    """
    return ((1 - momentum) * running_mean + momentum * mean,
            (1 - momentum) * running_var + momentum * var * m / (m - 1))
