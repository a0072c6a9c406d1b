"""Elementwise, joining, shape and creation ops: parity with torch (values, dtypes, gradients),
gradcheck for each differentiable op, and one regression test per off-the-happy-path case."""
import numpy as np
import pytest

import minitorch_cnn as mt

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip

F64 = dict(rtol=1e-10, atol=1e-10)   # float64, same formulas in both engines


def pair(array, requires_grad=None):
    """The same values as a minitorch and a torch leaf (floats require grad by default)."""
    array = np.asarray(array)
    rg = array.dtype.kind == "f" if requires_grad is None else requires_grad
    return mt.tensor(array, requires_grad=rg), torch.tensor(array, requires_grad=rg)


def same(ours, theirs, rtol=1e-10, atol=1e-10):
    """Same shape, dtype and values (NaN where NaN) as torch's tensor."""
    a = np.array(ours.detach().numpy())
    e = theirs.detach().numpy()
    assert a.shape == e.shape, (a.shape, e.shape)
    assert a.dtype == e.dtype, (a.dtype, e.dtype)
    if a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e)
    else:
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def backward_both(out_mt, out_t, seed=0):
    g = np.random.default_rng(seed).standard_normal(out_t.shape).astype(out_t.detach().numpy().dtype)
    out_mt.backward(mt.tensor(g))
    out_t.backward(torch.tensor(g))


