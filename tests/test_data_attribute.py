"""`Tensor.data` as torch has it (issue 21): a Tensor sharing the memory, outside the graph, with a
version counter of its own; `t.data = other` swaps the values in.  The raw array is `Tensor.array`.

The idioms from tutorials (`p.data.zero_()`, `p.data.normal_(0, 0.02)`, `p.grad.data.zero_()`,
`p.data.clone()`, `p.data = t`) each run here and give torch's result.
"""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn


def test_data_is_a_tensor_sharing_memory_outside_the_graph():
    w = nn.Parameter(mt.tensor([1.0, 2.0, 3.0]))
    d = w.data
    assert type(d) is mt.Tensor and not isinstance(d, nn.Parameter)
    assert d.requires_grad is False and d.is_leaf and d.grad_fn is None
    assert d.array is w.array                      # the same memory, not a copy
    d[0] = 10.0
    assert w.tolist() == [10.0, 2.0, 3.0]
    y = (w * 2).sum()
    assert y.data.requires_grad is False and y.data.grad_fn is None and y.requires_grad


def test_writes_through_data_are_not_seen_by_autograd_as_in_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Parameter(mt.tensor([1.0, 2.0])), torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    results = []
    for lib, x in ((mt, ours), (torch, theirs)):
        y = (x * x).sum()                          # saves x for backward
        x.data.mul_(3)                             # torch: no version bump, no error at backward
        assert x._version == 0
        y.backward()
        results.append(np.asarray(x.grad.tolist()))
    np.testing.assert_array_equal(results[0], results[1])      # 2 * (3x): the modified values


@pytest.mark.parametrize("idiom", ["zero_", "fill_", "mul_", "normal_", "uniform_", "clone", "copy_",
                                   "grad_zero_", "add_"])
def test_tutorial_idioms_on_data(idiom):
    torch = pytest.importorskip("torch")
    got = []
    for lib, param in ((mt, nn.Parameter), (torch, torch.nn.Parameter)):
        p = param(lib.tensor([[1.0, -2.0], [3.0, 4.0]]))
        (p * p).sum().backward()
        if idiom == "zero_":
            p.data.zero_()
        elif idiom == "fill_":
            p.data.fill_(0.5)
        elif idiom == "mul_":
            p.data.mul_(0.5)
        elif idiom == "add_":
            p.data.add_(p.grad.data, alpha=-0.1)       # the hand-written SGD step of old tutorials
        elif idiom == "normal_":
            lib.manual_seed(0)
            p.data.normal_(0, 0.02)
            assert float(p.detach().abs().max()) < 0.2 and float(p.detach().abs().min()) > 0.0
            got.append(None)
            continue
        elif idiom == "uniform_":
            p.data.uniform_(-0.1, 0.1)
            assert -0.1 <= float(p.detach().min()) and float(p.detach().max()) <= 0.1
            got.append(None)
            continue
        elif idiom == "clone":
            c = p.data.clone()
            c.add_(1)
            assert c.requires_grad is False
        elif idiom == "copy_":
            p.data.copy_(lib.ones(2, 2))
        elif idiom == "grad_zero_":
            p.grad.data.zero_()
            got.append(p.grad.tolist())
            continue
        assert p.requires_grad and p._version == 0
        got.append(p.tolist())
    assert got[0] == got[1]


def test_assigning_data_replaces_the_values_as_torch():
    torch = pytest.importorskip("torch")
    layer = nn.Linear(3, 2)
    new = mt.ones(2, 3)
    layer.weight.data = new
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert layer.weight.array is new.array         # it shares the assigned tensor's memory, as torch
    out = layer(mt.ones(4, 3))                     # the next forward uses the new values
    out.sum().backward()
    assert out.shape == (4, 2) and layer.weight.grad.shape == (2, 3)
    np.testing.assert_allclose(out.detach().numpy()[:, 0], 3.0 + float(layer.bias[0]), rtol=1e-6)
    # torch allows a new shape or dtype through .data
    for lib, param in ((mt, nn.Parameter), (torch, torch.nn.Parameter)):
        p = param(lib.zeros(3))
        p.data = lib.ones(5, dtype=lib.float64)
        assert tuple(p.shape) == (5,) and str(p.dtype).endswith("float64") and p.requires_grad


@pytest.mark.parametrize("value,error", [(3, TypeError), ([1.0, 2.0, 3.0], TypeError),
                                         ("int64", RuntimeError)])
def test_assigning_data_refuses_what_torch_refuses(value, error):
    torch = pytest.importorskip("torch")
    for lib, param in ((mt, nn.Parameter), (torch, torch.nn.Parameter)):
        p = param(lib.zeros(3))
        v = lib.zeros(3, dtype=lib.int64) if value == "int64" else value
        with pytest.raises(error) as caught:
            p.data = v
        if lib is mt:
            assert "data" in str(caught.value)
        assert p.shape == (3,) or tuple(p.shape) == (3,)


def test_state_dict_values_and_data_agree():
    model = nn.Linear(2, 2)
    for name, value in model.state_dict().items():
        assert isinstance(value, mt.Tensor)
        np.testing.assert_array_equal(value.numpy(), getattr(model, name).data.numpy())
