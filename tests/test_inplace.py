"""In-place ops: the idioms a PyTorch user writes, the rules torch enforces, and the version
counter that turns a stale saved value into an error at backward() instead of a wrong gradient."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip


def test_manual_sgd_step_updates_the_parameters_themselves():
    """The issue's idiom: `p -= lr * p.grad` in a loop used to rebind the loop variable."""
    mt.manual_seed(0)
    model = nn.Linear(3, 2)
    before = [p.array.copy() for p in model.parameters()]
    model(mt.randn(4, 3)).sum().backward()
    with mt.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, old in zip(model.parameters(), before):
        np.testing.assert_allclose(p.array, old - 0.1 * p.grad.array, rtol=1e-6)
        assert p._version == 1 and p.is_leaf and p.requires_grad


@needs_torch
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_"])
def test_in_place_arithmetic_under_no_grad_matches_torch(op):
    a = np.random.default_rng(0).standard_normal((2, 3))
    b = np.random.default_rng(1).standard_normal(3) + 3
    ours, theirs = mt.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with mt.no_grad():
        out = getattr(ours, op)(mt.tensor(b))
    with torch.no_grad():
        getattr(theirs, op)(torch.tensor(b))
    assert out is ours
    np.testing.assert_array_equal(ours.array, theirs.detach().numpy())


@pytest.mark.parametrize("statement, expected", [("x += y", [3.0, 4.0, 6.0]), ("x -= y", [-1.0, 0.0, 2.0]),
                                                  ("x *= y", [2.0, 4.0, 8.0]), ("x /= y", [0.5, 1.0, 2.0])])
def test_augmented_assignment_modifies_the_tensor_itself(statement, expected):
    x = mt.tensor([1.0, 2.0, 4.0])
    alias, array = x, x.array
    scope = {"x": x, "y": mt.tensor([2.0, 2.0, 2.0])}
    exec(statement, scope)
    assert scope["x"] is alias and scope["x"].array is array
    np.testing.assert_array_equal(array, expected)


def test_add_with_alpha_zero_fill_copy_and_clamp():
    x = mt.tensor([1.0, -2.0, 3.0])
    x.add_(mt.tensor([1.0, 1.0, 1.0]), alpha=2)
    np.testing.assert_array_equal(x.array, [3.0, 0.0, 5.0])
    x.sub_(1, alpha=0.5)
    np.testing.assert_array_equal(x.array, [2.5, -0.5, 4.5])
    x.fill_(7)
    np.testing.assert_array_equal(x.array, [7, 7, 7])
    x.copy_(mt.tensor([1, 2, 3]))            # int64 into float32: copy_ casts, as torch
    np.testing.assert_array_equal(x.array, [1.0, 2.0, 3.0])
    assert x.dtype == np.float32
    x.zero_()
    np.testing.assert_array_equal(x.array, [0, 0, 0])
    assert x._version == 5


def test_in_place_on_a_leaf_that_requires_grad_raises_as_torch():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    for write in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(1),
                  lambda: x.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad .* in-place"):
            write()
    with pytest.raises(RuntimeError, match="leaf"):
        x += 1
    np.testing.assert_array_equal(x.array, [1.0, 2.0])       # nothing was written


@needs_torch
def test_in_place_on_non_leaves_differentiates_like_torch():
    a = np.array([1.0, 2.0, 3.0])
    grads = []
    for lib in (mt, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x * 2
        y.add_(1)
        y.mul_(x)               # y = (2x + 1)·x: dy/dx = 4x + 1
        y[0] = 10.0             # and y[0] no longer depends on x
        y.sum().backward()
        grads.append(np.array(x.grad.tolist()))
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], [0.0, 9.0, 13.0])