def check_gradients(fn, *arrays):
    inputs = [mt.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    assert mt.gradcheck(fn, inputs)


# ---- type promotion ------------------------------------------------------------------------
PROMOTION_CASES = [
    ("float32 + float64", (np.float32, (3,)), (np.float64, (3,))),
    ("int32 + int64", (np.int32, (3,)), (np.int64, (3,))),
    ("int64 + float16", (np.int64, (3,)), (np.float16, (3,))),
    ("uint8 + int8", (np.uint8, (3,)), (np.int8, (3,))),
    ("float32 + 0-d float64", (np.float32, (3,)), (np.float64, ())),
    ("int32 + 0-d float64", (np.int32, (3,)), (np.float64, ())),
    ("int32 + 0-d int64", (np.int32, (3,)), (np.int64, ())),
    ("bool + 0-d int32", (np.bool_, (3,)), (np.int32, ())),
    ("0-d float64 + 0-d float16", (np.float64, ()), (np.float16, ())),
    ("bool + bool", (np.bool_, (3,)), (np.bool_, (3,))),
    ("uint8 + bool", (np.uint8, (3,)), (np.bool_, (3,))),
]


@needs_torch
@pytest.mark.parametrize("op", ["add", "mul", "div", "eq"])
@pytest.mark.parametrize("case", PROMOTION_CASES, ids=[c[0] for c in PROMOTION_CASES])
def test_type_promotion_matches_torch(case, op):
    _, (da, sa), (db, sb) = case
    rng = np.random.default_rng(0)
    a = (rng.integers(0, 3, sa)).astype(da)
    b = (rng.integers(1, 3, sb)).astype(db)
    (ma, ta), (mb, tb) = pair(a, False), pair(b, False)
    same(getattr(mt, op)(ma, mb), getattr(torch, op)(ta, tb))


SCALARS = [2, -1, 2.5, True, float("nan")]


@needs_torch
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
def test_python_numbers_do_not_upcast_a_tensor_of_their_category(dtype, scalar):
    x = np.array([0, 1, 1]).astype(dtype)
    (m, t) = pair(x, False)
    for fn in (lambda v: v + scalar, lambda v: scalar * v, lambda v: v / scalar, lambda v: v > scalar):
        same(fn(m), fn(t))


@needs_torch
def test_mixed_float_gradients_arrive_in_each_leafs_dtype():
    a32, b64 = np.arange(3.0).astype(np.float32), np.arange(1.0, 4.0)
    (ma, ta), (mb, tb) = pair(a32), pair(b64)
    out_m, out_t = ma * mb, ta * tb
    assert out_m.dtype == np.float64
    backward_both(out_m, out_t)
    same(ma.grad, ta.grad, rtol=1e-6)
    same(mb.grad, tb.grad, rtol=1e-6)


@needs_torch
def test_zero_d_float64_does_not_upcast_float32_and_gets_a_float64_gradient():
    x, s = pair(np.ones((2, 3), np.float32)), pair(np.array(2.0))
    out_m, out_t = x[0] * s[0], x[1] * s[1]
    assert out_m.dtype == np.float32
    backward_both(out_m, out_t)
    same(s[0].grad, s[1].grad, rtol=1e-6)


@needs_torch
def test_integer_operand_gets_no_gradient_and_the_float_one_torchs():
    ints, floats = np.array([[1, -2, 3]]), np.array([[0.5], [1.5]])
    (mi, ti), (mf, tf) = pair(ints), pair(floats)
    for op in (lambda a, b: a * b, lambda a, b: b / a, lambda a, b: b ** a, lambda a, b: a - b):
        mf.grad = tf.grad = None
        out_m, out_t = op(mi, mf), op(ti, tf)
        same(out_m, out_t)
        backward_both(out_m, out_t)
        same(mf.grad, tf.grad)
        assert mi.grad is None and ti.grad is None


@needs_torch
@pytest.mark.parametrize("layout", ["transposed", "reversed", "strided"])
def test_gradients_through_non_contiguous_inputs_match_torch(layout):
    base = np.random.default_rng(3).uniform(0.5, 2, (4, 6))
    view = {"transposed": base.T, "reversed": base[::-1, ::-2], "strided": base[::2, 1::3]}[layout]
    other = np.random.default_rng(4).uniform(0.5, 2, view.shape[-1:])
    mx = mt.Tensor(view, requires_grad=True)           # the strided view itself
    tx = torch.tensor(np.ascontiguousarray(view), requires_grad=True)
    (mo, to) = pair(other)
    out_m = (mx * mo).clamp(0.8, 2.5) ** mo + mt.where(mx > 1, mx, mo).exp()
    out_t = (tx * to).clamp(0.8, 2.5) ** to + torch.where(tx > 1, tx, to).exp()
    same(out_m, out_t)
    backward_both(out_m, out_t)
    same(mx.grad, tx.grad)
    same(mo.grad, to.grad)


# ---- unary ---------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "neg"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_])
def test_unary_on_integers_and_bools_as_torch(name, dtype):
    x = np.array([0, 1, 4]).astype(dtype)
    m, t = pair(x, False)
    try:
        expected = getattr(torch, name)(t)
    except (RuntimeError, NotImplementedError):
        with pytest.raises(RuntimeError, match=name):
            getattr(mt, name)(m)
        return
    same(getattr(mt, name)(m), expected, rtol=1e-6)


# ---- pow -----------------------------------------------------------------------------------
@needs_torch
def test_pow_zero_exponent_has_zero_gradient_at_zero():
    m, t = pair(np.array([0.0, 1.5, -2.0]))
    (m ** 0).sum().backward()
    (t ** 0).sum().backward()
    same(m.grad, t.grad)
    np.testing.assert_array_equal(m.grad.numpy(), [0.0, 0.0, 0.0])


@needs_torch
def test_pow_gradients_at_zero_negative_and_nan_match_torch():
    bases = np.array([0.0, 0.0, 0.0, -2.0, -2.0, 1.5, np.nan, 0.0, 2.0])
    exps = np.array([0.0, 2.0, -1.0, 3.0, 0.5, 0.0, 2.0, 0.5, np.nan])
    (ma, ta), (mb, tb) = pair(bases), pair(exps)
    out_m, out_t = ma ** mb, ta ** tb
    same(out_m, out_t)
    backward_both(out_m, out_t)
    same(ma.grad, ta.grad)
    same(mb.grad, tb.grad)


@needs_torch
@pytest.mark.parametrize("scalar", [0, 2, 0.5, -1, 0.0])
def test_pow_with_a_number_on_either_side_matches_torch(scalar):
    x = np.array([0.0, 0.5, 2.0, -1.0])
    for fn in (lambda v: v ** scalar, lambda v: scalar ** v):
        m, t = pair(x)
        out_m, out_t = fn(m), fn(t)
        same(out_m, out_t)
        backward_both(out_m, out_t)
        same(m.grad, t.grad)


@needs_torch
def test_integer_pow_stays_integer():
    m, t = pair(np.array([2, 3, -1, 0]), False)
    same(m ** 2, t ** 2)
    same(3 ** m, 3 ** t)
    assert (m ** 2).dtype == np.int64


@needs_torch
def test_integer_tensor_to_negative_integer_tensor_powers_as_torch():
    base, exponent = np.array([1, -1, -1, 0, 2, 5]), np.array([-1, -1, -2, -1, -2, -3])
    (mb, tb), (me, te) = pair(base, False), pair(exponent, False)
    same(mb ** me, tb ** te)


def test_integer_tensor_to_a_negative_number_is_refused():
    with pytest.raises(RuntimeError, match="pow: integers to negative integer powers"):
        mt.tensor([2, 3]) ** -1
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.tensor([2, 3]) ** -1


def test_pow_gradcheck():
    check_gradients(lambda a, b: a ** b, np.random.default_rng(0).uniform(0.5, 2, (2, 3)),
                    np.random.default_rng(1).uniform(-1, 2, (3,)))


# ---- clamp ---------------------------------------------------------------------------------
@needs_torch
def test_clamp_gradient_at_the_boundaries_and_nan_matches_torch():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan, np.inf, -np.inf])
    for lo, hi in [(0.0, 1.0), (None, 1.0), (0.0, None), (1.0, 0.0), (np.nan, 1.0), (0.5, 0.5)]:
        m, t = pair(x)
        out_m, out_t = m.clamp(lo, hi), t.clamp(lo, hi)
        same(out_m, out_t)
        backward_both(out_m, out_t)
        same(m.grad, t.grad)


