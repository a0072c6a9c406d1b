"""The nn API beyond the basic layers, held to torch 2.13: containers (ModuleList, ModuleDict,
Sequential(OrderedDict), Identity, Module.apply), leaky_relu, dropout2d, nll_loss, cross_entropy's
weight / ignore_index / label_smoothing, gradient clipping, activations off the happy path, and
the TypeError a layer raises for a non-Tensor input.

float64 values and gradients agree with torch to 1e-10 (the same formulas, summed in another
order); float16 results to 1e-2 relative (torch computes float16 in float32 on the CPU).
"""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip

TF = torch.nn.functional if torch is not None else None     # the @needs_torch tests' functional
F64 = dict(rtol=1e-10, atol=1e-10)


def arr(t):
    """A NumPy copy of a minitorch or torch tensor."""
    if isinstance(t, mt.Tensor):
        return np.array(mt.backend.to_numpy(t.data))
    return t.detach().numpy().copy()


def assert_same(ours, theirs, rtol=1e-10, atol=1e-10):
    a, e = arr(ours), arr(theirs)
    assert a.shape == e.shape and a.dtype == e.dtype, (a.shape, a.dtype, e.shape, e.dtype)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def run_both(fn_mt, fn_torch, x, cotangent=None, seed=0):
    """Forward and backward of one float array through both engines: (ours, theirs, our dx, torch's dx)."""
    xm, xt = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = fn_mt(xm), fn_torch(xt)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(x.dtype) if cotangent is None else cotangent
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    return ym, yt, xm.grad, xt.grad


# ==== cross_entropy and nll_loss ================================================================

SHAPES = [((6, 5), (6,)), ((5,), ()), ((3, 5, 2, 3), (3, 2, 3)), ((4, 5, 3), (4, 3))]


def class_problem(rng, shape, target_shape, ignore_index, n_ignored=2):
    logits = rng.standard_normal(shape) * 2
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    target = rng.integers(0, n_classes, target_shape)
    flat = target.reshape(-1)
    flat[rng.permutation(flat.size)[:min(n_ignored, flat.size - 1)]] = ignore_index   # keep one target
    return logits, target, n_classes


@needs_torch
@pytest.mark.parametrize("shape,target_shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_options_match_torch_float64(rng, shape, target_shape, reduction, label_smoothing,
                                                   weighted, ignore_index):
    logits, target, n_classes = class_problem(rng, shape, target_shape, ignore_index)
    weight = rng.uniform(0.2, 3.0, n_classes) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)
    ym, yt, gm, gt = run_both(
        lambda z: F.cross_entropy(z, mt.tensor(target), weight=None if weight is None else mt.tensor(weight), **kw),
        lambda z: TF.cross_entropy(z, torch.tensor(target), weight=None if weight is None else torch.tensor(weight), **kw),
        logits)
    assert_same(ym, yt, **F64)
    assert_same(gm, gt, **F64)


@needs_torch
@pytest.mark.parametrize("shape,target_shape", SHAPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_nll_loss_matches_torch_float64(rng, shape, target_shape, reduction, weighted, ignore_index):
    log_probs, target, n_classes = class_problem(rng, shape, target_shape, ignore_index)
    weight = rng.uniform(0.2, 3.0, n_classes) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction)
    ym, yt, gm, gt = run_both(
        lambda x: F.nll_loss(x, mt.tensor(target), weight=None if weight is None else mt.tensor(weight), **kw),
        lambda x: TF.nll_loss(x, torch.tensor(target), weight=None if weight is None else torch.tensor(weight), **kw),
        log_probs)
    assert_same(ym, yt, **F64)
    assert_same(gm, gt, **F64)


