"""Normalisation over other axes (issue 23, part B): F.layer_norm, F.group_norm, F.instance_norm
and nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d/2d.

  * gradient checks in float64 over a grid of options (torch-free);
  * parity with torch over seeded random configurations: forward, input and parameter
    gradients and running statistics, float64 at 1e-10 and float32 at 2e-5 (normwise);
  * off the happy path against torch: float16, integer, empty, NaN, wrong types, bad shapes,
    positional arguments and signatures;
  * the layers: state_dict names as torch's, weights loaded both ways, repr, running statistics.
"""
import inspect
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.core import norm_axes as core
from minitorch_cnn.nn import functional as F

from _optional import needs_torch, torch

F32 = dict(rtol=2e-5, atol=None)      # normwise: float32 sums in another order
# dx is a difference of terms of size s·|w·g| (up to ~10 here) that cancel where few values
# share the statistics (m = 2: torch's own float32 dx is then off its antisymmetry by 4e-6);
# float32 leaves ~1e-6 of those terms whatever the size of dx itself.
F32_GRAD = dict(rtol=2e-5, atol=1e-5)
F16 = dict(rtol=2e-3, atol=None)      # float16 rounds once at the end, as torch's CPU kernels


# ---------------------------------------------------------------- gradient checks (no torch)

LAYER_CASES = [((3, 4), 1), ((2, 3, 4), 2), ((2, 2, 3, 3), 3), ((2, 3, 2, 2), 1), ((5,), 1)]


@pytest.mark.parametrize("shape, k", LAYER_CASES)
@pytest.mark.parametrize("affine", ["none", "weight", "both"])
def test_layer_norm_gradcheck(grad_check, rng, shape, k, affine):
    x = rng.standard_normal(shape)
    params = [rng.standard_normal(shape[-k:]) if affine != "none" else None,
              rng.standard_normal(shape[-k:]) if affine == "both" else None]
    grad_check(lambda F, a, w, b: F.layer_norm(a, shape[-k:], w, b), x, *params,
               requires_grad=[True, params[0] is not None, params[1] is not None])


