"""binary_cross_entropy(_with_logits), l1_loss, smooth_l1_loss, huber_loss, kl_div (issue 23, part C):
gradient checks for input and target (torch-free), torch parity over seeded random configurations
(every reduction, weight / pos_weight / beta / delta / log_target, the kinks and clamps included),
the off-happy-path cases against torch, and the loss modules.

Tolerances: float64 1e-10 (the same formulas in the same precision: only rounding and summation
order differ); float32 1e-5 relative to the largest value; float16 (computed in float32 and rounded,
as torch on the CPU) 2e-3.
"""
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F

from _optional import torch

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")
REDUCTIONS = ["mean", "sum", "none"]


# ---- random problems: (fn(F, x, y, *extra), x, y, extra arrays) --------------------------------

def _logits_problem(rng, shape, weight, pos_weight, reduction, scale=3.0):
    z = rng.standard_normal(shape) * scale
    y = rng.uniform(0, 1, shape)
    w = rng.uniform(0.2, 2.0, shape[-1:]) if weight else None
    p = rng.uniform(0.2, 3.0, shape[-1:]) if pos_weight else None

    def fn(F, z, y, w=None, p=None):
        return F.binary_cross_entropy_with_logits(z, y, w, reduction=reduction, pos_weight=p)
    return fn, z, y, [w, p]


def _bce_problem(rng, shape, weight, reduction):
    x = rng.uniform(0.02, 0.98, shape)
    y = rng.uniform(0, 1, shape)
    w = rng.uniform(0.2, 2.0, shape[-1:]) if weight else None

    def fn(F, x, y, w=None):
        return F.binary_cross_entropy(x, y, w, reduction=reduction)
    return fn, x, y, [w]


REGRESSION = [
    ("l1", lambda r: (lambda F, x, y: F.l1_loss(x, y, reduction=r)), (0.0,)),
    ("smooth_l1", lambda r: (lambda F, x, y: F.smooth_l1_loss(x, y, reduction=r)), (-1.0, 0.0, 1.0)),
    ("smooth_l1_beta", lambda r: (lambda F, x, y: F.smooth_l1_loss(x, y, reduction=r, beta=0.3)), (-0.3, 0.3)),
    ("smooth_l1_beta0", lambda r: (lambda F, x, y: F.smooth_l1_loss(x, y, reduction=r, beta=0.0)), (0.0,)),
    ("huber", lambda r: (lambda F, x, y: F.huber_loss(x, y, reduction=r)), (-1.0, 1.0)),
    ("huber_delta", lambda r: (lambda F, x, y: F.huber_loss(x, y, r, 2.5)), (-2.5, 2.5)),
]


def _exact_differences(rng, shape, kinks):
    """x − y exactly equal to each kink for the first entries (y = 0 there)."""
    x, y = rng.standard_normal(shape) * 2, rng.standard_normal(shape)
    for i, k in enumerate(np.repeat(kinks, 2)):
        x.flat[i], y.flat[i] = k, 0.0
    return x, y