@needs_torch
def test_clamp_with_tensor_bounds_gradients_match_torch():
    rng = np.random.default_rng(5)
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan, 0.3, 0.7])
    lo = np.array([0.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.9, np.nan])
    hi = np.array([1.0, 1.0, 0.4, 1.0, 2.0, 1.0, 0.1, 1.0])
    for bounds in [(lo, hi), (lo, None), (None, hi), (lo[:1], hi)]:
        m, t = pair(x)
        mb = [None if b is None else pair(b) for b in bounds]
        out_m = mt.clamp(m, *(None if b is None else b[0] for b in mb))
        out_t = torch.clamp(t, *(None if b is None else b[1] for b in mb))
        same(out_m, out_t)
        backward_both(out_m, out_t, seed=int(rng.integers(100)))
        same(m.grad, t.grad)
        for b in mb:
            if b is not None:
                same(b[0].grad, b[1].grad)


@needs_torch
def test_clamp_dtypes_as_torch():
    ints = pair(np.array([1, 2, 3]), False)
    same(ints[0].clamp(min=1.5), ints[1].clamp(min=1.5))
    same(ints[0].clamp(0, 2), ints[1].clamp(0, 2))
    same(mt.clip(ints[0], max=2), torch.clip(ints[1], max=2))


def test_clamp_without_bounds_is_refused():
    with pytest.raises(RuntimeError, match="clamp: at least one of 'min' or 'max'"):
        mt.ones(2).clamp()


def test_clamp_gradcheck():
    # bounds and inputs apart by far more than the finite-difference step: no kinks crossed
    lo = np.array([-3.0, -1.0, 0.0, 1.0])
    hi = lo + np.array([[4.0], [0.5], [-1.0]])       # the last row has max < min
    x = np.array([[-2.5, -0.3, 0.4, 1.7], [0.2, -1.5, 0.25, 1.2], [-3.2, 0.7, -0.6, 2.2]])
    check_gradients(lambda v, a, b: mt.clamp(v, a, b), x, lo, hi)
    check_gradients(lambda v: v.clamp(-0.5, 0.5), x)