@needs_torch
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 3, 2, 2), (0, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_class_probabilities_matches_torch_float64(rng, shape, reduction, label_smoothing,
                                                                      weighted):
    z, p = rng.standard_normal(shape), rng.random(shape)
    w = rng.random(3) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    zm, pm = mt.tensor(z, requires_grad=True), mt.tensor(p, requires_grad=True)
    zt, pt = torch.tensor(z, requires_grad=True), torch.tensor(p, requires_grad=True)
    ym = F.cross_entropy(zm, pm, weight=None if w is None else mt.tensor(w), **kw)
    yt = TF.cross_entropy(zt, pt, weight=None if w is None else torch.tensor(w), **kw)
    assert_same(ym, yt, **F64)
    g = rng.standard_normal(tuple(yt.shape))
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    assert_same(zm.grad, zt.grad, **F64)
    assert_same(pm.grad, pt.grad, **F64)     # the target gets its gradient too


def test_gradcheck_cross_entropy_with_class_probabilities(rng):
    z, p = rng.standard_normal((3, 4)), rng.random((3, 4))
    w = mt.tensor(rng.random(4))
    assert mt.gradcheck(lambda a, b: F.cross_entropy(a, b, weight=w, label_smoothing=0.2),
                        [mt.tensor(z, requires_grad=True), mt.tensor(p, requires_grad=True)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_gradcheck_cross_entropy_with_every_option(rng, reduction, label_smoothing):
    logits, target, _ = class_problem(rng, (4, 3, 2), (4, 2), ignore_index=-100)
    weight = mt.tensor(rng.uniform(0.5, 2.0, 3))
    assert mt.gradcheck(lambda z: F.cross_entropy(z, mt.tensor(target), weight=weight, reduction=reduction,
                                                  label_smoothing=label_smoothing),
                        [mt.tensor(logits, requires_grad=True)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_nll_loss(rng, reduction):
    x, target, _ = class_problem(rng, (5, 4), (5,), ignore_index=0)
    weight = mt.tensor(rng.uniform(0.5, 2.0, 4))
    assert mt.gradcheck(lambda z: F.nll_loss(z, mt.tensor(target), weight=weight, ignore_index=0,
                                             reduction=reduction), [mt.tensor(x, requires_grad=True)])


@needs_torch
def test_weighted_mean_divides_by_the_weights_of_the_kept_targets():
    logits = np.zeros((3, 2))                       # every loss is log 2
    w = np.array([1.0, 3.0])
    loss = F.cross_entropy(mt.tensor(logits), mt.tensor([0, 1, -100]), weight=mt.tensor(w))
    # (1·log2 + 3·log2) / (1 + 3): the ignored row counts in neither sum
    assert abs(loss.item() - np.log(2)) < 1e-15
    expected = TF.cross_entropy(torch.tensor(logits), torch.tensor([0, 1, -100]), weight=torch.tensor(w))
    assert abs(loss.item() - expected.item()) < 1e-15


@needs_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_all_ignored_batch_gives_nan_mean_zero_sum_and_zero_gradient(label_smoothing):
    logits = np.random.default_rng(0).standard_normal((3, 4))
    target = np.full(3, -100)
    for reduction, expected in (("mean", np.nan), ("sum", 0.0)):
        z = mt.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(z, mt.tensor(target), reduction=reduction, label_smoothing=label_smoothing)
        zt = torch.tensor(logits, requires_grad=True)
        lt = TF.cross_entropy(zt, torch.tensor(target), reduction=reduction, label_smoothing=label_smoothing)
        np.testing.assert_equal(loss.item(), expected)
        np.testing.assert_equal(lt.item(), expected)
        loss.backward()
        lt.backward()
        np.testing.assert_array_equal(arr(z.grad), np.zeros((3, 4)))
        np.testing.assert_array_equal(arr(zt.grad), np.zeros((3, 4)))


@needs_torch
def test_label_smoothing_with_weight_matches_torch():
    rng = np.random.default_rng(3)
    logits, target = rng.standard_normal((7, 4)), np.array([0, 1, 2, 3, 3, -100, 1])
    w = np.array([0.5, 2.0, 1.0, 4.0])
    ym, yt, gm, gt = run_both(
        lambda z: F.cross_entropy(z, mt.tensor(target), weight=mt.tensor(w), label_smoothing=0.25),
        lambda z: TF.cross_entropy(z, torch.tensor(target), weight=torch.tensor(w), label_smoothing=0.25), logits)
    assert_same(ym, yt, **F64)
    assert_same(gm, gt, **F64)


@needs_torch
def test_zero_weights_of_every_target_give_nan_as_torch():
    logits, target, w = np.zeros((2, 3)), np.array([1, 1]), np.array([1.0, 0.0, 1.0])
    for eps in (0.0, 0.3):
        ym, yt, gm, gt = run_both(
            lambda z: F.cross_entropy(z, mt.tensor(target), weight=mt.tensor(w), label_smoothing=eps),
            lambda z: TF.cross_entropy(z, torch.tensor(target), weight=torch.tensor(w), label_smoothing=eps),
            logits, cotangent=np.array(1.0))
        assert np.isnan(ym.item()) and np.isnan(yt.item())
        assert_same(gm, gt)


@needs_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_of_nan_and_inf_logits_matches_torch(label_smoothing, reduction):
    logits = np.array([[np.inf, 0, 1], [np.nan, 1, 2], [-np.inf, 0, 0], [1, 2, 3], [-np.inf, 5, 0]])
    target = np.array([0, -100, 0, 2, 1])
    ym, yt, gm, gt = run_both(
        lambda z: F.cross_entropy(z, mt.tensor(target), reduction=reduction, label_smoothing=label_smoothing),
        lambda z: TF.cross_entropy(z, torch.tensor(target), reduction=reduction, label_smoothing=label_smoothing),
        logits)
    assert_same(ym, yt, **F64)
    assert_same(gm, gt, **F64)


def test_empty_batch_cross_entropy_is_nan_mean_and_zero_sum():
    for reduction, expected in (("mean", np.nan), ("sum", 0.0)):
        z = mt.zeros(0, 3, requires_grad=True)
        loss = F.cross_entropy(z, mt.tensor(np.zeros(0, np.int64)), reduction=reduction)
        np.testing.assert_equal(loss.item(), expected)
        assert loss.dtype == np.float32
        loss.backward()
        assert z.grad.shape == (0, 3)


@needs_torch
def test_cross_entropy_float16_matches_torch():
    rng = np.random.default_rng(1)
    logits, target = rng.standard_normal((6, 4)).astype(np.float16), np.array([0, 1, 2, 3, -100, 1])
    for eps in (0.0, 0.1):
        ym, yt, gm, gt = run_both(lambda z: F.cross_entropy(z, mt.tensor(target), label_smoothing=eps),
                                  lambda z: TF.cross_entropy(z, torch.tensor(target), label_smoothing=eps), logits)
        assert ym.dtype == np.float16 and gm.dtype == np.float16
        assert_same(ym, yt, rtol=1e-2, atol=1e-3)
        assert_same(gm, gt, rtol=1e-2, atol=1e-3)


def test_plain_cross_entropy_keeps_the_fused_op():
    from minitorch_cnn.backends.fast import choose
    from minitorch_cnn.core.loss import CrossEntropy
    from minitorch_cnn.ops.loss import ClassLoss
    z = mt.tensor(np.zeros((2, 3)), requires_grad=True)
    assert F.cross_entropy(z, mt.tensor([0, 2])).grad_fn is choose(CrossEntropy)   # core or fast, per the switch
    assert F.cross_entropy(z, mt.tensor([0, 2]), label_smoothing=0.1).grad_fn is ClassLoss


@pytest.mark.parametrize("call,error,match", [
    (lambda z, t: F.cross_entropy(z, t, weight=mt.ones(3)), ValueError, r"cross_entropy: weight .* all 4 classes"),
    (lambda z, t: F.cross_entropy(z, t, weight=mt.ones(4, dtype=mt.float64)), TypeError, r"cross_entropy: .*weight"),
    (lambda z, t: F.cross_entropy(z, t, weight=[1.0, 1, 1, 1]), TypeError, r"cross_entropy: expected weight to be a Tensor, got list"),
    (lambda z, t: F.cross_entropy(z, t, "sum"), TypeError, r"cross_entropy: weight .* reduction='sum' by keyword"),
    (lambda z, t: F.cross_entropy(z, t, label_smoothing=1.5), ValueError, r"cross_entropy: label_smoothing"),
    (lambda z, t: F.cross_entropy(z, t, label_smoothing="a"), TypeError, r"cross_entropy: label_smoothing"),
    (lambda z, t: F.cross_entropy(z, t, ignore_index=1.5), TypeError, r"cross_entropy: ignore_index"),
    (lambda z, t: F.cross_entropy(z, t.to(mt.int32)), TypeError, r"cross_entropy: .*int32"),
    (lambda z, t: F.cross_entropy(z, mt.tensor([0, 5, -100])), ValueError, r"cross_entropy: target values"),
    (lambda z, t: F.cross_entropy(z, mt.tensor([0, -1, 1])), ValueError, r"cross_entropy: target values"),
    (lambda z, t: F.cross_entropy(z.long(), t), TypeError, r"cross_entropy: expected a floating point input"),
    (lambda z, t: F.cross_entropy(z, mt.rand(3, 4), ignore_index=1), ValueError, r"cross_entropy: ignore_index is not supported"),
    (lambda z, t: F.cross_entropy(z, mt.tensor(np.zeros((3, 4), np.int64))), TypeError, r"cross_entropy: expected a floating point target"),
    (lambda z, t: F.cross_entropy([[1.0]], t), TypeError, r"cross_entropy: expected input to be a Tensor, got list"),
    (lambda z, t: F.cross_entropy(mt.rand(3, 4, 2), t), ValueError, r"cross_entropy: expected target of shape \(3, 2\)"),
    (lambda z, t: F.cross_entropy(z, np.array([0, 1, 2])), TypeError, r"cross_entropy: expected target to be a Tensor, got ndarray"),
    (lambda z, t: F.nll_loss(z, t, reduction="avg"), ValueError, r"nll_loss: reduction"),
    (lambda z, t: F.nll_loss(z, t, weight=mt.ones(4, requires_grad=True)), RuntimeError, r"nll_loss: not differentiable"),
])
def test_class_loss_argument_errors(call, error, match):
    """Each of these torch refuses too (run on torch in test_class_loss_refusals_agree_with_torch)."""
    with pytest.raises(error, match=match):
        call(mt.rand(3, 4), mt.tensor([0, 1, 2]))


@needs_torch
def test_class_loss_refusals_agree_with_torch():
    z, t = torch.rand(3, 4), torch.tensor([0, 1, 2])
    refused = [lambda: TF.cross_entropy(z, t, weight=torch.ones(3)),
               lambda: TF.cross_entropy(z, t, weight=torch.ones(4, dtype=torch.float64)),
               lambda: TF.cross_entropy(z, t, weight=[1.0, 1, 1, 1]),
               lambda: TF.cross_entropy(z, t, label_smoothing=1.5),
               lambda: TF.cross_entropy(z, t, ignore_index=1.5),
               lambda: TF.cross_entropy(z, t.int()),
               lambda: TF.cross_entropy(z, torch.tensor([0, 5, -100])),
               lambda: TF.cross_entropy(z, torch.tensor([0, -1, 1])),
               lambda: TF.cross_entropy(z.long(), t),
               lambda: TF.cross_entropy(torch.rand(3, 4, 2), t),
               lambda: TF.cross_entropy(z, torch.rand(3, 4), ignore_index=1),
               lambda: TF.cross_entropy(z, torch.zeros(3, 4, dtype=torch.long)),
               lambda: TF.cross_entropy(z, np.array([0, 1, 2])),
               lambda: TF.nll_loss(z, t, reduction="avg"),
               lambda: TF.nll_loss(z, t, weight=torch.ones(4, requires_grad=True))]
    for call in refused:
        with pytest.raises(Exception):
            call()


@needs_torch
def test_uint8_targets_are_accepted_as_torch():
    z = np.random.default_rng(0).standard_normal((3, 4))
    t = np.array([0, 3, 1], dtype=np.uint8)
    assert_same(F.cross_entropy(mt.tensor(z), mt.tensor(t)), TF.cross_entropy(torch.tensor(z), torch.tensor(t)))


@needs_torch
def test_legacy_size_average_and_reduce_flags_map_as_torch():
    z, t = np.random.default_rng(0).standard_normal((3, 4)), np.array([0, 3, 1])
    for flags in (dict(size_average=False), dict(reduce=False), dict(size_average=True, reduce=True)):
        assert_same(F.cross_entropy(mt.tensor(z), mt.tensor(t), **flags),
                    TF.cross_entropy(torch.tensor(z), torch.tensor(t), **flags))


@needs_torch
def test_loss_layers_take_torchs_options_and_register_weight_as_buffer():
    w = np.array([1.0, 2.0, 3.0])
    ours = nn.CrossEntropyLoss(weight=mt.tensor(w), ignore_index=1, label_smoothing=0.1, reduction="sum")
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), ignore_index=1, label_smoothing=0.1, reduction="sum")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    z, t = np.random.default_rng(2).standard_normal((4, 3)), np.array([0, 1, 2, 2])
    assert_same(ours(mt.tensor(z), mt.tensor(t)), theirs(torch.tensor(z), torch.tensor(t)), **F64)
    nll, nll_t = nn.NLLLoss(weight=mt.tensor(w), ignore_index=0), torch.nn.NLLLoss(weight=torch.tensor(w), ignore_index=0)
    assert_same(nll(mt.tensor(z), mt.tensor(t)), nll_t(torch.tensor(z), torch.tensor(t)), **F64)
    assert list(nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict()) == []
    assert repr(nll) == repr(nll_t) == "NLLLoss()"


# ==== activations ===============================================================================

@needs_torch
@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5, 0.0, 2.0])
def test_leaky_relu_matches_torch_float64(slope):
    x = np.array([[np.nan, -1.5, 0.0, -0.0, 2.0], [np.inf, -np.inf, 1e-300, -1e-300, 3.0]])
    ym, yt, gm, gt = run_both(lambda v: F.leaky_relu(v, slope), lambda v: TF.leaky_relu(v, slope), x)
    assert_same(ym, yt, **F64)
    assert_same(gm, gt, **F64)


def test_gradcheck_leaky_relu(rng, distinct_values):
    x = distinct_values((3, 5), rng)      # |x| ≥ 0.05: the kink at 0 is never straddled
    assert mt.gradcheck(lambda v: F.leaky_relu(v, 0.1), [mt.tensor(x, requires_grad=True)])


@needs_torch
def test_leaky_relu_layer_repr_and_values():
    for args in [(), (0.2,), (0.2, True)]:
        assert repr(nn.LeakyReLU(*args)) == repr(torch.nn.LeakyReLU(*args))
    x = np.linspace(-2, 2, 9)
    assert_same(nn.LeakyReLU(0.3)(mt.tensor(x)), torch.nn.LeakyReLU(0.3)(torch.tensor(x)), **F64)


@needs_torch
def test_leaky_relu_refuses_integer_and_bool_tensors_as_torch():
    for dtype, tdtype in ((np.int64, torch.int64), (np.bool_, torch.bool), (np.uint8, torch.uint8)):
        with pytest.raises(Exception):
            TF.leaky_relu(torch.ones(2, dtype=tdtype))
        with pytest.raises(TypeError, match="leaky_relu: expected a floating point tensor"):
            F.leaky_relu(mt.tensor(np.ones(2, dtype=dtype)))


@needs_torch
def test_relu_gradient_passes_through_nan_as_torch():
    x = np.array([np.nan, -1.0, 0.0, 2.0, np.inf, -np.inf])
    ym, yt, gm, gt = run_both(F.relu, TF.relu, x, cotangent=np.ones(6))
    assert_same(ym, yt)
    np.testing.assert_array_equal(arr(gm), [1, 0, 0, 1, 1, 0])
    assert_same(gm, gt)


@needs_torch
def test_relu_on_integer_tensors_keeps_the_dtype_and_refuses_bool():
    for dtype in (np.int64, np.int32, np.uint8, np.int8):
        x = np.array([-3, 0, 5], dtype=dtype) if dtype != np.uint8 else np.array([0, 200, 5], dtype=dtype)
        assert_same(F.relu(mt.tensor(x)), TF.relu(torch.tensor(x)))
    with pytest.raises(RuntimeError):
        TF.relu(torch.tensor([True]))
    with pytest.raises(TypeError, match="relu: Boolean inputs not supported"):
        F.relu(mt.tensor([True]))


@needs_torch
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_tanh_and_sigmoid_of_integer_and_bool_tensors_are_float32(name):
    for x in (np.array([[1, -2, 3]]), np.array([True, False]), np.array([0, 255], dtype=np.uint8)):
        ours, theirs = getattr(F, name)(mt.tensor(x)), getattr(TF, name)(torch.tensor(x))
        assert ours.dtype == np.float32
        assert_same(ours, theirs, rtol=1e-6, atol=1e-7)


@needs_torch
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_integer_tensors_is_refused_as_torch(name):
    for x in (np.array([[1, 2]]), np.array([[True, False]])):
        with pytest.raises(NotImplementedError):
            getattr(TF, name)(torch.tensor(x), 1)
        with pytest.raises(TypeError, match=f"{name}: expected a floating point tensor"):
            getattr(F, name)(mt.tensor(x), 1)
        # dtype= casts first, in both
        assert_same(getattr(F, name)(mt.tensor(x), 1, dtype=mt.float64),
                    getattr(TF, name)(torch.tensor(x), 1, dtype=torch.float64), **F64)


@needs_torch
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "tanh", "sigmoid", "softmax", "log_softmax"])
def test_activations_in_float16_match_torch(name):
    x = np.random.default_rng(0).uniform(-4, 4, (3, 5)).astype(np.float16)
    call = (lambda lib: (lambda v: getattr(lib, name)(v, 1))) if "softmax" in name else (lambda lib: getattr(lib, name))
    ym, yt, gm, gt = run_both(call(F), call(TF), x)
    assert ym.dtype == np.float16 and gm.dtype == np.float16
    assert_same(ym, yt, rtol=1e-2, atol=2e-3)
    assert_same(gm, gt, rtol=1e-2, atol=2e-3)


