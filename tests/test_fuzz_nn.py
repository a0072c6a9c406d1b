"""Fuzz the nn ops and layers against torch 2.13 (tests/_fuzz.py): activations, dropout and
dropout2d, cross_entropy / nll_loss / mse_loss with every option, flatten, the layers, the
containers and gradient clipping, over random shapes (zero sizes included), dtypes, NaN/inf,
strided inputs, argument values and wrong argument types."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minitorch_cnn as mt
from _fuzz import ALL_DTYPES, FLOAT_DTYPES, FUZZ, against_torch, arrays, shapes

torch = pytest.importorskip("torch", reason="needs torch: every fuzz case here holds minitorch to torch's outcome")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


def nd_arrays(**kwargs):
    """arrays() of at least one dim: _fuzz.py hands torch np.ascontiguousarray(a), which turns a
    0-d array into shape (1,) (reported); the 0-d cases are tested in test_nn_api.py."""
    return shapes(min_dims=1).flatmap(lambda shape: arrays(shape=shape, **kwargs))


def functional(lib):
    return lib.nn.functional


# ---- activations ------------------------------------------------------------------------------

ELEMENTWISE = {
    "relu": lambda lib, x, slope: functional(lib).relu(x),
    "leaky_relu": lambda lib, x, slope: functional(lib).leaky_relu(x, slope),
    "tanh": lambda lib, x, slope: functional(lib).tanh(x),
    "sigmoid": lambda lib, x, slope: functional(lib).sigmoid(x),
    "ReLU": lambda lib, x, slope: lib.nn.ReLU()(x),
    "LeakyReLU": lambda lib, x, slope: lib.nn.LeakyReLU(slope)(x),
    "Tanh": lambda lib, x, slope: lib.nn.Tanh()(x),
    "Sigmoid": lambda lib, x, slope: lib.nn.Sigmoid()(x),
}


@settings(parent=FUZZ, max_examples=120)
@given(name=st.sampled_from(sorted(ELEMENTWISE)), x=nd_arrays(dtypes=ALL_DTYPES, low=-30, high=30),
       slope=st.sampled_from([0.01, 0.2, -0.5, 0.0, 3.0]), as_list=st.integers(0, 9))
def test_fuzz_elementwise_activations(name, x, slope, as_list):
    op = ELEMENTWISE[name]
    named = "relu" if name == "LeakyReLU" else name.lower()     # in both "LeakyReLU: ..." and "leaky_relu: ..."
    if as_list == 0:          # a wrong type: both engines refuse
        against_torch(named, lambda lib, t: op(lib, t.tolist(), slope), [x])
        return
    against_torch(named, lambda lib, t: op(lib, t, slope), [x])


@settings(parent=FUZZ, max_examples=50)
@given(x=nd_arrays(dtypes=ALL_DTYPES, low=-20, high=20), dim=st.integers(-5, 4),
       log=st.booleans(), layer=st.booleans(), cast=st.booleans())
def test_fuzz_softmax(x, dim, log, layer, cast):
    name = "log_softmax" if log else "softmax"

    def fn(lib, t):
        if layer:
            return (lib.nn.LogSoftmax(dim) if log else lib.nn.Softmax(dim))(t)
        if cast:      # dtype= casts first, so an integer input is fine
            return getattr(functional(lib), name)(t, dim, dtype=lib.float64)
        return getattr(functional(lib), name)(t, dim)
    against_torch("softmax", fn, [x])


# ---- dropout ----------------------------------------------------------------------------------

@FUZZ
@given(x=nd_arrays(dtypes=ALL_DTYPES), p=st.sampled_from([0.0, 1.0, 0, 1, True, False, 0.5, 1.5, -0.2, "a", None]),
       training=st.booleans(), two_d=st.booleans(), layer=st.booleans())
def test_fuzz_dropout_deterministic_cases(x, p, training, two_d, layer):
    """The cases with one answer (p = 0, p = 1, eval mode, invalid p, integer inputs), held to torch's."""
    name = "dropout2d" if two_d else "dropout"
    if isinstance(p, float) and 0 < p < 1 and training and x.dtype.kind == "f":
        return                                     # random masks: see the next test
    if layer and not isinstance(p, (int, float)):
        return                                     # torch's Dropout("a") fails comparing a str

    def fn(lib, t):
        if layer:
            module = (lib.nn.Dropout2d if two_d else lib.nn.Dropout)(p)
            return module.train(training)(t)
        return getattr(functional(lib), name)(t, p, training)
    against_torch("dropout", fn, [x])