@pytest.mark.parametrize("shape, groups", [((2, 4, 3, 3), 2), ((2, 6, 5), 3), ((3, 4), 2), ((2, 4, 2, 3), 1),
                                           ((2, 4, 2, 2), 4)])
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm_gradcheck(grad_check, rng, shape, groups, affine):
    x = rng.standard_normal(shape)
    w, b = (rng.standard_normal(shape[1]), rng.standard_normal(shape[1])) if affine else (None, None)
    grad_check(lambda F, a, w, b: F.group_norm(a, groups, w, b, eps=1e-3), x, w, b,
               requires_grad=[True, affine, affine])


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 2, 3, 3), (1, 3, 2, 5)])
@pytest.mark.parametrize("use_input_stats, running", [(True, False), (True, True), (False, True)])
def test_instance_norm_gradcheck(grad_check, rng, shape, use_input_stats, running):
    x, w, b = rng.standard_normal(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    c = shape[1]

    def fn(F, a, w, b):
        # fresh statistics on every call: gradcheck calls fn many times
        stats = (mt.tensor(np.linspace(-0.5, 0.5, c)), mt.tensor(np.linspace(0.5, 2.0, c))) if running else (None, None)
        return F.instance_norm(a, *stats, w, b, use_input_stats=use_input_stats)
    grad_check(fn, x, w, b)


def test_instance_norm_is_group_norm_with_one_group_per_channel(rng):
    x = mt.tensor(rng.standard_normal((3, 4, 5)))
    np.testing.assert_allclose(F.instance_norm(x).numpy(), F.group_norm(x, 4).numpy(), rtol=0, atol=1e-14)


def test_layer_norm_over_channels_is_group_norm_with_one_group(rng):
    x = mt.tensor(rng.standard_normal((3, 4, 2, 2)))
    np.testing.assert_allclose(F.layer_norm(x, (4, 2, 2)).numpy(), F.group_norm(x, 1).numpy(), rtol=0, atol=1e-14)


def test_the_shared_backward_is_batch_norms(rng):
    """standardize_backward over batch norm's axes is the compact batch-norm backward."""
    from minitorch_cnn import reference
    x, g = rng.standard_normal((3, 2, 2, 2)), rng.standard_normal((3, 2, 2, 2))
    axes = (0, 2, 3)
    x_hat, inv_std = core.standardize(x, axes, 1e-5)
    dx = core.standardize_backward(g, x_hat, inv_std, axes)
    expected, _, _ = reference.batch_norm_backward(g, x, np.ones(2))
    np.testing.assert_allclose(dx, expected, rtol=0, atol=1e-12)


def test_core_functions_are_the_graph_nodes(rng):
    x = mt.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    assert F.layer_norm(x, (3,)).grad_fn.__name__ == "LayerNorm"
    assert F.group_norm(x, 2).grad_fn.__name__ == "GroupNorm"
    assert F.instance_norm(x).grad_fn.__name__ == "InstanceNorm"


# ---------------------------------------------------------------- parity with torch

def _random_layer_case(rng):
    ndim = int(rng.integers(2, 5))
    shape = tuple(int(d) for d in rng.integers(1, 5, size=ndim))
    k = int(rng.integers(1, ndim + 1))
    return shape, shape[ndim - k:], bool(rng.integers(2)), bool(rng.integers(2))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer_norm_matches_torch(parity_check, seed, dtype):
    rng = np.random.default_rng(100 + seed)
    shape, normalized, has_w, has_b = _random_layer_case(rng)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w = rng.standard_normal(normalized).astype(dtype) if has_w else None
    b = rng.standard_normal(normalized).astype(dtype) if has_b else None
    eps = float(rng.choice([1e-5, 1e-3]))
    tol = {} if dtype == "float64" else F32_GRAD
    parity_check(lambda F, a, w, b: F.layer_norm(a, normalized, w, b, eps), x, w, b, **tol, seed=seed)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_group_norm_matches_torch(parity_check, seed, dtype):
    rng = np.random.default_rng(200 + seed)
    groups, per_group = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    c = groups * per_group
    shape = (int(rng.integers(1, 4)), c) + tuple(int(d) for d in rng.integers(1, 5, size=int(rng.integers(0, 3))))
    if per_group * int(np.prod(shape[2:])) == 1:
        shape = shape + (2,)
    x = (rng.standard_normal(shape) * 2 - 1).astype(dtype)
    affine = bool(rng.integers(2))
    w = rng.standard_normal(c).astype(dtype) if affine else None
    b = rng.standard_normal(c).astype(dtype) if affine else None
    tol = {} if dtype == "float64" else F32_GRAD
    parity_check(lambda F, a, w, b: F.group_norm(a, groups, w, b), x, w, b, **tol, seed=seed)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_instance_norm_matches_torch(parity_check, close, seed, dtype):
    rng = np.random.default_rng(300 + seed)
    c = int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 4)), c) + tuple(int(d) for d in rng.integers(2, 5, size=int(rng.integers(1, 3))))
    x = (rng.standard_normal(shape) + 0.5).astype(dtype)
    affine, running, use_input_stats = bool(rng.integers(2)), bool(rng.integers(2)), bool(rng.integers(2))
    running = running or not use_input_stats
    w = rng.standard_normal(c).astype(dtype) if affine else None
    b = rng.standard_normal(c).astype(dtype) if affine else None
    momentum = float(rng.uniform(0.05, 0.5))
    stats = {}
    for name, module in (("mt", mt), ("torch", torch)):
        stats[name] = (module.tensor(rng.standard_normal(c).astype(dtype) if name == "mt" else stats["mt"][0].numpy()),
                       module.tensor(rng.uniform(0.5, 2, c).astype(dtype) if name == "mt" else stats["mt"][1].numpy()))

    def fn(F, a, w, b):
        pair = stats["mt" if F is mt.nn.functional else "torch"] if running else (None, None)
        return F.instance_norm(a, *pair, w, b, use_input_stats, momentum, 1e-5)
    tol = {} if dtype == "float64" else F32_GRAD
    parity_check(fn, x, w, b, **tol, seed=seed)
    if running:
        for ours, theirs in zip(stats["mt"], stats["torch"]):
            close(ours, theirs, **(dict(rtol=1e-12, atol=1e-12) if dtype == "float64" else F32), what="running stat")


