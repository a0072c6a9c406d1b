"""The CUDA kernels, run on the CPU, against the NumPy ops they replace.

No GPU is needed: kernels/*.cu is compiled with g++ (tests/host_emulation:
cuda_host.h maps the CUDA built-ins to C++, launch.h runs every thread of the
grid in turn) and called through ctypes.  The launch wrappers of
minitorch_cnn.cuda.kernels run unchanged: CuPy is swapped for NumPy (with an
`empty` that fills new arrays with NaN, so an element no thread writes shows)
and the loader for the host build, which checks every argument the wrapper
packs against the kernel's C parameter list.

References: the engine's NumPy functions (fast/conv.py, fast/pool.py), and the
textbook definitions in minitorch_cnn/reference.py, each kernel on its own and all
of them run inside the public ops (F.conv2d, F.max_pool2d, F.avg_pool2d) in place
of the NumPy functions.  reference.im2col's columns are (c, i, j), the kernels'
(i, j, c): tests/_layouts.py holds the permutation.  The max-pool kernel's argmax
is a window offset i·kw + j, the reference's a flat index y·W + x into the image.

Layouts (issue 13).  The im2col kernel writes col pixels fastest and hands on its
transpose; col2im reads the column gradient in place through strides, in whichever layout
the backward's GEMM wrote it (CPU: taps first; GPU: pixels fastest).  The tests at the end
run every layout and the GPU's Conv2d.backward (np_conv.pixels_fastest flipped) through the
emulation and count the copies the wrappers make: none.

Tolerances.  Copies (im2col, max-pool forward, argmax) must be bit-exact.  The
sums (col2im, the backward passes, avg-pool) add the same terms as the NumPy
code in another order; reordering a sum of n terms moves it by at most
2·γ(n)·Σ|terms| with γ(n) = n·ε/(1 − n·ε), so the tests bound the difference
elementwise by that, Σ|terms| being the same function applied to |input|.  On
integer-valued inputs every partial sum is exact and the results must agree
bit for bit.
"""
import math
import types

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import reference
from minitorch_cnn.backends import fast as fast_backend
from minitorch_cnn.cuda import kernels, loader
from minitorch_cnn.nn import functional as F
from minitorch_cnn.fast import conv as np_conv
from minitorch_cnn.fast import pool as np_pool

from _layouts import fast_columns
from host_emulation.build import build_host_module, gxx, poisoned_empty

pytestmark = pytest.mark.skipif(gxx() is None, reason="g++ is needed to build the host emulation")

DTYPES = [np.float32, np.float64]
SEEDS = range(12)


# ------------------------------------------------------------ the harness ----

@pytest.fixture(scope="session")
def host_modules(tmp_path_factory):
    """Every kernels/*.cu built once per session for the host."""
    out = tmp_path_factory.mktemp("host_kernels")
    return {source.name: build_host_module(source, out) for source in loader.kernel_sources()}


@pytest.fixture
def gpu(monkeypatch, host_modules):
    """minitorch_cnn.cuda.kernels with NumPy as CuPy and the host build as the loader."""
    fake_cupy = types.SimpleNamespace(ndarray=np.ndarray, ascontiguousarray=np.ascontiguousarray,
                                      empty=poisoned_empty)
    monkeypatch.setattr(kernels, "_cupy", lambda: fake_cupy)
    monkeypatch.setattr(kernels, "get_kernel",
                        lambda file, name: host_modules[file].get_function(name))
    return kernels


def reorder_tol(n_terms, dtype, abs_sums):
    """Elementwise bound on |sum − same sum in another order| (see the module doc)."""
    eps = np.finfo(dtype).eps
    gamma = n_terms * eps / (1 - n_terms * eps)
    return 2 * gamma * abs_sums + np.finfo(dtype).tiny