def _kl_problem(rng, shape, log_target, reduction):
    x = np.log(rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    y = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    if log_target:
        y = np.log(y)

    def fn(F, x, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # 'mean''s warning
            return F.kl_div(x, y, reduction=reduction, log_target=log_target)
    return fn, x, y


# ---- gradient checks (torch-free) --------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight,pos_weight", [(False, False), (True, False), (False, True), (True, True)])
def test_gradcheck_bce_with_logits(grad_check, rng, reduction, weight, pos_weight):
    fn, z, y, (w, p) = _logits_problem(rng, (3, 4), weight, pos_weight, reduction)
    grad_check(fn, z, y, w, p, requires_grad=[True, True, False, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [False, True])
def test_gradcheck_bce(grad_check, rng, reduction, weight):
    fn, x, y, (w,) = _bce_problem(rng, (2, 5), weight, reduction)
    grad_check(fn, x, y, w, requires_grad=[True, True, False])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,make,kinks", REGRESSION, ids=[c[0] for c in REGRESSION])
def test_gradcheck_regression(grad_check, distinct_values, rng, reduction, name, make, kinks):
    y = rng.standard_normal((2, 3, 4))
    x = y + distinct_values((2, 3, 4), rng, scale=0.3) + 0.07     # no |x − y| within a step of a kink
    grad_check(make(reduction), x, y)


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_gradcheck_kl_div(grad_check, rng, reduction, log_target):
    fn, x, y = _kl_problem(rng, (3, 4), log_target, reduction)
    grad_check(fn, x, y)


def test_gradcheck_broadcast_and_weights(grad_check, rng):
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.uniform(0.5, 2, (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the size-mismatch warning
        grad_check(lambda F, x, y: F.l1_loss(x, y) + F.huber_loss(x, y, delta=0.5), x, y)
    grad_check(lambda F, x, y, w: F.l1_loss(x, y, weight=w) + F.huber_loss(x, y, weight=w), x, y * np.ones((3, 1)), w)


# ---- parity with torch -------------------------------------------------------------------------

def _parity(parity_check, fn, x, y, extras, rtol=1e-10, atol=1e-10, seed=0):
    args = [x, y] + list(extras)
    parity_check(fn, *args, requires_grad=[True, True] + [False] * len(extras), rtol=rtol, atol=atol, seed=seed)


@needs_torch
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_parity_bce_with_logits(parity_check, seed, reduction):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 5, size=rng.integers(1, 4)))
    for weight, pos_weight in [(False, False), (True, False), (False, True), (True, True)]:
        fn, z, y, extras = _logits_problem(rng, shape, weight, pos_weight, reduction, scale=30.0)
        z.flat[0] = -800.0                           # far beyond exp's range: still finite
        _parity(parity_check, fn, z, y, extras, seed=seed)
        _parity(parity_check, fn, z.astype(np.float32), y.astype(np.float32),
                [None if e is None else e.astype(np.float32) for e in extras], rtol=1e-5, atol=None)


@needs_torch
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_parity_bce(parity_check, seed, reduction):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 5, size=rng.integers(1, 4)))
    for weight in (False, True):
        fn, x, y, extras = _bce_problem(rng, shape, weight, reduction)
        _parity(parity_check, fn, x, y, extras, seed=seed)
        _parity(parity_check, fn, x.astype(np.float32), y.astype(np.float32),
                [None if e is None else e.astype(np.float32) for e in extras], rtol=1e-5, atol=None)


@needs_torch
def test_bce_clamps_at_the_ends_as_torch():
    """log clamped at −100 (finite loss at x = 0 and 1); dx divides by max(x (1 − x), 1e-12);
    dy = log(1 − x) − log x is ±inf there, as torch's."""
    x = np.array([0.0, 1e-30, 0.5, 1.0, 1.0, 0.0])
    y = np.array([0.3, 1.0, 0.2, 0.0, 1.0, 0.0])
    results = []
    for lib, f in ((mt, F), (torch, torch.nn.functional)):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        loss = f.binary_cross_entropy(a, b, reduction="none")
        loss.sum().backward()
        results.append([loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,make,kinks", REGRESSION, ids=[c[0] for c in REGRESSION])
def test_parity_regression(parity_check, seed, reduction, name, make, kinks):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 5, size=rng.integers(1, 4)))
    x, y = _exact_differences(rng, shape, kinks)         # the kinks themselves, gradients included
    _parity(parity_check, make(reduction), x, y, [], seed=seed)
    _parity(parity_check, make(reduction), x.astype(np.float32), y.astype(np.float32), [], rtol=1e-5, atol=None)


@needs_torch
@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_parity_kl_div(parity_check, seed, reduction, log_target):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 5, size=rng.integers(1, 4)))
    fn, x, y = _kl_problem(rng, shape, log_target, reduction)
    _parity(parity_check, fn, x, y, [], seed=seed)
    _parity(parity_check, fn, x.astype(np.float32), y.astype(np.float32), [], rtol=1e-5, atol=None)