# ---------------------------------------------------------------- off the happy path

OPS = {
    "layer_norm": (lambda F, x, w=None, b=None: F.layer_norm(x, x.shape[-2:], w, b), lambda x: x.shape[-2:]),
    "group_norm": (lambda F, x, w=None, b=None: F.group_norm(x, 2, w, b), lambda x: x.shape[1:2]),
    "instance_norm": (lambda F, x, w=None, b=None: F.instance_norm(x, None, None, w, b), lambda x: x.shape[1:2]),
}


def _pair(a, requires_grad=False):
    return (mt.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad))


@needs_torch
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("param_dtype", [None, "float16", "float32"])
def test_float16_runs_in_float32_as_torch(close, rng, op, param_dtype):
    fn, param_shape = OPS[op]
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float16)
    (xm, xt), params = _pair(x, True), []
    if param_dtype:
        params = [_pair(rng.standard_normal(param_shape(x)).astype(param_dtype), True) for _ in range(2)]
    ym, yt = fn(F, xm, *[p[0] for p in params]), fn(torch.nn.functional, xt, *[p[1] for p in params])
    close(ym, yt, **F16, what="float16 output")
    g = rng.standard_normal(x.shape).astype(np.float16)
    ym.backward(mt.tensor(g))
    yt.backward(torch.tensor(g))
    close(xm.grad, xt.grad, rtol=1e-2, what="float16 input gradient")
    for pm, pt in params:
        close(pm.grad, pt.grad, rtol=1e-2, what="parameter gradient")


@needs_torch
@pytest.mark.parametrize("param_dtype", [None, "float16", "float32"])
@pytest.mark.parametrize("stats_dtype", ["float16", "float32", "float64"])
def test_float16_instance_norm_from_running_statistics_as_torch(close, rng, param_dtype, stats_dtype):
    x, w_values = rng.standard_normal((2, 3, 4)).astype(np.float16), rng.uniform(0.5, 1.5, 3)
    outs = []
    for F_, T in ((F, mt.tensor), (torch.nn.functional, torch.tensor)):
        w = None if param_dtype is None else T(w_values.astype(param_dtype))
        stats = T(np.full(3, 0.25, dtype=stats_dtype)), T(np.full(3, 2.0, dtype=stats_dtype))
        outs.append(F_.instance_norm(T(x), *stats, w, w, use_input_stats=False))
    close(*outs, **F16)


@needs_torch
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("x_dtype, p_dtype", [("float32", "float64"), ("float64", "float32"),
                                               ("float32", "float16"), ("float16", "float64")])
def test_mixed_parameter_dtypes_refused_as_torch(rng, op, x_dtype, p_dtype):
    fn, param_shape = OPS[op]
    x = rng.standard_normal((2, 4, 3, 3)).astype(x_dtype)
    w = rng.standard_normal(param_shape(x)).astype(p_dtype)
    with pytest.raises(RuntimeError):
        fn(torch.nn.functional, torch.tensor(x), torch.tensor(w))
    with pytest.raises(RuntimeError, match=op):
        fn(F, mt.tensor(x), mt.tensor(w))


@needs_torch
@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_inputs_refused_as_torch(op, dtype):
    fn, _ = OPS[op]
    x = np.ones((2, 4, 3, 3), dtype=dtype)
    with pytest.raises((RuntimeError, TypeError)):
        fn(torch.nn.functional, torch.tensor(x))
    with pytest.raises(TypeError, match=op):
        fn(F, mt.tensor(x))


