"""Tensor basics: construction and dtype inference, attributes, conversions, operator dtypes."""
import numpy as np
import pytest

import minitorch_cnn as mt

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip


def torch_dtype_as_numpy(t):
    return torch.empty(0, dtype=t.dtype).numpy().dtype


# ---- construction ----------------------------------------------------------

DTYPE_CASES = {
    "python float": 3.5,
    "python floats": [[1.0, 2.0], [3.0, 4.5]],
    "python int": 7,
    "python ints": [1, 2, 3],
    "ints and floats": [1, 2.5],
    "python bool": True,
    "python bools": [True, False],
    "float64 array": np.array([1.0, 2.0]),
    "float32 array": np.array([1.0, 2.0], dtype=np.float32),
    "int32 array": np.array([1, 2], dtype=np.int32),
    "int64 array": np.array([1, 2], dtype=np.int64),
    "uint8 array": np.array([1, 2], dtype=np.uint8),
    "bool array": np.array([True, False]),
    "float64 numpy scalar": np.float64(2.5),
    "0-d float32 array": np.array(1.5, dtype=np.float32),
}


@needs_torch
@pytest.mark.parametrize("case", DTYPE_CASES)
def test_dtype_inference_matches_torch(case):
    data = DTYPE_CASES[case]
    m, t = mt.tensor(data), torch.tensor(data)
    assert m.dtype == torch_dtype_as_numpy(t)
    assert m.shape == tuple(t.shape)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_explicit_dtype():
    assert mt.tensor([1, 2], dtype=mt.float64).dtype == np.float64
    assert mt.tensor(np.ones(2), dtype=mt.float32).dtype == np.float32
    assert mt.tensor([1.7], dtype=mt.int64).dtype == np.int64


def test_tensor_copies_its_data():
    source = np.array([1.0, 2.0])
    x = mt.tensor(source)
    source[0] = 99
    assert x.array[0] == 1.0


@needs_torch
def test_tensor_from_a_torch_tensor():
    t = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    x = mt.tensor(t)
    assert x.dtype == np.float64 and x.shape == (1, 2) and not x.requires_grad
    np.testing.assert_array_equal(x.numpy(), [[1.0, 2.0]])
    assert mt.tensor(torch.arange(3)).dtype == np.int64
    assert mt.tensor(torch.zeros(2)).dtype == np.float32


def test_tensor_from_a_tensor_is_a_copy():
    x = mt.tensor([1.0, 2.0])
    y = mt.tensor(x)
    y.array[0] = 5
    assert x.array[0] == 1.0


def test_only_floating_tensors_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        mt.tensor([1, 2], requires_grad=True)


def test_factories_default_to_float32_and_are_seeded():
    for make in (mt.zeros, mt.ones, mt.randn, mt.rand):
        assert make(2, 3).dtype == np.float32 and make((2, 3)).shape == (2, 3)
    assert mt.zeros(2, dtype=mt.float64).dtype == np.float64
    mt.manual_seed(5)
    a = mt.randn(4)
    mt.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), mt.randn(4).numpy())


# ---- attributes and conversions ---------------------------------------------

def test_attributes():
    x = mt.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert isinstance(x.array, np.ndarray)
    assert x.grad is None and x.requires_grad is True
    assert x.shape == (1, 3) and isinstance(x.shape, tuple)
    assert x.dtype == mt.float32 and x.device == "cpu"
    assert x.size() == (1, 3) and x.size(1) == 3 and x.numel() == 3 and x.dim() == 2 and len(x) == 1
    (x * 2).sum().backward()
    assert isinstance(x.grad, mt.Tensor) and x.grad.shape == x.shape


def test_numpy_refuses_a_tensor_that_requires_grad():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    out = x.detach().numpy()
    assert isinstance(out, np.ndarray) and np.shares_memory(out, x.array)   # as torch: no copy


def test_item():
    assert mt.tensor([[2.5]]).item() == 2.5 and isinstance(mt.tensor(2.5).item(), float)
    assert mt.tensor(3).item() == 3 and isinstance(mt.tensor(3).item(), int)
    assert mt.tensor([1.0, 2.0], requires_grad=True).sum().item() == 3.0
    with pytest.raises(ValueError, match="one-element"):
        mt.tensor([1.0, 2.0]).item()


