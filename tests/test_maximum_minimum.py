"""torch.maximum / minimum and the max(input, other) / min(input, other) overloads: NaN propagates,
ties share the gradient (g / 2 each, torch's rule), shapes broadcast and dtypes promote."""
import numpy as np
import pytest

import minitorch_cnn as mt

NAN = float("nan")


@pytest.mark.parametrize("name", ["maximum", "minimum", "max", "min", "Tensor.max", "Tensor.minimum"])
def test_values_and_gradients_match_torch_with_ties_and_nans(name):
    torch = pytest.importorskip("torch")
    a = [1.0, NAN, 3.0, 2.0, -1.0, 4.0]
    b = [[1.0, 2.0, NAN, 5.0, -2.0, 4.0], [0.0, 0.0, 0.0, 2.0, 9.0, -4.0]]   # broadcasts against a
    results = []
    for lib in (mt, torch):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
        if name.startswith("Tensor."):
            out = getattr(x, name.split(".")[1])(y)
        else:
            out = getattr(lib, name)(x, y)
        out.backward(lib.tensor(np.arange(12.0).reshape(2, 6) + 1, dtype=lib.float64))
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("a_dtype,b_dtype", [("int64", "float32"), ("bool", "bool"), ("int32", "int64"),
                                             ("float16", "float32"), ("uint8", "int8")])
def test_dtypes_promote_as_torch(a_dtype, b_dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = rng.integers(-3, 4, (3, 4)), rng.integers(-3, 4, (4,))
    for fn in ("maximum", "minimum"):
        ours = getattr(mt, fn)(mt.tensor(a.astype(a_dtype)), mt.tensor(b.astype(b_dtype)))
        theirs = getattr(torch, fn)(torch.tensor(a.astype(a_dtype)), torch.tensor(b.astype(b_dtype)))
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_gradcheck():
    rng = np.random.default_rng(1)
    x = mt.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = mt.tensor(rng.standard_normal((4,)), requires_grad=True)
    assert mt.gradcheck(lambda a, b: mt.maximum(a, b), (x, y))
    assert mt.gradcheck(lambda a, b: mt.minimum(a, b), (x, y))
    assert mt.gradcheck(lambda a, b: mt.max(a, b), (x, y))


@pytest.mark.parametrize("call,error", [
    (lambda: mt.maximum(mt.ones(2), 1.0), TypeError),            # torch: 'other' must be Tensor
    (lambda: mt.minimum(2, mt.ones(2)), TypeError),
    (lambda: mt.max(mt.ones(2), mt.ones(2), keepdim=True), TypeError),
    (lambda: mt.ones(2).max(mt.ones(3)), RuntimeError),          # shapes that do not broadcast
])
def test_refusals_as_torch(call, error):
    with pytest.raises(error) as caught:
        call()
    assert any(word in str(caught.value) for word in ("maximum", "minimum", "max", "min", "broadcast"))
