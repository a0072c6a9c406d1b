"""core/conv.py, the plain convolution, against the fast one (fast/conv.py) and the definition
(minitorch_cnn/reference.py).

Through the public F.conv2d in both modes (float64, every input requiring grad) the values and
the gradients dx, dW, db agree to 1e-12; in float32 to ~1e-5.  core im2col is reference.im2col
bit for bit (the same (c, i, j) columns), and core col2im its adjoint as reference.col2im is.
Torch is not needed here.
"""
import itertools

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import reference
from minitorch_cnn.backends import fast
from minitorch_cnn.core import conv as core_conv
from minitorch_cnn.fast import conv as fast_conv
from minitorch_cnn.nn import functional as F
from _modes import TOL, assert_same_run



def geometry(batch, c_per_group, o_per_group, hw, kernel, stride, padding, dilation, groups):
    return (batch, c_per_group * groups) + hw, (o_per_group * groups, c_per_group) + kernel, \
        stride, padding, dilation, groups


# (x_shape, w_shape, stride, padding, dilation, groups): a hand-picked list (LeNet's layers,
# grouped, depthwise, dilated, strided, non-square, 1×1), then a product grid.
CASES = [
    ((2, 1, 12, 11), (4, 1, 5, 5), (1, 1), (2, 2), (1, 1), 1),
    ((2, 6, 14, 14), (16, 6, 5, 5), (1, 1), (0, 0), (1, 1), 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), (1, 2), (1, 1), (2, 1), 2),
    ((2, 3, 6, 7), (3, 1, 3, 3), (1, 1), (1, 1), (1, 1), 3),      # depthwise
    ((1, 6, 7, 10), (9, 2, 2, 3), (2, 1), (2, 1), (1, 2), 3),
    ((3, 4, 5, 6), (2, 4, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    ((1, 2, 4, 4), (2, 2, 4, 4), (1, 1), (0, 0), (1, 1), 1),       # one window
] + [geometry(*params) for params in itertools.product(
    [1, 2], [1, 3], [2], [(7, 6)], [(1, 1), (3, 3), (2, 3)], [(1, 1), (2, 2), (2, 1)],
    [(0, 0), (1, 1), (2, 1)], [(1, 1), (2, 2)], [1, 2, 3])]


def run(x, w, b, stride, padding, dilation, groups, enabled):
    """out, its grad_fn, and (dx, dW, db) for a random upstream gradient, in one mode."""
    tensors = [None if a is None else mt.tensor(a, requires_grad=True) for a in (x, w, b)]
    with fast.flags(enabled=enabled):
        out = F.conv2d(*tensors, stride=stride, padding=padding, dilation=dilation, groups=groups)
        grad = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
        out.backward(mt.tensor(grad))
    return out.data, out.grad_fn, [None if t is None else t.grad.data for t in tensors]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CASES)
def test_core_conv2d_is_the_fast_one(x_shape, w_shape, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(sum(x_shape + w_shape + stride + padding + dilation))
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0]) if bias else None
    args = stride, padding, dilation, groups
    core_out, core_fn, core_grads = run(x, w, b, *args, enabled=False)
    fast_out, fast_fn, fast_grads = run(x, w, b, *args, enabled=True)
    assert core_fn is core_conv.Conv2d and fast_fn is fast_conv.Conv2d
    assert core_fn.__name__ == fast_fn.__name__ == "Conv2d"
    assert_same_run(core_out, core_grads, fast_out, fast_grads)
    np.testing.assert_allclose(core_out, reference.conv2d(x, w, b, *args), **TOL)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CASES[:7])
def test_core_conv2d_backward_is_the_reference(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    args = stride, padding, dilation, groups
    tensors = [mt.tensor(a, requires_grad=True) for a in (x, w, b)]
    with fast.flags(enabled=False):
        out = F.conv2d(*tensors, *args)
    grad = rng.standard_normal(out.shape)
    out.backward(mt.tensor(grad))
    for tensor, expected in zip(tensors, reference.conv2d_backward(grad, x, w, *args)):
        np.testing.assert_allclose(tensor.grad.data, expected, **TOL)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CASES[:7])
