"""Reductions against torch: values, dtypes, return types and gradients (float64 to 1e-10, the
same formulas in the same precision), mt.gradcheck for each op, and the off-the-happy-path
cases one by one (0-d inputs, empty inputs, ties, NaN, dim spellings)."""
import math
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip

F64 = dict(rtol=1e-10, atol=1e-10)


def _leaves(arrays):
    # The array itself goes in (strides kept, negative ones too); torch copies (xp.array copies
    # too, so mt.tensor would hide a layout problem).
    ours = [mt.Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(np.ascontiguousarray(a) if a.ndim else a, requires_grad=a.dtype.kind == "f")
              for a in arrays]
    return ours, theirs


def _parts(out):
    return list(out) if isinstance(out, tuple) else [out]


def compare(fn, *arrays, grad=True, tol=F64, seed=0):
    """fn(lib, *tensors) in minitorch and torch: same structure, dtypes, values and (float
    outputs) gradients of Σ v·out for a seeded random v.  Works for 0-d inputs too."""
    ours, theirs = _leaves(arrays)
    got, expected = fn(mt, *ours), fn(torch, *theirs)
    assert type(got).__name__ == type(expected).__name__ or not isinstance(expected, tuple)
    assert len(_parts(got)) == len(_parts(expected))
    rng = np.random.default_rng(seed)
    ours_total = theirs_total = None
    for a, e in zip(_parts(got), _parts(expected)):
        a_np, e_np = a.detach().numpy(), e.detach().numpy()
        assert a_np.shape == e_np.shape and a_np.dtype == e_np.dtype, (a_np, e_np)
        np.testing.assert_allclose(a_np, e_np, equal_nan=True, **tol)
        if grad and e.requires_grad:
            v = rng.standard_normal(e_np.shape).astype(e_np.dtype)
            ours_term, theirs_term = (a * mt.tensor(v)).sum(), (e * torch.tensor(v)).sum()
            ours_total = ours_term if ours_total is None else ours_total + ours_term
            theirs_total = theirs_term if theirs_total is None else theirs_total + theirs_term
    if theirs_total is not None:
        ours_total.backward()
        theirs_total.backward()
        for m, t in zip(ours, theirs):
            if t.grad is not None:
                assert m.grad is not None
                np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), equal_nan=True, **tol)
                assert m.grad.dtype == m.dtype
    return got


@pytest.fixture
def x(rng, distinct_values):
    return distinct_values((3, 4, 5), rng)      # no ties, no zeros: every gradient is smooth


