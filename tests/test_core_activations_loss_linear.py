"""core/activation.py, core/dropout.py, core/loss.py and core/linear.py, the plain activations,
dropout, fused cross-entropy and matrix products, against the fast ones (fast/activation.py,
fast/dropout.py, fast/loss.py, fast/linear.py) and against the formulas docs/ derives.

Through the public F.relu, F.leaky_relu, F.tanh, F.sigmoid, F.softmax, F.log_softmax,
F.dropout, F.dropout2d, F.cross_entropy, F.linear and a @ b in both modes (float64, every
floating input requiring grad), the values and every gradient agree to 1e-12, and grad_fn is
the core class with the switch off, the fast one (same name) with it on.  Dropout draws the
same masks in both modes under mt.manual_seed.  Torch is not needed here.
"""
import contextlib
import itertools

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.backends import fast
from minitorch_cnn.core import activation as core_activation
from minitorch_cnn.core import dropout as core_dropout
from minitorch_cnn.core import linear as core_linear
from minitorch_cnn.core import loss as core_loss
from minitorch_cnn.nn import functional as F
from _modes import TOL, assert_same_run

SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]


def run(op, arrays, grad_seed, enabled, seed=None):
    """out, its grad_fn and every input's gradient for a random upstream gradient, in one mode.
    Floating arrays become tensors that require grad; integer ones (targets) do not."""
    tensors = [mt.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
               for a in arrays]
    with fast.flags(enabled=enabled):
        if seed is not None:
            mt.manual_seed(seed)
        out = op(*tensors)
        grad = np.random.default_rng(grad_seed).standard_normal(out.shape)
        out.backward(mt.tensor(grad))
    grads = [t.grad.data if isinstance(t, mt.Tensor) and t.requires_grad else None for t in tensors]
    return out.data, out.grad_fn, grads, grad


def both_modes(op, arrays, core_class, seed=None):
    """Run op in both modes; grad_fn is core_class with the switch off and its replacement
    (core_class itself where none is registered) with it on; core == fast to 1e-12.
    -> core (out, grads, g)."""
    core_out, core_fn, core_grads, grad = run(op, arrays, 1, enabled=False, seed=seed)
    fast_out, fast_fn, fast_grads, _ = run(op, arrays, 1, enabled=True, seed=seed)
    assert core_fn is core_class
    assert fast_fn is fast.replacements().get(core_class, core_class)
    assert core_fn.__name__ == fast_fn.__name__
    assert core_out.shape == fast_out.shape and core_out.dtype == fast_out.dtype
    assert_same_run(core_out, core_grads, fast_out, fast_grads)
    return core_out, core_grads, grad


def test_the_fast_replacements_keep_the_core_names():
    replaced = fast.replacements()
    for module, names in [(core_activation, ["ReLU", "Softmax", "LogSoftmax"]),
                          (core_dropout, ["Dropout"]), (core_loss, ["CrossEntropy"]), (core_linear, ["Linear"])]:
        for name in names:
            assert replaced[getattr(module, name)].__name__ == name
    for plain in (core_activation.LeakyReLU, core_activation.Tanh, core_activation.Sigmoid, core_linear.MatMul):
        assert plain not in replaced       # already plain: the core one runs in both modes


# ---- activations ---------------------------------------------------------------------------

def activation_input(shape, seed):
    """Normal values with exact zeros, large magnitudes and a repeated value mixed in."""
    x = np.asarray(np.random.default_rng(seed).standard_normal(shape) * 3)
    flat = x.reshape(-1)
    specials = [0.0, -40.0, 40.0, -800.0, 800.0, 1e-300, -1e-300]
    flat[:len(specials)] = specials[:flat.size]
    return x


ACTIVATIONS = {
    "relu": (F.relu, core_activation.ReLU,
             lambda x, g: (np.maximum(x, 0), g * (x > 0))),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), core_activation.LeakyReLU,
                   lambda x, g: (np.where(x > 0, x, 0.2 * x), np.where(x > 0, g, 0.2 * g))),
    "tanh": (F.tanh, core_activation.Tanh,
             lambda x, g: (np.tanh(x), g * (1 - np.tanh(x) ** 2))),
    "sigmoid": (F.sigmoid, core_activation.Sigmoid,
                lambda x, g: (_sigmoid(x), g * _sigmoid(x) * (1 - _sigmoid(x)))),
}