# ---- where, masked_fill --------------------------------------------------------------------
@needs_torch
def test_where_gradients_and_promotion_match_torch():
    rng = np.random.default_rng(6)
    cond = rng.random((2, 3)) < 0.5
    a, b = rng.standard_normal((3,)).astype(np.float32), rng.standard_normal((2, 1))
    (mc, tc), (ma, ta), (mb, tb) = pair(cond, False), pair(a), pair(b)
    out_m, out_t = mt.where(mc, ma, mb), torch.where(tc, ta, tb)
    same(out_m, out_t, rtol=1e-6)
    backward_both(out_m, out_t)
    same(ma.grad, ta.grad)
    same(mb.grad, tb.grad)
    same(mt.where(mc, 1, 2.5), torch.where(tc, 1, 2.5))
    same(ma.where(mc[0], 0.0), ta.where(tc[0], 0.0), rtol=1e-6)


def test_where_with_a_float_condition_is_refused():
    with pytest.raises(RuntimeError, match="where: expected condition to be a bool tensor"):
        mt.where(mt.ones(2), 1, 2)


@needs_torch
def test_where_single_argument_gives_the_nonzero_indices():
    c = np.array([[True, False], [False, True]])
    for ours, theirs in zip(mt.where(mt.tensor(c)), torch.where(torch.tensor(c))):
        same(ours, theirs)


@needs_torch
def test_masked_fill_gradients_match_torch():
    rng = np.random.default_rng(7)
    x, mask = rng.standard_normal((2, 3)), rng.random((3,)) < 0.5
    (mx, tx), (mm, tm), (mv, tv) = pair(x), pair(mask, False), pair(np.array(2.5))
    out_m, out_t = mx.masked_fill(mm, mv), tx.masked_fill(tm, tv)
    same(out_m, out_t)
    backward_both(out_m, out_t)
    same(mx.grad, tx.grad)
    same(mv.grad, tv.grad)


def test_masked_fill_refuses_a_uint8_mask_and_a_1d_value():
    with pytest.raises(RuntimeError, match="masked_fill: only bool masks"):
        mt.ones(3).masked_fill(mt.tensor([1, 0, 1], dtype=mt.uint8), 0.0)
    with pytest.raises(RuntimeError, match="masked_fill: only a 0-d value tensor"):
        mt.ones(3).masked_fill(mt.tensor([True, False, True]), mt.tensor([1.0]))


def test_where_and_masked_fill_gradcheck():
    rng = np.random.default_rng(8)
    cond = mt.tensor(rng.random((2, 3)) < 0.5)
    check_gradients(lambda a, b: mt.where(cond, a, b), rng.standard_normal((2, 3)), rng.standard_normal((3,)))
    check_gradients(lambda a, v: a.masked_fill(cond, v), rng.standard_normal((2, 3)), np.array(0.5))


# ---- comparisons ---------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_functions_and_methods(name):
    a, b = np.array([1.0, np.nan, 3.0]), np.array([1, 2, 4])
    (ma, ta), (mb, tb) = pair(a, False), pair(b, False)
    same(getattr(mt, name)(ma, mb), getattr(torch, name)(ta, tb))
    same(getattr(ma, name)(2), getattr(ta, name)(2))


def test_equality_with_none_is_false_as_torch():
    x = mt.ones(2)
    assert (x == None) is False  # noqa: E711
    assert (x != None) is True   # noqa: E711


# ---- cat, stack ----------------------------------------------------------------------------
@needs_torch
def test_cat_promotes_and_routes_gradients_as_torch():
    rng = np.random.default_rng(9)
    parts = [rng.standard_normal((2, 3)), rng.standard_normal((2, 1)).astype(np.float32),
             np.arange(4).reshape(2, 2)]
    pairs = [pair(p) for p in parts]
    out_m, out_t = mt.cat([p[0] for p in pairs], dim=1), torch.cat([p[1] for p in pairs], dim=1)
    same(out_m, out_t)
    backward_both(out_m, out_t)
    for m, t in pairs[:2]:
        same(m.grad, t.grad)