@needs_torch
@pytest.mark.parametrize("call", [
    lambda F, x: F.layer_norm(x, x.shape[-1:]), lambda F, x: F.layer_norm(x, x.shape[1:]),
    lambda F, x: F.group_norm(x, 2), lambda F, x: F.group_norm(x, 1),
    lambda F, x: F.instance_norm(x)])
@pytest.mark.parametrize("shape", [(0, 4, 3), (2, 4, 0), (0, 4, 0)])
def test_empty_inputs_as_torch(close, call, shape):
    xm, xt = _pair(np.zeros(shape), True)
    ym, yt = call(F, xm), call(torch.nn.functional, xt)
    close(ym, yt, rtol=0, atol=0, what="empty result")
    ym.sum().backward()
    yt.sum().backward()
    close(xm.grad, xt.grad, rtol=0, atol=0, what="empty gradient")


@needs_torch
@pytest.mark.parametrize("shape", [(0, 3, 4), (2, 3, 0)])
def test_instance_norm_running_stats_of_an_empty_input_as_torch(close, shape):
    ours = mt.zeros(3, dtype=mt.float64), mt.ones(3, dtype=mt.float64)
    theirs = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    F.instance_norm(mt.zeros(shape, dtype=mt.float64), *ours)
    torch.nn.functional.instance_norm(torch.zeros(shape, dtype=torch.float64), *theirs)
    for a, b in zip(ours, theirs):
        close(a, b, rtol=0, atol=0, what="running statistic")    # NaN for an empty batch, as torch


@needs_torch
@pytest.mark.parametrize("call", [lambda F, x: F.layer_norm(x, (3, 3)), lambda F, x: F.group_norm(x, 2),
                                  lambda F, x: F.instance_norm(x), lambda F, x: F.layer_norm(x, (3,))])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_and_inf_spread_as_torch(rng, call, value):
    x = rng.standard_normal((2, 4, 3, 3))
    x[0, 1, 0, 0] = value
    ym, yt = call(F, mt.tensor(x)).numpy(), call(torch.nn.functional, torch.tensor(x)).numpy()
    np.testing.assert_array_equal(np.isnan(ym), np.isnan(yt))
    np.testing.assert_allclose(ym, yt, rtol=1e-12, atol=1e-12)


BAD_CALLS = [
    ("layer_norm", lambda F, x, T: F.layer_norm(x, 3)),                           # int normalized_shape
    ("layer_norm", lambda F, x, T: F.layer_norm(x, (4,))),                        # does not end the shape
    ("layer_norm", lambda F, x, T: F.layer_norm(x, ())),
    ("layer_norm", lambda F, x, T: F.layer_norm(x, (3, 3), T(np.ones(3)))),       # weight shape
    ("layer_norm", lambda F, x, T: F.layer_norm(x, (3, 3), None, T(np.ones(4)))),
    ("layer_norm", lambda F, x, T: F.layer_norm(x.numpy(), (3, 3))),               # not a tensor
    ("layer_norm", lambda F, x, T: F.layer_norm(x, (3, 3), eps="a")),
    ("layer_norm", lambda F, x, T: F.layer_norm(x, (3.0, 3))),
    ("group_norm", lambda F, x, T: F.group_norm(x, 3)),                           # 3 does not divide 4
    ("group_norm", lambda F, x, T: F.group_norm(x, 8)),
    ("group_norm", lambda F, x, T: F.group_norm(x, 2.0)),
    ("group_norm", lambda F, x, T: F.group_norm(x, 0)),
    ("group_norm", lambda F, x, T: F.group_norm(x[0, 0, 0], 1)),                  # 1-D
    ("group_norm", lambda F, x, T: F.group_norm(x, 2, T(np.ones(3)))),
    ("group_norm", lambda F, x, T: F.group_norm(x, 2, None, T(np.ones(2)))),
    ("group_norm", lambda F, x, T: F.group_norm(x, 2, [1.0] * 4)),
    ("instance_norm", lambda F, x, T: F.instance_norm(x[:, :, :1, :1])),          # one value per instance
    ("instance_norm", lambda F, x, T: F.instance_norm(x[:, :, 0, 0])),             # (N, C): no spatial axis
    ("instance_norm", lambda F, x, T: F.instance_norm(x, use_input_stats=False)),
    ("instance_norm", lambda F, x, T: F.instance_norm(x, T(np.zeros(4)), None)),
    ("instance_norm", lambda F, x, T: F.instance_norm(x, T(np.zeros(3)), T(np.ones(3)))),
    ("instance_norm", lambda F, x, T: F.instance_norm(x, None, None, T(np.ones(3)))),
    ("instance_norm", lambda F, x, T: F.instance_norm(x, None, None, None, T(np.ones(5)))),
    ("instance_norm", lambda F, x, T: F.instance_norm(x, momentum="a")),
]


