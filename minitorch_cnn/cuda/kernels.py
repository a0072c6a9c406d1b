"""Launch wrappers for the CUDA kernels in kernels/*.cu.

Each wrapper has the signature of the NumPy function it replaces in
minitorch_cnn/fast/conv.py (im2col, col2im) and minitorch_cnn/fast/pool.py (the pooling steps),
takes and returns CuPy arrays, and launches one kernel:

    im2col(x, kernel_size, stride, padding, dilation)                  -> col (a transposed view)
    col2im(col, x_shape, kernel_size, stride, padding, dilation)       -> dx  (col in any memory order)
    max_pool2d_forward(x, kernel_size, stride, padding)                -> (out, argmax)
    max_pool2d_backward(grad_out, argmax, x_shape, kernel_size, stride, padding) -> dx
    avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad)       -> out
    avg_pool2d_backward(grad_out, x_shape, kernel_size, stride, padding,
                        count_include_pad)                                       -> dx

Every size argument is an (h, w) pair of ints, already checked by the public op
(ops/conv.py, ops/pool.py) whose fast Function calls the wrapper: a wrapper does not check
them again.  Arrays are made contiguous before the launch (col2im's col is read in
place through its strides instead: it is as large as im2col's output); the element type
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

def _float_input(cp, array, what, op, contiguous=True):
    """`array` as a float32/float64 CuPy array, made contiguous unless told not to."""
    if array.dtype not in (np.float32, np.float64):   # e.g. an integer conv2d, which the NumPy path runs
        raise TypeError(f"{op}: expected {what} of dtype float32 or float64, "
                        f"got {array.dtype}")
    return cp.ascontiguousarray(array) if contiguous else array


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
    The kernel writes the (kh*kw*C, rows) array and col is its transpose, a view: that
    order lets the kernel coalesce its reads and its writes, and the GEMMs of
    fast/conv.py take the transposed operand without a copy (cuBLAS's transpose flag).
    """
    op = "im2col"
    cp = _cupy()
    x = _float_input(cp, x, "x", op)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    _check_fits_int(op, kh_kw_C=kh * kw * C, out_h_out_w=out_h * out_w, H_W=H * W)

    rows = N * out_h * out_w
    col_t = cp.empty((kh * kw * C, rows), dtype=x.dtype)
    _launch("im2col.cu", "im2col", x.dtype, col_t.size,
            (x, col_t, np.int64(col_t.size), np.int64(rows))
            + _ints(C, H, W, out_h, out_w, kw, sh, sw, ph, pw, dh, dw))
    return col_t.T


def _in_place_block(cp, array):
    """(block, element strides of `array`): `block` is `array`'s memory as a C-contiguous
    array (its axes permuted), so the kernel can read `array` through the strides.  A
    view that is no permutation of a contiguous array (a slice, negative strides) is
    copied first; the layouts Conv2d.backward passes never are."""
    order = sorted(range(array.ndim), key=lambda axis: -array.strides[axis])
    expected = array.itemsize      # checked here, not by flags: size-1 axes may have any stride
    for axis in reversed(order):
        if array.shape[axis] != 1:
            if array.strides[axis] != expected:
                array = cp.ascontiguousarray(array)
                order = list(range(array.ndim))
                break
            expected *= array.shape[axis]
    return array.transpose(order), tuple(s // array.itemsize for s in array.strides)


def col2im(col, x_shape, kernel_size, stride, padding, dilation):
    """col -> dx (N, C, H, W), the adjoint of im2col.  col is the (N*out_h*out_w, kh*kw*C)
    matrix, or the same as (N*out_h*out_w, kh*kw, C) or (N*out_h*out_w, kh*kw, groups,
    C/groups), in any memory order: the kernel reads it in place through its strides."""
    op = "col2im"
    cp = _cupy()
    col = _float_input(cp, col, "col", op, contiguous=False)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    out_h, out_w = conv_output_size((H, W), kernel_size, stride, padding, dilation)
    rows, taps = N * out_h * out_w, kh * kw
    # every thread reads col by this shape: a wrong one would read past its end
    if col.ndim == 4:
        assert col.shape[:2] == (rows, taps) and col.shape[2] * col.shape[3] == C, (col.shape, x_shape)
    else:
        assert col.shape in ((rows, taps * C), (rows, taps, C)), (col.shape, x_shape)
    _check_fits_int(op, kh_kw_C=taps * C, out_h_out_w=out_h * out_w, H_W=H * W)

    block, strides = _in_place_block(cp, col)
    if col.ndim == 2:       # columns (tap, channel): one group
        strides, per_group = (strides[0], C * strides[1], 0, strides[1]), C
    elif col.ndim == 3:
        strides, per_group = (strides[0], strides[1], 0, strides[2]), C
    else:
        per_group = col.shape[3]
    dx = cp.empty((N, C, H, W), dtype=col.dtype)
    _launch("im2col.cu", "col2im", col.dtype, dx.size,
            (block, dx, np.int64(dx.size)) + tuple(np.int64(s) for s in strides)
            + _ints(C, per_group, H, W, out_h, out_w, kh, kw, sh, sw, ph, pw, dh, dw))
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
