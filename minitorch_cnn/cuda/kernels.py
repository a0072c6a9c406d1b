"""Launch wrappers for the CUDA kernels in kernels/*.cu.

Each wrapper has the signature of the NumPy function it replaces in
minitorch_cnn/ops (conv.py: im2col, col2im; pool.py: the pooling steps),
takes and returns CuPy arrays, and launches one kernel:

    im2col(x, kernel_size, stride, padding, dilation)                  -> col
    col2im(col, x_shape, kernel_size, stride, padding, dilation)       -> dx
    max_pool2d_forward(x, kernel_size, stride, padding)                -> (out, argmax)
    max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding) -> dx
    avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad)       -> out
    avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding,
                        count_include_pad)                                       -> dx

Every size argument is an (h, w) pair of ints, already checked by the op
that calls the wrapper (ops/conv.py, ops/pool.py): a wrapper does not check
them again.  Arrays are made contiguous before the launch; the element type
is float32 or float64 (TypeError otherwise) and the output keeps it.  argmax is int32, the offset i*kw + j of
the winner inside its window.

A launch is a 1-D grid of 256-thread blocks, one thread per element of the
output (or of dx, for the backward kernels, which gather instead of
scattering).  Scalar arguments are passed as numpy.int32 / numpy.int64 so that
their size matches the `int` / `long long` parameters of the C signature.
"""
import numpy as np

from ..ops.pairs import conv_output_size
from .loader import get_kernel, name_expression

BLOCK = 256                # threads per block
_INT_MAX = 2**31 - 1       # the kernels index inside one image with C `int`


def _cupy():
    """CuPy, imported on the first launch only."""
    import cupy
    return cupy


# ---------------------------------------------------------------- checks ----
# The public ops (ops/conv.py, ops/pool.py) check every argument a user passes;
# a wrapper is reached only through their @cuda_twin functions, with (h, w) pairs
# of checked ints and shapes that fit.  What is left here is the kernels' own
# contract: float32/float64 elements (the only instantiations), contiguous arrays
# and per-image counts that fit the kernels' 32-bit ints.

def _float_input(cp, array, what, op):
    """`array` as a contiguous float32/float64 CuPy array."""
    if array.dtype not in (np.float32, np.float64):   # e.g. an integer conv2d, which the NumPy path runs
        raise TypeError(f"{op}: expected {what} of dtype float32 or float64, "
                        f"got {array.dtype}")
    return cp.ascontiguousarray(array)


def _check_fits_int(op, **counts):
    """The kernels index inside one image with 32-bit ints."""
    for name, count in counts.items():
        if count > _INT_MAX:
            raise ValueError(f"{op}: {name} = {count} exceeds the 32-bit index range "
                             f"of the CUDA kernels")


def _ints(*values):
    """Scalars for `int` kernel parameters."""
    return tuple(np.int32(v) for v in values)


def _launch(file, name, dtype, n_threads, args):
    """Run kernels/<file>'s `name`<dtype> with one thread per element."""
    if n_threads == 0:
        return
    kernel = get_kernel(file, name_expression(name, dtype))
    blocks = (n_threads + BLOCK - 1) // BLOCK
    kernel((blocks,), (BLOCK,), args)


# ------------------------------------------------------------ convolution ----

def im2col(x, kernel_size, stride, padding, dilation):
    """x (N, C, H, W) -> col (N*out_h*out_w, kh*kw*C), zeros for padding.

    Row (n, oy, ox), column (i, j, c) holds x[n, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw].
    """
    op = "im2col"
    cp = _cupy()
    x = _float_input(cp, x, "x", op)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    _check_fits_int(op, kh_kw_C=kh * kw * C, out_h_out_w=out_h * out_w, H_W=H * W)

    col = cp.empty((N * out_h * out_w, kh * kw * C), dtype=x.dtype)
    _launch("im2col.cu", "im2col", x.dtype, col.size,
            (x, col, np.int64(col.size))
            + _ints(C, H, W, out_h, out_w, kh, kw, sh, sw, ph, pw, dh, dw))
    return col


