"""Issue 21's everyday tensor ops held to torch: chunk, split, sort, argsort, cumsum, gather,
scatter, index_select, all, any, //, %, ~, &, |, ^, the dtype casts, new_*, *_as, add/sub(alpha=),
div(rounding_mode=), the reflected operators and x[[[0, 1], [1, 0]]].

Parity: values, dtypes, shapes and gradients against torch over random shapes and dims (negative
ones too), empty and non-contiguous inputs, int and bool inputs; error cases raise torch's
exception type.  Each differentiable op also passes mt.gradcheck in float64.  Run in both engine
modes (MINITORCH_CNN_FAST=0 too).
"""
import numpy as np
import pytest

import minitorch_cnn as mt

RNG = np.random.default_rng(21)


# ---- helpers ------------------------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch")


def pair(array, requires_grad=False):
    """The same values as a minitorch tensor and a torch tensor."""
    torch = _torch()
    array = np.asarray(array)
    a = mt.tensor(array.copy(), requires_grad=requires_grad)
    b = torch.tensor(array.copy(), requires_grad=requires_grad)
    return a, b


def assert_same(mine, theirs):
    """Same shape, dtype and values (NaN where NaN) as torch's result (tensors, or tuples of them)."""
    torch = _torch()
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, tuple) and len(mine) == len(theirs)
        for m, t in zip(mine, theirs):
            assert_same(m, t)
        return
    assert isinstance(mine, mt.Tensor), type(mine)
    expected = theirs.detach().numpy()
    got = mt.backend.to_numpy(mine.array)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert str(got.dtype) == str(theirs.dtype).replace("torch.", ""), (got.dtype, theirs.dtype)
    np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=1e-6, atol=1e-6)
    assert isinstance(theirs, torch.Tensor)


def assert_raises_like(mine, theirs):
    """Both calls raise; the engine's exception is an instance of torch's exception type."""
    with pytest.raises(Exception) as torch_error:
        theirs()
    with pytest.raises(type(torch_error.value)):
        mine()


