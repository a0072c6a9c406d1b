"""torch's top-level functions that tutorials call (issue 21's list): torch.flatten, relu,
sigmoid, tanh, softmax, log_softmax, matmul, mm, bmm, with torch's parameter order."""
import inspect

import numpy as np
import pytest

import minitorch_cnn as mt

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 3, 4))


@pytest.mark.parametrize("name,args", [
    ("flatten", ()), ("flatten", (1,)), ("flatten", (0, 1)), ("relu", ()), ("sigmoid", ()), ("tanh", ()),
    ("softmax", (1,)), ("log_softmax", (-1,)), ("softmax", (0, np.float64)),
])
def test_unary_functions_match_torch(name, args):
    torch = pytest.importorskip("torch")
    torch_args = tuple(torch.float64 if a is np.float64 else a for a in args)
    ours = getattr(mt, name)(mt.tensor(X.astype(np.float32)), *args)
    theirs = getattr(torch, name)(torch.tensor(X.astype(np.float32)), *torch_args)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.dtype(str(theirs.dtype).split(".")[1])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,a,b", [
    ("matmul", (3, 4), (4, 5)), ("matmul", (2, 3, 4), (4,)), ("mm", (3, 4), (4, 5)), ("bmm", (2, 3, 4), (2, 4, 5)),
])
def test_products_match_torch_with_gradients(name, a, b):
    torch = pytest.importorskip("torch")
    a, b = RNG.standard_normal(a), RNG.standard_normal(b)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    ma, mb = (mt.tensor(v, requires_grad=True) for v in (a, b))
    getattr(torch, name)(ta, tb).sum().backward()
    out = getattr(mt, name)(ma, mb)
    out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), getattr(torch, name)(ta, tb).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call,message", [
    (lambda: mt.mm(mt.zeros(2, 3, 4), mt.zeros(2, 4, 5)), "mm: expected 2-D operands"),
    (lambda: mt.bmm(mt.zeros(3, 4), mt.zeros(4, 5)), "bmm: expected 3-D operands"),
    (lambda: mt.bmm(mt.zeros(1, 3, 4), mt.zeros(2, 4, 5)), "bmm: expected the same batch size"),
    (lambda: mt.mm(mt.zeros(2, 3), mt.zeros(4, 5)), "matmul: shapes"),
])
def test_wrong_shapes_are_refused_by_name(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_softmax_takes_dtype_third_as_torch_softmax():
    assert list(inspect.signature(mt.softmax).parameters) == ["input", "dim", "dtype"]
    assert list(inspect.signature(mt.log_softmax).parameters) == ["input", "dim", "dtype"]
    assert list(inspect.signature(mt.mm).parameters) == ["input", "mat2", "out_dtype", "out"]  # torch.mm(input, mat2, out_dtype, *, out=None)
    assert list(inspect.signature(mt.bmm).parameters) == ["input", "mat2", "out_dtype", "out"]
