"""core/pool.py and core/norm.py, the plain pooling and batch norm, against the fast ones
(fast/pool.py, fast/norm.py) and the definitions (minitorch_cnn/reference.py).

Through the public F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d and F.batch_norm in both
modes (float64, every input requiring grad), the values, every gradient and the updated running
statistics agree to 1e-12; max pooling's values and routing (ties: the first maximum, NaN: the
last NaN) are the reference's.  Torch is not needed here.
"""
import itertools

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import reference
from minitorch_cnn.backends import fast
from minitorch_cnn.core import norm as core_norm
from minitorch_cnn.core import pool as core_pool
from minitorch_cnn.fast import norm as fast_norm
from minitorch_cnn.fast import pool as fast_pool
from minitorch_cnn.nn import functional as F
from _modes import TOL, assert_same_run


# (x_shape, kernel, stride, padding): LeNet's pool, overlapping 3/2 pad 1, non-square
# kernels, strides and paddings, one window, then a product grid.
POOL_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)),
    ((2, 3, 9, 8), (3, 3), (2, 2), (1, 1)),
    ((2, 3, 9, 8), (3, 3), (1, 1), (1, 1)),
    ((2, 2, 9, 8), (2, 3), (1, 1), (1, 1)),
    ((1, 2, 9, 8), (3, 2), (2, 1), (1, 0)),
    ((2, 2, 7, 7), (4, 4), (3, 3), (2, 2)),
    ((1, 2, 3, 3), (3, 3), (1, 1), (0, 0)),
] + [((2, 2, 7, 6), k, s, tuple(min(p, ki // 2) for ki in k)) for k, s, p in itertools.product(
    [(1, 1), (2, 2), (3, 3), (2, 3), (3, 1)], [(1, 1), (2, 2), (1, 3)], [0, 1])]
POOL_CASES = list(dict.fromkeys(POOL_CASES))


def pool_input(shape, rng, kind):
    """normal: distinct values; ties: values in {0, 1, 2}; special: ties, NaN, ±inf."""
    if kind == "ties":
        return rng.integers(0, 3, shape).astype(np.float64)
    x = rng.standard_normal(shape)
    if kind == "special":
        x = rng.integers(0, 3, shape).astype(np.float64)
        x.flat[rng.choice(x.size, 4, replace=False)] = [np.nan, np.nan, np.inf, -np.inf]
    return x


def run(op, arrays, grad_seed, enabled):
    """out, its grad_fn and every input's gradient for a random upstream gradient, in one mode."""
    tensors = [None if a is None else mt.tensor(a, requires_grad=True) for a in arrays]
    with fast.flags(enabled=enabled):
        out = op(*tensors)
        grad = np.random.default_rng(grad_seed).standard_normal(out.shape)
        out.backward(mt.tensor(grad))
    return out.array, out.grad_fn, [None if t is None else t.grad.array for t in tensors], grad


def both_modes(op, arrays, core_class, fast_class, seed=1):
    """Run op in both modes, check grad_fn (unless core_class is None: the op's last step is
    another Function) and that core == fast; -> core (out, grads, g)."""
    core_out, core_fn, core_grads, grad = run(op, arrays, seed, enabled=False)
    fast_out, fast_fn, fast_grads, _ = run(op, arrays, seed, enabled=True)
    if core_class is not None:
        assert core_fn is core_class and fast_fn is fast_class
        assert core_fn.__name__ == fast_fn.__name__
    assert_same_run(core_out, core_grads, fast_out, fast_grads)
    return core_out, core_grads, grad


# ---- max pooling ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["normal", "ties", "special"])
@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOL_CASES)
def test_core_max_pool2d_is_the_fast_one_and_the_reference(x_shape, kernel, stride, padding, kind):
    x = pool_input(x_shape, np.random.default_rng(sum(x_shape + kernel + stride + padding)), kind)
    out, (dx,), g = both_modes(lambda t: F.max_pool2d(t, kernel, stride, padding), [x],
                               core_pool.MaxPool2d, fast_pool.MaxPool2d)
    expected, argmax = reference.max_pool2d(x, kernel, stride, padding)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(dx, reference.max_pool2d_backward(g, argmax, x.shape), **TOL)


def test_core_max_pool2d_ties_go_to_the_first_maximum_and_nan_to_the_last_nan():
    with fast.flags(enabled=False):
        tie = mt.tensor(np.array([[2.0, 7.0], [7.0, 1.0]]).reshape(1, 1, 2, 2), requires_grad=True)
        F.max_pool2d(tie, 2).sum().backward()
        with_nan = mt.tensor(np.array([[1.0, np.nan], [3.0, np.nan]]).reshape(1, 1, 2, 2), requires_grad=True)
        out = F.max_pool2d(with_nan, 2)
        out.sum().backward()
    assert tie.grad.numpy()[0, 0].tolist() == [[0.0, 1.0], [0.0, 0.0]]
    assert np.isnan(out.array).all()
    assert with_nan.grad.numpy()[0, 0].tolist() == [[0.0, 0.0], [0.0, 1.0]]


def test_core_max_pool2d_window_of_minus_inf_routes_to_its_first_real_pixel():
    x = np.full((1, 1, 4, 4), -np.inf)
    g = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    grads = []
    for enabled in (False, True):
        t = mt.tensor(x, requires_grad=True)
        with fast.flags(enabled=enabled):
            F.max_pool2d(t, 3, 1, 1).backward(mt.tensor(g))
        grads.append(t.grad.numpy())
    _, argmax = reference.max_pool2d(x, 3, 1, 1)
    np.testing.assert_array_equal(grads[0], reference.max_pool2d_backward(g, argmax, x.shape))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_core_max_pool2d_infinite_gradient_stays_at_its_argmax():
    x = np.random.default_rng(2).standard_normal((1, 2, 6, 6))
    g = np.random.default_rng(3).standard_normal((1, 2, 3, 3))
    g[0, 1, 1, 2] = np.inf
    t = mt.tensor(x, requires_grad=True)
    with fast.flags(enabled=False):
        F.max_pool2d(t, 2).backward(mt.tensor(g))
    _, argmax = reference.max_pool2d(x, 2)
    np.testing.assert_array_equal(t.grad.numpy(), reference.max_pool2d_backward(g, argmax, x.shape))


# ---- average pooling -----------------------------------------------------------------------

@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOL_CASES)
def test_core_avg_pool2d_is_the_fast_one_and_the_reference(x_shape, kernel, stride, padding, count_include_pad):
    x = np.random.default_rng(sum(x_shape + kernel + stride + padding)).standard_normal(x_shape)
    out, (dx,), g = both_modes(lambda t: F.avg_pool2d(t, kernel, stride, padding, count_include_pad=count_include_pad),
                               [x], core_pool.AvgPool2d, fast_pool.AvgPool2d)
    args = kernel, stride, padding, count_include_pad
    np.testing.assert_allclose(out, reference.avg_pool2d(x, *args), **TOL)
    np.testing.assert_allclose(dx, reference.avg_pool2d_backward(g, x.shape, *args), **TOL)