def random_array(shape, dtype=np.float64):
    if np.dtype(dtype) == np.bool_:
        return RNG.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(-5 if np.dtype(dtype).kind == "i" else 0, 6, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def grads_same(mt_inputs, torch_inputs, mt_out, torch_out):
    """Backpropagate the same cotangent through both engines; compare the inputs' gradients."""
    torch = _torch()
    cotangent = RNG.standard_normal(torch_out.shape)
    torch_out.backward(torch.tensor(cotangent, dtype=torch_out.dtype))
    mt_out.backward(mt.tensor(cotangent, dtype=mt_out.dtype))
    for a, b in zip(mt_inputs, torch_inputs):
        np.testing.assert_allclose(mt.backend.to_numpy(a.grad.array), b.grad.numpy(), rtol=1e-6, atol=1e-9)


SHAPES = [(5,), (3, 4), (2, 3, 4), (0, 3), (3, 0, 2)]


# ---- chunk, split ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", SHAPES)
def test_chunk_and_split_match_torch(shape):
    torch = _torch()
    a, b = pair(random_array(shape))
    for dim in range(-len(shape), len(shape)):
        n = shape[dim]
        for chunks in (1, 2, 3, 5):
            assert_same(a.chunk(chunks, dim), b.chunk(chunks, dim))
            assert_same(mt.chunk(a, chunks, dim=dim), torch.chunk(b, chunks, dim=dim))
        for size in (1, 2, 4) if n else (0, 1, 3):
            assert_same(a.split(size, dim), b.split(size, dim))
        sizes = [n // 3, n - n // 3]
        assert_same(mt.split(a, sizes, dim), torch.split(b, sizes, dim))
        assert_same(a.split(tuple(sizes), dim=dim), b.split(tuple(sizes), dim=dim))


def test_split_of_a_transposed_tensor_and_its_gradient():
    torch = _torch()
    a, b = pair(random_array((4, 5)), requires_grad=True)
    mine, theirs = a.t().split([2, 3], 0), b.t().split([2, 3], 0)
    assert_same(mine, theirs)
    grads_same([a], [b], mine[0] * 2 + mine[1].sum(0, keepdim=True), theirs[0] * 2 + theirs[1].sum(0, keepdim=True))
    mine, theirs = a.chunk(3, -1), b.chunk(3, -1)
    grads_same([a], [b], mt.cat([mine[2], mine[0]], 1), torch.cat([theirs[2], theirs[0]], 1))


@pytest.mark.parametrize("call", [
    lambda m, x: m.chunk(x, 0), lambda m, x: m.chunk(x, -1), lambda m, x: m.chunk(x, 2, 2),
    lambda m, x: m.split(x, -1), lambda m, x: m.split(x, 0), lambda m, x: m.split(x, [1, 1]),
    lambda m, x: m.split(x, [1, -1, 3]), lambda m, x: m.split(x, 2.0), lambda m, x: m.chunk(x[0, 0], 1),
    lambda m, x: m.split(x, 1, 5)])
def test_chunk_and_split_errors_match_torch(call):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    assert_raises_like(lambda: call(mt, a), lambda: call(torch, b))


def test_split_and_chunk_gradcheck():
    x = mt.tensor(random_array((4, 6)), requires_grad=True)
    assert mt.gradcheck(lambda t: mt.split(t, [1, 3], 0), [x])
    assert mt.gradcheck(lambda t: t.chunk(4, -1), [x])


# ---- sort, argsort ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_, np.uint8])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4), (0, 2), ()])
def test_sort_and_argsort_match_torch(shape, dtype):
    torch = _torch()
    values = random_array(shape, dtype)
    a, b = pair(values)
    for dim in range(-max(len(shape), 1), max(len(shape), 1)):
        for descending in (False, True):
            mine = a.sort(dim, descending, stable=True)
            theirs = b.sort(dim=dim, descending=descending, stable=True)   # torch: keywords beside stable
            assert_same(tuple(mine), tuple(theirs))
            assert_same(mine.values, theirs.values)
            assert_same(mine.indices, theirs.indices)
            assert_same(mt.argsort(a, dim=dim, descending=descending, stable=True),
                        torch.argsort(b, dim=dim, descending=descending, stable=True))
            # without stable=: torch leaves ties unordered, so only the values are compared
            assert_same(mt.sort(a, dim=dim, descending=descending).values,
                        torch.sort(b, dim=dim, descending=descending).values)


def test_sort_puts_nan_last_ascending_and_first_descending_as_torch():
    _torch()
    a, b = pair(np.array([[np.nan, 1.0, np.nan, -1.0, 3.0], [2.0, np.nan, 0.0, 0.0, -np.inf]]))
    for descending in (False, True):
        assert_same(tuple(a.sort(1, descending, stable=True)), tuple(b.sort(dim=1, descending=descending, stable=True)))
        assert_same(a.argsort(0, descending, stable=True), b.argsort(dim=0, descending=descending, stable=True))


def test_sort_result_type_and_non_contiguous_input_and_gradient():
    _torch()
    a, b = pair(random_array((4, 5)), requires_grad=True)
    mine, theirs = a.t().sort(0, descending=True), b.t().sort(0, descending=True)
    assert type(mine).__name__ == type(theirs).__name__ == "sort"
    values, indices = mine
    assert values is mine.values and indices is mine.indices
    assert_same(tuple(mine), tuple(theirs))
    grads_same([a], [b], mine.values, theirs.values)


def test_sort_gradcheck():
    x = mt.tensor(random_array((3, 5)), requires_grad=True)
    assert mt.gradcheck(lambda t: t.sort(1).values, [x])
    assert mt.gradcheck(lambda t: mt.sort(t, 0, descending=True).values, [x])


@pytest.mark.parametrize("call", [
    lambda m, x: m.sort(x, 2), lambda m, x: m.sort(x, -3), lambda m, x: m.argsort(x, 5),
    lambda m, x: m.sort(x, 0.5), lambda m, x: m.sort(x, 0, True, True)])
def test_sort_errors_match_torch(call):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    assert_raises_like(lambda: call(mt, a), lambda: call(torch, b))


# ---- cumsum -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("shape", [(6,), (3, 4), (2, 0, 3), ()])
def test_cumsum_matches_torch(shape, dtype):
    torch = _torch()
    a, b = pair(random_array(shape, dtype))
    for dim in range(-max(len(shape), 1), max(len(shape), 1)):
        assert_same(a.cumsum(dim), b.cumsum(dim))
        assert_same(mt.cumsum(a, dim=dim, dtype=mt.float64), torch.cumsum(b, dim=dim, dtype=torch.float64))
        assert_same(a.cumsum(dim, dtype=mt.int64), b.cumsum(dim, dtype=torch.int64))


def test_cumsum_gradient_and_gradcheck():
    _torch()
    a, b = pair(random_array((3, 4)), requires_grad=True)
    grads_same([a], [b], a.t().cumsum(-1), b.t().cumsum(-1))
    x = mt.tensor(random_array((3, 4)), requires_grad=True)
    assert mt.gradcheck(lambda t: mt.cumsum(t, 1), [x])
    assert mt.gradcheck(lambda t: t.cumsum(0, dtype=mt.float64), [x])
    y = mt.tensor(random_array((3,)).astype(np.float32), requires_grad=True)
    mt.cumsum(y, 0, dtype=mt.float64).sum().backward()
    assert y.grad.dtype == np.float32


@pytest.mark.parametrize("call", [lambda m, x: m.cumsum(x, 2), lambda m, x: x.cumsum(),
                                  lambda m, x: m.cumsum(x, None)])
def test_cumsum_errors_match_torch(call):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    assert_raises_like(lambda: call(mt, a), lambda: call(torch, b))


def test_in_place_cumsum():
    _torch()
    a, b = pair(random_array((3, 4)))
    a.cumsum_(1)
    b.cumsum_(1)
    assert_same(a, b)


# ---- all, any ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2), (0, 3), ()])
def test_all_any_match_torch(shape, dtype):
    torch = _torch()
    values = random_array(shape, dtype)
    if values.size and dtype != np.bool_:
        values.flat[0] = 0
    a, b = pair(values)
    for op in ("all", "any"):
        assert_same(getattr(a, op)(), getattr(b, op)())
        assert_same(getattr(mt, op)(a), getattr(torch, op)(b))
        for dim in range(-max(len(shape), 1), max(len(shape), 1)):
            for keepdim in (False, True):
                assert_same(getattr(a, op)(dim, keepdim), getattr(b, op)(dim, keepdim))
                assert_same(getattr(mt, op)(a, dim=dim, keepdim=keepdim),
                            getattr(torch, op)(b, dim=dim, keepdim=keepdim))
        if len(shape) >= 2:
            assert_same(getattr(a, op)((0, -1)), getattr(b, op)((0, -1)))


def test_all_any_count_nan_as_true():
    _torch()
    a, b = pair(np.array([np.nan, 1.0]))
    assert_same(a.all(), b.all())
    a, b = pair(np.array([np.nan, 0.0]))
    assert_same(a.any(), b.any())
    assert_same(a.t().all(0), b.t().all(0))


@pytest.mark.parametrize("call", [lambda m, x: m.all(x, 2), lambda m, x: m.any(x, -3),
                                  lambda m, x: m.all(x, 0.5)])
def test_all_any_errors_match_torch(call):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    assert_raises_like(lambda: call(mt, a), lambda: call(torch, b))


# ---- gather, scatter, index_select --------------------------------------------------------
def _random_index(shape, dim, size, dtype=np.int64):
    return RNG.integers(0, size, size=shape).astype(dtype) if size else np.zeros(shape, dtype)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_gather_matches_torch_values_and_gradients(shape):
    torch = _torch()
    for dim in range(-len(shape), len(shape)):
        index_shape = tuple(max(n - 1, 1) if i != dim % len(shape) else n + 2 for i, n in enumerate(shape))
        index = _random_index(index_shape, dim, shape[dim])
        a, b = pair(random_array(shape), requires_grad=True)
        mine, theirs = mt.gather(a, dim, mt.tensor(index)), torch.gather(b, dim, torch.tensor(index))
        assert_same(mine, theirs)
        grads_same([a], [b], mine, theirs)     # repeated positions add up
        index32 = index.astype(np.int32)
        assert_same(a.gather(dim, mt.tensor(index32)), b.gather(dim, torch.tensor(index32)))


def test_gather_int_and_transposed_inputs_and_0d():
    torch = _torch()
    a, b = pair(random_array((4, 3), np.int64))
    index = _random_index((3, 2), 1, 4)
    assert_same(a.t().gather(1, mt.tensor(index)), b.t().gather(1, torch.tensor(index)))
    a, b = pair(np.array(2.5))
    assert_same(a.gather(0, mt.tensor([0, 0])), b.gather(0, torch.tensor([0, 0])))
    assert_same(a.gather(0, mt.tensor(0)), b.gather(0, torch.tensor(0)))
    a, b = pair(random_array((3, 4)))
    assert_same(a.gather(1, mt.zeros(0, 2, dtype=mt.int64)), b.gather(1, torch.zeros(0, 2, dtype=torch.int64)))


@pytest.mark.parametrize("index, dim", [([[5]], 1), ([[-1]], 1), ([0, 1], 1), ([[0]] * 4, 1),
                                        ([[0] * 5] * 3, 0), ([[0]], 2), ([[0.0]], 1)])
def test_gather_errors_match_torch(index, dim):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    assert_raises_like(lambda: a.gather(dim, mt.tensor(index)), lambda: b.gather(dim, torch.tensor(index)))


def test_gather_refuses_sparse_grad_and_a_list_index():
    x = mt.tensor(random_array((3, 4)))
    with pytest.raises(RuntimeError, match="sparse_grad"):
        x.gather(1, mt.tensor([[0]]), sparse_grad=True)
    with pytest.raises(TypeError, match="index"):
        x.gather(1, [[0]])


def _distinct_index(shape, dim, size):
    """An index with distinct positions along dim (so scatter writes each position once)."""
    moved = list(shape)
    moved.append(moved.pop(dim))
    rows = [RNG.permutation(size)[:moved[-1]] for _ in range(int(np.prod(moved[:-1])))]
    return np.moveaxis(np.array(rows, dtype=np.int64).reshape(moved), -1, dim)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_scatter_matches_torch_values_and_gradients(shape):
    torch = _torch()
    for dim in range(-len(shape), len(shape)):
        index_shape = tuple(max(n - 1, 1) for n in shape)
        index = _distinct_index(index_shape, dim % len(shape), shape[dim])
        src_values = random_array(tuple(n + 1 for n in index_shape))
        a, b = pair(random_array(shape), requires_grad=True)
        src_a, src_b = pair(src_values, requires_grad=True)
        mine = mt.scatter(a, dim, mt.tensor(index), src_a)
        theirs = torch.scatter(b, dim, torch.tensor(index), src_b)
        assert_same(mine, theirs)
        assert_same(a.scatter(dim, mt.tensor(index), 7.5), b.scatter(dim, torch.tensor(index), 7.5))
        assert_same(a.scatter(dim, mt.tensor(index), value=-1), b.scatter(dim, torch.tensor(index), value=-1))
        for reduce in ("add", "multiply"):
            assert_same(a.scatter(dim, mt.tensor(index), src_a, reduce=reduce),
                        b.scatter(dim, torch.tensor(index), src_b, reduce=reduce))
        # (torch's backward refuses a src larger than index; here src's extra entries get 0)
        same_shape_src_a, same_shape_src_b = pair(random_array(index_shape), requires_grad=True)
        grads_same([a, same_shape_src_a], [b, same_shape_src_b],
                   a.scatter(dim, mt.tensor(index), same_shape_src_a),
                   b.scatter(dim, torch.tensor(index), same_shape_src_b))


def test_scatter_with_repeats_keeps_the_last_write_and_int_values_cast_as_torch():
    torch = _torch()
    a, b = pair(random_array((2, 4)))
    assert_same(a.scatter(1, mt.tensor([[0, 0]]), mt.tensor([[1.0, 2.0]], dtype=mt.float64)),
                b.scatter(1, torch.tensor([[0, 0]]), torch.tensor([[1.0, 2.0]], dtype=torch.float64)))
    a, b = pair(random_array((2, 4), np.int64))
    for value in (2.7, -2.7, True):
        assert_same(a.scatter(1, mt.tensor([[0, 3]]), value), b.scatter(1, torch.tensor([[0, 3]]), value))
    assert_same(a.scatter(1, mt.tensor([[0, 1], [1, 1]]), 2, reduce="add"),
                b.scatter(1, torch.tensor([[0, 1], [1, 1]]), 2, reduce="add"))


def test_scatter_in_place():
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    index = _distinct_index((2, 3), 1, 4)
    a.scatter_(1, mt.tensor(index), mt.tensor(np.ones((2, 3))))
    b.scatter_(1, torch.tensor(index), torch.tensor(np.ones((2, 3))))
    assert_same(a, b)
    a.scatter_(0, mt.tensor([[0, 2]]), 5.0, reduce="multiply")
    b.scatter_(0, torch.tensor([[0, 2]]), 5.0, reduce="multiply")
    assert_same(a, b)


@pytest.mark.parametrize("call", [
    lambda m, x, i: x.scatter(1, i, m.ones(3, 3, dtype=m.float32)),
    lambda m, x, i: x.scatter(1, i, m.ones(1, 1, dtype=m.float64)),
    lambda m, x, i: x.scatter(1, i, 2.0, reduce="sum"),
    lambda m, x, i: x.scatter(1, i * 5, 2.0),
    lambda m, x, i: x.scatter(3, i, 2.0),
    lambda m, x, i: x.scatter(1, i[0], 2.0),
    lambda m, x, i: x.scatter(1, i, m.tensor(1.0, dtype=m.float64))])
def test_scatter_errors_match_torch(call):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    index = np.array([[0, 1], [2, 0]])
    assert_raises_like(lambda: call(mt, a, mt.tensor(index)), lambda: call(torch, b, torch.tensor(index)))


def test_scatter_with_reduce_has_no_derivative_as_torch():
    torch = _torch()
    a, b = pair(random_array((3, 4)), requires_grad=True)
    index = np.array([[0, 1]])
    with pytest.raises(RuntimeError):
        b.scatter(1, torch.tensor(index), 2.0, reduce="add").sum().backward()
    with pytest.raises(RuntimeError, match="reduce"):
        a.scatter(1, mt.tensor(index), 2.0, reduce="add").sum().backward()


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (3, 0)])
def test_index_select_matches_torch(shape):
    torch = _torch()
    for dim in range(-len(shape), len(shape)):
        n = shape[dim]
        index = RNG.integers(0, n, size=6) if n else np.zeros(0, np.int64)
        a, b = pair(random_array(shape), requires_grad=True)
        mine = mt.index_select(a, dim, mt.tensor(index))
        theirs = torch.index_select(b, dim, torch.tensor(index))
        assert_same(mine, theirs)
        if n:
            grads_same([a], [b], mine, theirs)
            if len(shape) == 2 and 0 not in shape:
                assert_same(a.t().index_select(-1, mt.tensor(index[:1].astype(np.int32))) if dim % 2 == 0 else a,
                            b.t().index_select(-1, torch.tensor(index[:1].astype(np.int32))) if dim % 2 == 0 else b)
            assert_same(a.index_select(dim, mt.tensor(int(index[0]))), b.index_select(dim, torch.tensor(int(index[0]))))
    a, b = pair(np.array(3.0))
    assert_same(a.index_select(0, mt.tensor([0])), b.index_select(0, torch.tensor([0])))