@needs_torch
def test_softmax_of_zero_size_and_0d_tensors_match_torch():
    for shape, dim in (((2, 0), 1), ((0, 3), 1), ((), 0)):
        x = np.ones(shape)
        for name in ("softmax", "log_softmax"):
            assert_same(getattr(F, name)(mt.tensor(x), dim), getattr(TF, name)(torch.tensor(x), dim))


@needs_torch
def test_relu_inplace_layer_gives_the_same_values_out_of_place():
    x = np.array([-1.0, 2.0])
    layer = nn.ReLU(inplace=True)
    assert repr(layer) == repr(torch.nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    xm = mt.tensor(x)
    out = layer(xm)
    assert_same(out, torch.nn.ReLU(inplace=True)(torch.tensor(x)))
    np.testing.assert_array_equal(arr(xm), x)          # documented: computed out of place
    h = mt.tensor(x, requires_grad=True) * 1           # a non-leaf: allowed, differentiable
    layer(h).sum().backward()
    assert repr(nn.LeakyReLU(0.1, inplace=True)) == "LeakyReLU(negative_slope=0.1, inplace=True)"


def test_inplace_on_a_leaf_that_requires_grad_is_refused_as_torch():
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            TF.relu(torch.ones(2, requires_grad=True), inplace=True)
    for call in (lambda v: F.relu(v, inplace=True), lambda v: F.leaky_relu(v, inplace=True),
                 lambda v: F.dropout(v, 0.5, inplace=True)):
        with pytest.raises(RuntimeError, match="in-place"):
            call(mt.ones(2, requires_grad=True))
    with mt.no_grad():
        F.relu(mt.ones(2, requires_grad=True), inplace=True)


# ==== dropout and dropout2d =====================================================================

def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    mt.manual_seed(0)
    x = mt.tensor(np.random.default_rng(0).uniform(1, 2, (8, 16, 3, 4)), requires_grad=True)
    out = F.dropout2d(x, 0.25)
    ratio = np.round(arr(out) / arr(x.detach()), 12)
    per_channel = ratio.reshape(8, 16, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))      # one factor per channel
    assert set(np.unique(per_channel)) <= {0.0, round(1 / 0.75, 12)}
    assert 0 < (per_channel[..., 0] == 0).mean() < 0.6
    g = np.random.default_rng(1).standard_normal(x.shape)
    out.backward(mt.tensor(g))
    np.testing.assert_allclose(arr(x.grad), g * ratio, rtol=1e-12)