def test_core_and_fast_agree_in_float32(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(x_shape, np.float32), rng.standard_normal(w_shape, np.float32)
    b = rng.standard_normal(w_shape[0], np.float32)
    core = run(x, w, b, stride, padding, dilation, groups, enabled=False)
    faster = run(x, w, b, stride, padding, dilation, groups, enabled=True)
    assert core[0].dtype == faster[0].dtype == np.float32
    np.testing.assert_allclose(core[0], faster[0], rtol=1e-5, atol=1e-5)
    for core_grad, fast_grad in zip(core[2], faster[2]):
        assert core_grad.dtype == np.float32
        np.testing.assert_allclose(core_grad, fast_grad, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CASES)
def test_im2col_and_col2im_are_the_reference(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(3)
    x, kernel = rng.standard_normal(x_shape), w_shape[2:]
    col = core_conv.im2col(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(col, reference.im2col(x, kernel, stride, padding, dilation))
    grad_col = rng.standard_normal(col.shape)
    dx = core_conv.col2im(grad_col, x_shape, kernel, stride, padding, dilation)
    np.testing.assert_allclose(dx, reference.col2im(grad_col, x_shape, kernel, stride, padding, dilation), **TOL)
    # the adjoint: <im2col(x), c> = <x, col2im(c)>
    np.testing.assert_allclose(np.sum(col * grad_col), np.sum(x * dx), **TOL)


def test_im2col_columns_are_c_i_j():
    """Chapter 4's two-channel example: channel 0's window, then channel 1's."""
    x = np.arange(12.0).reshape(1, 2, 2, 3)
    np.testing.assert_array_equal(core_conv.im2col(x, (2, 2), (1, 1), (0, 0), (1, 1)),
                                  [[0, 1, 3, 4, 6, 7, 9, 10], [1, 2, 4, 5, 7, 8, 10, 11]])


@pytest.mark.parametrize("in_hw, kernel, stride, padding, dilation", [
    ((28, 28), (5, 5), (1, 1), (0, 0), (1, 1)), ((7, 6), (3, 2), (2, 1), (1, 2), (2, 1)),
    ((4, 4), (2, 2), (1, 1), (1, 1), (2, 2)), ((5, 9), (1, 3), (3, 2), (0, 1), (1, 3))])
def test_output_size_is_the_reference(in_hw, kernel, stride, padding, dilation):
    expected = tuple(reference.output_size(*args) for args in zip(in_hw, kernel, stride, padding, dilation))
    assert core_conv.output_size(in_hw, kernel, stride, padding, dilation) == expected
    if dilation == (1, 1):
        assert core_conv.output_size(in_hw, kernel, stride, padding) == expected


def test_the_fast_conv2d_replaces_the_core_one():
    assert fast.replacements()[core_conv.Conv2d] is fast_conv.Conv2d
    with fast.flags(enabled=False):
        assert fast.choose(core_conv.Conv2d) is core_conv.Conv2d
    with fast.flags(enabled=True):
        assert fast.choose(core_conv.Conv2d) is fast_conv.Conv2d


@pytest.mark.parametrize("x_shape, w_shape", [((0, 4, 5, 5), (6, 2, 3, 3)), ((2, 0, 5, 5), (4, 0, 3, 3))])
def test_an_empty_batch_and_no_input_channel_read_the_same_in_both_modes(x_shape, w_shape):
    """The core has no case for them: an empty batch is empty matrices; with no input channel
    F.conv2d keeps torch's (N, 0, out_h, out_w) instead of the core's bias-filled output."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    groups = 2 if x_shape[1] else 1
    core_out, _, core_grads = run(x, w, b, (1, 1), (1, 1), (1, 1), groups, enabled=False)
    fast_out, _, fast_grads = run(x, w, b, (1, 1), (1, 1), (1, 1), groups, enabled=True)
    assert core_out.shape == fast_out.shape == (x_shape[0], w_shape[0] if x_shape[1] else 0, 5, 5)
    for core_grad, fast_grad in zip(core_grads, fast_grads):
        np.testing.assert_array_equal(core_grad, fast_grad)
