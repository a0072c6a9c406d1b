"""core/elementwise.py, core/reduce.py and core/shape.py, the plain ops, against the fast ones
(fast/elementwise.py, fast/reduce.py, fast/shape.py) and against their definitions.

Through the public API in both modes (float64, every tensor input requiring grad) the values and
every gradient agree to 1e-12: each binary op over the broadcasting shape pairs of
tests/test_parity_torch.py and with a Python number on either side, the unary ops, sum and mean
over several axes with and without keepdim, reshape, permute and indexing (slices, ints, integer
arrays with repeats, masks, negative steps).  The core's gradients are also checked by central
differences (mt.gradcheck) and by hand.  Torch is not needed here.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.backends import fast
from minitorch_cnn.core import elementwise as core_elementwise
from minitorch_cnn.core import reduce as core_reduce
from minitorch_cnn.core import shape as core_shape
from minitorch_cnn.fast import elementwise as fast_elementwise
from minitorch_cnn.fast import reduce as fast_reduce
from minitorch_cnn.fast import shape as fast_shape
from _modes import TOL, assert_same_run


# tests/test_parity_torch.py's SHAPE_PAIRS (copied: that module needs torch)
SHAPE_PAIRS = [((3, 1, 4), (2, 4)), ((2, 4), (3, 1, 4)), ((4,), (3, 2, 1)), ((), (2, 3)), ((2, 3), (2, 3))]
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}
UNARY = {"neg": lambda x: -x, "exp": lambda x: x.exp(), "log": lambda x: x.log(),
         "sqrt": lambda x: x.sqrt(), "abs": lambda x: x.abs()}
CLASS = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow",
         "neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs",
         "sum": "Sum", "mean": "Mean", "reshape": "Reshape", "permute": "Permute", "getitem": "GetItem"}
CORE_MODULE = {**dict.fromkeys(["Add", "Sub", "Mul", "Div", "Pow", "Neg", "Exp", "Log", "Sqrt", "Abs"],
                               (core_elementwise, fast_elementwise)),
               "Sum": (core_reduce, fast_reduce), "Mean": (core_reduce, fast_reduce),
               **dict.fromkeys(["Reshape", "Permute", "GetItem"], (core_shape, fast_shape))}


def run(fn, arrays, enabled, seed=1):
    """fn's output, its grad_fn and every input's gradient (None for a number) for a random
    upstream gradient, in one mode."""
    tensors = [mt.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) else a for a in arrays]
    with fast.flags(enabled=enabled):
        out = fn(*tensors)
        grad = np.random.default_rng(seed).standard_normal(out.shape)
        out.backward(mt.tensor(grad))
    return out, [t.grad.data if isinstance(t, mt.Tensor) else None for t in tensors]


def check_modes(fn, arrays, name):
    """Both modes: the same values and gradients; the core class off, the fast one (if any) on."""
    core_out, core_grads = run(fn, arrays, enabled=False)
    fast_out, fast_grads = run(fn, arrays, enabled=True)
    core_module, fast_module = CORE_MODULE[name]
    core_class = getattr(core_module, name)
    assert core_out.grad_fn is core_class
    assert fast_out.grad_fn is getattr(fast_module, name, core_class)
    assert core_out.grad_fn.__name__ == fast_out.grad_fn.__name__ == name
    assert core_out.shape == fast_out.shape and core_out.dtype == fast_out.dtype
    assert_same_run(core_out.data, core_grads, fast_out.data, fast_grads)
    for array, core_grad in zip(arrays, core_grads):
        assert core_grad is None or core_grad.shape == np.shape(array)
    return core_out, core_grads


def core_gradcheck(fn, arrays):
    tensors = [mt.tensor(a, requires_grad=True) for a in arrays]
    with fast.flags(enabled=False):
        assert mt.gradcheck(fn, tensors)


# ---- binary ops: broadcasting and Python numbers -------------------------------------------
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_binary_ops_broadcast_alike(op, shapes):
    rng = np.random.default_rng(len(op) + sum(map(len, shapes)))
    a, b = rng.uniform(0.5, 2.0, shapes[0]), rng.uniform(0.5, 2.0, shapes[1])
    out, (grad_a, grad_b) = check_modes(BINARY[op], [a, b], CLASS[op])
    np.testing.assert_allclose(out.data, BINARY[op](a, b), **TOL)
    assert out.shape == np.broadcast_shapes(*shapes)
    core_gradcheck(BINARY[op], [a, b])


@pytest.mark.parametrize("number", [2.0, -1.5, 3, 0.5], ids=str)
@pytest.mark.parametrize("reflected", [False, True], ids=["tensor op number", "number op tensor"])
@pytest.mark.parametrize("op", BINARY)
def test_binary_ops_with_a_python_number(op, reflected, number):
    x = np.random.default_rng(3).uniform(0.5, 2.0, (2, 3))
    fn = (lambda t: BINARY[op](number, t)) if reflected else (lambda t: BINARY[op](t, number))
    out, (grad_x,) = check_modes(fn, [x], CLASS[op])
    with np.errstate(invalid="ignore"):     # (-1.5) ** x is NaN, in both modes and in NumPy
        expected = BINARY[op](number, x) if reflected else BINARY[op](x, number)
    np.testing.assert_allclose(out.data, expected, **TOL)
    assert out.dtype == np.float64


def test_binary_gradients_by_hand():
    """docs/02's rule: each input's term summed over the axes it was broadcast along."""
    a, b = np.arange(1.0, 7.0).reshape(2, 3), np.array([[1.0, 10.0, 100.0]])
    g = np.random.default_rng(0).standard_normal((2, 3))
    expected = {"add": (g, g.sum(0, keepdims=True)), "sub": (g, -g.sum(0, keepdims=True)),
                "mul": (g * b, (g * a).sum(0, keepdims=True)),
                "div": (g / b, (-g * a / b ** 2).sum(0, keepdims=True)),
                "pow": (g * b * a ** (b - 1), (g * a ** b * np.log(a)).sum(0, keepdims=True))}
    for op, (grad_a, grad_b) in expected.items():
        ta, tb = mt.tensor(a, requires_grad=True), mt.tensor(b, requires_grad=True)
        with fast.flags(enabled=False):
            BINARY[op](ta, tb).backward(mt.tensor(g))
        np.testing.assert_allclose(ta.grad.data, grad_a, rtol=1e-12, err_msg=op)
        np.testing.assert_allclose(tb.grad.data, grad_b, rtol=1e-12, err_msg=op)


def test_unbroadcast():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(core_elementwise.unbroadcast(grad, (3, 1)), grad.sum(axis=(0, 2))[:, None])
    np.testing.assert_array_equal(core_elementwise.unbroadcast(grad, ()), grad.sum())
    np.testing.assert_array_equal(core_elementwise.unbroadcast(grad, (1, 3, 1)),
                                  grad.sum(axis=(0, 2))[None, :, None])
    assert core_elementwise.unbroadcast(grad, (2, 3, 4)) is grad
    assert mt.ops.elementwise.unbroadcast is core_elementwise.unbroadcast   # docs/02 imports it there


def test_a_number_gets_no_gradient_and_a_tensor_not_needing_one_none():
    x = mt.tensor(np.ones((2, 2)), requires_grad=True)
    k = mt.tensor(np.full((1, 2), 3.0))
    with fast.flags(enabled=False):
        out = x * k * 2.0
        node = out.grad_fn
        out.sum().backward()
    assert node is core_elementwise.Mul and k.grad is None
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 6.0))


# ---- unary ops -----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("op", UNARY)
def test_unary_ops_alike(op, shape):
    x = np.random.default_rng(len(shape)).uniform(0.5, 2.0, shape)
    if op in ("neg", "abs"):
        x = np.asarray(x * np.where(np.random.default_rng(9).random(shape) < 0.5, -1, 1))
    out, _ = check_modes(UNARY[op], [x], CLASS[op])
    np.testing.assert_allclose(out.data, {"neg": np.negative, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
                                          "abs": np.abs}[op](x), **TOL)
    core_gradcheck(UNARY[op], [x])


def test_abs_gradient_at_zero_is_zero_as_torch():
    x = np.array([-2.0, 0.0, -0.0, 3.0])
    out, (grad,) = check_modes(UNARY["abs"], [x], "Abs")
    g = np.random.default_rng(1).standard_normal(4)
    np.testing.assert_array_equal(grad, g * np.array([-1.0, 0.0, 0.0, 1.0]))


# ---- sum, mean -----------------------------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (1,), ()], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_alike(name, dim, keepdim):
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    fn = lambda t: getattr(t, name)(dim=dim, keepdim=keepdim)   # noqa: E731
    out, (grad,) = check_modes(fn, [x], CLASS[name])
    axis = None if dim == () else dim
    np.testing.assert_allclose(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdim), **TOL)
    core_gradcheck(fn, [x])


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_of_a_0d_tensor_and_without_dim(name):
    check_modes(lambda t: getattr(t, name)(), [np.array(1.5)], CLASS[name])
    check_modes(lambda t: getattr(t, name)(0), [np.array(1.5)], CLASS[name])
    out, (grad,) = check_modes(lambda t: getattr(t, name)(), [np.arange(6.0).reshape(2, 3)], CLASS[name])
    g = np.random.default_rng(1).standard_normal(())
    np.testing.assert_allclose(grad, np.full((2, 3), g / (6 if name == "mean" else 1)), **TOL)


def test_integer_sums_are_int64_in_both_modes():
    x = mt.tensor(np.array([[1, 2], [3, 4]], dtype=np.int8))
    for enabled in (False, True):
        with fast.flags(enabled=enabled):
            assert x.sum().dtype == np.int64 and x.sum(1).tolist() == [3, 7]


# ---- reshape, permute, getitem ---------------------------------------------------------------
SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6), "reshape -1": lambda x: x.reshape((-1, 2)),
    "view": lambda x: x.view(2, 12), "flatten": lambda x: x.flatten(), "flatten(1)": lambda x: x.flatten(1),
    "unsqueeze": lambda x: x.unsqueeze(1), "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "to 0-d and back": lambda x: x[0, 0, :1].reshape(()),
    "transpose": lambda x: x.transpose(0, 2), "permute": lambda x: x.permute(2, 0, 1),
    "permute (1, 2, 0)": lambda x: x.permute(1, 2, 0), "T": lambda x: x.T,
}


@pytest.mark.parametrize("op", SHAPE_OPS)
def test_reshape_and_permute_alike(op):
    name = "Permute" if op in ("transpose", "permute", "permute (1, 2, 0)", "T") else "Reshape"
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    check_modes(SHAPE_OPS[op], [x], name)
    core_gradcheck(SHAPE_OPS[op], [x])


def test_permute_backward_is_the_inverse_permutation():
    x = np.random.default_rng(6).standard_normal((2, 3, 4, 5))
    out, (grad,) = check_modes(lambda t: t.permute(3, 0, 2, 1), [x], "Permute")
    np.testing.assert_array_equal(out.data, x.transpose(3, 0, 2, 1))
    g = np.random.default_rng(1).standard_normal(out.shape)
    np.testing.assert_array_equal(grad, np.transpose(g, np.argsort((3, 0, 2, 1))))


INDICES = {
    "int": lambda x: x[1], "negative int": lambda x: x[-1, -2], "slice": lambda x: x[1:, ::2],
    "step": lambda x: x[::2, 3:0:1], "ellipsis": lambda x: x[..., 1],
    "newaxis": lambda x: x[None, 0], "repeated rows": lambda x: x[[0, 0, 2, 0]],
    "repeated pairs": lambda x: x[[0, 2, 0], [1, 1, 1]], "slice + array": lambda x: x[:, [3, 3, 0]],
    "2-d index array": lambda x: x[mt.tensor(np.array([[0, 1], [1, 1]]))],
    "array + int + slice": lambda x: x[[2, 2], 1, ::2], "bool mask": lambda x: x[x > 0],
    "0-d int tensor": lambda x: x[mt.tensor(np.array(2))],
}


@pytest.mark.parametrize("index", INDICES)
def test_getitem_alike(index):
    x = np.random.default_rng(7).standard_normal((3, 4, 2))
    check_modes(INDICES[index], [x], "GetItem")
    core_gradcheck(INDICES[index], [x])


def test_getitem_adds_the_gradient_of_repeated_reads():
    x = np.arange(4.0)
    out, (grad,) = check_modes(lambda t: t[[1, 1, 3, 1]], [x], "GetItem")
    g = np.random.default_rng(1).standard_normal(4)
    np.testing.assert_allclose(grad, [0.0, g[0] + g[1] + g[3], 0.0, g[2]], **TOL)


def test_getitem_errors_are_worded_alike():
    x = mt.tensor(np.zeros((3, 4)))
    for enabled in (False, True):
        with fast.flags(enabled=enabled):
            with pytest.raises(IndexError, match=r"^getitem: index 5 is out of bounds for dimension 1"):
                x[:, 5]


# ---- the switch ------------------------------------------------------------------------------
def test_the_fast_functions_replace_the_core_ones():
    replaced = {core_elementwise: ["Add", "Sub", "Mul", "Div", "Pow", "Abs"],
                core_reduce: ["Sum", "Mean"], core_shape: ["GetItem"]}
    fast_of = {core_elementwise: fast_elementwise, core_reduce: fast_reduce, core_shape: fast_shape}
    for core_module, names in replaced.items():
        for name in names:
            core_class, fast_class = getattr(core_module, name), getattr(fast_of[core_module], name)
            assert fast.replacements()[core_class] is fast_class
            with fast.flags(enabled=False):
                assert fast.choose(core_class) is core_class
            with fast.flags(enabled=True):
                assert fast.choose(core_class) is fast_class
    for core_class in (core_elementwise.Neg, core_elementwise.Exp, core_elementwise.Log,
                       core_elementwise.Sqrt, core_shape.Reshape, core_shape.Permute):
        assert core_class not in fast.replacements()    # plain already: the core runs in both modes