@needs_torch
def test_cat_skips_1d_empty_tensors_as_torch():
    (ma, ta), (me, te) = pair(np.ones((2, 3))), pair(np.zeros(0, np.float32))
    out_m, out_t = mt.cat([me, ma, me]), torch.cat([te, ta, te])
    same(out_m, out_t)
    backward_both(out_m, out_t)
    same(ma.grad, ta.grad)
    same(me.grad, te.grad)


@pytest.mark.parametrize("call, match", [
    (lambda: mt.cat([]), "cat: expected a non-empty list"),
    (lambda: mt.cat(mt.ones(2)), "cat: expected a list or tuple of tensors, got Tensor"),
    (lambda: mt.cat([mt.ones(2), 1]), "cat: expected a tensor as element 1, got int"),
    (lambda: mt.cat([mt.tensor(1.0)]), "cat: zero-dimensional tensor"),
    (lambda: mt.cat([mt.ones(2, 3), mt.ones(3, 3)], dim=1), "cat: sizes of tensors must match except in dimension 1"),
    (lambda: mt.cat([mt.ones(2, 3), mt.ones(2)]), "cat: tensors must have the same number of dimensions"),
    (lambda: mt.stack([mt.ones(2), mt.ones(3)]), "stack: expects each tensor to be of equal size"),
    (lambda: mt.stack([]), "stack: expected a non-empty list"),
])
def test_cat_and_stack_refuse_clearly(call, match):
    with pytest.raises((TypeError, ValueError, RuntimeError), match=match):
        call()


@needs_torch
def test_stack_gradients_match_torch():
    rng = np.random.default_rng(10)
    pairs = [pair(rng.standard_normal((2, 3))) for _ in range(3)]
    for dim in (0, 2, -1):
        for m, t in pairs:
            m.grad = t.grad = None
        out_m, out_t = mt.stack([p[0] for p in pairs], dim), torch.stack([p[1] for p in pairs], dim)
        same(out_m, out_t)
        backward_both(out_m, out_t)
        for m, t in pairs:
            same(m.grad, t.grad)


def test_cat_and_stack_gradcheck():
    rng = np.random.default_rng(11)
    check_gradients(lambda a, b: mt.cat((a, b), dim=-1), rng.standard_normal((2, 3)), rng.standard_normal((2, 2)))
    check_gradients(lambda a, b: mt.stack((a, b), dim=1), rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))


# ---- expand, repeat, clone -----------------------------------------------------------------
@needs_torch
def test_expand_and_repeat_gradients_match_torch():
    x = np.random.default_rng(12).standard_normal((3, 1))
    for fn in (lambda v: v.expand(2, -1, 4), lambda v: v.expand_as(v.repeat(1, 5)), lambda v: v.repeat(2, 1, 3),
               lambda v: v.repeat(0, 2), lambda v: v.clone() * 2):
        m, t = pair(x)
        out_m, out_t = fn(m), fn(t)
        same(out_m, out_t)
        backward_both(out_m, out_t)
        same(m.grad, t.grad)


@pytest.mark.parametrize("call, match", [
    (lambda: mt.ones(3).expand(4), r"expand: the expanded size \(4\) must match the existing size \(3\)"),
    (lambda: mt.ones(3).expand(-1, 3), "expand: size -1 is not allowed in a new leading dimension"),
    (lambda: mt.ones(2, 3).expand(3), "expand: the number of sizes given"),
    (lambda: mt.ones(3).expand(2.0, 3), "expand: size must be a tuple of ints, got float"),
    (lambda: mt.ones(2, 3).repeat(2), "repeat: the number of repeats"),
    (lambda: mt.ones(3).repeat(-1), r"repeat: repeats \[-1\] would give a negative size"),
    (lambda: mt.ones(3).repeat(1.5), "repeat: repeats must be a tuple of ints, got float"),
])
def test_expand_and_repeat_refuse_clearly(call, match):
    with pytest.raises((TypeError, RuntimeError), match=match):
        call()