# ---- the named regressions ------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("batch", [2, 4])
def test_values_indices_unpack_from_max_over_dim_1(batch, rng):
    """`values, indices = out.max(1)` used to unpack the rows' maxima when the batch was 2."""
    out = rng.standard_normal((batch, 10))
    values, indices = mt.tensor(out).max(1)
    expected_values, expected_indices = torch.tensor(out).max(1)
    assert values.shape == (batch,) and indices.shape == (batch,)
    np.testing.assert_array_equal(values.numpy(), expected_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    assert indices.dtype == np.int64


def test_max_over_dim_reads_indices_by_name(rng):
    out = rng.standard_normal((4, 10))
    result = mt.tensor(out).max(dim=1)
    np.testing.assert_array_equal(result.indices.numpy(), out.argmax(1))
    np.testing.assert_array_equal(result.values.numpy(), out.max(1))
    assert isinstance(result, tuple) and type(result).__name__ == "max"
    assert result.values is result[0] and result.indices is result[1]


def test_min_over_dim_returns_values_and_indices(rng):
    out = rng.standard_normal((4, 10))
    result = mt.tensor(out).min(1)
    assert type(result).__name__ == "min"
    np.testing.assert_array_equal(result.values.numpy(), out.min(1))
    np.testing.assert_array_equal(result.indices.numpy(), out.argmin(1))


@needs_torch
def test_sum_over_a_numpy_integer_dim(rng):
    a = rng.standard_normal((3, 4))
    compare(lambda lib, x: x.sum(np.int64(1)), a)


@needs_torch
def test_return_type_matches_torch_shape():
    result = mt.tensor([[1.0, 5.0]]).max(1)
    theirs = torch.tensor([[1.0, 5.0]]).max(1)
    assert not hasattr(result, "_fields") and not hasattr(theirs, "_fields")   # both structseq-like
    assert result.n_fields == theirs.n_fields == 2
    assert "values=" in repr(result) and "indices=" in repr(result)
    match result:
        case mt.Tensor() as values, mt.Tensor() as indices:
            assert values.item() == 5.0 and indices.item() == 1


# ---- parity and gradcheck, op by op ---------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), [2, 1], ()])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_multi_dim_reductions(grad_check, x, name, dim, keepdim):
    compare(lambda lib, t: getattr(t, name)(dim, keepdim), x)
    grad_check(lambda F, t: getattr(t, name)(dim, keepdim), x)


@needs_torch
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_over_a_dim(grad_check, x, name, dim, keepdim):
    compare(lambda lib, t: getattr(lib, name)(t, dim, keepdim), x)
    compare(lambda lib, t: getattr(t, name)(dim=dim, keepdim=keepdim), x)
    grad_check(lambda F, t: getattr(t, name)(dim, keepdim).values, x)


@needs_torch
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_of_everything(grad_check, x, name):
    compare(lambda lib, t: getattr(lib, name)(t), x)
    grad_check(lambda F, t: getattr(t, name)(), x)


@needs_torch
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(x, name, dim, keepdim):
    compare(lambda lib, t: getattr(t, name)(dim, keepdim), x)


@needs_torch
@pytest.mark.parametrize("k,dim,largest", [(1, -1, True), (3, 1, False), (5, 2, True), (0, 0, True),
                                           (3, 0, False)])
def test_topk(grad_check, x, k, dim, largest):
    compare(lambda lib, t: lib.topk(t, k, dim, largest), x)
    compare(lambda lib, t: t.topk(k, dim=dim, largest=largest, sorted=True), x)
    if k:
        grad_check(lambda F, t: t.topk(k, dim, largest).values, x)


VAR_CASES = [dict(), dict(dim=1), dict(dim=(0, 2), keepdim=True), dict(dim=-1, unbiased=False),
             dict(dim=1, correction=0), dict(correction=2), dict(dim=[2], correction=0.5, keepdim=True)]


@needs_torch
@pytest.mark.parametrize("kwargs", VAR_CASES, ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std(grad_check, x, name, kwargs):
    compare(lambda lib, t: getattr(t, name)(**kwargs), x)
    compare(lambda lib, t: getattr(lib, name)(t, **kwargs), x)
    grad_check(lambda F, t: getattr(t, name)(**kwargs), x)


@needs_torch
@pytest.mark.parametrize("args", [(1, False), (1, True, True), (False,), (True,)], ids=str)
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_std_positional_overloads(x, name, args):
    """std(dim, unbiased, keepdim) and std(unbiased), as torch's overloads."""
    compare(lambda lib, t: getattr(t, name)(*args), x)


NORM_PS = ["fro", 2, 1, math.inf, -math.inf, 0.5, 1.5, 3, -1, -2.5, None]


@needs_torch
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), ([-1], True)])
@pytest.mark.parametrize("p", NORM_PS, ids=str)
def test_norm(grad_check, x, p, dim, keepdim):
    compare(lambda lib, t: t.norm(p, dim, keepdim), x)
    compare(lambda lib, t: lib.norm(t, p=p, dim=dim, keepdim=keepdim), x)
    grad_check(lambda F, t: t.norm(p, dim, keepdim), x)