def col2im(col, x_shape, kernel_size, stride, padding, dilation):
    """col (N*out_h*out_w, kh*kw*C) or (N*out_h*out_w, kh*kw, C) -> dx (N, C, H, W), the adjoint of im2col."""
    op = "col2im"
    cp = _cupy()
    if col.ndim == 3:   # (rows, kh*kw, C) in any memory order, as Conv2d.backward passes it
        col = cp.ascontiguousarray(col).reshape(col.shape[0], -1)
    col = _float_input(cp, col, "col", op)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    # every thread reads col by this shape: a wrong one would read past its end
    assert col.shape == (N * out_h * out_w, kh * kw * C), (col.shape, x_shape)
    _check_fits_int(op, kh_kw_C=kh * kw * C, out_h_out_w=out_h * out_w, H_W=H * W)

    dx = cp.empty((N, C, H, W), dtype=col.dtype)
    _launch("im2col.cu", "col2im", col.dtype, dx.size,
            (col, dx, np.int64(dx.size))
            + _ints(C, H, W, out_h, out_w, kh, kw, sh, sw, ph, pw, dh, dw))
    return dx


# ---------------------------------------------------------------- pooling ----

def _pool_geometry(op, x_shape, kernel_size, stride, padding):
    """(N, C, H, W), (out_h, out_w) and the (kh, kw, sh, sw, ph, pw) ints the kernels take."""
    N, C, H, W = x_shape
    out_h, out_w = conv_output_size((H, W), kernel_size, stride, padding)
    _check_fits_int(op, out_h_out_w=out_h * out_w, H_W=H * W)
    return (N, C, H, W), (out_h, out_w), (*kernel_size, *stride, *padding)


def _grad_output(cp, grad_out, out_shape, op):
    grad_out = _float_input(cp, grad_out, "grad_out", op)
    assert grad_out.shape == out_shape, (grad_out.shape, out_shape)   # read by this shape
    return grad_out


def max_pool2d_forward(x, kernel_size, stride, padding, need_argmax=True):
    """x (N, C, H, W) -> out, argmax (N, C, out_h, out_w); padding acts as -inf.

    The kernel writes argmax in the same pass as the maxima, so it is always returned
    (need_argmax is there to match the NumPy function's signature)."""
    op = "max_pool2d_forward"
    cp = _cupy()
    x = _float_input(cp, x, "x", op)
    (N, C, H, W), (out_h, out_w), window = _pool_geometry(op, x.shape, kernel_size,
                                                          stride, padding)
    out = cp.empty((N, C, out_h, out_w), dtype=x.dtype)
    argmax = cp.empty((N, C, out_h, out_w), dtype=np.int32)
    _launch("pool.cu", "max_pool2d_forward", x.dtype, out.size,
            (x, out, argmax, np.int64(out.size)) + _ints(H, W, out_h, out_w, *window))
    return out, argmax


def max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding):
    """dx[p] = Σ grad_out over the windows whose argmax is p."""
    op = "max_pool2d_backward"
    cp = _cupy()
    (N, C, H, W), (out_h, out_w), window = _pool_geometry(op, x_shape, kernel_size,
                                                          stride, padding)
    grad_out = _grad_output(cp, grad_out, (N, C, out_h, out_w), op)
    assert argmax.shape == grad_out.shape, (argmax.shape, grad_out.shape)
    argmax = cp.ascontiguousarray(argmax, dtype=np.int32)   # the CPU path's may be int8

    dx = cp.empty((N, C, H, W), dtype=grad_out.dtype)
    _launch("pool.cu", "max_pool2d_backward", grad_out.dtype, dx.size,
            (grad_out, argmax, dx, np.int64(dx.size)) + _ints(H, W, out_h, out_w, *window))
    return dx


def avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad):
    """x (N, C, H, W) -> window means (N, C, out_h, out_w)."""
    op = "avg_pool2d_forward"
    cp = _cupy()
    x = _float_input(cp, x, "x", op)
    (N, C, H, W), (out_h, out_w), window = _pool_geometry(op, x.shape, kernel_size,
                                                          stride, padding)
    out = cp.empty((N, C, out_h, out_w), dtype=x.dtype)
    _launch("pool.cu", "avg_pool2d_forward", x.dtype, out.size,
            (x, out, np.int64(out.size))
            + _ints(H, W, out_h, out_w, *window, bool(count_include_pad)))
    return out


def avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding,
                        count_include_pad):
    """dx[p] = Σ over the windows containing p of grad_out / divisor."""
    op = "avg_pool2d_backward"
    cp = _cupy()
    (N, C, H, W), (out_h, out_w), window = _pool_geometry(op, x_shape, kernel_size,
                                                          stride, padding)
    grad_out = _grad_output(cp, grad_out, (N, C, out_h, out_w), op)
    dx = cp.empty((N, C, H, W), dtype=grad_out.dtype)
    _launch("pool.cu", "avg_pool2d_backward", grad_out.dtype, dx.size,
            (grad_out, dx, np.int64(dx.size))
            + _ints(H, W, out_h, out_w, *window, bool(count_include_pad)))
    return dx