# ---- adaptive average pooling --------------------------------------------------------------

def adaptive_by_hand(x, out_h, out_w):
    """One window at a time: rows ⌊i·H/out_h⌋ … ⌈(i+1)·H/out_h⌉ − 1, columns alike."""
    h, w = x.shape[2:]
    out = np.zeros(x.shape[:2] + (out_h, out_w))
    for i, j in itertools.product(range(out_h), range(out_w)):
        rows = slice(i * h // out_h, -(-(i + 1) * h // out_h))
        columns = slice(j * w // out_w, -(-(j + 1) * w // out_w))
        out[:, :, i, j] = x[:, :, rows, columns].mean(axis=(2, 3))
    return out


@pytest.mark.parametrize("x_shape, output_size", [
    ((2, 3, 8, 6), (4, 3)), ((2, 3, 8, 6), (2, 2)), ((2, 3, 8, 6), 1), ((2, 3, 8, 6), (8, 6)),   # dividing
    ((2, 3, 7, 5), (3, 2)), ((2, 3, 7, 5), (4, 4)), ((1, 2, 10, 9), (7, 7)), ((2, 3, 5, 7), (6, 9)),
    ((2, 3, 5, 7), (None, 3)), ((3, 5, 7), (2, 3)),                                              # unbatched
])
def test_core_adaptive_avg_pool2d_is_the_fast_one(x_shape, output_size):
    x = np.random.default_rng(sum(x_shape)).standard_normal(x_shape)
    classes = (core_pool.AdaptiveAvgPool2d, fast_pool.AdaptiveAvgPool2d) if x.ndim == 4 else (None, None)
    out, _, _ = both_modes(lambda t: F.adaptive_avg_pool2d(t, output_size), [x], *classes)
    x4 = x if x.ndim == 4 else x[None]
    sizes = F.adaptive_avg_pool2d(mt.tensor(x4), output_size).shape[2:]
    np.testing.assert_allclose(out, adaptive_by_hand(x4, *sizes).reshape(out.shape), **TOL)


def test_core_adaptive_avg_pool2d_gradient_spreads_over_overlapping_windows():
    # H = 3 into 2 windows: rows [0, 2) and [1, 3) share row 1, which collects both shares
    t = mt.tensor(np.zeros((1, 1, 3, 1)), requires_grad=True)
    with fast.flags(enabled=False):
        F.adaptive_avg_pool2d(t, (2, 1)).backward(mt.tensor(np.array([1.0, 2.0]).reshape(1, 1, 2, 1)))
    np.testing.assert_allclose(t.grad.numpy().ravel(), [0.5, 1.5, 1.0], **TOL)


# ---- batch normalisation -------------------------------------------------------------------

def batch_norm_by_hand(x, w, b, mean, var, eps=1e-5):
    channel = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(channel)) / np.sqrt(var.reshape(channel) + eps)
    return y * (1 if w is None else w.reshape(channel)) + (0 if b is None else b.reshape(channel))


def batch_norm_both_modes(x, w, b, stats, training, momentum):
    """-> core (out, grads, g) and each mode's running statistics after the call."""
    after = {}

    def op(enabled):
        def call(*tensors):
            running = after[enabled] = [None if s is None else mt.tensor(s.copy()) for s in stats]
            return F.batch_norm(tensors[0], *running, tensors[1], tensors[2], training=training, momentum=momentum)
        return call
    results = []
    for enabled in (False, True):
        results.append(run(op(enabled), [x, w, b], grad_seed=7, enabled=enabled))
    (core_out, core_fn, core_grads, g), (fast_out, fast_fn, fast_grads, _) = results
    assert core_fn is core_norm.BatchNorm and fast_fn is fast_norm.BatchNorm
    assert core_fn.__name__ == fast_fn.__name__
    assert_same_run(core_out, core_grads, fast_out, fast_grads)
    return (core_out, core_grads, g), after


@pytest.mark.parametrize("momentum", [0.1, 0.5])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training, running", [(True, True), (True, False), (False, True)])  # eval needs stats
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5)])
def test_core_batch_norm_is_the_fast_one_and_the_reference(shape, training, affine, running, momentum):
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 2
    w, b = (rng.uniform(0.5, 1.5, c), rng.standard_normal(c)) if affine else (None, None)
    stats = (rng.standard_normal(c), rng.uniform(0.5, 2, c)) if running else (None, None)
    (out, (dx, dw, db), g), after = batch_norm_both_modes(x, w, b, stats, training, momentum)
    if running:
        for core_stat, fast_stat in zip(after[False], after[True]):
            np.testing.assert_allclose(core_stat.numpy(), fast_stat.numpy(), **TOL)
    if not training:
        for stat, given in zip(after[False], stats):
            np.testing.assert_array_equal(stat.numpy(), given)
        np.testing.assert_allclose(out, batch_norm_by_hand(x, w, b, *stats), **TOL)
        scale = (1 if w is None else w) / np.sqrt(stats[1] + 1e-5)
        np.testing.assert_allclose(dx, g * scale.reshape((1, -1) + (1,) * (x.ndim - 2)), **TOL)
        return
    gamma, beta = (w, b) if affine else (np.ones(c), np.zeros(c))
    expected, mean, var = reference.batch_norm(x, gamma, beta)
    np.testing.assert_allclose(out, expected, **TOL)
    grads = reference.batch_norm_backward(g, x, gamma)
    for got, want in zip((dx, dw, db), grads):
        if got is not None:
            np.testing.assert_allclose(got, want, **TOL)
    assert (dw is None) == (db is None) == (not affine)
    if running:
        m = x.size // c
        for stat, want in zip(after[False], reference.update_running_stats(*stats, mean, var, m, momentum)):
            np.testing.assert_allclose(stat.numpy(), want, **TOL)


def test_core_batch_norm_worked_example():
    """docs/08_batchnorm.md's four values: y ≈ [−1.8, 0.6, 1.4, 3.8], dx ≈ [0.016, −0.112, 0.112, −0.016]."""
    x = mt.tensor(np.array([3.0, 9.0, 11.0, 17.0]).reshape(1, 1, 2, 2), requires_grad=True)
    w, b = (mt.tensor(np.array([v]), requires_grad=True) for v in (2.0, 1.0))
    with fast.flags(enabled=False):
        y = F.batch_norm(x, None, None, w, b, training=True)
        y.backward(mt.tensor(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 2, 2)))
    np.testing.assert_allclose(y.array.ravel(), [-1.8, 0.6, 1.4, 3.8], atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy().ravel(), [0.016, -0.112, 0.112, -0.016], atol=1e-5)
    np.testing.assert_allclose([w.grad.numpy()[0], b.grad.numpy()[0]], [4.4, 10.0], atol=1e-5)
