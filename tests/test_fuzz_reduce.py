"""Fuzz: every reduction against torch over random shapes (zero sizes included), dtypes, dims
(ints, NumPy ints, tuples, lists, duplicates, out of range), keepdim, NaN/inf and non-contiguous
inputs.  Each case must give torch's result (values, dtypes, gradients, return types) or be
refused by both (tests/_fuzz.py)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from _fuzz import ALL_DTYPES, FLOAT_DTYPES, FUZZ, against_torch, arrays, shapes

pytest.importorskip("torch", reason="needs torch: every fuzz case here holds minitorch to torch's outcome")


@st.composite
def one_dim(draw, ndim):
    """A dim, sometimes out of range by one, sometimes a NumPy integer."""
    bound = max(ndim, 1)
    d = draw(st.integers(-bound - 1, bound))
    return np.int64(d) if draw(st.booleans()) and draw(st.booleans()) else d


@st.composite
def dim_args(draw, ndim):
    """None, an int, or a tuple/list of ints (empty, repeated or out of range now and then)."""
    kind = draw(st.sampled_from(["none", "int", "int", "tuple", "list", "empty"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(one_dim(ndim))
    if kind == "empty":
        return ()
    bound = max(ndim, 1)
    dims = draw(st.lists(st.integers(-bound, bound - 1 + (draw(st.integers(0, 9)) == 0)),
                         min_size=1, max_size=max(ndim, 1)))
    return tuple(dims) if kind == "tuple" else dims


# var/std with too few elements warn, in torch and here alike: expected, not news.
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")

# The main property tests draw more cases than the profile's 40: dims x keepdim x dtype x layout.
MANY = settings(parent=FUZZ, max_examples=120)


def nd_arrays(dtypes=ALL_DTYPES):
    """arrays() of at least one dim: the harness hands torch np.ascontiguousarray(a), which turns
    a 0-d array into shape (1,); 0-d inputs are covered in test_reductions.py instead."""
    return shapes(min_dims=1).flatmap(lambda shape: arrays(shape=shape, dtypes=dtypes))


def call(lib, name, x, *args, method=True, **kwargs):
    return getattr(x, name)(*args, **kwargs) if method else getattr(lib, name)(x, *args, **kwargs)


# ---- sum, mean ------------------------------------------------------------------------
@MANY
@given(st.data(), nd_arrays(ALL_DTYPES), st.sampled_from(["sum", "mean"]), st.booleans(),
       st.sampled_from([None, False, True]), st.sampled_from(["torch", "numpy", "positional"]))
def test_sum_mean(data, a, name, method, keepdim, spelling):
    dim = data.draw(dim_args(a.ndim))
    if spelling == "positional":
        args, kwargs = ((dim,) if keepdim is None else (dim, keepdim)), {}
    else:
        names = ("dim", "keepdim") if spelling == "torch" else ("axis", "keepdims")
        kwargs = {names[0]: dim} if keepdim is None else {names[0]: dim, names[1]: keepdim}
        args = ()
    against_torch(name, lambda lib, x: call(lib, name, x, *args, method=method, **kwargs), [a])


@FUZZ
@given(nd_arrays(ALL_DTYPES), st.sampled_from(["sum", "mean"]),
       st.sampled_from(["float64", "float32", "int64", "bool"]))
def test_sum_mean_dtype_argument(a, name, dtype):
    def dtype_of(lib):   # minitorch spells torch.bool as bool_ (NumPy's)
        return getattr(lib, dtype) if hasattr(lib, dtype) and dtype != "bool" else getattr(lib, "bool_", None) or lib.bool

    against_torch(name, lambda lib, x: getattr(x, name)(dtype=dtype_of(lib)), [a])


@FUZZ
@given(nd_arrays(ALL_DTYPES), st.sampled_from(["sum", "mean", "max", "min"]))
def test_keepdim_without_dim(a, name):
    against_torch(name, lambda lib, x: getattr(x, name)(keepdim=True), [a])


# ---- max, min, amax, amin, argmax, argmin -------------------------------------------------
@MANY
@given(st.data(), nd_arrays(ALL_DTYPES), st.sampled_from(["max", "min"]), st.booleans(),
       st.sampled_from(["none", "dim", "dim keepdim", "keyword", "numpy"]))
def test_max_min(data, a, name, method, form):
    d = data.draw(one_dim(a.ndim))
    keepdim = data.draw(st.booleans())
    calls = {"none": lambda lib, x: call(lib, name, x, method=method),
             "dim": lambda lib, x: call(lib, name, x, d, method=method),
             "dim keepdim": lambda lib, x: call(lib, name, x, d, keepdim, method=method),
             "keyword": lambda lib, x: call(lib, name, x, dim=d, keepdim=keepdim, method=method),
             "numpy": lambda lib, x: call(lib, name, x, axis=d, keepdims=keepdim, method=method)}
    against_torch(name, calls[form], [a])


@MANY
@given(st.data(), nd_arrays(ALL_DTYPES), st.sampled_from(["amax", "amin"]), st.booleans())
def test_amax_amin(data, a, name, keepdim):
    dim = data.draw(dim_args(a.ndim))
    against_torch(name, lambda lib, x: getattr(x, name)(dim, keepdim), [a])


@MANY
@given(st.data(), nd_arrays(ALL_DTYPES), st.sampled_from(["argmax", "argmin"]), st.booleans(),
       st.booleans())
def test_argmax_argmin(data, a, name, keepdim, with_dim):
    d = data.draw(one_dim(a.ndim)) if with_dim else None
    against_torch(name, lambda lib, x: getattr(lib, name)(x, d, keepdim), [a])


@FUZZ
@given(nd_arrays(ALL_DTYPES), st.sampled_from(["max", "min", "argmax", "sum", "std", "norm"]),
       st.sampled_from([1.0, True, "0", (0,)]))
def test_wrong_dim_types(a, name, dim):
    against_torch(name, lambda lib, x: getattr(x, name)(dim), [a])


# ---- topk -------------------------------------------------------------------------------
@st.composite
def distinct_arrays(draw, dtypes=FLOAT_DTYPES + (np.int64, np.int32)):
    """No ties (torch orders tied entries by its sorting algorithm): a permutation, with at
    most one NaN/inf, sometimes viewed non-contiguously."""
    shape = draw(shapes(min_dims=1, max_side=5))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    n = math.prod(shape)
    a = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(n) - n // 2
    a = a.astype(dtype).reshape(shape)
    if dtype.kind == "f" and n and draw(st.booleans()):
        a.reshape(-1)[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if a.ndim and draw(st.booleans()):
        a = np.ascontiguousarray(a[::-1])[::-1]
    return a


@MANY
@given(st.data(), distinct_arrays(), st.booleans(), st.booleans())
def test_topk(data, a, largest, method):
    d = data.draw(one_dim(a.ndim))
    size = a.shape[d] if a.ndim and -a.ndim <= d < a.ndim else 1
    k = data.draw(st.integers(-1, size + 1))
    if method:
        against_torch("topk", lambda lib, x: x.topk(k, d, largest=largest), [a])
    else:
        against_torch("topk", lambda lib, x: lib.topk(x, k, dim=d, largest=largest, sorted=True), [a])


@FUZZ
@given(st.data(), nd_arrays(ALL_DTYPES), st.booleans())
def test_topk_values_with_ties(data, a, largest):
    """With ties, which tied index comes first is torch's sorting detail: compare the values."""
    d = data.draw(one_dim(a.ndim))
    size = a.shape[d] if a.ndim and -a.ndim <= d < a.ndim else 1
    k = data.draw(st.integers(0, size))
    against_torch("topk", lambda lib, x: x.topk(k, d, largest).values, [a], grad=False)