@needs_torch
@pytest.mark.parametrize("op, call", BAD_CALLS, ids=[f"{op}-{i}" for i, (op, _) in enumerate(BAD_CALLS)])
def test_bad_arguments_refused_as_torch_with_the_ops_name(rng, op, call):
    x = rng.standard_normal((2, 4, 3, 3))
    with pytest.raises((TypeError, ValueError, RuntimeError, ZeroDivisionError, AttributeError)):
        call(torch.nn.functional, torch.tensor(x), torch.tensor)
    with pytest.raises((TypeError, ValueError, RuntimeError)) as error:
        call(F, mt.tensor(x), mt.tensor)
    assert op in str(error.value)


@needs_torch
def test_what_torch_accepts_we_accept(rng, close):
    """A few calls off the middle of the road that torch runs: list normalized_shape, the
    input's whole shape, (N, C) group norm, negative eps, a float64 running statistic for a
    float32 input, (N, C, 1) instance norm from running statistics."""
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    calls = [lambda F, T, x: F.layer_norm(x, [4, 3]), lambda F, T, x: F.layer_norm(x, x.shape),
             lambda F, T, x: F.group_norm(x[:, :, 0], 2), lambda F, T, x: F.group_norm(x, 2, eps=-1e-9),
             lambda F, T, x: F.instance_norm(x, T(np.zeros(4)), T(np.ones(4))),
             lambda F, T, x: F.instance_norm(x[..., :1], T(np.zeros(4)), T(np.ones(4)), use_input_stats=False),
             lambda F, T, x: F.layer_norm(x, (3,), eps=1)]
    for call in calls:
        close(call(F, mt.tensor, mt.tensor(x)), call(torch.nn.functional, torch.tensor, torch.tensor(x)), **F32)


@needs_torch
@pytest.mark.parametrize("name", ["layer_norm", "group_norm", "instance_norm"])
def test_signatures_are_torchs(name):
    ours, theirs = inspect.signature(getattr(F, name)), inspect.signature(getattr(torch.nn.functional, name))
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
           [(p.name, p.default, p.kind) for p in theirs.parameters.values()]


@needs_torch
def test_positional_arguments_as_torch(rng, close):
    x, w, b = rng.standard_normal((2, 4, 3)), rng.standard_normal(4), rng.standard_normal(4)
    for F_, T in ((F, mt.tensor), (torch.nn.functional, torch.tensor)):
        rm, rv = T(np.zeros(4)), T(np.ones(4))
        out = (F_.layer_norm(T(x), (4, 3), T(np.ones((4, 3))), T(np.zeros((4, 3))), 1e-3),
               F_.group_norm(T(x), 2, T(w), T(b), 1e-3),
               F_.instance_norm(T(x), rm, rv, T(w), T(b), True, 0.3, 1e-3), rm, rv)
        if F_ is F:
            ours = out
    for a, e in zip(ours, out):
        close(a, e, rtol=1e-12, atol=1e-12)


