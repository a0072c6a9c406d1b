"""mt.gradcheck has no blind spots: a non-finite gradient fails loudly, and inputs of any
memory layout are perturbed where the op reads them."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.autograd import Function


class Doubling(Function):
    """out = 2x with a backward that can be broken on purpose."""
    grad_factor = 2.0

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return (g * Doubling.grad_factor,)


@pytest.fixture
def x():
    return mt.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_analytical_gradient_fails_and_says_so(monkeypatch, x, bad):
    monkeypatch.setattr(Doubling, "grad_factor", bad)
    with pytest.raises(mt.GradcheckError, match="analytical gradient of input 0 .* is not finite"):
        mt.gradcheck(Doubling.apply, [x])
    assert mt.gradcheck(Doubling.apply, [x], raise_exception=False) is False


def test_a_non_finite_numerical_gradient_fails_and_says_so():
    """sqrt at 0: the backward says inf, the central difference sees NaN (sqrt of −ε)."""
    x = mt.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(mt.GradcheckError, match="gradient of input 0 .* is not finite"):
        mt.gradcheck(lambda t: t.sqrt(), [x])


def test_a_correct_backward_passes(x):
    assert mt.gradcheck(Doubling.apply, [x]) is True


def test_a_wrong_backward_still_fails(monkeypatch, x):
    monkeypatch.setattr(Doubling, "grad_factor", 2.5)
    with pytest.raises(mt.GradcheckError, match=r"is wrong at index .*12 of 12 elements differ"):
        mt.gradcheck(Doubling.apply, [x])


@pytest.mark.parametrize("layout", ["transposed", "reversed", "strided", "float32 transposed"])
def test_inputs_of_any_layout_are_checked(layout):
    """The perturbation used to be written into a reshape(-1) copy of a non-contiguous input,
    so the numerical gradient came out 0 and a correct op failed."""
    base = np.random.default_rng(1).standard_normal((5, 6))
    view = {"transposed": base.T, "reversed": base[::-1], "strided": base[::2, 1::2],
            "float32 transposed": base.astype(np.float32).T}[layout]
    x = mt.Tensor(view, requires_grad=True)
    assert mt.gradcheck(lambda t: (t * t).sum(dim=0), [x])
    assert mt.gradcheck(lambda t: t @ mt.tensor(np.ones((t.shape[1], 2))), [x])


def test_the_callers_tensor_is_left_as_it_was():
    view = np.random.default_rng(2).standard_normal((3, 4)).T
    before = view.copy()
    mt.gradcheck(lambda t: t.exp(), [mt.Tensor(view, requires_grad=True)])
    np.testing.assert_array_equal(view, before)