@pytest.mark.parametrize("index", [[[2]], [3], [-1], [1.0]])
def test_index_select_errors_match_torch(index):
    torch = _torch()
    a, b = pair(random_array((3, 4)))
    assert_raises_like(lambda: a.index_select(0, mt.tensor(index)), lambda: b.index_select(0, torch.tensor(index)))
    assert_raises_like(lambda: a.index_select(0, [1]), lambda: b.index_select(0, [1]))


def test_gather_scatter_index_select_gradcheck():
    x = mt.tensor(random_array((3, 4)), requires_grad=True)
    src = mt.tensor(random_array((2, 3)), requires_grad=True)
    index = mt.tensor(_distinct_index((2, 3), 1, 4))
    assert mt.gradcheck(lambda t: mt.gather(t, 1, mt.tensor([[0, 0, 3], [2, 1, 2]])), [x])
    assert mt.gradcheck(lambda t, s: mt.scatter(t, 1, index, s), [x, src])
    assert mt.gradcheck(lambda t: t.scatter(1, index, 0.5), [x])
    assert mt.gradcheck(lambda t: mt.index_select(t, -1, mt.tensor([3, 0, 3])), [x])


# ---- //, %, rounding division -----------------------------------------------------------
BINARY_DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.float16]


@pytest.mark.parametrize("dtype", BINARY_DTYPES)
def test_floor_divide_remainder_and_rounded_div_match_torch(dtype):
    torch = _torch()
    a_values = random_array((3, 4), dtype)
    b_values = random_array((4,), dtype)
    b_values[b_values == 0] = 3
    a, ta = pair(a_values)
    b, tb = pair(b_values)
    assert_same(a // b, ta // tb)
    assert_same(a % b, ta % tb)
    assert_same(mt.floor_divide(a.t(), b[:3]), torch.floor_divide(ta.t(), tb[:3]))
    assert_same(mt.remainder(a.t(), b[:3]), torch.remainder(ta.t(), tb[:3]))
    for mode in ("trunc", "floor"):
        assert_same(mt.div(a, b, rounding_mode=mode), torch.div(ta, tb, rounding_mode=mode))
        assert_same(a.div(b, rounding_mode=mode), ta.div(tb, rounding_mode=mode))
    assert_same(mt.div(a, b, rounding_mode=None), torch.div(ta, tb, rounding_mode=None))
    for number in (2, -3, 2.5, -0.75, True):
        if number is True and dtype == np.uint8:
            continue
        assert_same(a // number, ta // number)
        assert_same(a % number, ta % number)
        assert_same(number // b, number // tb)
        assert_same(number % b, number % tb)
        assert_same(mt.div(number, b, rounding_mode="floor"), torch.div(number, tb, rounding_mode="floor"))
        assert_same(mt.div(a, number, rounding_mode="trunc"), torch.div(ta, number, rounding_mode="trunc"))


def test_remainder_sign_rule_and_special_values_match_torch():
    torch = _torch()
    a, ta = pair(np.array([5.0, -5.0, 7.5, -7.0, 0.0, np.inf, -1e-30, 5.0, -5.0, np.nan]))
    b, tb = pair(np.array([2.0, 2.0, -2.0, -2.0, 3.0, 2.0, 1.0, np.inf, np.inf, 1.0]))
    assert_same(a % b, ta % tb)
    assert_same(a // b, ta // tb)
    assert_same(a // 0, ta // 0)
    assert_same(a % 0.0, ta % 0.0)
    assert_same(mt.div(a, b, rounding_mode="trunc"), torch.div(ta, tb, rounding_mode="trunc"))
    a, ta = pair(np.array([5, -5, 7, -7, 0]))
    b, tb = pair(np.array([2, 2, -2, -2, -3]))
    assert_same(a % b, ta % tb)
    assert_same(mt.div(a, b, rounding_mode="trunc"), torch.div(ta, tb, rounding_mode="trunc"))
    u, tu = pair(np.array([5, 200], dtype=np.uint8))
    assert_same(u // -1, tu // -1)
    assert_same(u % -1, tu % -1)


@pytest.mark.parametrize("call", [
    lambda m, i, f, b: i // 0, lambda m, i, f, b: i % 0, lambda m, i, f, b: m.div(i, 0, rounding_mode="trunc"),
    lambda m, i, f, b: b // b, lambda m, i, f, b: b % b, lambda m, i, f, b: m.div(b, b, rounding_mode="floor"),
    lambda m, i, f, b: m.div(f, f, rounding_mode="round"), lambda m, i, f, b: f // f[:2],
    lambda m, i, f, b: i % "x"])
def test_integer_division_errors_match_torch(call):
    torch = _torch()
    i, ti = pair(np.array([5, -5, 7]))
    f, tf = pair(np.array([5.0, -5.0, 7.0]))
    b, tb = pair(np.array([True, False, True]))
    assert_raises_like(lambda: call(mt, i, f, b), lambda: call(torch, ti, tf, tb))


def test_remainder_and_rounded_div_gradients_match_torch():
    torch = _torch()
    a_values, b_values = random_array((3, 4)) * 4, random_array((4,)) + 3
    a, ta = pair(a_values, requires_grad=True)
    b, tb = pair(b_values, requires_grad=True)
    grads_same([a, b], [ta, tb], a % b, ta % tb)
    for mode in ("trunc", "floor"):
        a.grad = b.grad = ta.grad = tb.grad = None
        grads_same([a, b], [ta, tb], mt.div(a, b, rounding_mode=mode) + a, torch.div(ta, tb, rounding_mode=mode) + ta)
    assert mt.gradcheck(lambda x, y: mt.remainder(x, y), [mt.tensor(a_values, requires_grad=True),
                                                          mt.tensor(b_values, requires_grad=True)])
    assert mt.gradcheck(lambda x: 7.5 % x, [mt.tensor(b_values, requires_grad=True)])


def test_floor_divide_backward_raises_as_torch():
    _torch()
    a, ta = pair(np.array([5.0, -3.0]), requires_grad=True)
    with pytest.raises(RuntimeError):
        (ta // 2).sum().backward()
    with pytest.raises(RuntimeError, match="floor_divide"):
        (a // 2).sum().backward()


def test_in_place_floor_divide_and_remainder():
    _torch()
    a, ta = pair(np.array([5, -5, 7, -7]))
    a //= 2
    ta //= 2
    assert_same(a, ta)
    a %= 3
    ta %= 3
    assert_same(a, ta)
    f, tf = pair(np.array([5.5, -5.5]))
    f.floor_divide_(2)
    tf.floor_divide_(2)
    assert_same(f, tf)
    f.remainder_(-0.75)
    tf.remainder_(-0.75)
    assert_same(f, tf)
    f.div_(3, rounding_mode="trunc")
    tf.div_(3, rounding_mode="trunc")
    assert_same(f, tf)
    with pytest.raises(RuntimeError):       # an int tensor cannot hold the float result
        a.div_(2)


# ---- add/sub with alpha -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.float16])
def test_add_sub_alpha_match_torch(dtype):
    torch = _torch()
    a, ta = pair(random_array((3, 4), dtype))
    b, tb = pair(random_array((4,), dtype))
    alphas = (2, -1, 0) + ((2.5, -0.5) if np.dtype(dtype).kind == "f" else ())
    for alpha in alphas:
        assert_same(mt.add(a, b, alpha=alpha), torch.add(ta, tb, alpha=alpha))
        assert_same(mt.sub(a, b, alpha=alpha), torch.sub(ta, tb, alpha=alpha))
        assert_same(a.add(b.t() if b.ndim == 2 else b, alpha=alpha), ta.add(tb, alpha=alpha))
        assert_same(a.sub(3, alpha=alpha), ta.sub(3, alpha=alpha))
        assert_same(mt.add(a, b.to(mt.float64), alpha=alpha), torch.add(ta, tb.double(), alpha=alpha))
        c, tc = a.clone(), ta.clone()
        c.add_(b, alpha=alpha)
        tc.add_(tb, alpha=alpha)
        assert_same(c, tc)
        c.sub_(b, alpha=alpha)
        tc.sub_(tb, alpha=alpha)
        assert_same(c, tc)
    i, ti = pair(random_array((3,), np.int32))
    f, tf = pair(random_array((3,), np.float16))
    assert_same(mt.add(f, i, alpha=2.5), torch.add(tf, ti, alpha=2.5))   # alpha does not promote
    b1, tb1 = pair(np.array([True, False]))
    assert_same(mt.add(b1, b1, alpha=True), torch.add(tb1, tb1, alpha=True))
    assert_same(mt.add(b1, b1, alpha=False), torch.add(tb1, tb1, alpha=False))


@pytest.mark.parametrize("call", [
    lambda m, i, f: m.add(i, i, alpha=2.5), lambda m, i, f: m.add(i, i, alpha=True),
    lambda m, i, f: m.sub(f, f, alpha=True), lambda m, i, f: i.add_(i, alpha=1.5),
    lambda m, i, f: m.add(f, f, alpha="x")])
def test_alpha_errors_match_torch(call):
    torch = _torch()
    i, ti = pair(np.array([1, 2]))
    f, tf = pair(np.array([1.0, 2.0]))
    assert_raises_like(lambda: call(mt, i, f), lambda: call(torch, ti, tf))


def test_add_sub_alpha_gradients_and_gradcheck():
    torch = _torch()
    a, ta = pair(random_array((3, 4)), requires_grad=True)
    b, tb = pair(random_array((4,)), requires_grad=True)
    grads_same([a, b], [ta, tb], mt.sub(a, b, alpha=-2.5), torch.sub(ta, tb, alpha=-2.5))
    x = mt.tensor(random_array((3, 4)), requires_grad=True)
    y = mt.tensor(random_array((4,)), requires_grad=True)
    assert mt.gradcheck(lambda s, t: mt.add(s, t, alpha=3.0), [x, y])
    assert mt.gradcheck(lambda s, t: s.sub(t, alpha=-0.5), [x, y])


# ---- bitwise and logical ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.int32, np.uint8, np.int8])
def test_bitwise_ops_match_torch(dtype):
    torch = _torch()
    a, ta = pair(random_array((3, 4), dtype))
    b, tb = pair(random_array((4,), dtype))
    assert_same(~a, ~ta)
    assert_same(a.t() & b[:3], ta.t() & tb[:3])
    assert_same(a | b, ta | tb)
    assert_same(a ^ b, ta ^ tb)
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        assert_same(getattr(mt, op)(a, b), getattr(torch, op)(ta, tb))
        assert_same(getattr(a, op)(b), getattr(ta, op)(tb))
    assert_same(mt.bitwise_not(a), torch.bitwise_not(ta))
    for number in (True, False, 1, 6, -1):
        assert_same(number & a, number & ta)
        assert_same(a | number, ta | number)
        assert_same(number ^ a, number ^ ta)
    for op in ("logical_and", "logical_or", "logical_xor"):
        assert_same(getattr(mt, op)(a, b), getattr(torch, op)(ta, tb))
    assert_same(mt.logical_not(a), torch.logical_not(ta))
    c, tc = a.clone(), ta.clone()
    c &= b
    tc &= tb
    c |= b
    tc |= tb
    c ^= b
    tc ^= tb
    assert_same(c, tc)
    c.bitwise_not_()
    tc.bitwise_not_()
    assert_same(c, tc)


def test_bitwise_mixed_dtypes_and_empty_match_torch():
    torch = _torch()
    i, ti = pair(np.array([5, -5, 7, -7]))
    b, tb = pair(np.array([True, False, True, False]))
    assert_same(i ^ b, ti ^ tb)
    assert_same(i & b, ti & tb)
    e, te = pair(np.zeros((0, 3), dtype=np.int64))
    assert_same(~e, ~te)
    assert_same(e | 1, te | 1)
    f, tf = pair(np.array([1.5, 0.0, np.nan]))
    assert_same(mt.logical_not(f), torch.logical_not(tf))
    assert_same(f.logical_not_(), tf.logical_not_())


@pytest.mark.parametrize("call", [
    lambda m, i, f: ~f, lambda m, i, f: f & f, lambda m, i, f: i & 1.5, lambda m, i, f: m.bitwise_not(f),
    lambda m, i, f: f | i, lambda m, i, f: i ^ i[:2], lambda m, i, f: m.logical_and(f, 1)])
def test_bitwise_errors_match_torch(call):
    torch = _torch()
    i, ti = pair(np.array([1, 2, 3]))
    f, tf = pair(np.array([1.0, 2.0, 3.0]))
    assert_raises_like(lambda: call(mt, i, f), lambda: call(torch, ti, tf))


# ---- casts, new_*, *_as ----------------------------------------------------------------------
def test_casts_match_torch_and_carry_the_gradient():
    _torch()
    a, ta = pair(np.array([[0.0, -1.7], [2.5, 3.9]]))
    for name in ("bool", "int", "long", "float", "double", "half"):
        assert_same(getattr(a, name)(), getattr(ta, name)())
        assert_same(getattr(a.t(), name)(), getattr(ta.t(), name)())
    a, ta = pair(random_array((2, 3)), requires_grad=True)
    grads_same([a], [ta], a.half().float() * 2 + a.float(), ta.half().float() * 2 + ta.float())
    x = mt.tensor(random_array((2, 3)), requires_grad=True)
    assert mt.gradcheck(lambda t: t.double() * t.type_as(t), [x])


def test_type_as_view_as_reshape_as_expand_as_match_torch():
    torch = _torch()
    a, ta = pair(random_array((2, 3)), requires_grad=True)
    i, ti = pair(np.zeros((1,), np.int32))
    assert_same(a.type_as(i), ta.type_as(ti))
    assert_same(i.type_as(a), ti.type_as(ta))
    target, ttarget = pair(np.zeros((3, 2)))
    assert_same(a.view_as(target), ta.view_as(ttarget))
    assert_same(a.t().reshape_as(mt.zeros(6)), ta.t().reshape_as(torch.zeros(6)))
    assert_same(a[:1].expand_as(a), ta[:1].expand_as(ta))
    grads_same([a], [ta], a.view_as(target) * target.reshape_as(a.t()).t().t() + a.t().reshape_as(target),
               ta.view_as(ttarget) * ttarget.reshape_as(ta.t()).t().t() + ta.t().reshape_as(ttarget))
    assert_raises_like(lambda: a.t().view_as(mt.zeros(6)), lambda: ta.t().view_as(torch.zeros(6)))
    assert_raises_like(lambda: a.view_as(np.zeros(6)), lambda: ta.view_as(np.zeros(6)))
    x = mt.tensor(random_array((2, 3)), requires_grad=True)
    assert mt.gradcheck(lambda t: t.view_as(mt.zeros(3, 2)) * 2 + t.reshape_as(mt.zeros(6)).reshape(3, 2), [x])


def test_new_factories_match_torch():
    torch = _torch()
    for dtype in (np.float32, np.float64, np.int64, np.bool_):
        a, ta = pair(random_array((2, 3), dtype))
        assert_same(a.new_zeros(2, 3), ta.new_zeros(2, 3))
        assert_same(a.new_zeros((4,)), ta.new_zeros((4,)))
        assert_same(a.new_ones([2, 1]), ta.new_ones([2, 1]))
        assert_same(a.new_ones(2, dtype=mt.int32), ta.new_ones(2, dtype=torch.int32))
        assert_same(a.new_full((2, 2), 3), ta.new_full((2, 2), 3))
        assert_same(a.new_full([3], True), ta.new_full([3], True))
        assert_same(a.new_tensor([1, 2]), ta.new_tensor([1, 2]))
        assert_same(a.new_tensor(a), ta.new_tensor(ta))
        assert a.new_empty(0, 2).shape == tuple(ta.new_empty(0, 2).shape)
        assert a.new_empty(3).dtype == a.dtype
    a, ta = pair(random_array((2,)))
    assert a.new_zeros(2, requires_grad=True).requires_grad
    assert a.new_tensor([1.5], requires_grad=True).requires_grad
    i, ti = pair(np.array([1, 2]))
    assert_same(i.new_full((2,), 2.5), ti.new_full((2,), 2.5))
    assert_same(i.new_tensor([1.5, -2.5]), ti.new_tensor([1.5, -2.5]))
    for call in (lambda m, x: x.new_zeros(2, requires_grad=True), lambda m, x: x.new_full(2, 3),
                 lambda m, x: x.new_full((2,), float("nan")), lambda m, x: x.new_zeros(),
                 lambda m, x: x.new_tensor([1], requires_grad=True)):
        assert_raises_like(lambda: call(mt, i), lambda: call(torch, ti))


# ---- a nested list index --------------------------------------------------------------------
def test_a_list_holding_lists_indexes_as_a_tuple_as_in_torch():
    _torch()
    a, ta = pair(np.arange(12.0).reshape(3, 4), requires_grad=True)
    with pytest.warns(UserWarning):
        mine = a[[[0, 1], [1, 0]]]
    with pytest.warns(UserWarning):
        theirs = ta[[[0, 1], [1, 0]]]
    assert_same(mine, theirs)
    grads_same([a], [ta], mine, theirs)
    with pytest.warns(UserWarning):
        assert_same(a[[0, slice(1, 3)]], ta[[0, slice(1, 3)]])
    with pytest.warns(UserWarning):
        assert_same(a[[None, 1]], ta[[None, 1]])
    assert_same(a[[2, 0, 2]], ta[[2, 0, 2]])            # a flat list stays one index
    assert_same(a[([[0, 1], [1, 0]],)], ta[([[0, 1], [1, 0]],)])   # inside a tuple: one index tensor
    b, tb = pair(np.zeros((3, 4)))
    with pytest.warns(UserWarning):
        b[[[0, 2], [1, 3]]] = 5.0
    with pytest.warns(UserWarning):
        tb[[[0, 2], [1, 3]]] = 5.0
    assert_same(b, tb)


# ---- corners found by torch's OpInfo samples ------------------------------------------------
def test_gather_with_an_empty_index_checks_nothing_as_torch():
    torch = _torch()
    a, ta = pair(random_array((5,)), requires_grad=True)
    for dtype in (np.uint8, np.float32, np.int64):
        index = np.zeros((2, 0), dtype=dtype)
        mine, theirs = a.gather(0, mt.tensor(index)), ta.gather(0, torch.tensor(index))
        assert_same(mine, theirs)
    grads_same([a], [ta], mine, theirs)


def test_scatter_on_0d_tensors_matches_torch():
    torch = _torch()
    a, ta = pair(np.array(1.5), requires_grad=True)
    s, ts = pair(np.array(-2.0), requires_grad=True)
    index, tindex = mt.tensor(0), torch.tensor(0)
    assert_same(a.scatter(0, index, s), ta.scatter(0, tindex, ts))
    for reduce in ("add", "multiply"):
        assert_same(a.scatter(0, index, s, reduce=reduce), ta.scatter(0, tindex, ts, reduce=reduce))
    assert_same(a.scatter(0, index, 2.5), ta.scatter(0, tindex, 2.5))
    grads_same([a, s], [ta, ts], a.scatter(0, index, s), ta.scatter(0, tindex, ts))


def test_casts_take_torch_memory_formats():
    torch = _torch()
    a, ta = pair(random_array((2, 3, 4)))
    mine = a.transpose(0, 2).half(mt.contiguous_format)
    theirs = ta.transpose(0, 2).half(memory_format=torch.contiguous_format)
    assert_same(mine, theirs)
    assert mine.is_contiguous()
    assert_same(a.transpose(0, 1).double(memory_format=mt.preserve_format),
                ta.transpose(0, 1).double(memory_format=torch.preserve_format))
    with pytest.raises(RuntimeError, match="channels_last"):
        mt.zeros(1, 2, 3, 4).float(memory_format=mt.channels_last)