@needs_torch
def test_kl_div_zero_and_negative_targets_as_torch():
    """0 · log 0 = 0 in the loss; dy is NaN at y = 0 and the loss NaN for y < 0, as torch's."""
    x = np.array([-1.0, -2.0, -0.5, 0.3])
    y = np.array([0.0, 0.2, -0.5, 0.3])
    results = []
    for lib, f in ((mt, F), (torch, torch.nn.functional)):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        loss = f.kl_div(a, b, reduction="none")
        loss.sum().backward()
        results.append([loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("op", ["l1_loss", "smooth_l1_loss", "huber_loss", "bce_logits", "kl_div"])
def test_nan_and_inf_as_torch(op):
    x = np.array([np.nan, np.inf, -np.inf, 0.5, 2.0, np.inf])
    y = np.array([0.5, 0.5, 0.0, np.nan, np.inf, np.inf])
    if op in ("bce_logits",):
        y = np.array([0.5, 1.0, 0.0, np.nan, 0.3, 0.0])
    results = []
    for lib, f in ((mt, F), (torch, torch.nn.functional)):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        call = {"bce_logits": f.binary_cross_entropy_with_logits}.get(op, getattr(f, op, None))
        loss = call(a, b, reduction="none")
        loss.sum().backward()
        results.append([loss.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for what, ours, theirs in zip(("loss", "dx", "dy"), *results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=what)


@needs_torch
def test_spatial_nll_loss_as_torch(parity_check, rng):
    """nll_loss on (N, C, H, W) log-probabilities with (N, H, W) targets (ops/loss.py already had it)."""
    lp = np.log(rng.dirichlet(np.ones(4), size=(2, 3, 5))).transpose(0, 3, 1, 2).copy()
    t = rng.integers(0, 4, (2, 3, 5))
    t[0, 0, 0] = -100
    w = rng.uniform(0.5, 2, 4)
    for reduction in REDUCTIONS:
        parity_check(lambda F, x, t, w: F.nll_loss(x, t, w, reduction=reduction), lp, t, w,
                     requires_grad=[True, False, False])


# ---- off the happy path ------------------------------------------------------------------------

def _both(fn, *arrays):
    """fn on minitorch and on torch; returns (ours, theirs) or the exception each raised."""
    out = []
    for lib, f in ((mt, F), (torch, torch.nn.functional)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(fn(f, *[lib.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]))
        except Exception as error:          # noqa: BLE001  (compared below)
            out.append(error)
    return out


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


ALL_LOSSES = {
    "binary_cross_entropy": lambda F, x, y, **k: F.binary_cross_entropy(x, y, **k),
    "binary_cross_entropy_with_logits": lambda F, x, y, **k: F.binary_cross_entropy_with_logits(x, y, **k),
    "l1_loss": lambda F, x, y, **k: F.l1_loss(x, y, **k),
    "smooth_l1_loss": lambda F, x, y, **k: F.smooth_l1_loss(x, y, **k),
    "huber_loss": lambda F, x, y, **k: F.huber_loss(x, y, **k),
    "kl_div": lambda F, x, y, **k: F.kl_div(x, y, **k),
}


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_float16_as_torch(close, rng, op, reduction):
    x = rng.uniform(0.05, 0.95, (4, 6)).astype(np.float16)
    y = rng.uniform(0.05, 0.95, (4, 6)).astype(np.float16)
    if op == "kl_div":
        x = np.log(x)
    results = []
    for lib, f in ((mt, F), (torch, torch.nn.functional)):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # kl_div's 'mean' warning
            loss = ALL_LOSSES[op](f, a, b, reduction=reduction)
        loss.backward(lib.ones(tuple(loss.shape), dtype=lib.float16))
        results.append([loss, a.grad, b.grad])
    for what, ours, theirs in zip(("loss", "dx", "dy"), *results):
        close(ours, theirs, 2e-3, what=f"float16 {what}")


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("float16", "float32")])
def test_mixed_dtypes_as_torch(close, rng, op, dtypes):
    """The result's dtype is torch's (the promoted one; the target's for bce_with_logits, the input's
    for huber_loss); binary_cross_entropy refuses a mix, as torch."""
    x = rng.uniform(0.05, 0.95, (3, 4)).astype(dtypes[0])
    y = rng.uniform(0.05, 0.95, (3, 4)).astype(dtypes[1])
    ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b), x, y)
    if isinstance(theirs, Exception):
        assert isinstance(ours, RuntimeError) and op in str(ours), ours
        return
    assert str(ours.dtype) == _torch_dtype_name(theirs)
    close(ours, theirs, 2e-3 if "float16" in dtypes else 1e-6)


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
@pytest.mark.parametrize("which", ["input", "target", "both"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_integer_inputs_as_torch(close, op, which, reduction):
    """Refused where torch refuses (the error names the op); else torch's result and dtype (an integer
    side promoted; l1_loss of two integer tensors is an integer, except its 'mean')."""
    x, y = np.array([[0.2, 0.7]]), np.array([[1.0, 0.0]])
    if which in ("input", "both"):
        x = np.array([[0, 1]])
    if which in ("target", "both"):
        y = np.array([[1, 0]])
    ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b, reduction=reduction), x, y)
    if isinstance(theirs, Exception):
        assert isinstance(ours, (TypeError, RuntimeError)) and op in str(ours), ours
    else:
        assert str(ours.dtype) == _torch_dtype_name(theirs)
        close(ours, theirs, 1e-6)


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_empty_as_torch(op, reduction):
    if reduction == "batchmean" and op != "kl_div":
        return
    for shape in [(0,), (0, 3)]:
        ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b, reduction=reduction),
                             np.zeros(shape), np.zeros(shape))
        assert not isinstance(theirs, Exception)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
