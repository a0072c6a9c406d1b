"""x.requires_grad = flag as torch: an integer tensor cannot require gradients, a non-leaf cannot
stop requiring them, and an op's integer or bool result carries no gradient (issue 21 found
requires_grad = True accepted on int64, then a truncated integer gradient)."""
import numpy as np
import pytest

import minitorch_cnn as mt


def test_an_integer_tensor_cannot_require_grad():
    x = mt.arange(3)
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got dtype int64"):
        x.requires_grad = True
    with pytest.raises(RuntimeError, match="requires_grad_: only floating point"):
        x.requires_grad_()
    assert x.requires_grad is False


def test_a_non_leaf_cannot_stop_requiring_grad():
    x = mt.randn(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf variables.*detach"):
        y.requires_grad = False
    y.requires_grad = True                      # already so: nothing changes, as torch
    assert y.requires_grad and y.grad_fn is not None
    x.requires_grad = False                     # a leaf may
    assert not x.requires_grad


@pytest.mark.parametrize("make", [lambda x: x.long(), lambda x: x > 0, lambda x: x.argmax(),
                                  lambda x: x.to(dtype=np.int32)])
def test_integer_and_bool_results_carry_no_gradient(make):
    out = make(mt.randn(4, requires_grad=True))
    assert out.requires_grad is False and out.grad_fn is None


def test_the_same_in_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.arange(3).requires_grad = True
    y = torch.randn(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError):
        y.requires_grad = False
    assert torch.randn(3, requires_grad=True).long().requires_grad is False