@FUZZ
@given(st.data(), distinct_arrays(), st.booleans())
def test_topk_unsorted_selects_the_same_set(data, a, largest):
    """sorted=False leaves the order to the implementation: compare the sorted selection."""
    import minitorch_cnn as mt
    import torch
    d = data.draw(one_dim(a.ndim))
    size = a.shape[d] if a.ndim and -a.ndim <= d < a.ndim else 1
    k = data.draw(st.integers(0, size))

    def selection(lib, x):
        values, indices = x.topk(k, d, largest, False)
        v, i = (values.detach().numpy(), indices.numpy()) if lib is torch else (values.numpy(), indices.numpy())
        if v.ndim:
            order = np.argsort(i, axis=d)
            return np.take_along_axis(v, order, d), np.take_along_axis(i, order, d)
        return v, i

    try:
        mine = selection(mt, mt.Tensor(a))
    except (RuntimeError, IndexError, TypeError, ValueError):
        against_torch("topk", lambda lib, x: x.topk(k, d, largest, False), [a])   # both refuse
        return
    theirs = selection(torch, torch.tensor(np.ascontiguousarray(a)))
    np.testing.assert_array_equal(mine[1], theirs[1])
    np.testing.assert_array_equal(mine[0], theirs[0])


@FUZZ
@given(nd_arrays(FLOAT_DTYPES), st.sampled_from([1.0, True, "1", None]),
       st.sampled_from([True, 1, None]))