def test_norm_zero_counts_nonzeros_and_has_no_gradient():
    t = mt.tensor([0.0, 1.5, -2.0], requires_grad=True)
    out = t.norm(0)
    assert out.item() == 2.0
    out.backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0, 0.0])   # torch leaves grad None


# ---- dtypes ---------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint8, np.bool_])
def test_sum_of_integers_and_bools_is_int64(dtype):
    a = np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype)
    assert compare(lambda lib, t: t.sum(), a).dtype == np.int64
    assert compare(lambda lib, t: t.sum(0), a).dtype == np.int64


def test_sum_of_int8_does_not_wrap():
    assert mt.tensor(np.array([100, 100], dtype=np.int8)).sum().item() == 200


@needs_torch
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_float_reductions_keep_the_dtype(rng, dtype):
    a = rng.standard_normal((4, 6)).astype(dtype)
    tol = dict(rtol=1e-2, atol=1e-2) if dtype == np.float16 else dict(rtol=1e-5, atol=1e-6)
    for fn in (lambda lib, t: t.sum(1), lambda lib, t: t.mean(), lambda lib, t: t.var(0),
               lambda lib, t: t.std(), lambda lib, t: t.norm(), lambda lib, t: t.max(1),
               lambda lib, t: t.amax(0), lambda lib, t: t.topk(2)):
        compare(fn, a, tol=tol)


@needs_torch
def test_max_keeps_integer_and_bool_dtypes():
    compare(lambda lib, t: t.max(1), np.array([[1, 7, 3]], dtype=np.int32))
    compare(lambda lib, t: t.min(), np.array([True, False]))


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_mean_of_an_integer_tensor_is_refused_as_torch(dtype):
    with pytest.raises(RuntimeError, match="mean"):
        mt.tensor(np.array([1, 0], dtype=dtype)).mean()
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.tensor(np.array([1, 0], dtype=dtype)).mean()


@needs_torch
def test_mean_of_integers_with_a_float_dtype():
    compare(lambda lib, t: t.mean(dtype=lib.float64), np.array([1, 2, 4]))


@pytest.mark.parametrize("name", ["var", "std", "norm"])
def test_var_std_norm_refuse_integers(name):
    with pytest.raises(RuntimeError, match=name):
        getattr(mt.tensor([1, 2]), name)()


@pytest.mark.parametrize("name", ["argmax", "argmin", "topk"])
def test_bool_input_refused_as_torch(name):
    args = (1,) if name == "topk" else ()
    with pytest.raises(RuntimeError, match=name):
        getattr(mt.tensor([True, False]), name)(*args)


# ---- dims -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "argmax", "amax", "std", "var", "norm"])
def test_dim_out_of_range_names_the_op(name):
    t = mt.tensor(np.ones((2, 3)))
    with pytest.raises(IndexError, match=f"{name}: dim 2 is out of range for a 2-d tensor"):
        getattr(t, name)(*(["fro", 2] if name == "norm" else [2]))
    with pytest.raises(ValueError, match=name):     # a ValueError too, as the engine's other checks
        getattr(t, name)(*(["fro", -3] if name == "norm" else [-3]))


def test_sum_axis_spelling_names_axis_in_the_error():
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a 2-d tensor"):
        mt.tensor(np.ones((2, 3))).sum(axis=2)


@pytest.mark.parametrize("name", ["sum", "amax", "std"])
def test_repeated_dims_are_refused(name):
    with pytest.raises(RuntimeError, match=f"{name}: dim 1 appears multiple times"):
        getattr(mt.tensor(np.ones((2, 3))), name)((1, -1))


@needs_torch
def test_dims_as_tuple_or_list(rng):
    a = rng.standard_normal((2, 3, 4))
    compare(lambda lib, t: t.sum((0, 2)), a)
    compare(lambda lib, t: t.mean([2, 0], keepdim=True), a)
    compare(lambda lib, t: t.sum(()), a)          # () is every dim, as torch