def test_expand_repeat_clone_gradcheck():
    rng = np.random.default_rng(13)
    check_gradients(lambda v: v.expand(2, 3, 4), rng.standard_normal((3, 1)))
    check_gradients(lambda v: v.repeat(2, 1, 3), rng.standard_normal((3, 2)))
    check_gradients(lambda v: mt.clone(v) * v, rng.standard_normal((3, 2)))


def test_clone_is_a_copy():
    x = mt.ones(3)
    y = x.clone()
    y[0] = 5.0
    assert x.tolist() == [1.0, 1.0, 1.0]


# ---- reshape and view ----------------------------------------------------------------------
def test_reshape_with_a_float_size_is_a_type_error():
    with pytest.raises(TypeError, match="reshape: shape must be a tuple of ints, got float 2.9"):
        mt.ones(6).reshape(2.9, 3)


def test_reshape_with_a_negative_size_other_than_minus_one_is_refused():
    with pytest.raises(RuntimeError, match="reshape: invalid shape dimension -2"):
        mt.ones(6).reshape(-2)


def test_reshape_with_two_minus_ones_is_refused():
    with pytest.raises(RuntimeError, match="reshape: only one dimension can be inferred"):
        mt.ones(6).reshape(-1, -1)


def test_reshape_of_an_empty_tensor_with_minus_one_is_ambiguous():
    with pytest.raises(RuntimeError, match="reshape: cannot reshape a tensor of 0 elements"):
        mt.zeros(0, 3).reshape(-1, 0)


@needs_torch
def test_view_of_a_transposed_tensor_is_refused_where_torch_refuses():
    m, t = pair(np.arange(6.0).reshape(2, 3))
    for shape in [(6,), (-1, 1), (6, 1)]:
        with pytest.raises(RuntimeError):
            t.t().view(*shape)
        with pytest.raises(RuntimeError, match="view: shape .* is not compatible with the input's"):
            m.T.view(*shape)


@needs_torch
def test_view_of_a_non_contiguous_tensor_works_where_torch_allows_it_and_shares_memory():
    m, t = pair(np.arange(12.0).reshape(3, 4), False)
    for fn in (lambda v: v.t().view(4, 3), lambda v: v.t().view(4, 1, 3), lambda v: v[:, ::2].view(3, 2),
               lambda v: v[:, ::2].view(3, 1, 2), lambda v: v[1:].view(8), lambda v: v.t().contiguous().view(12)):
        same(fn(m), fn(t))
    same(m[:, ::2].view(6), t[:, ::2].view(6))          # stride 2 throughout: one memory run
    with pytest.raises(RuntimeError):
        t[:, :2].view(6)
    with pytest.raises(RuntimeError, match="view"):
        m[:, :2].view(6)
    viewed = m.t().view(4, 3)
    viewed[0, 0] = 100.0
    assert m[0, 0].item() == 100.0


def test_contiguous_copies_only_when_needed():
    x = mt.ones(2, 3)
    assert x.contiguous() is x and x.is_contiguous()
    assert not x.T.is_contiguous() and x.T.contiguous().is_contiguous()


def test_view_gradcheck():
    check_gradients(lambda v: v.T.view(2, 3, 1) * 2, np.random.default_rng(14).standard_normal((3, 2)))


# ---- off the happy path --------------------------------------------------------------------
def test_adding_none_is_a_type_error_naming_add():
    with pytest.raises(TypeError, match="add: expected a tensor or a number as operand, got NoneType"):
        mt.ones(2) + None
    if torch is not None:  # torch refuses it too
        with pytest.raises(TypeError):
            torch.ones(2) + None


def test_adding_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="add: expected a tensor or a number as operand, got str"):
        mt.ones(2) + "a"
    with pytest.raises(TypeError, match="add"):
        "a" + mt.ones(2)


def test_adding_shapes_that_do_not_broadcast_names_add_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        mt.ones(2, 3) + mt.ones(4)


