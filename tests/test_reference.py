"""Every fast op held to its textbook definition in minitorch_cnn/reference.py.

The fast ops (fast/conv.py, fast/pool.py, fast/norm.py) reorder memory, pick layouts by
shape, slice the batch, count instead of searching and fuse formulas; reference.py
computes the same numbers one window at a time.  Torch is not needed here.

Tolerances.  Pure copies must agree bit for bit: im2col (through the documented column
permutation), max pooling's values and the element each window routes to.  Sums of the
same terms in another order (col2im, pooling gradients) are exact on integer-valued
float64 data and agree to 1e-12 otherwise; products of different blockings (the
convolution's GEMMs, batch norm) agree to 1e-12 in float64 (relative, with an absolute
floor of 1e-12 for values near 0), never bit for bit.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_cnn as mt
from minitorch_cnn import reference
from minitorch_cnn.backends import fast as fast_backend
from minitorch_cnn.nn import functional as F
from minitorch_cnn.fast import conv as fast_conv

from _layouts import fast_columns, is_tap_major

TOL = dict(rtol=1e-12, atol=1e-12)


# ---- geometries --------------------------------------------------------------------------

def conv_case(seed):
    """A random (x_shape, weight_shape, stride, padding, dilation, groups), output >= 1×1."""
    rng = np.random.default_rng(seed)
    groups = int(rng.choice([1, 1, 2, 3]))
    c_per_group, o_per_group = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
    padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
    hw = []
    for k, p, d in zip(kernel, padding, dilation):
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        hw.append(int(rng.integers(smallest, smallest + 9)))
    n = int(rng.integers(1, 4))
    x_shape = (n, groups * c_per_group, *hw)
    w_shape = (groups * o_per_group, c_per_group, *kernel)
    return x_shape, w_shape, stride, padding, dilation, groups


# Hand-picked: LeNet-like first layers (one channel: the kernel-tap-major layout), many
# channels (channels last), strided, dilated, grouped, depthwise, 1×1.
CONV_CASES = [
    ((2, 1, 12, 11), (4, 1, 5, 5), (1, 1), (2, 2), (1, 1), 1),
    ((2, 1, 9, 10), (3, 1, 3, 3), (1, 1), (0, 0), (1, 1), 1),
    ((2, 2, 9, 16), (2, 2, 2, 3), (1, 1), (1, 0), (1, 2), 1),     # dilated columns, tap-major
    ((2, 6, 7, 7), (4, 6, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    ((1, 3, 8, 9), (4, 3, 3, 2), (2, 3), (1, 2), (1, 1), 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), (1, 2), (1, 1), (2, 1), 2),
    ((2, 3, 6, 7), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3),      # depthwise
    ((3, 4, 5, 6), (2, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1),
] + [conv_case(seed) for seed in range(20)]


def test_the_grid_exercises_both_im2col_layouts():
    layouts = set()
    for x_shape, w_shape, stride, padding, dilation, _ in CONV_CASES:
        col = fast_conv.im2col(np.zeros(x_shape), w_shape[2:], stride, padding, dilation)
        layouts.add(is_tap_major(col))
    assert layouts == {True, False}


# ---- im2col / col2im -----------------------------------------------------------------------

@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV_CASES)
def test_im2col_is_the_reference_with_columns_permuted(x_shape, w_shape, stride, padding, dilation, groups):
    x = np.random.default_rng(1).standard_normal(x_shape)
    kernel = w_shape[2:]
    col = fast_conv.im2col(x, kernel, stride, padding, dilation)
    expected = reference.im2col(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(col, fast_columns(expected, x_shape[1], kernel))   # a copy: exact


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV_CASES)
def test_col2im_is_the_reference(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(2)
    kernel, channels = w_shape[2:], x_shape[1]
    rows = reference.im2col(np.zeros(x_shape), kernel, stride, padding, dilation).shape
    # integer-valued: every partial sum is exact, whatever order the windows are added in
    for col in (rng.integers(-4, 5, size=rows).astype(np.float64), rng.standard_normal(rows)):
        dx = fast_conv.col2im(fast_columns(col, channels, kernel), x_shape, kernel, stride, padding, dilation)
        expected = reference.col2im(col, x_shape, kernel, stride, padding, dilation)
        if np.all(col == np.round(col)):
            np.testing.assert_array_equal(dx, expected)
        else:
            np.testing.assert_allclose(dx, expected, **TOL)


def test_col2im_takes_the_tap_major_view_conv_backward_passes():
    """Conv2d.backward hands col2im a (rows, kh·kw, C) view of a (kh·kw, rows, C) array."""
    rng = np.random.default_rng(3)
    x_shape, kernel, geometry = (2, 3, 7, 6), (3, 2), ((2, 1), (1, 1), (1, 2))
    rows = reference.im2col(np.zeros(x_shape), kernel, *geometry).shape[0]
    col = rng.integers(-4, 5, size=(rows, 3 * 6)).astype(np.float64)      # (c, i, j) columns
    taps_first = np.ascontiguousarray(fast_columns(col, 3, kernel).reshape(rows, 6, 3).transpose(1, 0, 2))
    dx = fast_conv.col2im(taps_first.transpose(1, 0, 2), x_shape, kernel, *geometry)
    np.testing.assert_array_equal(dx, reference.col2im(col, x_shape, kernel, *geometry))


# ---- conv2d ----------------------------------------------------------------------------------

def _conv_data(x_shape, w_shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0]))


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV_CASES)
def test_conv2d_forward_and_gradients_are_the_reference(x_shape, w_shape, stride, padding, dilation, groups):
    x, w, b = _conv_data(x_shape, w_shape, 4)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    tx, tw, tb = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, **args)
    expected = reference.conv2d(x, w, b, **args)
    np.testing.assert_allclose(out.data, expected, **TOL)
    g = np.random.default_rng(5).standard_normal(expected.shape)
    out.backward(mt.tensor(g))
    dx, dw, db = reference.conv2d_backward(g, x, w, **args)
    np.testing.assert_allclose(tx.grad.data, dx, **TOL)
    np.testing.assert_allclose(tw.grad.data, dw, **TOL)
    np.testing.assert_allclose(tb.grad.data, db, **TOL)


@pytest.mark.parametrize("case", CONV_CASES[:8])
@pytest.mark.parametrize("needs", ["x", "w", "b", "wb"])
def test_conv2d_one_gradient_at_a_time_is_the_reference(case, needs):
    """Each of the three gradients alone (the backward skips the GEMMs nobody asked for)."""
    x_shape, w_shape, stride, padding, dilation, groups = case
    x, w, b = _conv_data(x_shape, w_shape, 6)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    tx, tw, tb = mt.tensor(x, requires_grad="x" in needs), mt.tensor(w, requires_grad="w" in needs), \
        mt.tensor(b, requires_grad="b" in needs)
    out = F.conv2d(tx, tw, tb, **args)
    g = np.random.default_rng(7).standard_normal(out.shape)
    out.backward(mt.tensor(g))
    for tensor, expected, name in zip((tx, tw, tb), reference.conv2d_backward(g, x, w, **args), "xwb"):
        if name in needs:
            np.testing.assert_allclose(tensor.grad.data, expected, **TOL)
        else:
            assert tensor.grad is None


def test_conv2d_without_bias_is_the_reference():
    x, w, _ = _conv_data((2, 3, 8, 7), (4, 3, 3, 3), 8)
    tx, tw = mt.tensor(x, requires_grad=True), mt.tensor(w, requires_grad=True)
    out = F.conv2d(tx, tw, None, padding=1)
    np.testing.assert_allclose(out.data, reference.conv2d(x, w, None, padding=1), **TOL)
    g = np.ones(out.shape)
    out.backward(mt.tensor(g))
    dx, dw, _ = reference.conv2d_backward(g, x, w, padding=1)
    np.testing.assert_allclose(tx.grad.data, dx, **TOL)
    np.testing.assert_allclose(tw.grad.data, dw, **TOL)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV_CASES[:8])
@pytest.mark.parametrize("col_bytes", [1, 3000, 1 << 30])
def test_inference_conv_slicing_the_batch_is_the_reference(monkeypatch, x_shape, w_shape, stride, padding,
                                                           dilation, groups, col_bytes):
    """Under no_grad the forward convolves the batch in slices of INFERENCE_COL_BYTES of
    columns: one image at a time (1 byte), slices with a remainder, or all at once.  The fast
    Conv2d slices, so the fast paths are on here even under MINITORCH_CNN_FAST=0."""
    monkeypatch.setattr(fast_backend, "enabled", True)
    monkeypatch.setattr(fast_conv, "INFERENCE_COL_BYTES", col_bytes)
    x_shape = (7,) + x_shape[1:]   # 7 images: slices of 2 or 3 leave a remainder
    x, w, b = _conv_data(x_shape, w_shape, 9)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    with mt.no_grad():
        out = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), **args)
    np.testing.assert_allclose(out.data, reference.conv2d(x, w, b, **args), **TOL)
    plain = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), **args)    # no input needs a gradient
    np.testing.assert_allclose(plain.data, reference.conv2d(x, w, b, **args), **TOL)


def test_conv2d_float32_is_the_reference_within_float32_rounding():
    """float32 sums of C·kh·kw = 150 products: relative error well under 1e-5."""
    x, w, b = _conv_data((4, 6, 12, 12), (8, 6, 5, 5), 10)
    out = F.conv2d(mt.tensor(x.astype(np.float32)), mt.tensor(w.astype(np.float32)),
                   mt.tensor(b.astype(np.float32)), padding=2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, reference.conv2d(x, w, b, padding=2), rtol=1e-4, atol=1e-4)


# ---- pooling ---------------------------------------------------------------------------------

def pool_case(seed):
    """A random (x_shape, kernel, stride or None, padding) with padding <= kernel // 2."""
    rng = np.random.default_rng(100 + seed)
    kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
    stride = None if seed % 4 == 0 else tuple(int(v) for v in rng.integers(1, 4, size=2))
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    hw = [int(rng.integers(max(1, k - 2 * p), max(1, k - 2 * p) + 8)) for k, p in zip(kernel, padding)]
    return (int(rng.integers(1, 3)), int(rng.integers(1, 4)), *hw), kernel, stride, padding