def test_gradcheck_dropout2d(rng):
    x = rng.standard_normal((2, 3, 2, 2))

    def fn(v):
        mt.manual_seed(5)       # the same mask for every finite-difference evaluation
        return F.dropout2d(v, 0.4)
    assert mt.gradcheck(fn, [mt.tensor(x, requires_grad=True)])


@needs_torch
def test_dropout2d_3d_input_is_channelwise_1d_dropout_as_torch_2_13():
    mt.manual_seed(1)
    with pytest.warns(UserWarning, match="dropout2d"):
        out = arr(F.dropout2d(mt.ones(4, 6, 5), 0.5))
    # torch 2.13 reads (C, H, W) as (N, C, L): one factor per (dim 0, dim 1) pair
    assert np.all(out.min(axis=2) == out.max(axis=2))
    assert not np.all(out.reshape(4, -1).min(axis=1) == out.reshape(4, -1).max(axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out = TF.dropout2d(torch.ones(4, 6, 5), 0.5).numpy()
    assert np.all(t_out.min(axis=2) == t_out.max(axis=2))


def test_dropout2d_identity_in_eval_and_layer_repr():
    x = mt.rand(2, 3, 4, 4)
    layer = nn.Dropout2d(0.3).eval()
    assert layer(x) is x and F.dropout2d(x, 0.3, training=False) is x
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3)"
    with pytest.raises(ValueError, match=r"Dropout2d: probability p must be in \[0, 1\], got 1.5"):
        nn.Dropout2d(1.5)


def test_dropout2d_rank_and_dtype_rules_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="dropout2d: Feature dropout requires at least 2 dimensions"):
            F.dropout2d(mt.ones(3), 0.5)
        assert F.dropout2d(mt.ones(3), 0.5, training=False).shape == (3,)
        np.testing.assert_array_equal(arr(F.dropout2d(mt.ones(3), 1.0)), np.zeros(3, np.float32))
        with pytest.raises(RuntimeError, match="dropout2d: result type Float"):
            F.dropout2d(mt.tensor(np.ones((2, 2, 2, 2), np.int64)), 0.5)
        zero = F.dropout2d(mt.tensor(np.ones((2, 2, 2, 2), np.int64)), 1.0)
        assert zero.dtype == np.int64 and not arr(zero).any()
        assert F.dropout2d(mt.zeros(0, 2, 2, 2), 0.5).shape == (0, 2, 2, 2)