@needs_torch
def test_earlier_readers_of_a_tensor_get_gradients_for_the_value_they_read():
    """z = y + 1 read y before y.mul_(3): its gradient must not go through the ×3."""
    results = []
    for lib in (mt, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        z = y + 1
        y.mul_(3)
        (z.sum() + y.sum()).backward()
        results.append(x.grad.tolist())
    assert results[0] == results[1] == [4.0, 4.0]


def test_a_leaf_without_grad_becomes_part_of_the_graph():
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    b = mt.zeros(2)
    b.add_(w)
    assert b.requires_grad and not b.is_leaf
    (b * b).sum().backward()
    np.testing.assert_array_equal(w.grad.array, [2.0, 4.0])


def test_modifying_a_saved_tensor_raises_at_backward_instead_of_a_wrong_gradient():
    x = mt.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()                 # Exp saves its output
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation.*Exp saved.*version 1; "
                                           "expected version 0"):
        y.sum().backward()


def test_an_optimizer_step_between_forward_and_backward_is_detected():
    model = nn.Linear(3, 2)
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    model(mt.ones(1, 3)).sum().backward()
    out = model(mt.ones(1, 3))          # Linear saves the weight for dx
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        model.weight.grad = None
        (out * out).sum().backward()


def test_views_share_the_version_counter():
    x = mt.tensor(np.arange(6.0).reshape(2, 3))
    v = x.reshape(3, 2)
    d = x.detach()
    v.add_(1)
    assert x._version == v._version == d._version == 1
    np.testing.assert_array_equal(x.array, np.arange(6.0).reshape(2, 3) + 1)


def test_recorded_in_place_on_a_view_is_refused_clearly():
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    v = y[0:1]
    with pytest.raises(RuntimeError, match="add_: in-place operation on a tensor that is a view"):
        v.add_(1)


@needs_torch
@pytest.mark.parametrize("dtype, value, message", [
    (np.int64, 0.5, "result type float32 can't be cast to the desired output type int64"),
    (np.bool_, 2, "can't be cast to the desired output type bool"),
])
def test_in_place_refuses_a_result_the_tensor_cannot_hold(dtype, value, message):
    x = mt.tensor(np.ones(3, dtype=dtype))
    with pytest.raises(RuntimeError, match=message):
        x.add_(value)
    t = torch.ones(3, dtype=torch.from_numpy(np.ones(1, dtype)).dtype)
    with pytest.raises(RuntimeError):
        t.add_(value)


def test_in_place_cannot_grow_the_tensor():
    x = mt.zeros(3)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the broadcast "
                                           r"shape \(2, 3\)"):
        x.add_(mt.ones(2, 3))
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.zeros(3).add_(torch.ones(2, 3))


def test_float64_other_keeps_the_float32_tensor():
    x = mt.tensor([1.0, 2.0])
    x += mt.tensor([0.5, 0.5], dtype=mt.float64)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.array, [1.5, 2.5])


def test_setitem_under_no_grad_and_on_plain_tensors():
    x = mt.zeros(2, 3)
    x[0] = 1
    x[1, 1:] = mt.tensor([5.0, 6.0])
    x[mt.tensor([0, 1]), mt.tensor([0, 0])] = 9.0
    np.testing.assert_array_equal(x.array, [[9, 1, 1], [9, 5, 6]])
    with pytest.raises(RuntimeError, match="setitem: shape mismatch"):
        x[0] = mt.tensor([1.0, 2.0])


@needs_torch
def test_setitem_gradient_reaches_the_value_as_torch():
    grads = []
    for lib in (mt, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        v = lib.tensor([10.0], requires_grad=True)
        y = x * 3
        y[:, 1] = v              # v broadcast into two places
        (y * y).sum().backward()
        grads.append((x.grad.tolist(), v.grad.tolist()))
    assert grads[0] == grads[1]


def test_clamp_in_place_on_parameters():
    p = nn.Parameter(np.array([-2.0, 0.5, 3.0], dtype=np.float32))
    with mt.no_grad():
        p.clamp_(-1, 1)
    np.testing.assert_array_equal(p.array, [-1.0, 0.5, 1.0])


@needs_torch
def test_a_float32_leaf_gets_a_float32_grad_from_float64_data():
    """The issue's case: a float64 target made the float32 leaf's .grad float64."""
    for lib in (mt, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        target = lib.tensor(np.array([0.5, 0.5, 0.5]))          # float64
        ((x - target) * (x - target)).sum().backward()
        assert str(x.grad.dtype).endswith("float32")
        np.testing.assert_allclose(np.array(x.grad.tolist()), [1.0, 3.0, 5.0])