def test_complex_numbers_are_refused():
    with pytest.raises(TypeError, match="mul: complex numbers are not supported"):
        mt.ones(2) * 1j


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_random_factories_refuse_integer_dtypes(name):
    with pytest.raises(RuntimeError, match=f"{name}: expected a floating point dtype, got int64"):
        getattr(mt, name)(5, dtype=mt.int64)


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
def test_factories_refuse_a_float_size(name):
    with pytest.raises(TypeError, match=f"{name}: size must be a tuple of ints"):
        getattr(mt, name)(2.5)
    with pytest.raises(TypeError, match=f"{name}: size must be a tuple of ints, got float"):
        getattr(mt, name)(2, 2.5)


@pytest.mark.parametrize("name", ["zeros", "ones", "randn", "rand"])
def test_factories_refuse_a_negative_size(name):
    with pytest.raises(RuntimeError, match=f"{name}: trying to create a tensor with negative dimension -1"):
        getattr(mt, name)(2, -1)


def test_factories_take_size_as_a_keyword_and_refuse_no_size():
    assert mt.zeros(size=(2, 3)).shape == (2, 3)
    with pytest.raises(TypeError, match="zeros: missing the size"):
        mt.zeros()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="zeros: only tensors of floating point dtype can require gradients"):
        mt.zeros(2, dtype=mt.int64, requires_grad=True)


def test_getitem_with_a_float_index_is_an_index_error():
    with pytest.raises(IndexError, match="getitem: only integers"):
        mt.ones(2, 3)[1.0]


def test_getitem_out_of_range_names_the_index():
    with pytest.raises(IndexError, match="getitem: index 5 is out of bounds for dimension 0 with size 2"):
        mt.ones(2, 3)[5]
    with pytest.raises(IndexError, match="getitem: index 5 is out of bounds for dimension 1 with size 3"):
        mt.ones(2, 3)[:, 5]


def test_bool_subtraction_and_negation_are_refused_as_torch():
    b = mt.tensor([True, False])
    for call, match in [(lambda: b - b, "sub: subtraction with a bool operand"),
                        (lambda: mt.ones(2) - True, "sub: subtraction with a bool operand"),
                        (lambda: -b, "neg: negating a bool tensor")]:
        with pytest.raises(RuntimeError, match=match):
            call()


# ---- creation ------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("args, kwargs", [
    ((5,), {}), ((1, 2.5, 0.5), {}), ((0, 1, 0.1), {}), ((5, 0, -1), {}), ((0.5, 3, 1), {"dtype": "int64"}),
    ((-2.5, 1, 1), {"dtype": "int64"}), ((1, 4), {"dtype": "float64"}), ((10,), {"dtype": "float16"}),
    ((1, 2.5, 0.3), {"dtype": "float64"}), ((0, 2, 0.25), {}), ((3,), {"dtype": "uint8"}),
    ((-2, 1.5, 0.5), {"dtype": "int32"}), ((-2, 2.7, 2), {"dtype": "int32"}), ((0, 2.5, 1), {"dtype": "int64"}),
    ((-1.5, 0.5, 0.3), {"dtype": "float16"})])
def test_arange_matches_torch(args, kwargs):
    ours = mt.arange(*args, **{k: getattr(mt, v) for k, v in kwargs.items()})
    theirs = torch.arange(*args, **{k: getattr(torch, v) for k, v in kwargs.items()})
    # lengths and integers exactly; floats to the last bit or two (torch's vectorised kernel
    # sums start + i·step in chunk order, which depends on the CPU's vector width)
    # (float16 accumulates in float32, where -1.5 + 5·0.3 leaves a 6e-8 that torch keeps)
    same(ours, theirs, rtol=1e-15 if ours.dtype == np.float64 else 1e-7,
         atol=1e-7 if ours.dtype == np.float16 else 0)


@pytest.mark.parametrize("args, match", [((0, 1, 0), "arange: step must be nonzero"),
                                         ((0, 5, -1), "arange: upper bound and lower bound inconsistent"),
                                         ((0, 2.5, 0.5, mt.int64), "arange: step must be nonzero"),
                                         ((float("inf"),), "arange: unsupported range"),
                                         (("a",), "arange: end must be a number, got str")])