def test_zero_dim_as_torch(close, op):
    ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b, reduction="sum"), np.array(0.3), np.array(0.6))
    close(ours, theirs, 1e-12)


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
@pytest.mark.filterwarnings("ignore:kl_div")
def test_non_tensors_refused(op):
    for bad in ([0.5], np.array([0.5])):
        with pytest.raises(TypeError, match=op):
            ALL_LOSSES[op](F, bad, mt.tensor([0.5]))
        with pytest.raises(TypeError, match=op):
            ALL_LOSSES[op](F, mt.tensor([0.5]), bad)


@needs_torch
@pytest.mark.parametrize("op", sorted(ALL_LOSSES))
def test_bad_reduction_refused_as_torch(op):
    ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b, reduction="average"), np.ones(2) / 2, np.ones(2) / 2)
    assert isinstance(theirs, ValueError)
    assert isinstance(ours, ValueError) and op in str(ours)


@needs_torch
@pytest.mark.parametrize("op", sorted(set(ALL_LOSSES) - {"huber_loss"}))
@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_flags_as_torch(close, op, size_average, reduce):
    x, y = np.array([[0.2, 0.7], [0.4, 0.9]]), np.array([[1.0, 0.0], [0.3, 0.6]])
    if op == "kl_div":
        x = np.log(x)
    ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b, size_average=size_average, reduce=reduce), x, y)
    close(ours, theirs, 1e-12)


@needs_torch
@pytest.mark.parametrize("op", ["l1_loss", "smooth_l1_loss", "huber_loss", "kl_div"])
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 4)), ((2, 3), (2,))])
def test_broadcasting_as_torch(close, rng, op, shapes):
    x, y = rng.standard_normal(shapes[0]), rng.uniform(0.1, 1, shapes[1])
    with warnings.catch_warnings(record=True) as theirs_warned:
        warnings.simplefilter("always")
        try:
            theirs = ALL_LOSSES[op](torch.nn.functional, torch.tensor(x, requires_grad=True),
                                    torch.tensor(y, requires_grad=True), reduction="sum")
        except RuntimeError:
            theirs = None
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        if theirs is None:
            with pytest.raises(RuntimeError, match=op):
                ALL_LOSSES[op](F, mt.tensor(x), mt.tensor(y), reduction="sum")
            return
        a, b = mt.tensor(x, requires_grad=True), mt.tensor(y, requires_grad=True)
        ours = ALL_LOSSES[op](F, a, b, reduction="sum")
    size_warning = [w for w in theirs_warned if "target size" in str(w.message)]
    assert len([w for w in ours_warned if "target size" in str(w.message)]) == len(size_warning)
    close(ours, theirs, 1e-12)
    ours.backward()