def _sigmoid(x):
    """1 / (1 + e⁻ˣ) for x ≥ 0, eˣ / (1 + eˣ) below: neither overflows."""
    with np.errstate(over="ignore", invalid="ignore"):     # the branch np.where drops
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations_core_equals_fast_and_the_formula(name, shape):
    op, core_class, formula = ACTIVATIONS[name]
    x = activation_input(shape, seed=len(shape))
    out, (grad_x,), g = both_modes(op, [x], core_class)
    want_out, want_grad = formula(x, g)
    np.testing.assert_allclose(out, want_out, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(grad_x, want_grad, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0, -0.5, 3.0])
def test_leaky_relu_slopes(slope):
    x = activation_input((4, 5), seed=3)
    out, (grad_x,), g = both_modes(lambda t: F.leaky_relu(t, slope), [x], core_activation.LeakyReLU)
    np.testing.assert_array_equal(out, np.where(x > 0, x, slope * x))
    np.testing.assert_array_equal(grad_x, np.where(x > 0, g, slope * g))


def test_relu_at_zero_passes_no_gradient_as_torch():
    x = np.array([-1.0, -0.0, 0.0, 2.0])
    out, (grad_x,), g = both_modes(F.relu, [x], core_activation.ReLU)
    np.testing.assert_array_equal(out, [0.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(grad_x, [0.0, 0.0, 0.0, g[3]])


def test_relu_of_integers_in_both_modes():
    x = mt.tensor(np.array([[-3, 0, 5]], dtype=np.int32))
    for enabled in (False, True):
        with fast.flags(enabled=enabled):
            out = F.relu(x)
        assert out.dtype == np.int32
        np.testing.assert_array_equal(out.numpy(), [[0, 0, 5]])


def test_sigmoid_tails_do_not_overflow():
    x = np.array([-1000.0, -745.0, -40.0, 40.0, 1000.0])
    out, (grad_x,), _ = both_modes(F.sigmoid, [x], core_activation.Sigmoid)
    assert np.isfinite(out).all() and np.isfinite(grad_x).all()
    np.testing.assert_allclose(out[2], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-14)


SOFTMAX_CASES = [((3, 4, 5), d) for d in (0, 1, 2, -1, -2)] + [((6,), 0), ((6,), -1), ((2, 10), 1),
                                                                ((1, 1), 0), ((4, 1, 3), 1), ((), 0)]


@pytest.mark.parametrize("scale", [1.0, 1e3])
@pytest.mark.parametrize("shape,dim", SOFTMAX_CASES, ids=str)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_core_equals_fast_and_the_formula(log, shape, dim, scale):
    x = np.asarray(np.random.default_rng(len(shape) + dim).standard_normal(shape) * scale)
    op = (lambda t: F.log_softmax(t, dim)) if log else (lambda t: F.softmax(t, dim))
    out, (grad_x,), g = both_modes(op, [x], core_activation.LogSoftmax if log else core_activation.Softmax)
    axis = dim if x.ndim else None
    shifted = x - x.max(axis=axis, keepdims=True)
    lp = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    p = np.exp(lp)
    assert np.isfinite(out).all()
    if log:
        np.testing.assert_allclose(out, lp, **TOL)
        np.testing.assert_allclose(grad_x, g - p * g.sum(axis=axis, keepdims=True), **TOL)
    else:
        np.testing.assert_allclose(out, p, **TOL)
        np.testing.assert_allclose(grad_x, p * (g - (g * p).sum(axis=axis, keepdims=True)), **TOL)


# ---- dropout -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape,two_d", [((7,), False), ((4, 6), False), ((2, 3, 4, 5), False),
                                         ((2, 3, 4, 5), True), ((3, 5, 6), True)], ids=str)