def assert_close_as_sums(actual, expected, abs_sums, n_terms):
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    tol = reorder_tol(n_terms, expected.dtype, abs_sums)
    bad = ~(np.abs(actual - expected) <= tol)
    assert not bad.any(), (f"{bad.sum()} elements differ beyond the reordering bound; first at "
                           f"{np.argwhere(bad)[0]}: {actual[bad][0]} vs {expected[bad][0]}")


def assert_identical(actual, expected):
    """Same shape, dtype and bits (NaN equal to NaN)."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_array_equal(actual, expected)


# ------------------------------------------------------ random geometries ----

def conv_case(seed):
    """A random (x_shape, kernel, stride, padding, dilation) with output >= 1x1."""
    rng = np.random.default_rng(1000 + seed)
    kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
    padding = tuple(int(v) for v in rng.integers(0, 4, size=2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
    hw = []
    for k, p, d in zip(kernel, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        hw.append(int(rng.integers(smallest, smallest + 8)))
    n = 1 if seed % 3 == 0 else int(rng.integers(2, 4))
    c = int(rng.integers(1, 4))
    return (n, c, *hw), kernel, stride, padding, dilation


def pool_case(seed):
    """A random (x_shape, kernel, stride, padding) with padding <= kernel // 2."""
    rng = np.random.default_rng(2000 + seed)
    kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    hw = [int(rng.integers(max(1, k - 2 * p), max(1, k - 2 * p) + 9))
          for k, p in zip(kernel, padding)]
    n = 1 if seed % 3 == 0 else int(rng.integers(2, 4))
    c = int(rng.integers(1, 4))
    return (n, c, *hw), kernel, stride, padding