def test_numpy_spellings_keep_working(rng):
    a = rng.standard_normal((3, 4))
    t = mt.tensor(a)
    np.testing.assert_allclose(t.sum(axis=1, keepdims=True).numpy(), a.sum(1, keepdims=True))
    np.testing.assert_allclose(t.mean(axis=0).numpy(), a.mean(0))
    values, indices = t.max(axis=1, keepdims=True)
    np.testing.assert_array_equal(indices.numpy(), a.argmax(1)[:, None])
    np.testing.assert_array_equal(t.argmax(axis=1).numpy(), a.argmax(1))
    np.testing.assert_allclose(t.amax(axis=(0, 1)).numpy(), a.max())
    with pytest.raises(TypeError, match="sum: got both dim and axis"):
        t.sum(1, axis=1)


def test_keepdim_without_dim_is_refused_where_torch_refuses():
    t = mt.tensor(np.ones((2, 3)))
    for name in ("sum", "mean", "max", "min"):
        with pytest.raises(TypeError, match=name):
            getattr(t, name)(keepdim=True)
    assert t.sum(None, True).shape == (1, 1)       # an explicit dim=None is fine, as torch


@pytest.mark.parametrize("dim", [1.0, True, "1"])
def test_non_integer_dims_are_refused(dim):
    with pytest.raises(TypeError, match="sum"):
        mt.tensor(np.ones((2, 3))).sum(dim)


def test_max_with_a_tensor_argument_is_the_elementwise_maximum_as_in_torch():
    assert mt.tensor([1.0, 2.0]).max(mt.tensor([2.0, 1.0])).tolist() == [2.0, 2.0]
    assert mt.min(mt.tensor([1.0, 2.0]), mt.tensor([2.0, 1.0])).tolist() == [1.0, 1.0]


# ---- 0-d tensors ----------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("fn", [
    lambda lib, t, d: t.sum(d), lambda lib, t, d: t.mean(d, keepdim=True), lambda lib, t, d: t.max(d),
    lambda lib, t, d: t.min(d, True), lambda lib, t, d: t.argmax(d), lambda lib, t, d: t.amax(d),
    lambda lib, t, d: t.topk(1, d), lambda lib, t, d: t.norm(2, d), lambda lib, t, d: t.var(d, correction=0),
    lambda lib, t, d: t.sum((d,))], ids=["sum", "mean", "max", "min", "argmax", "amax", "topk", "norm", "var", "sum-tuple"])
def test_zero_dim_tensors_reduce_over_dim_0_and_minus_1(fn, dim):
    compare(lambda lib, t: fn(lib, t, dim), np.array(2.5))


@pytest.mark.parametrize("name", ["sum", "max", "argmax", "topk", "std", "norm"])
def test_zero_dim_tensor_refuses_dim_1(name):
    args = {"topk": (1, 1), "norm": (2, 1)}.get(name, (1,))
    with pytest.raises(IndexError, match=name):
        getattr(mt.tensor(2.5), name)(*args)


@needs_torch
def test_zero_dim_global_reductions():
    for fn in (lambda lib, t: t.sum(), lambda lib, t: t.max(), lambda lib, t: t.argmax(),
               lambda lib, t: t.norm(), lambda lib, t: t.std(correction=0)):
        compare(fn, np.array(-1.5))


# ---- empty tensors --------------------------------------------------------------------------
def test_sum_of_empty_is_zero_and_mean_is_nan():
    e = mt.tensor(np.zeros((0, 3)))
    assert e.sum().item() == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # no NumPy "mean of empty slice" warning
        assert math.isnan(e.mean().item())
        assert np.isnan(e.mean(0).numpy()).all() and e.mean(0).shape == (3,)
        assert e.mean(1).shape == (0,)


@pytest.mark.parametrize("name", ["max", "min", "amax"])
def test_max_of_empty_without_dim_raises_naming_max(name):
    with pytest.raises(RuntimeError, match=name):
        getattr(mt.tensor(np.zeros((0, 3))), name)()


