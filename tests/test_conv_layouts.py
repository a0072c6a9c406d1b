"""im2col picks its memory layout by shape (channels last for many channels, kernel-tap
major for few); both layouts must hold the same matrix, and col2im must stay its adjoint."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import reference
from minitorch_cnn.nn import functional as F
from minitorch_cnn.fast.conv import col2im, im2col

from _layouts import fast_columns, is_tap_major


def im2col_by_definition(x, kernel, stride, padding, dilation):
    """reference.im2col (the definition, one window at a time), columns in fast/conv.py's (i, j, c) order."""
    return fast_columns(reference.im2col(x, kernel, stride, padding, dilation), x.shape[1], kernel)


CASES = [  # shape, kernel, stride, padding, dilation
    ((2, 1, 9, 8), (5, 5), (1, 1), (2, 2), (1, 1)),   # first layer: kernel-tap major
    ((2, 1, 9, 8), (3, 3), (2, 2), (1, 1), (1, 1)),   # strided: runs of 1, channels last
    ((2, 1, 11, 10), (3, 2), (1, 1), (0, 1), (2, 1)),  # dilated, non-square
    ((2, 2, 9, 12), (2, 3), (1, 2), (1, 0), (1, 2)),
    ((2, 6, 7, 7), (3, 3), (1, 1), (1, 1), (1, 1)),   # many channels: channels last
    ((1, 3, 5, 6), (1, 1), (1, 1), (0, 0), (1, 1)),
]


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", CASES)
def test_im2col_matches_its_definition(shape, kernel, stride, padding, dilation):
    x = np.random.default_rng(0).standard_normal(shape)
    col = im2col(x, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(col, im2col_by_definition(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", CASES)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, padding, dilation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    col = rng.standard_normal(im2col_by_definition(x, kernel, stride, padding, dilation).shape)
    lhs = np.sum(im2col(x, kernel, stride, padding, dilation) * col)
    rhs = np.sum(x * col2im(col, shape, kernel, stride, padding, dilation))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_layout_follows_the_channel_count():
    rng = np.random.default_rng(2)
    first = im2col(rng.standard_normal((2, 1, 28, 28)), (5, 5), (1, 1), (2, 2), (1, 1))
    later = im2col(rng.standard_normal((2, 16, 14, 14)), (3, 3), (1, 1), (1, 1), (1, 1))
    assert is_tap_major(first)             # (kh·kw·C, rows) in memory
    assert later.flags.c_contiguous        # (rows, kh·kw·C) in memory


def test_both_layouts_appear_in_the_cases():
    """The cases above reach both layouts (else the first test would check only one)."""
    layouts = {is_tap_major(im2col(np.zeros(case[0]), *case[1:])) for case in CASES}
    assert layouts == {True, False}


@pytest.mark.parametrize("kernel, padding, stride", [(5, 2, 1), (3, 1, 1), (3, 1, 2)])
def test_first_layer_conv_matches_torch_float32(kernel, padding, stride):
    """The MNIST models' first convolution (one input channel) against torch, weights' and
    bias' gradients included, with and without an input gradient."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    w = rng.standard_normal((6, 1, kernel, kernel)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    expected = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    grad = rng.standard_normal(tuple(expected.shape)).astype(np.float32)
    expected.backward(torch.from_numpy(grad))
    for x_needs_grad in (True, False):
        mx = mt.tensor(x, requires_grad=x_needs_grad)
        mw, mb = mt.tensor(w, requires_grad=True), mt.tensor(b, requires_grad=True)
        out = F.conv2d(mx, mw, mb, stride=stride, padding=padding)
        out.backward(mt.tensor(grad))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(mw.grad.data, tw.grad.numpy(), rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(mb.grad.data, tb.grad.numpy(), rtol=1e-5, atol=1e-3)
        if x_needs_grad:
            np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
        else:
            assert mx.grad is None