def test_topk_wrong_argument_types(a, k, largest):
    against_torch("topk", lambda lib, x: x.topk(k, largest=largest), [a])


# ---- var, std ---------------------------------------------------------------------------
@MANY
@given(st.data(), nd_arrays(FLOAT_DTYPES + (np.int64, np.bool_)), st.sampled_from(["var", "std"]),
       st.booleans(), st.sampled_from(["default", "unbiased", "correction", "positional", "bool overload"]))
def test_var_std(data, a, name, method, form):
    dim = data.draw(dim_args(a.ndim))
    keepdim = data.draw(st.booleans())
    unbiased = data.draw(st.booleans())
    correction = data.draw(st.sampled_from([0, 1, 2, 0.5, -1, 3]))
    calls = {"default": lambda lib, x: call(lib, name, x, dim, keepdim=keepdim, method=method),
             "unbiased": lambda lib, x: call(lib, name, x, dim=dim, unbiased=unbiased, keepdim=keepdim,
                                             method=method),
             "correction": lambda lib, x: call(lib, name, x, dim, correction=correction, keepdim=keepdim,
                                               method=method),
             "positional": lambda lib, x: call(lib, name, x, dim, unbiased, keepdim, method=method),
             "bool overload": lambda lib, x: call(lib, name, x, unbiased, method=method)}
    against_torch(name, calls[form], [a])


# ---- norm -------------------------------------------------------------------------------
@MANY
@given(st.data(), nd_arrays(FLOAT_DTYPES + (np.int64,)),
       st.sampled_from(["fro", 2, 1, math.inf, -math.inf, 0.5, 1.5, 3, 0, -1, -2.5, None, "nuc"]),
       st.booleans(), st.booleans())
def test_norm(data, a, p, keepdim, method):
    dim = data.draw(dim_args(a.ndim))
    if method:
        fn = lambda lib, x: x.norm(p, dim, keepdim)            # noqa: E731
    else:
        fn = lambda lib, x: lib.norm(x, p=p, dim=dim, keepdim=keepdim)   # noqa: E731
    # 'nuc' (the nuclear norm, an SVD) is not built: a clear refusal is allowed there.
    against_torch("norm", fn, [a], refuse_ok=(p == "nuc"))


@FUZZ
@given(arrays(shape=(3, 4), dtypes=(np.float64,), special=False), st.sampled_from(["sum", "amax", "norm"]))
def test_reductions_compose_with_backward_through_two_ops(a, name):
    """A reduction's gradient feeds the op before it (here a square)."""
    against_torch(name, lambda lib, x: getattr(x * x, name)(1).sum(), [a])