def test_running_statistics_must_be_tensors_on_the_inputs_device(rng):
    x = mt.tensor(rng.standard_normal((2, 3, 4)))
    with pytest.raises(TypeError, match="instance_norm: expected running_mean"):
        F.instance_norm(x, np.zeros(3), np.ones(3))
    with pytest.raises(TypeError, match="instance_norm"):
        F.instance_norm(x, mt.zeros(3, dtype=mt.int64), mt.ones(3, dtype=mt.int64))


# ---------------------------------------------------------------- the layers

LAYERS = [
    lambda nn, **kw: nn.LayerNorm(3, **kw), lambda nn, **kw: nn.LayerNorm([2, 3], **kw),
    lambda nn, **kw: nn.LayerNorm((2, 3), elementwise_affine=False, **kw),
    lambda nn, **kw: nn.LayerNorm((3,), bias=False, eps=1e-3, **kw),
    lambda nn, **kw: nn.GroupNorm(2, 4, **kw), lambda nn, **kw: nn.GroupNorm(1, 4, affine=False, **kw),
    lambda nn, **kw: nn.GroupNorm(4, 4, eps=1e-3, bias=False, **kw),
    lambda nn, **kw: nn.InstanceNorm1d(4, **kw), lambda nn, **kw: nn.InstanceNorm2d(4, affine=True, **kw),
    lambda nn, **kw: nn.InstanceNorm2d(4, track_running_stats=True, momentum=0.3, **kw),
    lambda nn, **kw: nn.InstanceNorm1d(4, affine=True, bias=False, track_running_stats=True, **kw),
    lambda nn, **kw: nn.InstanceNorm2d(4, affine=True, track_running_stats=True, momentum=None, **kw),
]
INPUTS = {"LayerNorm": (3, 4, 2, 3), "GroupNorm": (3, 4, 2, 3), "InstanceNorm1d": (3, 4, 5),
          "InstanceNorm2d": (3, 4, 3, 2)}