def test_dropout_masks_are_the_same_in_both_modes(shape, two_d, p, dtype):
    x = np.random.default_rng(0).uniform(1, 2, shape).astype(dtype)
    op = (lambda t: F.dropout2d(t, p)) if two_d else (lambda t: F.dropout(t, p))
    with pytest.warns(UserWarning) if two_d and len(shape) == 3 else contextlib.nullcontext():
        outs = [run(op, [x], 1, enabled, seed=7) for enabled in (False, True)]
    (core_out, core_fn, (core_grad,), g), (fast_out, fast_fn, (fast_grad,), _) = outs
    assert core_fn is core_dropout.Dropout and fast_fn is fast.replacements()[core_dropout.Dropout]
    np.testing.assert_array_equal(core_out, fast_out)
    np.testing.assert_array_equal(core_grad, fast_grad)
    # the recipe of docs/09_dropout.md: u from np.random.default_rng(seed), in x's dtype
    mask_shape = shape[:2] + (1,) * (len(shape) - 2) if two_d else shape
    u = np.random.default_rng(7).random(mask_shape, dtype=dtype)
    mask = (u >= p).astype(dtype) * dtype(1 / (1 - p))
    np.testing.assert_array_equal(core_out, x * mask)
    np.testing.assert_allclose(core_grad, g * mask, rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_dropout_draws_advance_the_stream_alike():
    """Two calls after one seed: the second mask also matches, so both modes consume the
    generator identically."""
    x = mt.tensor(np.ones((50, 40)))
    masks = []
    for enabled in (False, True):
        with fast.flags(enabled=enabled):
            mt.manual_seed(11)
            masks.append([F.dropout(x, 0.3).numpy() for _ in range(2)])
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0][0], masks[0][1])


# ---- cross-entropy -------------------------------------------------------------------------

