"""Max-pool and ReLU commute, values and gradients, bit for bit: the models pool first.

relu(max_pool2d(x)) == max_pool2d(relu(x)) because ReLU is monotone non-decreasing: a window
whose maximum is positive keeps the same winner (ties: the first maximum either way), and a
window whose maximum is ≤ 0 gives 0 and a zero gradient either way (relu's backward zeroes
the gradient where its output is ≤ 0).  NaN wins its window and passes ReLU in both orders.
SimpleCNN, DigitCNN and DeepCNN's CNNBlock rely on this to run ReLU on a quarter of the values;
the last tests hold each model to the old order (ReLU, then pool) composed by hand from its
own layers.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models
from minitorch_cnn.nn import functional as F

from _optional import needs_torch, torch

# (kernel_size, stride, padding): the models' 2×2 pools, and overlapping windows with padding
POOLS = [(2, 2, 0), (3, 2, 1)]
DTYPES = [np.float32, np.float64]
# few distinct values, so windows hold exact ties, zeros (both signs), negative-only runs, ±inf
SPECIALS = np.array([-np.inf, -3.0, -1.0, -1.0, -0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 2.0, np.inf])


def special_input(seed, dtype, shape=(2, 3, 7, 6), nan=True):
    """A (N, C, H, W) array of tied and special values, one all-negative channel, and some NaN."""
    rng = np.random.default_rng(seed)
    x = rng.choice(SPECIALS, size=shape)
    normal = rng.random(shape) < 0.3
    x[normal] = rng.standard_normal(int(normal.sum()))
    x[:, 1] = -np.abs(x[:, 1]) - 0.25          # negative-only windows (−inf included)
    x[0, 0, :2, :2] = 0.0                       # an all-zero window: every element ties
    x[1, 2, :2, :2] = [[1.5, 1.5], [0.0, 1.5]]  # a positive three-way tie
    if nan:
        x[0, 2, 0, 0] = np.nan
        x[1, 0, 3, 4] = np.nan
        x[1, 0, 2, 5] = np.nan                  # two NaN in one 2×2 window
    return x.astype(dtype)


def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def mt_both_orders(x, g, pool):
    """(out, dx) of relu(pool(x)) and of pool(relu(x)) in minitorch_cnn, upstream gradient g."""
    kernel, stride, padding = pool
    results = []
    for order in ("pool first", "relu first"):
        xt = mt.tensor(x, requires_grad=True)
        if order == "pool first":
            out = F.relu(F.max_pool2d(xt, kernel, stride, padding))
        else:
            out = F.max_pool2d(F.relu(xt), kernel, stride, padding)
        out.backward(g)
        results.append((out.data, xt.grad.data))
    return results


def upstream(x, pool, seed=1):
    kernel, stride, padding = pool
    n, c, h, w = x.shape
    out_hw = [(size + 2 * padding - kernel) // stride + 1 for size in (h, w)]
    return np.random.default_rng(seed).standard_normal((n, c, *out_hw)).astype(x.dtype)


@pytest.mark.parametrize("pool", POOLS, ids=lambda p: "k{}s{}p{}".format(*p))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("seed", range(4))
def test_pool_relu_commute_in_minitorch(seed, dtype, pool):
    x = special_input(seed, dtype)
    g = upstream(x, pool, seed + 100)
    (out_a, dx_a), (out_b, dx_b) = mt_both_orders(x, g, pool)
    assert same(out_a, out_b)
    assert same(dx_a, dx_b)
    # the input holds every case the identity has to survive, and the outputs show them
    assert np.isnan(out_a).any() and (out_a == 0).any() and (out_a == np.inf).any()


@pytest.mark.parametrize("pool", POOLS, ids=lambda p: "k{}s{}p{}".format(*p))
def test_negative_only_input_gives_zeros_and_zero_gradient_both_ways(pool):
    x = -np.abs(special_input(7, np.float64, nan=False)) - 1.0      # −inf included
    g = upstream(x, pool)
    (out_a, dx_a), (out_b, dx_b) = mt_both_orders(x, g, pool)
    assert same(out_a, out_b) and not out_a.any()
    assert same(dx_a, dx_b) and not dx_a.any()


def test_ties_route_the_gradient_to_the_first_maximum_both_ways():
    x = np.array([[[[2.0, 2.0], [-1.0, 2.0]]]])
    g = np.array([[[[3.0]]]])
    (out_a, dx_a), (out_b, dx_b) = mt_both_orders(x, g, (2, 2, 0))
    expected = np.array([[[[3.0, 0.0], [0.0, 0.0]]]])
    assert out_a.item() == out_b.item() == 2.0
    assert same(dx_a, expected) and same(dx_b, expected)


def test_nan_window_passes_the_gradient_to_its_last_nan_both_ways():
    x = np.array([[[[np.nan, 1.0], [-1.0, np.nan]]]])
    g = np.array([[[[3.0]]]])
    (out_a, dx_a), (out_b, dx_b) = mt_both_orders(x, g, (2, 2, 0))
    expected = np.array([[[[0.0, 0.0], [0.0, 3.0]]]])   # torch: the last NaN, and relu lets NaN through
    assert np.isnan(out_a).all() and np.isnan(out_b).all()
    assert same(dx_a, expected) and same(dx_b, expected)


@needs_torch
@pytest.mark.parametrize("pool", POOLS, ids=lambda p: "k{}s{}p{}".format(*p))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("seed", range(4))
def test_pool_relu_commute_in_torch(seed, dtype, pool):
    kernel, stride, padding = pool
    x = special_input(seed, dtype)
    g = upstream(x, pool, seed + 100)
    results = []
    for order in ("pool first", "relu first"):
        xt = torch.tensor(x, requires_grad=True)
        if order == "pool first":
            out = torch.relu(torch.nn.functional.max_pool2d(xt, kernel, stride, padding))
        else:
            out = torch.nn.functional.max_pool2d(torch.relu(xt), kernel, stride, padding)
        out.backward(torch.from_numpy(g))
        results.append((out.detach().numpy(), xt.grad.numpy()))
    (out_a, dx_a), (out_b, dx_b) = results
    assert same(out_a, out_b)
    assert same(dx_a, dx_b)
    # and minitorch_cnn's pool-first order gives torch's values and gradients on these inputs:
    # bit for bit where windows do not overlap; where a pixel wins several windows its
    # gradients are summed (4 at most for 3/stride 2), and the two engines sum them in different
    # orders: a few rounding errors of the terms' size, which cancellation can make large relative
    # to the sum
    (mt_out, mt_dx), _ = mt_both_orders(x, g, pool)
    assert same(mt_out, out_a)
    if stride >= kernel:
        assert same(mt_dx, dx_a)
    else:
        np.testing.assert_allclose(mt_dx, dx_a, rtol=0, atol=16 * np.finfo(dtype).eps * np.abs(g).max())


# --- the models against the old order (ReLU, then pool), composed from their own layers ----

def old_order_forward(model, x):
    """The forward as it was before pooling moved ahead of ReLU."""
    if isinstance(model, models.DeepCNN):
        for block in model.features:
            x = block.pool(F.relu(block.bn(block.conv(x))))
        return model.classifier(x)
    pool1, pool2 = (model.pool, model.pool) if isinstance(model, models.SimpleCNN) else (model.pool1, model.pool2)
    x = pool1(F.relu(model.conv1(x)))
    x = pool2(F.relu(model.conv2(x)))
    x = model.dropout(F.relu(model.fc1(F.flatten(x))))
    return model.fc2(x)


def built(name, dtype, training):
    mt.manual_seed(0)
    model = models.get_model(name).to(dtype)
    for module in model.modules():
        if isinstance(module, mt.nn.Dropout):
            module.p = 0.0          # train mode without dropout's random mask
    return model.train(training)


def forward_backward(model, forward, x, g):
    xt = mt.tensor(x, requires_grad=True)
    out = forward(xt)
    out.backward(g)
    grads = {name: p.grad.data for name, p in model.named_parameters()}
    buffers = {name: b.data for name, b in model.state_dict().items() if name not in grads}
    return out.data, xt.grad.data, grads, buffers


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["simplecnn", "digitcnn", "deepcnn"])
def test_model_equals_its_old_relu_then_pool_order(name, dtype, training):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 1, 28, 28)).astype(dtype)
    g = rng.standard_normal((4, 10)).astype(dtype)
    new, old = built(name, dtype, training), built(name, dtype, training)
    for (key, a), b in zip(new.state_dict().items(), old.state_dict().values()):
        assert same(np.asarray(a.data), np.asarray(b.data)), key      # one seed, one set of weights
    out_new, dx_new, grads_new, buffers_new = forward_backward(new, new, x, g)
    out_old, dx_old, grads_old, buffers_old = forward_backward(old, lambda t: old_order_forward(old, t), x, g)
    assert same(out_new, out_old)
    assert same(dx_new, dx_old)
    assert grads_new.keys() == grads_old.keys() and len(grads_new) > 0
    for key in grads_new:
        assert same(grads_new[key], grads_old[key]), key
    for key in buffers_new:                     # BatchNorm's running statistics (DeepCNN)
        assert same(np.asarray(buffers_new[key]), np.asarray(buffers_old[key])), key