@needs_torch
@pytest.mark.parametrize("op", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_bce_shapes_must_match_as_torch(op):
    ours, theirs = _both(lambda f, a, b: ALL_LOSSES[op](f, a, b), np.full((2, 3), 0.5), np.full((1, 3), 0.5))
    assert isinstance(theirs, ValueError)
    assert isinstance(ours, ValueError) and op in str(ours)


@needs_torch
def test_bce_ranges_refused_as_torch():
    for x, y in [([1.5], [1.0]), ([np.nan], [1.0]), ([-0.1], [0.0]), ([0.5], [2.0])]:
        ours, theirs = _both(lambda f, a, b: f.binary_cross_entropy(a, b), np.array(x), np.array(y))
        assert isinstance(theirs, RuntimeError)
        assert isinstance(ours, RuntimeError) and "binary_cross_entropy" in str(ours)


@needs_torch
@pytest.mark.parametrize("op,kwargs", [
    ("binary_cross_entropy", dict(weight=np.ones((4, 2, 3)))),
    ("binary_cross_entropy_with_logits", dict(weight=np.ones((4, 2, 3)))),
    ("binary_cross_entropy_with_logits", dict(pos_weight=np.ones((4, 2, 3)))),
    ("binary_cross_entropy_with_logits", dict(pos_weight=np.ones(2))),
    ("l1_loss", dict(weight=np.ones(3))),
    ("huber_loss", dict(weight=np.ones((1, 3)))),
])
def test_bad_weights_refused_as_torch(op, kwargs):
    key, value = next(iter(kwargs.items()))
    out = []
    for lib in (mt, torch):
        f = F if lib is mt else torch.nn.functional
        try:
            half = lib.tensor(np.full((2, 3), 0.5))
            ALL_LOSSES[op](f, half, half, **{key: lib.tensor(value)})
            out.append(None)
        except (RuntimeError, ValueError) as error:
            out.append(error)
    assert out[1] is not None and out[0] is not None and op in str(out[0])
    assert type(out[0]) is type(out[1])


@needs_torch
@pytest.mark.parametrize("op,key", [("binary_cross_entropy", "weight"), ("binary_cross_entropy_with_logits", "weight"),
                                    ("binary_cross_entropy_with_logits", "pos_weight")])
def test_weights_that_require_grad_refused_as_torch(op, key):
    for lib, f in ((mt, F), (torch, torch.nn.functional)):
        with pytest.raises(RuntimeError, match=key):
            ALL_LOSSES[op](f, lib.tensor([0.5, 0.2]), lib.tensor([1.0, 0.0]),
                           **{key: lib.tensor([1.0, 2.0], requires_grad=True)})


@needs_torch
def test_l1_and_huber_weights_as_torch(parity_check, rng):
    """torch 2.13's weight= (input-shaped; differentiable): l1 'mean' divides by Σ w, huber's by n."""
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0.2, 2, (3, 4))
    for reduction in REDUCTIONS:
        parity_check(lambda F, x, y, w: F.l1_loss(x, y, reduction=reduction, weight=w), x, y, w)
        parity_check(lambda F, x, y, w: F.huber_loss(x, y, reduction, 0.7, w), x, y, w)


