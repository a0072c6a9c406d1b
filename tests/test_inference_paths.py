"""Ops that take a shortcut when no gradient is needed (under no_grad, or on inputs that
do not require grad) must give the same outputs as PyTorch and as their training path."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F

torch = pytest.importorskip("torch", reason="needs torch: the inference paths are checked against torch's DeepCNN")


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10),
                                         (np.float32, 1e-5)])  # float32: x·scale + shift rounds differently
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_eval_folded_matches_torch(dtype, rtol, shape, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype) * 3 + 1
    mean, var = rng.standard_normal(3).astype(dtype), rng.random(3).astype(dtype) + 0.5
    w, b = (rng.standard_normal(3).astype(dtype) for _ in range(2)) if affine else (None, None)
    expected = torch.nn.functional.batch_norm(
        torch.from_numpy(x), torch.from_numpy(mean), torch.from_numpy(var),
        None if w is None else torch.from_numpy(w), None if b is None else torch.from_numpy(b),
        training=False).numpy()
    with mt.no_grad():
        folded = F.batch_norm(mt.tensor(x), mt.tensor(mean), mt.tensor(var),
                              None if w is None else mt.tensor(w), None if b is None else mt.tensor(b))
    traced = F.batch_norm(mt.tensor(x, requires_grad=True), mt.tensor(mean), mt.tensor(var),
                          None if w is None else mt.tensor(w), None if b is None else mt.tensor(b))
    np.testing.assert_allclose(folded.data, expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(traced.data, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1))])
def test_max_pool_without_grad_equals_with_grad(kernel, stride, padding):
    x = np.random.default_rng(1).integers(-3, 4, (2, 3, 9, 8)).astype(np.float64)  # many ties
    with mt.no_grad():
        plain = F.max_pool2d(mt.tensor(x), kernel, stride, padding)
    traced = F.max_pool2d(mt.tensor(x, requires_grad=True), kernel, stride, padding)
    expected = torch.nn.functional.max_pool2d(torch.from_numpy(x), kernel, stride, padding).numpy()
    np.testing.assert_array_equal(plain.data, expected)
    np.testing.assert_array_equal(traced.data, expected)


def test_model_eval_under_no_grad_matches_torch():
    from torch_models import DeepCNN as TorchDeepCNN
    mt.manual_seed(0)
    ours = mt.models.DeepCNN().double()
    x = np.random.default_rng(2).standard_normal((8, 1, 28, 28))
    for _ in range(3):                       # give BatchNorm non-trivial running statistics
        ours(mt.tensor(x))
    theirs = TorchDeepCNN().double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    ours.eval(), theirs.eval()
    with mt.no_grad():
        got = ours(mt.tensor(x)).data
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, weight, stride, padding, groups", [
    ((7, 1, 12, 11), (4, 1, 5, 5), 1, 2, 1),     # one input channel: kernel-tap-major columns
    ((7, 4, 9, 8), (6, 4, 3, 3), 1, 1, 1),
    ((5, 4, 9, 8), (6, 2, 3, 2), 2, (1, 0), 2),
])
@pytest.mark.parametrize("budget", [1, 3000])   # one image per slice; a few images per slice
def test_conv_in_batch_slices_matches_whole_batch_and_torch(monkeypatch, shape, weight, stride,
                                                           padding, groups, budget):
    """Without a graph, conv2d convolves the batch a few images at a time (INFERENCE_COL_BYTES):
    the result must not depend on where the batch is cut."""
    from minitorch_cnn.backends import fast as fast_backend
    from minitorch_cnn.fast import conv
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(shape), rng.standard_normal(weight)
    b = rng.standard_normal(weight[0])
    traced = F.conv2d(mt.tensor(x), mt.tensor(w, requires_grad=True), mt.tensor(b),
                      stride=stride, padding=padding, groups=groups)
    monkeypatch.setattr(fast_backend, "enabled", True)   # the fast Conv2d slices, even under MINITORCH_CNN_FAST=0
    monkeypatch.setattr(conv, "INFERENCE_COL_BYTES", budget)
    with mt.no_grad():
        sliced = F.conv2d(mt.tensor(x), mt.tensor(w, requires_grad=True), mt.tensor(b),
                          stride=stride, padding=padding, groups=groups)
    expected = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                                          stride=stride, padding=padding, groups=groups).numpy()
    # Not bit for bit: a slice's GEMM is smaller than the whole batch's, and OpenBLAS blocks
    # (and, with AVX-512 kernels, rounds) products of different sizes differently.  Both are
    # sums of the same kh·kw·C float64 products, so they agree to a few ulps of the result.
    np.testing.assert_allclose(sliced.data, traced.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sliced.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1)])
def test_max_pool_routes_non_finite_gradients_like_torch(kernel, stride, padding):
    """Max-pool's backward multiplies by the argmax mask when the gradient is finite; an
    inf or NaN gradient must still reach only its window's argmax, as in PyTorch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 8, 8))
    tx = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.max_pool2d(tx, kernel, stride, padding)
    grad = rng.standard_normal(tuple(out.shape))
    grad[0, 0, 1, 1], grad[1, 2, 0, 2] = np.nan, np.inf
    out.backward(torch.from_numpy(grad))
    mx = mt.tensor(x, requires_grad=True)
    F.max_pool2d(mx, kernel, stride, padding).backward(mt.tensor(grad))
    # NaN where torch has NaN, and nowhere else (overlapping windows add in another order)
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-12, atol=0, equal_nan=True)