def ce_problem(n, c, scale, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * scale, rng.integers(0, c, n)


def ce_formula(z, t, reduction, g):
    """lse(z) − z_t via the max shift, and dz = (p − y) · g (/ N for 'mean'), in NumPy."""
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    losses = lse - z[np.arange(len(t)), t]
    p_minus_y = np.exp(z - lse[:, None])
    p_minus_y[np.arange(len(t)), t] -= 1
    if reduction == "none":
        return losses, p_minus_y * g[:, None]
    if reduction == "sum":
        return losses.sum(), p_minus_y * g
    return losses.mean(), p_minus_y * g / len(t)


@pytest.mark.parametrize("scale", [1.0, 3.0, 1e4], ids=["unit", "wide", "huge"])
@pytest.mark.parametrize("n,c", [(1, 2), (5, 3), (16, 10), (7, 1), (3, 40)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_core_equals_fast_and_p_minus_y(reduction, n, c, scale):
    z, t = ce_problem(n, c, scale, seed=n * c)
    out, (grad_z, grad_t), g = both_modes(lambda z, t: F.cross_entropy(z, t, reduction=reduction),
                                          [z, t], core_loss.CrossEntropy)
    assert grad_t is None and np.isfinite(out).all() and np.isfinite(grad_z).all()
    want_out, want_grad = ce_formula(z, t, reduction, g)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(grad_z, want_grad, **TOL)


@pytest.mark.parametrize("target_dtype", [np.int64, np.uint8])
def test_cross_entropy_targets_every_class_and_both_index_dtypes(target_dtype):
    z = np.random.default_rng(5).standard_normal((12, 4))
    t = np.tile(np.arange(4), 3).astype(target_dtype)
    out, (grad_z, _), g = both_modes(lambda z, t: F.cross_entropy(z, t, reduction="none"),
                                     [z, t], core_loss.CrossEntropy)
    want_out, want_grad = ce_formula(z, t.astype(np.int64), "none", g)
    np.testing.assert_allclose(out, want_out, **TOL)
    np.testing.assert_allclose(grad_z, want_grad, **TOL)


def test_cross_entropy_huge_logits_are_exact():
    z, t = np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([1, 1])
    out, (grad_z, _), _ = both_modes(lambda z, t: F.cross_entropy(z, t, reduction="none"),
                                     [z, t], core_loss.CrossEntropy)
    np.testing.assert_array_equal(out, [1000.0, 1000.0])
    assert np.isfinite(grad_z).all()


def test_cross_entropy_only_the_plain_case_is_fused():
    z = mt.tensor(np.zeros((2, 3)), requires_grad=True)
    for enabled in (False, True):
        with fast.flags(enabled=enabled):
            fused = F.cross_entropy(z, mt.tensor([0, 2])).grad_fn
            smoothed = F.cross_entropy(z, mt.tensor([0, 2]), label_smoothing=0.1).grad_fn
        assert fused.__name__ == "CrossEntropy" and smoothed.__name__ == "ClassLoss"


# ---- matmul and linear ---------------------------------------------------------------------

MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)),
                 ((2, 3, 4), (4,)), ((4,), (4,)), ((4,), (2, 4, 3)), ((3, 4), (2, 4, 2)),
                 ((1, 3, 4), (2, 4, 2)), ((2, 1, 4), (1, 4, 3)), ((5, 1), (1, 6))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_core_against_its_formulas(shapes):
    rng = np.random.default_rng(len(shapes[0]) * 7 + len(shapes[1]))
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    out, (grad_a, grad_b), g = both_modes(lambda a, b: a @ b, [a, b], core_linear.MatMul)
    np.testing.assert_allclose(out, a @ b, **TOL)
    # da = G bᵀ, db = aᵀ G with 1-D operands as row / column, summed over broadcast batch dims
    a2, b2 = a.reshape(1, -1) if a.ndim == 1 else a, b.reshape(-1, 1) if b.ndim == 1 else b
    g2 = np.asarray(g).reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
    full_a, full_b = g2 @ np.swapaxes(b2, -1, -2), np.swapaxes(a2, -1, -2) @ g2
    np.testing.assert_allclose(grad_a, _sum_to(full_a, a2.shape).reshape(a.shape), **TOL)
    np.testing.assert_allclose(grad_b, _sum_to(full_b, b2.shape).reshape(b.shape), **TOL)


def _sum_to(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


def test_matmul_one_operand_without_grad_gets_none():
    a = mt.tensor(np.ones((2, 3)))
    b = mt.tensor(np.ones((3, 4)), requires_grad=True)
    for enabled in (False, True):
        with fast.flags(enabled=enabled):
            (a @ b).sum().backward()
    assert a.grad is None and np.array_equal(b.grad.numpy(), np.full((3, 4), 4.0))


LINEAR_CASES = list(itertools.product([(5, 7), (2, 3, 7), (7,), (1, 7), (2, 1, 2, 7)], [True, False], [1, 4]))


@pytest.mark.parametrize("x_shape,bias,out_features", LINEAR_CASES, ids=str)
def test_linear_core_equals_fast_and_docs_formulas(x_shape, bias, out_features):
    rng = np.random.default_rng(len(x_shape) + out_features)
    x, w = rng.standard_normal(x_shape), rng.standard_normal((out_features, 7))
    b = rng.standard_normal(out_features) if bias else None
    arrays = [x, w] + ([b] if bias else [])
    out, grads, g = both_modes(lambda *t: F.linear(*t), arrays, core_linear.Linear)
    rows_x, rows_g = x.reshape(-1, 7), g.reshape(-1, out_features)
    np.testing.assert_allclose(out, x @ w.T + (b if bias else 0), **TOL)
    np.testing.assert_allclose(grads[0], g @ w, **TOL)                     # dX = G W
    np.testing.assert_allclose(grads[1], rows_g.T @ rows_x, **TOL)         # dW = Gᵀ x
    if bias:
        np.testing.assert_allclose(grads[2], rows_g.sum(axis=0), **TOL)    # db = Σ_n G


def test_linear_the_worked_example_of_docs_03():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w, b = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]), np.array([1.0, -1.0])
    with fast.flags(enabled=False):
        tensors = [mt.tensor(a, requires_grad=True) for a in (x, w, b)]
        y = F.linear(*tensors)
        (y * mt.tensor(np.array([[1.0, 2.0], [0.0, 1.0]]))).sum().backward()
    assert y.tolist() == [[-1.0, 3.0], [-1.0, 12.0]]
    assert [t.grad.tolist() for t in tensors] == [[[5.0, 2.0, -1.0], [2.0, 1.0, 0.0]],
                                                  [[1.0, 2.0, 3.0], [6.0, 9.0, 12.0]], [1.0, 3.0]]


# ---- the core alone: central differences -------------------------------------------------

@pytest.mark.parametrize("name,op", [
    ("relu", lambda x: F.relu(x)), ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)), ("tanh", F.tanh),
    ("sigmoid", F.sigmoid), ("softmax", lambda x: F.softmax(x, 1)), ("log_softmax", lambda x: F.log_softmax(x, 0)),
    ("cross_entropy", lambda x: F.cross_entropy(x, mt.tensor([2, 0, 3]))),
    ("cross_entropy_none", lambda x: F.cross_entropy(x, mt.tensor([2, 0, 3]), reduction="none")),
    ("linear", lambda x: F.linear(x, mt.tensor(np.arange(12.0).reshape(3, 4) / 7), mt.tensor(np.ones(3)))),
    ("matmul", lambda x: x @ mt.tensor(np.arange(8.0).reshape(4, 2) / 5)),
])
def test_core_gradients_agree_with_central_differences(name, op):
    x = np.random.default_rng(9).standard_normal((3, 4))
    x[np.abs(x) < 0.05] += 0.2                   # away from relu's kink
    with fast.flags(enabled=False):
        assert mt.gradcheck(op, [mt.tensor(x, requires_grad=True)])