@needs_torch
def test_max_of_empty_over_a_nonempty_dim_works():
    compare(lambda lib, t: t.max(1), np.zeros((0, 3)))
    compare(lambda lib, t: t.argmax(1, keepdim=True), np.zeros((0, 3)))
    with pytest.raises(IndexError, match="max: expected reduction dim 0 to have non-zero size"):
        mt.tensor(np.zeros((0, 3))).max(0)


def test_argmax_of_empty_without_dim_raises():
    with pytest.raises(IndexError, match="argmax"):
        mt.tensor(np.zeros((0, 3))).argmax()


@needs_torch
@pytest.mark.parametrize("fn", [lambda lib, t: t.topk(0, 0), lambda lib, t: t.topk(2),
                                lambda lib, t: t.norm(1, 0), lambda lib, t: t.norm(math.inf, 1)])
def test_empty_topk_and_norm(fn):
    compare(fn, np.zeros((0, 3)))


def test_inf_norm_of_empty_is_refused():
    with pytest.raises(RuntimeError, match="norm"):
        mt.tensor(np.zeros((0, 3))).norm(math.inf)


# ---- var/std at and below one degree of freedom ---------------------------------------------
@needs_torch
@pytest.mark.parametrize("fn", [
    lambda lib, t: t.std(), lambda lib, t: t.var(), lambda lib, t: t.var(correction=0),
    lambda lib, t: t.std(0), lambda lib, t: t.var(correction=3)],
    ids=["std", "var", "var c=0", "std dim", "var c=3"])
def test_single_element_var_std_as_torch(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # torch warns "degrees of freedom is <= 0"
        compare(fn, np.array([2.0]))


@needs_torch
@pytest.mark.parametrize("fn", [
    lambda lib, t: t.var(1, correction=2), lambda lib, t: t.var(1, correction=3),
    lambda lib, t: t.std(1, correction=3), lambda lib, t: t.var(correction=5),
    lambda lib, t: t.var(()), lambda lib, t: t.std((0, 1), correction=4)],
    ids=["var dim c=n", "var dim c>n", "std dim c>n", "var c>n", "var dim=()", "std all dims c=n"])
def test_var_std_gradients_at_no_degrees_of_freedom_follow_torch(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        compare(fn, np.array([[1.0, 2.0], [3.0, 5.0]]))


def test_var_std_with_too_few_elements_warn_like_torch_and_numpy_stays_quiet():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert math.isnan(mt.tensor([2.0]).std().item())
        assert math.isnan(mt.tensor(np.zeros(0)).var().item())
    assert [type(w.message) for w in caught] == [UserWarning, UserWarning]
    assert all("degrees of freedom" in str(w.message) for w in caught)


@needs_torch
def test_std_of_constant_input_has_zero_gradient():
    compare(lambda lib, t: t.std(), np.array([2.0, 2.0, 2.0]))


def test_unbiased_and_correction_together_are_refused():
    with pytest.raises(TypeError, match="std"):
        mt.tensor([1.0, 2.0]).std(0, unbiased=True, correction=0)


# ---- ties, NaN, infinities ------------------------------------------------------------------
@needs_torch
def test_global_max_shares_the_gradient_among_ties():
    compare(lambda lib, t: t.max(), np.array([1.0, 3.0, 3.0, -1.0]))
    compare(lambda lib, t: t.min(), np.array([[1.0, -3.0], [-3.0, -3.0]]))


@needs_torch
def test_max_over_dim_routes_the_gradient_to_the_first_tie():
    got = compare(lambda lib, t: t.max(1), np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]))
    np.testing.assert_array_equal(got.indices.numpy(), [1, 0])


@needs_torch
def test_amax_shares_ties_within_each_slice():
    compare(lambda lib, t: t.amax(1), np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]))