POOL_CASES = [
    ((2, 3, 8, 8), (2, 2), None, (0, 0)),          # LeNet's pool: windows side by side
    ((2, 2, 7, 9), (3, 3), (2, 2), (1, 1)),        # overlapping, padded
    ((1, 2, 6, 7), (3, 2), (1, 2), (1, 1)),
    ((2, 1, 5, 5), (4, 3), (1, 1), (2, 1)),        # windows mostly padding
    ((1, 2, 9, 4), (2, 3), (3, 1), (0, 1)),        # stride above the kernel: pixels no window reads
    ((2, 3, 6, 9), (3, 3), None, (0, 0)),          # windows tile the input: backward skips the zero-fill
    ((2, 2, 7, 8), (2, 2), None, (0, 0)),          # side by side, but the last row is in no window
] + [pool_case(seed) for seed in range(16)]


def _pool_input(shape, rng, kind):
    if kind == "ties":          # small integers: many ties, exact sums
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    x = rng.standard_normal(shape)
    if kind == "special":       # NaN, -inf (whole windows of it beside the padding) and +inf
        x.flat[rng.choice(x.size, size=max(1, x.size // 7), replace=False)] = -np.inf
        x.flat[rng.choice(x.size, size=x.size // 9, replace=False)] = np.nan
        x.flat[rng.choice(x.size, size=x.size // 11, replace=False)] = np.inf
    return x


def _max_pool_check(x, kernel, stride, padding, g):
    tx = mt.tensor(x, requires_grad=True)
    out = F.max_pool2d(tx, kernel, stride, padding)
    expected, argmax = reference.max_pool2d(x, kernel, stride, padding)
    np.testing.assert_array_equal(out.data, expected)             # a selection: exact (NaN == NaN)
    out.backward(mt.tensor(g))
    dx = reference.max_pool2d_backward(g, argmax, x.shape)
    if np.all(np.isfinite(g)) and np.all(g == np.round(g)):
        np.testing.assert_array_equal(tx.grad.data, dx)
    else:
        np.testing.assert_allclose(tx.grad.data, dx, **TOL)
    return tx.grad.data, dx


@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOL_CASES)
@pytest.mark.parametrize("kind", ["normal", "ties", "special"])
def test_max_pool2d_output_and_routing_are_the_reference(x_shape, kernel, stride, padding, kind):
    rng = np.random.default_rng(11)
    x = _pool_input(x_shape, rng, kind)
    out_shape = reference.max_pool2d(x, kernel, stride, padding)[0].shape
    # integer-valued gradients: where overlapping windows share a winner their sum is exact,
    # so the element each window routes to shows bit for bit
    g = rng.integers(1, 50, size=out_shape).astype(np.float64)
    _max_pool_check(x, kernel, stride, padding, g)
    _max_pool_check(x, kernel, stride, padding, rng.standard_normal(out_shape))


def test_max_pool2d_window_of_minus_inf_beside_the_padding_routes_to_its_first_real_pixel():
    x = np.full((1, 1, 4, 4), -np.inf)
    x[0, 0, 3, 3] = 1.0
    grad, expected = _max_pool_check(x, 3, 1, 1, np.arange(1.0, 17.0).reshape(1, 1, 4, 4))
    assert grad[0, 0, 0, 0] == expected[0, 0, 0, 0] == 1 + 2 + 5 + 6   # the four windows at the corner


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_max_pool2d_non_finite_gradient_stays_at_its_argmax(bad):
    """g·[argmax = k] would spread NaN·0 = NaN over the other pixels; each window's NaN or inf
    gradient must land on its own winner only."""
    rng = np.random.default_rng(12)
    for kernel, stride in [(2, 2), (3, 1)]:
        x = rng.standard_normal((2, 2, 6, 6))
        out_shape = reference.max_pool2d(x, kernel, stride)[0].shape
        g = rng.standard_normal(out_shape)
        g[0, 1, 0, 1] = bad
        grad, expected = _max_pool_check(x, kernel, stride, 0, g)
        np.testing.assert_array_equal(np.isnan(grad), np.isnan(expected))


@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOL_CASES[:6])
def test_max_pool2d_without_gradient_is_the_reference(x_shape, kernel, stride, padding):
    """Inference skips the argmax passes."""
    x = _pool_input(x_shape, np.random.default_rng(13), "special")
    with mt.no_grad():
        out = F.max_pool2d(mt.tensor(x, requires_grad=True), kernel, stride, padding)
    np.testing.assert_array_equal(out.data, reference.max_pool2d(x, kernel, stride, padding)[0])


@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOL_CASES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_output_and_gradient_are_the_reference(x_shape, kernel, stride, padding, count_include_pad):
    rng = np.random.default_rng(14)
    x = rng.standard_normal(x_shape)
    tx = mt.tensor(x, requires_grad=True)
    out = F.avg_pool2d(tx, kernel, stride, padding, count_include_pad=count_include_pad)
    expected = reference.avg_pool2d(x, kernel, stride, padding, count_include_pad)
    np.testing.assert_allclose(out.data, expected, **TOL)
    g = rng.standard_normal(expected.shape)
    out.backward(mt.tensor(g))
    dx = reference.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad)
    np.testing.assert_allclose(tx.grad.data, dx, **TOL)


# ---- batch norm ------------------------------------------------------------------------------

BN_SHAPES = [(6, 3), (4, 3, 5), (4, 3, 5, 6), (2, 5, 3, 3), (3, 2, 1, 7)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_output_gradients_and_running_stats_are_the_reference(shape, affine):
    rng = np.random.default_rng(15)
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 2
    gamma, beta = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (np.ones(c), np.zeros(c))
    mean0, var0 = rng.standard_normal(c), rng.random(c) + 0.5
    running_mean, running_var = mt.tensor(mean0.copy()), mt.tensor(var0.copy())
    tx = mt.tensor(x, requires_grad=True)
    tw, tb = (mt.tensor(gamma, requires_grad=True), mt.tensor(beta, requires_grad=True)) if affine else (None, None)
    out = F.batch_norm(tx, running_mean, running_var, tw, tb, training=True, momentum=0.3, eps=1e-4)
    y, mean, var = reference.batch_norm(x, gamma, beta, eps=1e-4)
    np.testing.assert_allclose(out.data, y, **TOL)
    m = x.size // c
    new_mean, new_var = reference.update_running_stats(mean0, var0, mean, var, m, momentum=0.3)
    np.testing.assert_allclose(running_mean.data, new_mean, **TOL)
    np.testing.assert_allclose(running_var.data, new_var, **TOL)
    g = rng.standard_normal(shape)
    out.backward(mt.tensor(g))
    dx, dgamma, dbeta = reference.batch_norm_backward(g, x, gamma, eps=1e-4)
    # dx subtracts two channel sums from g: relative to |g|, not to a result that may be near 0
    np.testing.assert_allclose(tx.grad.data, dx, rtol=1e-11, atol=1e-11)
    if affine:
        np.testing.assert_allclose(tw.grad.data, dgamma, **TOL)
        np.testing.assert_allclose(tb.grad.data, dbeta, **TOL)


def test_batch_norm2d_layer_training_is_the_reference_over_several_steps():
    rng = np.random.default_rng(16)
    layer = mt.nn.BatchNorm2d(4).double()
    layer.weight.data[...] = rng.standard_normal(4)
    layer.bias.data[...] = rng.standard_normal(4)
    running_mean, running_var = np.zeros(4), np.ones(4)
    for _ in range(3):
        x = rng.standard_normal((3, 4, 5, 5)) * 2 - 1
        out = layer(mt.tensor(x))
        y, mean, var = reference.batch_norm(x, layer.weight.data, layer.bias.data, eps=layer.eps)
        np.testing.assert_allclose(out.data, y, **TOL)
        running_mean, running_var = reference.update_running_stats(running_mean, running_var, mean, var,
                                                                   x.size // 4, layer.momentum)
        np.testing.assert_allclose(layer.running_mean.data, running_mean, **TOL)
        np.testing.assert_allclose(layer.running_var.data, running_var, **TOL)
    assert int(layer.num_batches_tracked.item()) == 3


def _eval_reference(x, mean, var, gamma, beta, eps):
    """Evaluation mode by the formula: y = γ · (x − μ_running) / √(σ²_running + eps) + β."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape) * (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) + beta.reshape(shape)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_fused_scale_and_shift_is_the_reference_formula(shape, affine):
    """Under no_grad eval batch norm is one per-channel x·scale + shift; with a gradient it
    normalises step by step.  Both are the formula."""
    rng = np.random.default_rng(17)
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 1
    mean, var = rng.standard_normal(c), rng.random(c) + 0.5
    gamma, beta = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (np.ones(c), np.zeros(c))
    params = (mt.tensor(gamma), mt.tensor(beta)) if affine else (None, None)
    expected = _eval_reference(x, mean, var, gamma, beta, 1e-5)
    with mt.no_grad():
        fused = F.batch_norm(mt.tensor(x), mt.tensor(mean), mt.tensor(var), *params, training=False)
    np.testing.assert_allclose(fused.data, expected, **TOL)
    tx = mt.tensor(x, requires_grad=True)
    traced = F.batch_norm(tx, mt.tensor(mean), mt.tensor(var), *params, training=False)
    np.testing.assert_allclose(traced.data, expected, **TOL)
    g = rng.standard_normal(shape)
    traced.backward(mt.tensor(g))   # μ and σ² are constants: dx = g · γ / √(σ² + eps)
    np.testing.assert_allclose(tx.grad.data, _eval_reference(g, np.zeros(c), var, gamma, np.zeros(c), 1e-5), **TOL)


def test_batch_norm2d_layer_in_eval_mode_is_the_reference_formula():
    rng = np.random.default_rng(18)
    layer = mt.nn.BatchNorm2d(3).double()
    layer.weight.data[...] = rng.standard_normal(3)
    layer.bias.data[...] = rng.standard_normal(3)
    layer.running_mean.data[...] = rng.standard_normal(3)
    layer.running_var.data[...] = rng.random(3) + 0.5
    layer.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    expected = _eval_reference(x, layer.running_mean.data, layer.running_var.data,
                               layer.weight.data, layer.bias.data, layer.eps)
    with mt.no_grad():
        np.testing.assert_allclose(layer(mt.tensor(x)).data, expected, **TOL)
    np.testing.assert_allclose(layer(mt.tensor(x)).data, expected, **TOL)


# ---- hypothesis: geometries nobody picked by hand ------------------------------------------

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@st.composite
def conv_geometries(draw):
    groups = draw(st.sampled_from([1, 2, 3]))
    c_per_group, o_per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    hw = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 12))
               for k, p, d in zip(kernel, padding, dilation))
    x_shape = (draw(st.integers(1, 3)), groups * c_per_group) + hw
    return x_shape, (groups * o_per_group, c_per_group) + kernel, stride, padding, dilation, groups


@SETTINGS
@given(conv_geometries(), st.integers(0, 2**32 - 1))
def test_conv2d_hypothesis_is_the_reference(geometry, seed):
    x_shape, w_shape, stride, padding, dilation, groups = geometry
    x, w, b = _conv_data(x_shape, w_shape, seed)
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_array_equal(fast_conv.im2col(x, w_shape[2:], stride, padding, dilation),
                                  fast_columns(reference.im2col(x, w_shape[2:], stride, padding, dilation),
                                               x_shape[1], w_shape[2:]))
    tx, tw, tb = (mt.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, **args)
    np.testing.assert_allclose(out.data, reference.conv2d(x, w, b, **args), **TOL)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(mt.tensor(g))
    for got, expected in zip((tx, tw, tb), reference.conv2d_backward(g, x, w, **args)):
        np.testing.assert_allclose(got.grad.data, expected, **TOL)


@st.composite
def pool_geometries(draw):
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    hw = tuple(draw(st.integers(max(1, k - 2 * p), 11)) for k, p in zip(kernel, padding))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + hw, kernel, stride, padding


@SETTINGS
@given(pool_geometries(), st.sampled_from(["normal", "ties", "special"]), st.booleans(), st.integers(0, 2**32 - 1))
def test_pooling_hypothesis_is_the_reference(geometry, kind, count_include_pad, seed):
    x_shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = _pool_input(x_shape, rng, kind)
    out_shape = reference.max_pool2d(x, kernel, stride, padding)[0].shape
    _max_pool_check(x, kernel, stride, padding, rng.integers(1, 50, size=out_shape).astype(np.float64))
    x = rng.standard_normal(x_shape)
    tx = mt.tensor(x, requires_grad=True)
    out = F.avg_pool2d(tx, kernel, stride, padding, count_include_pad=count_include_pad)
    np.testing.assert_allclose(out.data, reference.avg_pool2d(x, kernel, stride, padding, count_include_pad), **TOL)
    g = rng.standard_normal(out.shape)
    out.backward(mt.tensor(g))
    np.testing.assert_allclose(
        tx.grad.data, reference.avg_pool2d_backward(g, x_shape, kernel, stride, padding, count_include_pad), **TOL)