def test_dropout_float16_draws_a_mask_and_keeps_float16():
    mt.manual_seed(0)
    x = mt.tensor(np.ones((64, 64), np.float16), requires_grad=True)
    out = F.dropout(x, 0.5)
    assert out.dtype == np.float16
    values = set(np.unique(arr(out)).tolist())
    assert values == {0.0, 2.0}
    out.sum().backward()
    assert x.grad.dtype == np.float16 and set(np.unique(arr(x.grad)).tolist()) == {0.0, 2.0}


@needs_torch
def test_dropout_p_validation_matches_torch():
    for p in (1.5, -0.1, float("nan")):
        with pytest.raises((ValueError, RuntimeError)):
            TF.dropout(torch.ones(2), p)
        with pytest.raises(ValueError, match="dropout: probability p must be in"):
            F.dropout(mt.ones(2), p)
    for p in ("0.5", None):
        with pytest.raises(TypeError):
            TF.dropout(torch.ones(2), p)
        with pytest.raises(TypeError, match="dropout: probability p must be a number"):
            F.dropout(mt.ones(2), p)
    assert F.dropout(mt.ones(2), True).tolist() == TF.dropout(torch.ones(2), True).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="Dropout: probability p"):
        nn.Dropout(2)


@needs_torch
def test_dropout_of_integer_and_bool_tensors_as_torch():
    ints = np.array([1, -2, 3])
    assert F.dropout(mt.tensor(ints), 0.0).dtype == np.int64
    zero = F.dropout(mt.tensor(np.array([True, False])), 1.0)
    assert zero.dtype == np.bool_ and zero.tolist() == TF.dropout(torch.tensor([True, False]), 1.0).tolist()
    with pytest.raises(RuntimeError):
        TF.dropout(torch.tensor(ints), 0.5)
    with pytest.raises(RuntimeError, match="dropout: result type Float"):
        F.dropout(mt.tensor(ints), 0.5)


@needs_torch
def test_dropout_with_p_one_keeps_nan_as_torch():
    x = np.array([np.nan, 1.0, np.inf])
    assert_same(F.dropout(mt.tensor(x), 1.0), TF.dropout(torch.tensor(x), 1.0))


# ==== containers ================================================================================

def copy_weights(ours, theirs):
    ours.load_state_dict(theirs.state_dict())