@needs_torch
def test_nan_propagates_with_the_index_of_the_first_nan():
    a = np.array([[1.0, np.nan, 5.0, np.nan], [np.inf, 2.0, -np.inf, 0.0]])
    for name in ("max", "min"):
        got = compare(lambda lib, t: getattr(t, name)(1), a)
        assert got.indices.numpy()[0] == 1
        compare(lambda lib, t: getattr(t, name)(), a)        # gradient shared among the NaNs
    compare(lambda lib, t: t.argmax(1), a)
    compare(lambda lib, t: t.argmin(), a)
    compare(lambda lib, t: t.amax(1), a)                    # nan gradient in the NaN row, as torch


@needs_torch
def test_topk_puts_nan_first_when_largest_and_last_when_smallest():
    a = np.array([1.0, np.nan, 3.0, -2.0])
    compare(lambda lib, t: t.topk(2), a)
    compare(lambda lib, t: t.topk(3, largest=False), a)


def test_topk_k_out_of_range_is_refused():
    for k in (-1, 5):
        with pytest.raises(RuntimeError, match="topk: selected index k out of range"):
            mt.tensor(np.zeros(4)).topk(k)


@needs_torch
@pytest.mark.parametrize("p", [2, "fro", 1, 3, 1.5, 0.5, -1, math.inf, -math.inf])
def test_norm_gradient_at_zero_as_torch(p):
    compare(lambda lib, t: t.norm(p), np.zeros(3))
    compare(lambda lib, t: t.norm(p, 1), np.array([[0.0, 0.0], [0.0, 1.0]]))


@needs_torch
@pytest.mark.parametrize("p", [2, 1, 3, 1.5, 0.5, -1, math.inf, -math.inf])
def test_norm_with_nan_and_inf_as_torch(p):
    for a in ([np.nan, 1.0, 0.0], [np.inf, 1.0, 0.0], [-np.inf, 1.0, -3.0], [3.0, -3.0, 1.0]):
        compare(lambda lib, t: t.norm(p), np.array(a))


def test_norm_refuses_what_it_does_not_build():
    with pytest.raises(RuntimeError, match="norm: p='nuc' is not supported"):
        mt.tensor(np.ones((2, 2))).norm("nuc")
    with pytest.raises(RuntimeError, match="norm"):
        mt.tensor(np.ones((1, 2, 2))).norm("fro", (0, 1, 2))


# ---- top-level names ------------------------------------------------------------------------
@needs_torch
def test_top_level_functions(rng):
    a = rng.standard_normal((3, 4))
    for name in ("sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var", "norm"):
        compare(lambda lib, t: getattr(lib, name)(t), a)
    compare(lambda lib, t: lib.topk(t, 2), a)
    assert {"max", "min", "std", "var", "topk", "norm"} <= set(mt.__all__)


@needs_torch
def test_non_contiguous_inputs(rng):
    a = rng.standard_normal((4, 5)).T[::-1]          # transposed and negatively strided
    for fn in (lambda lib, t: t.sum(0), lambda lib, t: t.max(1), lambda lib, t: t.topk(2, 0),
               lambda lib, t: t.std(1), lambda lib, t: t.norm(3, 0), lambda lib, t: t.argmin()):
        ours = mt.Tensor(a, requires_grad=True)
        assert not ours.array.flags.c_contiguous
        compare(fn, a)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "topk",
                                  "var", "std", "norm"])
def test_docstrings_give_shapes_and_gradients(name):
    doc = getattr(mt, name).__doc__ or ""
    assert "->" in doc and "dx = " in doc, f"{name}: {doc!r}"


def test_return_type_survives_pickle_and_copy():
    import copy
    import pickle
    result = mt.tensor([[1.0, 5.0]]).max(1)
    for clone in (copy.copy(result), pickle.loads(pickle.dumps(result))):
        assert type(clone).__name__ == "max"
        np.testing.assert_array_equal(clone.indices.numpy(), [1])