@needs_torch
@pytest.mark.parametrize("make", LAYERS)
def test_layers_match_torch_names_repr_and_training(close, rng, make):
    ours, theirs = make(mt.nn, dtype=mt.float64), make(torch.nn, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    for name, value in theirs.state_dict().items():          # torch's initial values
        close(ours.state_dict()[name], value, rtol=0, atol=0, what=name)
    with torch.no_grad():                                      # torch -> ours
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(p.shape))))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(INPUTS[type(ours).__name__])
    for step in range(2):
        xm, xt = _pair(x + step, True)
        ym, yt = ours(xm), theirs(xt)
        close(ym, yt, rtol=1e-10, atol=1e-10, what="output")
        g = rng.standard_normal(ym.shape)
        ym.backward(mt.tensor(g))
        yt.backward(torch.tensor(g))
        close(xm.grad, xt.grad, rtol=1e-10, atol=1e-10, what="input gradient")
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        close(p.grad, q.grad, rtol=1e-10, atol=1e-10, what=f"{name} gradient")
    for name, value in theirs.state_dict().items():           # running statistics, count
        close(ours.state_dict()[name], value, rtol=1e-12, atol=1e-12, what=name)
    ours.eval()
    theirs.eval()
    close(ours(mt.tensor(x)), theirs(torch.tensor(x)), rtol=1e-10, atol=1e-10, what="evaluation output")
    reloaded = make(torch.nn, dtype=torch.float64)             # ours -> torch
    reloaded.load_state_dict({k: torch.tensor(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    for name, value in reloaded.state_dict().items():
        close(ours.state_dict()[name], value, rtol=0, atol=0, what=name)


@needs_torch
@pytest.mark.parametrize("make, shape", [(lambda nn: nn.InstanceNorm1d(3, affine=True), (3, 5)),
                                         (lambda nn: nn.InstanceNorm2d(3, track_running_stats=True), (3, 4, 4)),
                                         (lambda nn: nn.LayerNorm(4), (4,))])
def test_layers_take_unbatched_inputs_as_torch(close, rng, make, shape):
    ours, theirs = make(mt.nn), make(torch.nn)
    x = rng.standard_normal(shape).astype(np.float32)
    close(ours(mt.tensor(x)), theirs(torch.tensor(x)), **F32)
    for name, value in theirs.state_dict().items():
        close(ours.state_dict()[name], value, **F32, what=name)


@needs_torch
def test_instance_norm_layer_channel_checks_as_torch(rng):
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    with pytest.raises(ValueError, match=r"InstanceNorm1d\(4\).*num_features"):
        mt.nn.InstanceNorm1d(4, affine=True)(mt.tensor(x))
    with pytest.raises(ValueError):
        torch.nn.InstanceNorm1d(4, affine=True)(torch.tensor(x))
    with pytest.warns(UserWarning, match="does not match num_features"):
        out = mt.nn.InstanceNorm1d(4)(mt.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(out.numpy(), torch.nn.InstanceNorm1d(4)(torch.tensor(x)).numpy(), atol=1e-5)
    for make, bad in ((mt.nn.InstanceNorm1d, (2, 4, 3, 3)), (mt.nn.InstanceNorm2d, (4, 3)),
                      (mt.nn.InstanceNorm2d, (1, 2, 4, 3, 3))):
        with pytest.raises(ValueError, match=make.__name__):
            make(4)(mt.zeros(bad))


@needs_torch
@pytest.mark.parametrize("make", [lambda nn: nn.GroupNorm(3, 4), lambda nn: nn.GroupNorm(0, 4),
                                  lambda nn: nn.LayerNorm(3.0), lambda nn: nn.LayerNorm((2, -1))])
def test_layer_constructor_errors_as_torch(make):
    with pytest.raises((ValueError, TypeError, RuntimeError, ZeroDivisionError)):
        make(torch.nn)
    with pytest.raises((ValueError, TypeError)) as error:
        make(mt.nn)
    assert type(make(_Names())).__name__ in str(error.value)


class _Names:
    """nn.X(...) -> an instance of a class named X: which layer a constructor call makes."""
    def __getattr__(self, name):
        return lambda *args, **kwargs: type(name, (), {})()


def test_layer_forward_errors_name_the_layer():
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(3,\)\): layer_norm"):
        mt.nn.LayerNorm(3)(mt.zeros(2, 4))
    with pytest.raises(RuntimeError, match=r"GroupNorm\(2, 4\): group_norm"):
        mt.nn.GroupNorm(2, 4)(mt.zeros(2, 6, 3))
    with pytest.raises(TypeError, match="LayerNorm"):
        mt.nn.LayerNorm(3)(np.zeros((2, 3)))


@needs_torch
@pytest.mark.parametrize("name", ["LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d"])
def test_layer_signatures_are_torchs(name):
    ours, theirs = (inspect.signature(getattr(m, name).__init__) for m in (mt.nn, torch.nn))
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
           [(p.name, p.default, p.kind) for p in theirs.parameters.values()]


def test_layers_reset_and_move(rng):
    layer = mt.nn.InstanceNorm2d(2, affine=True, track_running_stats=True, dtype=mt.float64)
    assert layer.weight.dtype == np.float64 and layer.running_mean.dtype == np.float64
    layer(mt.tensor(rng.standard_normal((2, 2, 3, 3))))
    layer.reset_parameters()
    assert layer.running_mean.numpy().tolist() == [0, 0] and layer.running_var.numpy().tolist() == [1, 1]
    norm = mt.nn.LayerNorm(3)
    norm.weight.data.mul_(3)
    norm.reset_parameters()
    assert norm.weight.detach().numpy().tolist() == [1, 1, 1]
    with pytest.raises(TypeError, match="GroupNorm: num_groups"):   # torch fails later, in forward
        mt.nn.GroupNorm(2.0, 4)