@FUZZ
@given(shape=shapes(min_dims=2, max_dims=5, max_side=5), dtype=st.sampled_from(FLOAT_DTYPES),
       p=st.floats(0.05, 0.95), two_d=st.booleans(), seed=st.integers(0, 2**16))
def test_fuzz_dropout_random_masks(shape, dtype, p, two_d, seed):
    """0 < p < 1: kept values are x / (1 − p), dropped ones 0, whole channels for dropout2d, the
    gradient is the same mask, and the dtype stays; torch's own output obeys the same rules."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(1, 2, shape).astype(dtype)
    mt.manual_seed(seed)
    op = mt.nn.functional.dropout2d if two_d else mt.nn.functional.dropout
    xt = mt.tensor(x, requires_grad=True)
    out = op(xt, p)
    assert out.dtype == x.dtype and out.shape == x.shape
    ratio = np.asarray(out.data, np.float64) / x.astype(np.float64)
    scale = float(np.asarray(1 / (1 - p)).astype(dtype))
    kept = ratio != 0
    np.testing.assert_allclose(ratio[kept], scale, rtol=2e-3 if dtype == np.float16 else 1e-6)
    if two_d:
        per_channel = kept.reshape(shape[0], shape[1], int(np.prod(shape[2:])))
        assert np.all(per_channel.all(axis=2) | ~per_channel.any(axis=2))
    out.backward(mt.tensor(np.ones(shape, dtype)))
    np.testing.assert_array_equal(np.asarray(xt.grad.data) != 0, kept)
    theirs = (torch.nn.functional.dropout2d if two_d else torch.nn.functional.dropout)(torch.tensor(x), p)
    assert theirs.dtype == torch.from_numpy(x).dtype


# ---- losses -----------------------------------------------------------------------------------

@st.composite
def class_problems(draw, log_probs=False):
    """(input, target, weight or None, kwargs) for cross_entropy / nll_loss: valid in 3 of 4
    draws, else with one fault (wrong shape, dtype, class, option) that torch refuses or not."""
    fault = draw(st.sampled_from(["none"] * 12 + ["target_shape", "x_dtype", "out_of_range", "target_dtype",
                                                  "weight_dtype", "weight_len", "reduction", "smoothing"]))
    layout = draw(st.sampled_from(["NC", "NC", "NCd"]))
    n, c, d = draw(st.integers(0, 4)), draw(st.integers(0, 4)), draw(st.integers(0, 3))
    shape = {"NC": (n, c), "NCd": (n, c, d)}[layout]
    target_shape = {"NC": (n,), "NCd": (n, d)}[layout]
    if fault == "target_shape":
        target_shape = draw(shapes(min_dims=1, max_dims=3))
    x = draw(arrays(shape=shape, dtypes=ALL_DTYPES if fault == "x_dtype" else FLOAT_DTYPES, low=-8, high=8))
    ignore_index = draw(st.sampled_from([-100, -100, 0, 1, -1]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    target = rng.integers(0, max(c, 1) + (fault == "out_of_range"), target_shape)
    if target.size and draw(st.booleans()):
        target.reshape(-1)[rng.integers(0, 2, target.size).astype(bool)] = ignore_index
    target_dtype = draw(st.sampled_from([np.uint8, np.int32, np.float32, np.int8])) if fault == "target_dtype" \
        else draw(st.sampled_from([np.int64] * 5 + [np.uint8]))
    if target_dtype == np.uint8:
        target = np.where(target < 0, 0, target)
    target = target.astype(target_dtype)
    weight = None
    if draw(st.booleans()) or fault in ("weight_dtype", "weight_len"):
        weight_dtype = np.float64 if fault == "weight_dtype" and x.dtype != np.float64 else x.dtype
        weight = rng.uniform(0, 3, c + (fault == "weight_len")).astype(weight_dtype)
    kwargs = dict(ignore_index=ignore_index,
                  reduction="avg" if fault == "reduction" else draw(st.sampled_from(["mean", "mean", "sum", "none"])))
    if not log_probs:
        kwargs["label_smoothing"] = draw(st.sampled_from([1.5, -0.1, float("nan")])) if fault == "smoothing" \
            else draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0]))
    return x, target, weight, kwargs


def _class_loss_call(name, layer, x, target, weight, kwargs):
    args = [x, target] + ([] if weight is None else [weight])
    requires_grad = [x.dtype.kind == "f", False, False][:len(args)]

    def fn(lib, t_x, t_target, *t_weight):
        w = t_weight[0] if t_weight else None
        if layer:
            module = (lib.nn.CrossEntropyLoss if name == "cross_entropy" else lib.nn.NLLLoss)(weight=w, **kwargs)
            return module(t_x, t_target)
        return getattr(functional(lib), name)(t_x, t_target, weight=w, **kwargs)
    # "entropy" / "nll": named by both the layer (CrossEntropyLoss) and the function (cross_entropy)
    against_torch("entropy" if name == "cross_entropy" else "nll", fn, args, requires_grad=requires_grad)


@settings(parent=FUZZ, max_examples=200)
@given(problem=class_problems(), layer=st.booleans())
def test_fuzz_cross_entropy(problem, layer):
    _class_loss_call("cross_entropy", layer, *problem)


@settings(parent=FUZZ, max_examples=120)
@given(problem=class_problems(log_probs=True), layer=st.booleans())
def test_fuzz_nll_loss(problem, layer):
    _class_loss_call("nll_loss", layer, *problem)


@FUZZ
@given(shape=shapes(min_dims=1, max_dims=4), x_dtype=st.sampled_from(FLOAT_DTYPES + (np.int64,)),
       p_dtype=st.sampled_from(FLOAT_DTYPES + (np.int64,)), weighted=st.booleans(),
       ignore_index=st.sampled_from([-100, -1, 0]), reduction=st.sampled_from(["mean", "sum", "none"]),
       label_smoothing=st.sampled_from([0.0, 0.2, 1.0]), seed=st.integers(0, 2**16), layer=st.booleans())
def test_fuzz_cross_entropy_with_class_probabilities(shape, x_dtype, p_dtype, weighted, ignore_index, reduction,
                                                     label_smoothing, seed, layer):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-5, 5, shape).astype(x_dtype)
    p = (rng.random(shape) * (3 if p_dtype == np.int64 else 1)).astype(p_dtype)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    args = [x, p] + ([rng.uniform(0, 2, n_classes).astype(x_dtype)] if weighted else [])
    kwargs = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing)

    def fn(lib, t_x, t_p, *t_w):
        w = t_w[0] if t_w else None
        if layer:
            return lib.nn.CrossEntropyLoss(weight=w, **kwargs)(t_x, t_p)
        return functional(lib).cross_entropy(t_x, t_p, weight=w, **kwargs)
    against_torch("entropy", fn, args, requires_grad=[x.dtype.kind == "f", p.dtype.kind == "f", False][:len(args)])


@FUZZ
@given(x=nd_arrays(dtypes=ALL_DTYPES), y_seed=st.integers(0, 2**16), reduction=st.sampled_from(["mean", "sum", "none", "x"]),
       layer=st.booleans(), as_list=st.integers(0, 9))
def test_fuzz_mse_loss(x, y_seed, reduction, layer, as_list):
    y = np.random.default_rng(y_seed).uniform(-3, 3, x.shape).astype(x.dtype)

    def fn(lib, a, b):
        if as_list == 0:
            a = a.tolist()
        if layer:
            return lib.nn.MSELoss(reduction=reduction)(a, b)
        return functional(lib).mse_loss(a, b, reduction=reduction)
    against_torch("mse", fn, [x, y])


# ---- shape layers and containers --------------------------------------------------------------

@FUZZ
@given(x=nd_arrays(dtypes=ALL_DTYPES), start=st.integers(-4, 4), end=st.integers(-4, 4), layer=st.booleans())
def test_fuzz_flatten_and_identity(x, start, end, layer):
    if layer:
        against_torch("flatten", lambda lib, t: lib.nn.Flatten(start, end)(t), [x])
    else:
        against_torch("flatten", lambda lib, t: lib.flatten(t, start, end) if lib is torch
                      else functional(lib).flatten(t, start, end), [x])
    against_torch("identity", lambda lib, t: lib.nn.Identity(start, unused=end)(t), [x])


@FUZZ
@given(x=arrays(shape=(3, 4), dtypes=(np.float64,), special=False), steps=st.lists(
    st.sampled_from(["relu", "tanh", "sigmoid", "leaky", "softmax", "flatten", "identity"]), max_size=5))
def test_fuzz_sequential_of_layers(x, steps):
    def build(lib):
        make = {"relu": lib.nn.ReLU, "tanh": lib.nn.Tanh, "sigmoid": lib.nn.Sigmoid, "leaky": lib.nn.LeakyReLU,
                "softmax": lambda: lib.nn.Softmax(1), "flatten": lib.nn.Flatten, "identity": lib.nn.Identity}
        return lib.nn.Sequential(*[make[s]() for s in steps])
    against_torch("sequential", lambda lib, t: build(lib)(t), [x])


CONTAINER_OPS = st.lists(st.tuples(st.sampled_from(["append", "extend", "insert", "del", "set", "slice_del"]),
                                   st.integers(-6, 6), st.sampled_from(["linear", "relu", "tanh"])), max_size=8)


@FUZZ
@given(ops=CONTAINER_OPS, start=st.integers(0, 3))
def test_fuzz_module_list_edits_match_torch(ops, start):
    """The same edits on a ModuleList in both engines leave the same children, state_dict keys,
    parameter order and repr (torch's insert is list-like for 0 ≤ index ≤ len only; other indices
    are skipped)."""
    def child(lib, kind):
        return {"linear": lambda: lib.nn.Linear(2, 2), "relu": lib.nn.ReLU, "tanh": lib.nn.Tanh}[kind]()

    lists = {lib: lib.nn.ModuleList([child(lib, "linear") for _ in range(start)]) for lib in (mt, torch)}
    for op, i, kind in ops:
        n = len(lists[torch])
        for lib, ml in lists.items():
            if op == "append":
                ml.append(child(lib, kind))
            elif op == "extend":
                ml.extend([child(lib, kind), child(lib, "relu")])
            elif op == "insert" and 0 <= i <= n:
                ml.insert(i, child(lib, kind))
            elif op in ("del", "set") and -n <= i < n:
                if op == "del":
                    del ml[i]
                else:
                    ml[i] = child(lib, kind)
            elif op == "slice_del":
                del ml[i:]
    ours, theirs = lists[mt], lists[torch]
    assert len(ours) == len(theirs)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    for i in range(-len(theirs), len(theirs)):
        assert type(ours[i]).__name__ == type(theirs[i]).__name__
    for s in (slice(1, None), slice(None, -1), slice(None, None, 2)):
        assert repr(ours[s]) == repr(theirs[s])


@FUZZ
@given(keys=st.lists(st.sampled_from(["a", "b", "conv", "fc", "x.y", "", "training", "0"]), max_size=6),
       pops=st.lists(st.sampled_from(["a", "b", "conv", "fc", "zz"]), max_size=3))
def test_fuzz_module_dict_and_named_sequential_match_torch(keys, pops):
    from collections import OrderedDict
    outcomes = {}
    for lib in (mt, torch):
        try:
            md = lib.nn.ModuleDict()
            for k in keys:
                md[k] = lib.nn.Linear(1, 1) if k in ("conv", "fc") else lib.nn.ReLU()
            for k in pops:
                if k in md:
                    md.pop(k)
            seq = lib.nn.Sequential(OrderedDict((k, lib.nn.Tanh()) for k in dict.fromkeys(keys)))
            outcomes[lib] = (list(md.keys()), list(md.state_dict()), repr(md), list(seq._modules), repr(seq))
        except (KeyError, TypeError) as exc:
            outcomes[lib] = type(exc)
    assert outcomes[mt] == outcomes[torch]


# ---- gradient clipping ------------------------------------------------------------------------

@FUZZ
@given(grads=st.lists(nd_arrays(dtypes=(np.float64, np.float32), low=-5, high=5), min_size=0, max_size=4),
       max_norm=st.sampled_from([0.0, 0.1, 1.0, 100.0]),
       norm_type=st.sampled_from([2.0, 1.0, 3.0, 0.5, 0.0, float("inf"), "inf"]),
       error_if_nonfinite=st.booleans(), by_value=st.booleans(), single=st.booleans())
def test_fuzz_clip_grad(grads, max_norm, norm_type, error_if_nonfinite, by_value, single):
    if by_value and isinstance(norm_type, str):
        return
    grads = grads[:1] if single else grads

    def fn(lib, *gs):
        params = []
        for g in gs:
            p = lib.nn.Parameter(g.detach() * 0)
            p.grad = g.detach() * 1
            params.append(p)
        target = params[0] if single and params else params
        if by_value:
            lib.nn.utils.clip_grad_value_(target, max_norm)
            return tuple(p.grad for p in params)
        total = lib.nn.utils.clip_grad_norm_(target, max_norm, norm_type=norm_type,
                                             error_if_nonfinite=error_if_nonfinite)
        return (total,) + tuple(p.grad for p in params)
    if single and not grads:
        return
    against_torch("clip_grad", fn, grads, requires_grad=[False] * len(grads))