def test_arange_refuses_clearly(args, match):
    with pytest.raises((TypeError, RuntimeError), match=match):
        mt.arange(*args[:3], **({"dtype": args[3]} if len(args) > 3 else {}))


@needs_torch
@pytest.mark.parametrize("value", [True, 1, 1.5, np.float64(2.5), np.int32(3)], ids=repr)
def test_full_infers_its_dtype_from_the_value(value):
    same(mt.full((2, 1), value), torch.full((2, 1), value))


@needs_torch
def test_full_refuses_overflow_and_non_sequence_sizes():
    with pytest.raises(RuntimeError, match="full: value 300 cannot be converted to uint8"):
        mt.full((2,), 300, dtype=mt.uint8)
    with pytest.raises(RuntimeError, match="full: value nan cannot be converted to int64"):
        mt.full((2,), float("nan"), dtype=mt.int64)
    with pytest.raises(TypeError, match="full: size must be a tuple of ints, got int"):
        mt.full(2, 1.0)
    same(mt.full((2,), -1, dtype=mt.uint8), torch.full((2,), -1, dtype=torch.uint8))


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32, np.bool_])
def test_like_factories_keep_dtype_and_shape(dtype):
    x = mt.zeros(2, 3, dtype=dtype)
    for name in ["zeros_like", "ones_like"]:
        out = getattr(mt, name)(x)
        assert out.dtype == dtype and out.shape == (2, 3)
    assert mt.full_like(x, 2.7).dtype == dtype
    if np.dtype(dtype).kind == "f":
        assert mt.rand_like(x).dtype == dtype and mt.randn_like(x).shape == (2, 3)
    else:
        with pytest.raises(RuntimeError, match="rand_like: expected a floating point dtype"):
            mt.rand_like(x)


@needs_torch
def test_full_like_truncates_a_float_into_integers_as_torch():
    same(mt.full_like(mt.zeros(2, dtype=mt.int32), -2.7), torch.full_like(torch.zeros(2, dtype=torch.int32), -2.7))


def test_from_numpy_shares_memory_both_ways():
    array = np.arange(6.0).reshape(2, 3).T
    x = mt.from_numpy(array)
    assert x.dtype == np.float64 and x.shape == (3, 2)
    array[0, 0] = 42.0
    assert x[0, 0].item() == 42.0
    x[1, 1] = -1.0
    assert array[1, 1] == -1.0


@pytest.mark.parametrize("bad, error, match", [
    ([1.0, 2.0], TypeError, "from_numpy: expected np.ndarray, got list"),
    (np.float64(1.0), TypeError, "from_numpy: expected np.ndarray, got float64"),
    (np.array(["a"]), TypeError, "from_numpy: can't convert an array of dtype <U1"),
    (np.ones(3)[::-1], ValueError, "from_numpy: at least one stride of the array is negative"),
    (np.ones(2, dtype=">f4"), ValueError, "from_numpy: the array's byte order"),
])
def test_from_numpy_refuses_as_torch(bad, error, match):
    with pytest.raises(error, match=match):
        mt.from_numpy(bad)
    if torch is not None:  # torch refuses it too
        with pytest.raises((TypeError, ValueError)):
            torch.from_numpy(bad)


@pytest.mark.parametrize("data, error", [(None, TypeError), ("a", TypeError), ([1.0, None], TypeError),
                                         ([[1, 2], [3]], ValueError)], ids=repr)
def test_tensor_refuses_what_is_not_a_rectangle_of_numbers(data, error):
    with pytest.raises(error, match="tensor: expected"):
        mt.tensor(data)
    if torch is not None:  # torch refuses it too
        with pytest.raises((TypeError, ValueError, RuntimeError)):
            torch.tensor(data)


@needs_torch
def test_bool_powers_as_torch():
    m, t = pair(np.array([False, True]), False)
    for exponent in (True, False, 2, 1.5):
        same(m ** exponent, t ** exponent)
    for call in (lambda b: True ** b, lambda b: b ** b):
        with pytest.raises(RuntimeError, match="pow: not implemented for two bool operands"):
            call(m)
