"""Autograd semantics, as PyTorch defines them: accumulation, graph lifetime, no_grad,
detach, retain_grad, deep graphs and skipping gradients nobody asked for."""
import gc

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip


def leaf(values, dtype=np.float64):
    return mt.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- accumulation ----------------------------------------------------------

def test_shared_input_gradients_add_up():
    x = leaf([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.data + 1)


@needs_torch
def test_diamond_graph_matches_torch():
    """x feeds two branches that meet again, and one branch uses x twice more."""
    data = np.array([[0.5, -1.5], [2.0, 0.25]])

    def f(x):
        a = x.exp()
        b = x * 3
        return ((a * b + a / (b + 10)) * x).sum()
    x, tx = leaf(data), torch.tensor(data, requires_grad=True)
    f(x).backward()
    f(tx).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_intermediate_used_twice_gets_the_sum():
    x = leaf([2.0])
    y = x * 3            # y feeds two ops
    (y * y + y).backward()  # d/dx = (2y + 1)·3
    assert x.grad.item() == (2 * 6 + 1) * 3


def test_separate_backward_passes_accumulate():
    x = leaf([1.0, 2.0])
    for _ in range(2):
        (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * (2 * x.data))


def test_gradient_is_a_fresh_array_not_an_alias():
    """Accumulating into x.grad must not write into another tensor's grad or data."""
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + y).sum().backward()
    x.grad.data += 100
    np.testing.assert_array_equal(y.grad.numpy(), [1, 1])


# ---- graph lifetime --------------------------------------------------------

def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * (2 * x.data))


def test_backward_of_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar"):
        y.backward()
    y.backward(mt.tensor([1.0, 10.0], dtype=mt.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0])


def test_backward_gradient_must_match_the_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(mt.tensor([1.0, 2.0, 3.0]))


def test_backward_of_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mt.tensor([1.0, 2.0]).sum().backward()


def test_backward_on_a_leaf_seeds_its_own_grad():
    x = leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0


# ---- no_grad, detach -------------------------------------------------------

def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with mt.no_grad():
        assert not mt.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert mt.is_grad_enabled()
    assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_restores_the_mode_after_an_exception_and_nests():
    with pytest.raises(ValueError):
        with mt.no_grad():
            raise ValueError("boom")
    assert mt.is_grad_enabled()
    with mt.no_grad():
        with mt.enable_grad():
            assert (leaf([1.0]) * 2).requires_grad
        assert not (leaf([1.0]) * 2).requires_grad


def test_parameter_update_under_no_grad_is_not_recorded():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with mt.no_grad():
        w.data -= 0.1 * w.grad.data
        w.grad.zero_()
    assert w.is_leaf and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6])


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert d.requires_grad is False and d.grad_fn is None
    assert np.shares_memory(d.data, x.data)      # same storage, as torch
    (x * d).sum().backward()                     # only the x branch carries gradient
    np.testing.assert_array_equal(x.grad.numpy(), x.data)


def test_grad_fn_and_is_leaf():
    x = leaf([1.0])
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.__name__ == "Mul" and y.requires_grad
    assert not (mt.tensor([1.0]) * 2).requires_grad    # no input requires grad: nothing recorded


# ---- retain_grad -----------------------------------------------------------

def test_non_leaf_grad_is_none_unless_retained():
    x = leaf([1.0, 2.0])
    hidden, kept = x * 2, x * 3
    kept.retain_grad()
    (hidden * kept).sum().backward()
    assert hidden.grad is None
    np.testing.assert_array_equal(kept.grad.numpy(), hidden.data)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * kept.data + 3 * hidden.data)


def test_retained_grad_sums_over_all_consumers():
    x = leaf([1.0, 2.0])
    y = (x * 2).retain_grad()
    (y * y + y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), 2 * y.data + 1)


def test_retain_grad_on_the_root():
    x = leaf([1.0, 2.0])
    y = (x * 2).retain_grad()
    y.backward(mt.tensor([3.0, 4.0], dtype=mt.float64))
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 4.0])


# ---- deep graphs -----------------------------------------------------------

def test_chain_of_10000_ops_backpropagates():
    """Far beyond the recursion limit: the graph walk must be iterative."""
    x = leaf([0.5])
    y = x
    for _ in range(5000):      # 10,000 ops: y ↦ (y + 0.001) · 0.9995 keeps dy/dx = 0.9995ⁿ
        y = (y + 0.001) * 0.9995
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.9995 ** 5000], rtol=1e-10)
    del y
    gc.collect()               # tearing the 10,000-node graph down must not overflow either


# ---- gradients nobody asked for ---------------------------------------------

@needs_torch
def test_conv2d_skips_the_input_gradient_when_not_needed():
    rng = np.random.default_rng(0)
    x = mt.tensor(rng.standard_normal((2, 3, 5, 5)))          # data: no grad wanted
    w = mt.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = mt.tensor(rng.standard_normal(4), requires_grad=True)
    F.conv2d(x, w, b, padding=1).sum().backward()
    assert x.grad is None
    tx, tw = torch.tensor(x.numpy()), torch.tensor(w.detach().numpy(), requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, padding=1).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 2 * 5 * 5.0))


class Recorder(mt.Function):
    """out = a·b; remembers which gradients the engine asked for."""
    seen = []

    @staticmethod
    def forward(ctx, a, b):
        Recorder.seen.append(ctx.needs_input_grad)
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


def test_needs_input_grad_tells_backward_what_to_skip():
    Recorder.seen.clear()
    a, b = leaf([2.0]), mt.tensor([5.0], dtype=mt.float64)
    Recorder.apply(a, b).sum().backward()
    assert Recorder.seen == [(True, False)]
    assert a.grad.item() == 5.0 and b.grad is None


def test_linear_without_weight_grad():
    x = leaf(np.ones((2, 3)))
    w = mt.tensor(np.arange(12.0).reshape(4, 3))
    F.linear(x, w).sum().backward()
    assert w.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(w.data.sum(axis=0), (2, 1)))


def test_gradient_keeps_the_float32_dtype():
    x = leaf([1.0, 2.0], dtype=np.float32)
    w = leaf(np.ones((3, 2)), dtype=np.float32)
    F.linear(x * 2.0, w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_to_float64_is_differentiable():
    x = leaf([1.0, 2.0], dtype=np.float32)
    y = x.to(mt.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