@needs_torch
def test_module_list_behaves_as_torchs():
    torch.manual_seed(0)
    layers_t = [torch.nn.Linear(2, 3), torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)]
    layers_m = [nn.Linear(2, 3), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)]
    ml_t, ml_m = torch.nn.ModuleList(layers_t[:2]), nn.ModuleList(layers_m[:2])
    ml_t.append(layers_t[2])
    ml_m.append(layers_m[2])
    ml_t.extend([layers_t[3]])
    ml_m.extend([layers_m[3]])
    copy_weights(ml_m, ml_t)
    assert list(ml_m.state_dict()) == list(ml_t.state_dict())
    assert [n for n, _ in ml_m.named_parameters()] == [n for n, _ in ml_t.named_parameters()]
    assert [n for n, _ in ml_m.named_children()] == ["0", "1", "2", "3"]
    assert len(ml_m) == 4 and ml_m[-1] is layers_m[3] and ml_m[2] is layers_m[2]
    assert list(ml_m) == layers_m
    part = ml_m[1:3]
    assert isinstance(part, nn.ModuleList) and list(part) == layers_m[1:3]
    assert [n for n, _ in part.named_children()] == [n for n, _ in ml_t[1:3].named_children()] == ["0", "1"]
    extra_m, extra_t = nn.Sigmoid(), torch.nn.Sigmoid()
    ml_m.insert(1, extra_m)
    ml_t.insert(1, extra_t)
    assert ml_m[1] is extra_m and list(ml_m.state_dict()) == list(ml_t.state_dict())
    del ml_m[0]
    del ml_t[0]
    assert list(ml_m.state_dict()) == list(ml_t.state_dict())
    assert repr(ml_m) == repr(ml_t)


@needs_torch
def test_module_list_repr_folds_repeated_children_as_torch():
    make = lambda lib: lib.ModuleList([lib.ReLU(), lib.ReLU(), lib.ReLU(), lib.Tanh(), lib.ReLU()])
    assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"
    nested = lambda lib: lib.ModuleList([lib.Sequential(lib.ReLU(), lib.Tanh())] * 2)
    assert repr(nested(nn)) == repr(nested(torch.nn))


def test_module_list_errors_as_torch():
    ml = nn.ModuleList([nn.ReLU()])
    with pytest.raises(IndexError, match="index 3 is out of range"):
        ml[3]
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        ml.append(3)
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        ml.extend(nn.ReLU())
    with pytest.raises(TypeError, match="indices must be integers"):
        ml["a"]
    with pytest.raises(NotImplementedError):
        ml(mt.ones(1))


def test_module_list_registers_for_parameters_and_to():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x
    net = Net().double()
    assert len(list(net.parameters())) == 6
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert list(net.state_dict())[:2] == ["blocks.0.weight", "blocks.0.bias"]


@needs_torch
def test_module_dict_behaves_as_torchs():
    make = lambda lib: lib.ModuleDict({"b": lib.Linear(2, 2), "a": lib.ReLU()})
    md_m, md_t = make(nn), make(torch.nn)
    copy_weights(md_m, md_t)
    assert list(md_m.keys()) == list(md_t.keys()) == ["b", "a"]
    assert list(md_m.state_dict()) == list(md_t.state_dict())
    assert repr(md_m) == repr(md_t)
    md_m["c"], md_t["c"] = nn.Tanh(), torch.nn.Tanh()
    md_m.update([("d", nn.Sigmoid())])
    md_t.update([("d", torch.nn.Sigmoid())])
    assert "c" in md_m and len(md_m) == len(md_t) == 4 and list(md_m) == list(md_t)
    assert type(md_m.pop("a")).__name__ == "ReLU"
    del md_m["b"]
    assert list(md_m) == ["c", "d"]
    assert [k for k, _ in md_m.items()] == ["c", "d"] and len(list(md_m.values())) == 2
    with pytest.raises(KeyError):
        md_m["zz"]
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        md_m["x"] = 3
    with pytest.raises(KeyError, match="contain"):
        nn.ModuleDict({"a.b": nn.ReLU()})
    with pytest.raises(KeyError, match="already exists"):
        nn.ModuleDict({"training": nn.ReLU()})
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        md_m.update(3)
    md_m.clear()
    assert repr(md_m) == "ModuleDict()"