def test_detach_shares_data_and_drops_the_graph():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [2.0, 4.0])


def test_to_cpu_and_dtype():
    x = mt.tensor([1.5, 2.5])
    assert x.to("cpu") is x and x.cpu() is x           # nothing changes: the same tensor, as torch
    y = x.to(mt.float64)
    assert y.dtype == np.float64 and y.device == "cpu"
    np.testing.assert_array_equal(y.numpy(), [1.5, 2.5])
    assert x.to(dtype=mt.float64).dtype == np.float64
    assert x.double().dtype == np.float64 and y.float().dtype == np.float32
    assert x.long().dtype == np.int64


# ---- operators ---------------------------------------------------------------

SCALAR_OPS = {
    "x * 2.0": lambda x: x * 2.0, "2.0 * x": lambda x: 2.0 * x, "x + 1": lambda x: x + 1,
    "1 - x": lambda x: 1 - x, "x / 3": lambda x: x / 3, "3.0 / x": lambda x: 3.0 / x,
    "x ** 2": lambda x: x ** 2, "x ** 0.5": lambda x: x ** 0.5, "2 ** x": lambda x: 2 ** x, "-x": lambda x: -x,
}


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("op", SCALAR_OPS)
def test_python_scalars_take_the_tensor_dtype(op, dtype):
    """As in torch: x * 2.0 stays float32; an int tensor meeting a float becomes float32."""
    data = np.array([1, 2, 4]).astype(dtype)
    m, t = SCALAR_OPS[op](mt.tensor(data)), SCALAR_OPS[op](torch.tensor(data))
    assert m.dtype == torch_dtype_as_numpy(t)
    np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-6)


PROMOTIONS = [("float32", "float64"), ("int64", "float32"), ("int64", "int64"), ("int32", "int64"),
              ("float64", "int64")]


@needs_torch
@pytest.mark.parametrize("op", ["+", "*", "/"])
@pytest.mark.parametrize("dtypes", PROMOTIONS, ids=str)
def test_tensor_tensor_promotion_matches_torch(dtypes, op):
    """Including int / int, which torch makes float32 (NumPy would make float64)."""
    fn = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}[op]
    a, b = np.array([3, 4]).astype(dtypes[0]), np.array([2, 8]).astype(dtypes[1])
    m, t = fn(mt.tensor(a), mt.tensor(b)), fn(torch.tensor(a), torch.tensor(b))
    assert m.dtype == torch_dtype_as_numpy(t)
    np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-7)


@needs_torch
@pytest.mark.parametrize("op", ["+ 2", "* 3", "* 1.5", "+ True"])
def test_bool_tensor_with_a_python_scalar(op):
    fn = {"+ 2": lambda x: x + 2, "* 3": lambda x: x * 3, "* 1.5": lambda x: x * 1.5,
          "+ True": lambda x: x + True}[op]
    data = [True, False, True]
    m, t = fn(mt.tensor(data)), fn(torch.tensor(data))
    assert m.dtype == torch_dtype_as_numpy(t)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


COMPARISONS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


@needs_torch
@pytest.mark.parametrize("op", COMPARISONS)
def test_comparisons_return_bool_tensors_without_grad(op):
    a, b = [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]
    x = mt.tensor(a, requires_grad=True)
    for other, t_other in ((mt.tensor(b), torch.tensor(b)), (2.0, 2.0)):
        out = COMPARISONS[op](x, other)
        expected = COMPARISONS[op](torch.tensor(a), t_other)
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_setitem_refuses_a_tensor_that_requires_grad():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 5.0
    with mt.no_grad():
        x[0] = 5.0
    assert x.array[0] == 5.0


def test_argmax_and_bool_of_one_element():
    x = mt.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), [1, 0])
    assert x.argmax(dim=1).dtype == np.int64
    assert bool(mt.tensor([1.0])) and float(mt.tensor(2.0)) == 2.0
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_repr_mentions_grad():
    assert "requires_grad=True" in repr(mt.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(mt.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(mt.tensor([1.0], dtype=mt.float64))