def data(shape, dtype, rng, integers=False):
    if integers:   # small integers: ties in max-pool, exact sums everywhere
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------ im2col/col2im ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_im2col_matches_numpy(gpu, seed, dtype):
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    x = data(x_shape, dtype, np.random.default_rng(seed))
    col = gpu.im2col(x, kernel, stride, padding, dilation)
    assert_identical(col, np_conv.im2col(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("integers", [False, True])
def test_col2im_matches_numpy(gpu, seed, dtype, integers):
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    rng = np.random.default_rng(seed)
    shape = np_conv.im2col(np.zeros(x_shape, dtype), kernel, stride, padding, dilation).shape
    col = data(shape, dtype, rng, integers)
    dx = gpu.col2im(col, x_shape, kernel, stride, padding, dilation)
    expected = np_conv.col2im(col, x_shape, kernel, stride, padding, dilation)
    if integers:
        assert_identical(dx, expected)
    else:
        abs_sums = np_conv.col2im(np.abs(col), x_shape, kernel, stride, padding, dilation)
        assert_close_as_sums(dx, expected, abs_sums, kernel[0] * kernel[1])


@pytest.mark.parametrize("seed", range(4))
def test_im2col_col2im_by_definition(gpu, seed):
    """im2col against the formula; col2im as its adjoint: <im2col(x), g> = <x, col2im(g)>."""
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    rng = np.random.default_rng(seed)
    x = data(x_shape, np.float64, rng)
    col = gpu.im2col(x, kernel, stride, padding, dilation)
    assert_identical(col, fast_columns(reference.im2col(x, kernel, stride, padding, dilation), x_shape[1], kernel))
    g = data(col.shape, np.float64, rng)
    dx = gpu.col2im(g, x_shape, kernel, stride, padding, dilation)
    assert math.isclose(np.vdot(col, g), np.vdot(x, dx), rel_tol=1e-12, abs_tol=1e-12)


# ---------------------------------------------------------------- max-pool ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("integers", [False, True])
def test_max_pool2d_matches_numpy(gpu, seed, dtype, integers):
    x_shape, kernel, stride, padding = pool_case(seed)
    rng = np.random.default_rng(seed)
    x = data(x_shape, dtype, rng, integers)
    out, argmax = gpu.max_pool2d_forward(x, kernel, stride, padding)
    ref_out, ref_argmax = np_pool.max_pool2d_forward(x, kernel, stride, padding)
    assert_identical(out, ref_out)
    assert argmax.dtype == np.int32
    assert_identical(argmax, ref_argmax.astype(np.int32))   # the CPU may use int8

    g = data(out.shape, dtype, rng, integers)
    dx = gpu.max_pool2d_backward(g, argmax, x_shape, kernel, stride, padding)
    expected = np_pool.max_pool2d_backward(g, ref_argmax, x_shape, kernel, stride, padding)
    if integers:
        assert_identical(dx, expected)
    else:
        abs_sums = np_pool.max_pool2d_backward(np.abs(g), ref_argmax, x_shape, kernel, stride, padding)
        assert_close_as_sums(dx, expected, abs_sums, kernel[0] * kernel[1])


def windows(x_shape, kernel, stride, padding):
    """Every (n, c, oy, ox) and the list of its window's ((i, j), (y, x) or None)."""
    (N, C, H, W), (kh, kw), (sh, sw), (ph, pw) = x_shape, kernel, stride, padding
    oh, ow = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    for n in range(N):
        for c in range(C):
            for oy in range(oh):
                for ox in range(ow):
                    cells = []
                    for i in range(kh):
                        for j in range(kw):
                            y, xx = oy * sh - ph + i, ox * sw - pw + j
                            inside = 0 <= y < H and 0 <= xx < W
                            cells.append(((i, j), (y, xx) if inside else None))
                    yield (n, c, oy, ox), cells


def max_pool_by_definition(x, kernel, stride, padding):
    """Padding is -inf; the first maximum in row-major order wins; NaN wins (the last one)."""
    out_shape = x.shape[:2] + tuple((s + 2 * p - k) // st + 1
                                    for s, k, st, p in zip(x.shape[2:], kernel, stride, padding))
    out, argmax = np.empty(out_shape, x.dtype), np.empty(out_shape, np.int32)
    for (n, c, oy, ox), cells in windows(x.shape, kernel, stride, padding):
        values = [x[n, c, yx[0], yx[1]] if yx else -np.inf for _, yx in cells]
        nans = [k for k, v in enumerate(values) if np.isnan(v)]
        best = nans[-1] if nans else int(np.argmax(values))   # np.argmax: first maximum
        out[n, c, oy, ox], argmax[n, c, oy, ox] = values[best], best
    return out, argmax


def test_max_pool2d_ties_nan_inf_by_definition(gpu):
    rng = np.random.default_rng(7)
    for x_shape, kernel, stride, padding in [((2, 2, 7, 6), (3, 2), (1, 2), (1, 1)),
                                             ((1, 3, 5, 5), (2, 2), (1, 1), (1, 0)),
                                             ((1, 1, 6, 7), (4, 3), (2, 1), (2, 1))]:
        for dtype in DTYPES:
            x = rng.integers(-2, 2, size=x_shape).astype(dtype)
            x.flat[rng.choice(x.size, size=x.size // 6, replace=False)] = np.nan
            x.flat[rng.choice(x.size, size=x.size // 6, replace=False)] = -np.inf
            x.flat[rng.choice(x.size, size=x.size // 10, replace=False)] = np.inf
            out, argmax = gpu.max_pool2d_forward(x, kernel, stride, padding)
            ref_out, ref_argmax = max_pool_by_definition(x, kernel, stride, padding)
            assert_identical(out, ref_out)
            assert_identical(argmax, ref_argmax)
            np_out, np_argmax = np_pool.max_pool2d_forward(x, kernel, stride, padding)
            assert_identical(out, np_out)
            assert_identical(argmax, np_argmax.astype(np.int32))


# ---------------------------------------------------------------- avg-pool ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_numpy(gpu, seed, dtype, count_include_pad):
    x_shape, kernel, stride, padding = pool_case(seed)
    rng = np.random.default_rng(seed)
    n_terms = kernel[0] * kernel[1]
    for integers in (False, True):
        x = data(x_shape, dtype, rng, integers)
        out = gpu.avg_pool2d_forward(x, kernel, stride, padding, count_include_pad)
        expected = np_pool.avg_pool2d_forward(x, kernel, stride, padding, count_include_pad)
        if integers:   # exact sums divided by the same divisor
            assert_identical(out, expected)
        else:          # n additions and one division
            abs_sums = np_pool.avg_pool2d_forward(np.abs(x), kernel, stride, padding,
                                                  count_include_pad)
            assert_close_as_sums(out, expected, abs_sums, n_terms + 1)

        g = data(out.shape, dtype, rng, integers)
        dx = gpu.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad)
        expected = np_pool.avg_pool2d_backward(g, x_shape, kernel, stride, padding,
                                               count_include_pad)
        abs_sums = np_pool.avg_pool2d_backward(np.abs(g), x_shape, kernel, stride, padding,
                                               count_include_pad)
        # the terms g/divisor are rounded alike in both; only their order differs
        assert_close_as_sums(dx, expected, abs_sums, n_terms)


def test_avg_pool2d_by_definition(gpu):
    rng = np.random.default_rng(3)
    x_shape, kernel, stride, padding = (2, 2, 6, 7), (3, 4), (2, 1), (1, 2)
    x = data(x_shape, np.float64, rng)
    g = data((2, 2, 3, 8), np.float64, rng)
    for count_include_pad in (True, False):
        out = gpu.avg_pool2d_forward(x, kernel, stride, padding, count_include_pad)
        dx = gpu.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad)
        ref_out = reference.avg_pool2d(x, kernel, stride, padding, count_include_pad)
        ref_dx = reference.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad)
        np.testing.assert_allclose(out, ref_out, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-13, atol=1e-13)


# ------------------------------------------------------- the wrappers' side ----

def test_launch_geometry_and_contiguity(gpu, host_modules):
    """A 1-D grid of 256-thread blocks covering the output; views are made contiguous."""
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 11)).astype(np.float32)
    view = x.transpose(0, 1, 3, 2)               # not C-contiguous
    launches = host_modules["im2col.cu"].launches
    launches.clear()
    col = gpu.im2col(view, (2, 3), (1, 2), (1, 0), (2, 1))
    assert_identical(col, np_conv.im2col(np.ascontiguousarray(view), (2, 3), (1, 2), (1, 0), (2, 1)))
    (name, grid, block), = launches
    assert name == "im2col<float>" and block == (256,) and grid == (-(-col.size // 256),)


def test_wrappers_reject_what_the_kernels_cannot_run(gpu):
    """The ops check the arguments; a wrapper only refuses element types no kernel is
    instantiated for (an integer conv2d or max_pool2d reaches it on a GPU) and asserts the
    shapes its threads read by."""
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(TypeError, match="im2col: expected x of dtype float32 or float64, got int32"):
        gpu.im2col(x.astype(np.int32), (2, 2), (1, 1), (0, 0), (1, 1))
    with pytest.raises(TypeError, match="float32 or float64"):
        gpu.max_pool2d_forward(x.astype(np.float16), (2, 2), (2, 2), (0, 0))
    with pytest.raises(AssertionError):
        gpu.col2im(np.zeros((9, 3), np.float32), (1, 1, 4, 4), (2, 2), (1, 1), (0, 0), (1, 1))
    with pytest.raises(AssertionError):
        gpu.avg_pool2d_backward(np.zeros((1, 1, 3, 3), np.float32), (1, 1, 4, 4),
                                (2, 2), (2, 2), (0, 0), True)


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(mt.zeros(1, 1, 4, 4), mt.zeros(1, 1, 6, 1)), "conv2d: kernel size"),
    (lambda: F.conv2d(mt.zeros(1, 1, 4, 4), mt.zeros(1, 1, 2, 2), stride=0), "conv2d: stride must be positive"),
    (lambda: F.max_pool2d(mt.zeros(1, 1, 4, 4), 2, 1, 2), "max_pool2d: padding"),
    (lambda: F.avg_pool2d(mt.zeros(1, 1, 4, 4), 2, 1, (2, 0)), "avg_pool2d: padding"),
])
def test_on_kernels_the_op_still_refuses_bad_arguments(ops_on_kernels, call, message):
    """The checks the wrappers no longer repeat happen once, in the op, before any launch."""
    with pytest.raises(ValueError, match=message):
        call()
    assert ops_on_kernels() == set()


def test_empty_batch_launches_nothing(gpu, host_modules):
    x = np.zeros((0, 2, 5, 5), np.float64)
    launches = host_modules["pool.cu"].launches
    launches.clear()
    out, argmax = gpu.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
    assert out.shape == argmax.shape == (0, 2, 2, 2) and not launches


# ------------------------------------------------ against reference.py ----
# kernels/im2col.cu: im2col, col2im; kernels/pool.cu: max_pool2d_forward,
# max_pool2d_backward, avg_pool2d_forward, avg_pool2d_backward.  That is every
# kernel (test_every_kernel_is_held_to_the_reference checks the list).

REFERENCE_TESTED = {"im2col.cu": {"im2col", "col2im"},
                    "pool.cu": {"max_pool2d_forward", "max_pool2d_backward",
                                "avg_pool2d_forward", "avg_pool2d_backward"}}


def test_every_kernel_is_held_to_the_reference(host_modules):
    assert {name: set(module.names) for name, module in host_modules.items()} == REFERENCE_TESTED


def offsets_to_flat(argmax, x_shape, kernel, stride, padding):
    """The kernel's window offset i·kw + j -> reference.max_pool2d's flat index y·W + x."""
    (H, W), (kh, kw), (sh, sw), (ph, pw) = x_shape[2:], kernel, stride, padding
    oy = np.arange(argmax.shape[2]).reshape(-1, 1)
    ox = np.arange(argmax.shape[3]).reshape(1, -1)
    y = oy * sh - ph + argmax // kw
    x = ox * sw - pw + argmax % kw
    return (y * W + x).astype(np.int64)


def flat_to_offsets(argmax, kernel, stride, padding, width):
    """reference.max_pool2d's flat index -> the window offset the backward kernel takes."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oy = np.arange(argmax.shape[2]).reshape(-1, 1)
    ox = np.arange(argmax.shape[3]).reshape(1, -1)
    i = argmax // width - (oy * sh - ph)
    j = argmax % width - (ox * sw - pw)
    return (i * kw + j).astype(np.int32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_im2col_kernel_is_the_reference(gpu, seed, dtype):
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    x = data(x_shape, dtype, np.random.default_rng(seed))
    col = gpu.im2col(x, kernel, stride, padding, dilation)
    expected = reference.im2col(x, kernel, stride, padding, dilation)
    assert_identical(col, fast_columns(expected, x_shape[1], kernel))    # a copy: exact


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("integers", [False, True])
def test_col2im_kernel_is_the_reference(gpu, seed, dtype, integers):
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    rng = np.random.default_rng(seed)
    shape = reference.im2col(np.zeros(x_shape, dtype), kernel, stride, padding, dilation).shape
    col = data(shape, dtype, rng, integers)          # (c, i, j) columns
    dx = gpu.col2im(fast_columns(col, x_shape[1], kernel), x_shape, kernel, stride, padding, dilation)
    expected = reference.col2im(col, x_shape, kernel, stride, padding, dilation)
    if integers:
        assert_identical(dx, expected)
    else:   # the same sums, the kernel adding taps in (i, j) order, the reference by window
        abs_sums = reference.col2im(np.abs(col), x_shape, kernel, stride, padding, dilation)
        assert_close_as_sums(dx, expected, abs_sums, kernel[0] * kernel[1])


def pool_data(x_shape, dtype, rng, kind):
    x = data(x_shape, dtype, rng, integers=kind == "ties")
    if kind == "special":
        x.flat[rng.choice(x.size, size=max(1, x.size // 6), replace=False)] = -np.inf
        x.flat[rng.choice(x.size, size=x.size // 8, replace=False)] = np.nan
        x.flat[rng.choice(x.size, size=x.size // 10, replace=False)] = np.inf
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["normal", "ties", "special"])
def test_max_pool2d_kernels_are_the_reference(gpu, seed, dtype, kind):
    """Values and winners exact.  One documented difference: a window whose real pixels are
    all −inf beside the padding; the kernel scans the padding as −inf and keeps offset 0 (a
    padding cell), the reference (and torch) name the first real pixel.  MaxPool2d.forward
    corrects that after either backend (test_public_ops_on_the_kernels_are_the_reference)."""
    x_shape, kernel, stride, padding = pool_case(seed)
    rng = np.random.default_rng(seed)
    x = pool_data(x_shape, dtype, rng, kind)
    out, argmax = gpu.max_pool2d_forward(x, kernel, stride, padding)
    ref_out, ref_argmax = reference.max_pool2d(x, kernel, stride, padding)
    assert_identical(out, ref_out)
    real_winner = out != -np.inf
    np.testing.assert_array_equal(offsets_to_flat(argmax, x_shape, kernel, stride, padding)[real_winner],
                                  ref_argmax[real_winner])

    g = data(out.shape, dtype, rng, integers=True)   # exact sums where windows share a winner
    ref_offsets = flat_to_offsets(ref_argmax, kernel, stride, padding, x_shape[3])
    dx = gpu.max_pool2d_backward(g, ref_offsets, x_shape, kernel, stride, padding)
    assert_identical(dx, reference.max_pool2d_backward(g, ref_argmax, x_shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_kernels_are_the_reference(gpu, seed, dtype, count_include_pad):
    x_shape, kernel, stride, padding = pool_case(seed)
    rng = np.random.default_rng(seed)
    n_terms = kernel[0] * kernel[1]
    x = data(x_shape, dtype, rng)
    out = gpu.avg_pool2d_forward(x, kernel, stride, padding, count_include_pad)
    expected = reference.avg_pool2d(x, kernel, stride, padding, count_include_pad)
    abs_sums = reference.avg_pool2d(np.abs(x), kernel, stride, padding, count_include_pad)
    assert_close_as_sums(out, expected, abs_sums, n_terms + 1)    # n additions and one division
    g = data(out.shape, dtype, rng)
    dx = gpu.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad)
    expected = reference.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad)
    abs_sums = reference.avg_pool2d_backward(np.abs(g), x_shape, kernel, stride, padding, count_include_pad)
    assert_close_as_sums(dx, expected, abs_sums, n_terms)


@pytest.fixture
def ops_on_kernels(gpu, monkeypatch, host_modules):
    """The public ops with every @cuda_twin NumPy step replaced by its emulated kernel;
    returns a function naming the kernels launched so far.  The fast Functions call those
    steps, so the fast paths are on here even under MINITORCH_CNN_FAST=0."""
    monkeypatch.setattr(fast_backend, "enabled", True)
    for module in host_modules.values():
        module.launches.clear()
    for module, names in ((np_conv, ("im2col", "col2im")),
                          (np_pool, ("max_pool2d_forward", "max_pool2d_backward",
                                     "avg_pool2d_forward", "avg_pool2d_backward"))):
        for name in names:
            monkeypatch.setattr(module, name, getattr(gpu, name))
    return lambda: {name.split("<")[0] for module in host_modules.values() for name, _, _ in module.launches}


@pytest.mark.parametrize("seed", range(8))
def test_public_ops_on_the_kernels_are_the_reference(ops_on_kernels, seed):
    """F.conv2d / F.max_pool2d / F.avg_pool2d running the kernels, float64, against reference.py:
    forward and every gradient (the whole op as a GPU runs it, -inf windows included)."""
    rng = np.random.default_rng(seed)
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((3, x_shape[1]) + kernel), rng.standard_normal(3)
    tx, tw, tb = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, stride, padding, dilation)
    np.testing.assert_allclose(out.array, reference.conv2d(x, w, b, stride, padding, dilation), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(mt.tensor(g))
    for got, expected in zip((tx.grad, tw.grad, tb.grad), reference.conv2d_backward(g, x, w, stride, padding, dilation)):
        np.testing.assert_allclose(got.array, expected, rtol=1e-12, atol=1e-12)

    x_shape, kernel, stride, padding = pool_case(seed)
    x = pool_data(x_shape, np.float64, rng, "special")
    tx = mt.tensor(x, requires_grad=True)
    out = F.max_pool2d(tx, kernel, stride, padding)
    ref_out, ref_argmax = reference.max_pool2d(x, kernel, stride, padding)
    assert_identical(out.array, ref_out)
    g = rng.integers(1, 50, size=out.shape).astype(np.float64)
    out.backward(mt.tensor(g))
    assert_identical(tx.grad.array, reference.max_pool2d_backward(g, ref_argmax, x_shape))

    for count_include_pad in (True, False):
        x = rng.standard_normal(x_shape)
        tx = mt.tensor(x, requires_grad=True)
        out = F.avg_pool2d(tx, kernel, stride, padding, count_include_pad=count_include_pad)
        np.testing.assert_allclose(out.array, reference.avg_pool2d(x, kernel, stride, padding, count_include_pad),
                                   rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(mt.tensor(g))
        np.testing.assert_allclose(
            tx.grad.array, reference.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad),
            rtol=1e-12, atol=1e-12)
    assert ops_on_kernels() == set().union(*REFERENCE_TESTED.values())     # every kernel ran


def test_public_max_pool_on_the_kernel_routes_a_minus_inf_window_to_its_first_real_pixel(ops_on_kernels):
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 3, 3] = 1.0
    tx = mt.tensor(x, requires_grad=True)
    out = F.max_pool2d(tx, 3, 1, 1)
    ref_out, ref_argmax = reference.max_pool2d(x, 3, 1, 1)
    assert_identical(out.array, ref_out)
    g = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    out.backward(mt.tensor(g))
    assert_identical(tx.grad.array, reference.max_pool2d_backward(g, ref_argmax, x.shape))
    assert ops_on_kernels() == {"max_pool2d_forward", "max_pool2d_backward"}


# ----------------------------------- issue 13: layouts, coalescing, no copies ----

@pytest.fixture
def copies(gpu, monkeypatch):
    """Bytes of every copy the wrappers' cp.ascontiguousarray makes (a no-op call makes none)."""
    made = []
    fake = kernels._cupy()

    def spy(array, *args, **kwargs):
        result = np.ascontiguousarray(array, *args, **kwargs)
        if not np.shares_memory(result, array):
            made.append(result.nbytes)
        return result
    monkeypatch.setattr(kernels, "_cupy", lambda: types.SimpleNamespace(**{**vars(fake), "ascontiguousarray": spy}))
    return made


@pytest.mark.parametrize("seed", range(6))
def test_im2col_kernel_writes_the_pixels_fastest_block(gpu, seed):
    """col is the transpose of a contiguous (kh·kw·C, rows) block: the order in which the
    kernel's threads coalesce both their reads of x and their writes."""
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    x = data(x_shape, np.float32, np.random.default_rng(seed))
    col = gpu.im2col(x, kernel, stride, padding, dilation)
    assert col.T.flags.c_contiguous and col.shape[1] == kernel[0] * kernel[1] * x_shape[1]
    assert_identical(col, np_conv.im2col(x, kernel, stride, padding, dilation))


def gemm_layouts(col):
    """The column gradient (rows, kh·kw, groups, C/groups) in each layout a GEMM may write it,
    as the view col2im gets: CPU (kh·kw, rows, G, C/G); GPU (G, kh·kw, C/G, rows); rows-major."""
    cpu = np.ascontiguousarray(col.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    gpu_layout = np.ascontiguousarray(col.transpose(2, 1, 3, 0)).transpose(3, 1, 0, 2)
    return {"cpu": cpu, "gpu": gpu_layout, "rows": np.ascontiguousarray(col)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("groups", [1, 2, 3])
def test_col2im_reads_every_gemm_layout_in_place(gpu, copies, host_modules, monkeypatch, seed, dtype, groups):
    """The kernel reads the column gradient through its strides: the same dx from every layout,
    equal to the NumPy col2im (exact on integers), and the array the kernel gets IS the GEMM's
    output (no copy: its memory, its size)."""
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    x_shape = (x_shape[0], x_shape[1] * groups) + x_shape[2:]
    rng = np.random.default_rng(seed)
    rows = np_conv.im2col(np.zeros(x_shape, dtype), kernel, stride, padding, dilation).shape[0]
    col = data((rows, kernel[0] * kernel[1], groups, x_shape[1] // groups), dtype, rng, integers=True)
    expected = np_conv.col2im(col.reshape(rows, -1), x_shape, kernel, stride, padding, dilation)
    passed = []
    real_get_kernel = kernels.get_kernel
    monkeypatch.setattr(kernels, "get_kernel", lambda file, name: (
        lambda grid, block, args: passed.append(args[0]) or real_get_kernel(file, name)(grid, block, args)))
    for layout, view in gemm_layouts(col).items():
        dx = gpu.col2im(view, x_shape, kernel, stride, padding, dilation)
        assert_identical(dx, expected)
        assert np.shares_memory(passed[-1], view) and passed[-1].size == view.size, layout
    assert copies == []


def test_col2im_copies_only_a_view_it_cannot_read_in_place(gpu, copies):
    x_shape, kernel = (2, 3, 6, 6), (3, 3)
    col = np.random.default_rng(0).standard_normal((2 * 16 * 2, 27))[::2]   # every other row
    dx = gpu.col2im(col, x_shape, kernel, (1, 1), (0, 0), (1, 1))
    assert_identical(dx, np_conv.col2im(np.ascontiguousarray(col), x_shape, kernel, (1, 1), (0, 0), (1, 1)))
    assert copies == [col.nbytes]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_backward_in_the_gpu_layout_is_the_reference(ops_on_kernels, copies, monkeypatch, seed, groups):
    """Conv2d.backward as it runs on a GPU (the column gradient written pixels fastest, one
    GEMM per group) through the emulated kernels: the reference's gradients, and no copy of
    the column gradient on the way to the col2im kernel."""
    monkeypatch.setattr(np_conv, "pixels_fastest", lambda xp: True)
    rng = np.random.default_rng(seed)
    x_shape, kernel, stride, padding, dilation = conv_case(seed)
    x_shape = (x_shape[0], x_shape[1] * groups) + x_shape[2:]
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((2 * groups, x_shape[1] // groups) + kernel)
    b = rng.standard_normal(2 * groups)
    tx, tw, tb = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    np.testing.assert_allclose(out.array, reference.conv2d(x, w, b, stride, padding, dilation, groups),
                               rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(mt.tensor(g))
    expected = reference.conv2d_backward(g, x, w, stride, padding, dilation, groups)
    for got, want in zip((tx.grad, tw.grad, tb.grad), expected):
        np.testing.assert_allclose(got.array, want, rtol=1e-12, atol=1e-12)
    assert ops_on_kernels() == {"im2col", "col2im"}
    assert copies == []