@needs_torch
def test_sequential_from_ordered_dict_names_its_children_by_the_keys():
    make = lambda lib: lib.Sequential(OrderedDict([("fc", lib.Linear(2, 3)), ("act", lib.ReLU()),
                                                   ("out", lib.Linear(3, 1))]))
    ours, theirs = make(nn), make(torch.nn)
    copy_weights(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["fc.weight", "fc.bias", "out.weight", "out.bias"]
    assert repr(ours) == repr(theirs)
    assert ours.fc is ours[0] and ours[-1] is ours.out and len(ours) == 3
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    assert_same(ours(mt.tensor(x)), theirs(torch.tensor(x)), rtol=1e-5, atol=1e-6)
    assert list(ours[1:]._modules) == list(theirs[1:]._modules) == ["act", "out"]
    ours.append(nn.Tanh())
    theirs.append(torch.nn.Tanh())
    assert list(ours._modules) == list(theirs._modules)


@needs_torch
def test_sequential_insert_pop_and_delete_match_torch():
    make = lambda lib: lib.Sequential(lib.ReLU(), lib.Tanh(), lib.Sigmoid())
    ours, theirs = make(nn), make(torch.nn)
    for seq, lib in ((ours, nn), (theirs, torch.nn)):
        seq.insert(1, lib.Identity())
        seq.insert(-1, lib.LeakyReLU())
        seq.extend([lib.ReLU()])
        seq.pop(0)
        del seq[1]
        seq[0] = lib.Tanh()
    assert repr(ours) == repr(theirs)
    with pytest.raises(IndexError):
        theirs.insert(10, torch.nn.ReLU())
    with pytest.raises(IndexError, match="Sequential.insert: index 10 is out of range"):
        ours.insert(10, nn.ReLU())


def test_sequential_refuses_what_torch_refuses():
    for bad in ((3,), ({"a": nn.ReLU()},), (OrderedDict(), nn.ReLU())):
        with pytest.raises(TypeError, match="is not a Module subclass"):
            nn.Sequential(*bad)


@needs_torch
def test_identity_takes_and_ignores_arguments():
    layer = nn.Identity(54, unused_argument1=0.1, unused_argument2=False)
    x = mt.rand(2, 3)
    assert layer(x) is x and repr(layer) == repr(torch.nn.Identity(54)) == "Identity()"


@needs_torch
def test_module_apply_visits_children_first_then_self_as_torch():
    make = lambda lib: lib.Sequential(lib.Linear(1, 1), lib.Sequential(lib.ReLU(), lib.Tanh()), lib.Sigmoid())
    seen_m, seen_t = [], []
    model = make(nn)
    assert model.apply(lambda m: seen_m.append(type(m).__name__)) is model
    make(torch.nn).apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_m == seen_t == ["Linear", "ReLU", "Tanh", "Sequential", "Sigmoid", "Sequential"]


def test_module_apply_initialises_weights():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
    model.apply(init)
    assert all(np.all(arr(m.weight.detach()) == 0.5) for m in model if isinstance(m, nn.Linear))


# ==== gradient clipping =========================================================================

def grads_pair(shapes, dtype=np.float64, seed=0, none_at=()):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(shapes):
        data = rng.standard_normal(shape).astype(dtype)
        p_m, p_t = nn.Parameter(mt.tensor(data)), torch.nn.Parameter(torch.tensor(data))
        if i not in none_at:
            g = (rng.standard_normal(shape) * 3).astype(dtype)
            p_m.grad, p_t.grad = mt.tensor(g.copy()), torch.tensor(g.copy())
        ours.append(p_m)
        theirs.append(p_t)
    return ours, theirs


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf"), "inf", 0.5, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = grads_pair([(3, 4), (5,), (2, 2, 2)], none_at=(1,))
    total_m = nn.utils.clip_grad_norm_(iter(ours), max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(iter(theirs), max_norm, norm_type=norm_type)
    assert isinstance(total_m, mt.Tensor) and total_m.shape == ()
    assert_same(total_m, total_t, **F64)
    for p_m, p_t in zip(ours, theirs):
        assert (p_m.grad is None) == (p_t.grad is None)
        if p_m.grad is not None:
            assert_same(p_m.grad, p_t.grad, **F64)


@needs_torch
def test_clip_grad_norm_of_one_tensor_and_of_no_gradients():
    ours, theirs = grads_pair([(4,)], dtype=np.float32)
    assert_same(nn.utils.clip_grad_norm_(ours[0], 1.0), torch.nn.utils.clip_grad_norm_(theirs[0], 1.0),
                rtol=1e-6, atol=1e-6)
    assert_same(ours[0].grad, theirs[0].grad, rtol=1e-6, atol=1e-7)
    empty_m, empty_t = grads_pair([(2,)], none_at=(0,))
    assert_same(nn.utils.clip_grad_norm_(empty_m, 1.0), torch.nn.utils.clip_grad_norm_(empty_t, 1.0))


@needs_torch
def test_clip_grad_norm_nonfinite_raises_when_asked_and_spreads_nan_otherwise():
    for bad in (np.nan, np.inf):
        ours, theirs = grads_pair([(3,), (2,)])
        ours[0].grad.data[1] = bad
        theirs[0].grad[1] = bad
        before = arr(ours[1].grad).copy()
        with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm .* is non-finite"):
            nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
        with pytest.raises(RuntimeError):
            torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
        np.testing.assert_array_equal(arr(ours[1].grad), before)        # nothing was scaled
        assert_same(nn.utils.clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0))
        for p_m, p_t in zip(ours, theirs):
            assert_same(p_m.grad, p_t.grad)


@needs_torch
def test_clip_grad_norm_of_mixed_dtypes_returns_the_promoted_norm():
    p16, p64 = nn.Parameter(mt.zeros(3, dtype=mt.float16)), nn.Parameter(mt.zeros(2, dtype=mt.float64))
    t16, t64 = torch.nn.Parameter(torch.zeros(3, dtype=torch.float16)), torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    g16, g64 = np.array([1.0, 2.0, 3.0], np.float16), np.array([4.0, 5.0])
    p16.grad, p64.grad, t16.grad, t64.grad = mt.tensor(g16), mt.tensor(g64), torch.tensor(g16), torch.tensor(g64)
    total_m = nn.utils.clip_grad_norm_([p16, p64], 2.0)
    total_t = torch.nn.utils.clip_grad_norm_([t16, t64], 2.0)
    assert_same(total_m, total_t, rtol=1e-3, atol=1e-3)
    assert_same(p16.grad, t16.grad, rtol=1e-2, atol=1e-3)
    assert_same(p64.grad, t64.grad, rtol=1e-3, atol=1e-4)


@needs_torch
def test_clip_grad_value_matches_torch():
    ours, theirs = grads_pair([(3, 4), (5,)], none_at=(1,))
    ours[0].grad.data[0, 0] = theirs[0].grad[0, 0] = np.nan
    assert nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    assert_same(ours[0].grad, theirs[0].grad)
    assert ours[1].grad is None


def test_clip_grad_argument_errors():
    with pytest.raises(TypeError, match="clip_grad_norm_: expected a Tensor or an iterable"):
        nn.utils.clip_grad_norm_(3, 1.0)
    with pytest.raises(TypeError, match="clip_grad_value_: clip_value must be a number"):
        nn.utils.clip_grad_value_([nn.Parameter(mt.ones(1))], None)
    assert mt.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_


# ==== non-Tensor inputs =========================================================================

LAYERS = {
    "ReLU": lambda: nn.ReLU(), "LeakyReLU": lambda: nn.LeakyReLU(), "Tanh": lambda: nn.Tanh(),
    "Sigmoid": lambda: nn.Sigmoid(), "Softmax": lambda: nn.Softmax(1), "LogSoftmax": lambda: nn.LogSoftmax(1),
    "Flatten": lambda: nn.Flatten(), "Dropout": lambda: nn.Dropout(), "Dropout2d": lambda: nn.Dropout2d(),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("value", [[[1.0, 2.0]], np.ones((1, 2)), 2.0], ids=["list", "ndarray", "float"])
def test_a_layer_given_a_non_tensor_raises_type_error_naming_it(name, value):
    with pytest.raises(TypeError, match=f"^{name}: expected input to be a Tensor, got {type(value).__name__}$"):
        LAYERS[name]()(value)


@pytest.mark.parametrize("layer,name", [(nn.CrossEntropyLoss(), "CrossEntropyLoss"), (nn.NLLLoss(), "NLLLoss"),
                                        (nn.MSELoss(), "MSELoss")])
def test_a_loss_layer_given_lists_raises_type_error_naming_it(layer, name):
    with pytest.raises(TypeError, match=f"{name}: expected input to be a Tensor, got list"):
        layer([[1.0, 2.0]], mt.tensor([0]))
    with pytest.raises(TypeError, match=f"{name}: expected target to be a Tensor, got list"):
        layer(mt.ones(1, 2), [0])


@pytest.mark.parametrize("op", ["relu", "leaky_relu", "tanh", "sigmoid", "dropout", "dropout2d", "flatten"])
def test_a_functional_op_given_a_list_raises_type_error_naming_it(op):
    with pytest.raises(TypeError, match=f"{op}: expected input to be a Tensor, got list"):
        getattr(F, op)([1.0, 2.0])
    if torch is not None:  # torch refuses it too
        with pytest.raises((TypeError, AttributeError)):     # torch: TypeError or AttributeError
            getattr(torch if op == "flatten" else TF, op)([1.0, 2.0])


# ==== cases the fuzzing found (each: what torch 2.13 does) ======================================

@needs_torch
def test_softmax_of_an_empty_integer_tensor_returns_it_as_torch():
    for name in ("softmax", "log_softmax"):
        ours = getattr(F, name)(mt.tensor(np.zeros((2, 0), np.int64)), 1)
        theirs = getattr(TF, name)(torch.zeros(2, 0, dtype=torch.long), 1)
        assert_same(ours, theirs)


@needs_torch
def test_softmax_of_a_0d_tensor_is_one_as_torch():
    for value in (3.0, np.inf):
        assert_same(F.softmax(mt.tensor(value), 0), TF.softmax(torch.tensor(value), 0))
        assert_same(F.log_softmax(mt.tensor(value), -1), TF.log_softmax(torch.tensor(value), -1))


@needs_torch
def test_dropout_of_an_empty_integer_tensor_returns_it_as_torch():
    x = mt.tensor(np.zeros(0, np.int64))
    assert F.dropout(x, 0.5) is x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert F.dropout2d(x, 0.5) is x          # no "at least 2 dimensions" for an empty tensor
        assert TF.dropout2d(torch.zeros(0, dtype=torch.long), 0.5).shape == (0,)


@needs_torch
@pytest.mark.parametrize("label_smoothing", [-0.1, -5.0, float("nan")])
def test_negative_or_nan_label_smoothing_means_none_as_torch(label_smoothing):
    z, t = np.random.default_rng(0).standard_normal((3, 4)), np.array([0, 1, 2])
    ours = F.cross_entropy(mt.tensor(z), mt.tensor(t), label_smoothing=label_smoothing)
    assert_same(ours, TF.cross_entropy(torch.tensor(z), torch.tensor(t), label_smoothing=label_smoothing))
    assert_same(ours, F.cross_entropy(mt.tensor(z), mt.tensor(t)))


def test_uint8_targets_of_spatial_inputs_follow_torch():
    z = mt.rand(2, 3, 2)
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            TF.cross_entropy(torch.rand(2, 3, 2), torch.zeros(2, 2, dtype=torch.uint8))
    with pytest.raises(TypeError, match="cross_entropy: expected int64 class indices"):
        F.cross_entropy(z, mt.tensor(np.zeros((2, 2), np.uint8)))
    # an empty input reduced to a number passes the forward, then torch's backward refuses
    empty = mt.zeros(0, 3, 2, requires_grad=True)
    loss = F.nll_loss(empty, mt.tensor(np.zeros((0, 2), np.uint8)))
    assert np.isnan(loss.item())
    with pytest.raises(RuntimeError, match="nll_loss: the backward .* int64"):
        loss.backward()


@needs_torch
def test_spatial_input_with_no_classes_is_refused_as_torch():
    with pytest.raises(RuntimeError):
        TF.cross_entropy(torch.rand(2, 0, 2), torch.full((2, 2), -100))
    with pytest.raises(ValueError, match="cross_entropy: an input of 3 dims needs at least one class"):
        F.cross_entropy(mt.rand(2, 0, 2), mt.tensor(np.full((2, 2), -100)))
    # (N, 0) with every target ignored is accepted by both: NaN
    assert np.isnan(F.cross_entropy(mt.rand(2, 0), mt.tensor([-100, -100])).item())
    assert np.isnan(TF.cross_entropy(torch.rand(2, 0), torch.tensor([-100, -100])).item())


@needs_torch
def test_mse_loss_refuses_integers_and_gives_nan_for_nothing_as_torch():
    with pytest.raises(NotImplementedError):
        TF.mse_loss(torch.ones(2, dtype=torch.long), torch.ones(2, dtype=torch.long))
    with pytest.raises(TypeError, match="mse_loss: expected floating point"):
        F.mse_loss(mt.tensor([1, 2]), mt.tensor([1, 2]))
    x = mt.zeros(0, requires_grad=True)
    loss = F.mse_loss(x, mt.zeros(0))
    assert np.isnan(loss.item()) and np.isnan(TF.mse_loss(torch.zeros(0), torch.zeros(0)).item())
    loss.backward()
    assert x.grad.shape == (0,)


@needs_torch
def test_clip_grad_inf_norm_of_an_empty_gradient_is_refused_as_torch():
    for p in (float("inf"), -float("inf")):
        t = torch.nn.Parameter(torch.zeros(0))
        t.grad = torch.zeros(0)
        with pytest.raises(RuntimeError):
            torch.nn.utils.clip_grad_norm_([t], 1.0, p)
        ours = nn.Parameter(mt.zeros(0))
        ours.grad = mt.zeros(0)
        with pytest.raises(RuntimeError, match="clip_grad_norm_: cannot compute the -?inf norm"):
            nn.utils.clip_grad_norm_([ours], 1.0, p)
    ours = nn.Parameter(mt.zeros(0))
    ours.grad = mt.zeros(0)
    assert nn.utils.clip_grad_norm_([ours], 1.0).item() == 0.0