@needs_torch
def test_beta_and_delta_checks_as_torch():
    x = np.ones(3)
    for fn in (lambda f, a, b: f.smooth_l1_loss(a, b, beta=-1.0), lambda f, a, b: f.huber_loss(a, b, delta=0.0),
               lambda f, a, b: f.huber_loss(a, b, delta=-2.0)):
        ours, theirs = _both(fn, x, x)
        assert isinstance(theirs, RuntimeError) and isinstance(ours, RuntimeError)
        assert "beta" in str(ours) or "delta" in str(ours)


@needs_torch
def test_kl_div_mean_warns_as_torch():
    x = np.zeros((2, 3))
    for f, lib in ((F, mt), (torch.nn.functional, torch)):
        with pytest.warns(UserWarning, match="batchmean"):
            f.kl_div(lib.tensor(x), lib.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(mt.tensor(x), mt.tensor(x), reduction="batchmean")


@needs_torch
def test_positional_arguments_as_torch(close, rng):
    x, y = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0.1, 0.9, (3, 4))
    w, p = rng.uniform(0.5, 2, 4), rng.uniform(0.5, 2, 4)
    calls = [lambda f, a, b, w, p: f.binary_cross_entropy(a, b, w, None, None, "sum"),
             lambda f, a, b, w, p: f.binary_cross_entropy_with_logits(a, b, w, None, None, "sum", p),
             lambda f, a, b, w, p: f.l1_loss(a, b, None, None, "sum"),
             lambda f, a, b, w, p: f.smooth_l1_loss(a, b, None, None, "sum", 0.2),
             lambda f, a, b, w, p: f.huber_loss(a, b, "sum", 0.2),
             lambda f, a, b, w, p: f.kl_div(a, b, None, None, "sum", True)]
    for fn in calls:
        ours, theirs = _both(fn, x, y, w, p)
        close(ours, theirs, 1e-12)


# ---- modules -----------------------------------------------------------------------------------

MODULES = [("BCELoss", (), {}), ("BCELoss", (), dict(weight=True, reduction="sum")),
           ("BCEWithLogitsLoss", (), {}), ("BCEWithLogitsLoss", (), dict(weight=True, pos_weight=True)),
           ("BCEWithLogitsLoss", (), dict(pos_weight=True, reduction="none")),
           ("L1Loss", (), {}), ("L1Loss", (None, None, "sum"), {}), ("SmoothL1Loss", (), dict(beta=0.4)),
           ("SmoothL1Loss", (False,), {}), ("HuberLoss", ("none", 0.3), {}), ("HuberLoss", (), {}),
           ("KLDivLoss", (), dict(reduction="batchmean", log_target=True)), ("KLDivLoss", (None, False), {})]


@needs_torch
@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_matches_torch(close, rng, name, args, kwargs):
    shape = (3, 4)
    tensors = {k: rng.uniform(0.5, 2, shape[-1:]) for k in ("weight", "pos_weight") if kwargs.get(k)}
    options = {k: v for k, v in kwargs.items() if k not in tensors}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(mt.nn, name)(*args, **options, **{k: mt.tensor(v) for k, v in tensors.items()})
        theirs = getattr(torch.nn, name)(*args, **options, **{k: torch.tensor(v) for k, v in tensors.items()})
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: mt.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert ours.reduction == theirs.reduction
    x, y = rng.uniform(0.05, 0.95, shape), rng.uniform(0.05, 0.95, shape)
    if name == "KLDivLoss":
        x = np.log(x)
    a, b = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, expected = ours(a, mt.tensor(y)), theirs(b, torch.tensor(y))
    close(out, expected, 1e-10)
    out.sum().backward()
    expected.sum().backward()
    close(a.grad, b.grad, 1e-10)


def test_module_refuses_non_tensors():
    with pytest.raises(TypeError, match="BCEWithLogitsLoss"):
        mt.nn.BCEWithLogitsLoss()([0.5], mt.tensor([1.0]))
    with pytest.raises(TypeError, match="L1Loss.*target"):
        mt.nn.L1Loss()(mt.tensor([0.5]), [1.0])
