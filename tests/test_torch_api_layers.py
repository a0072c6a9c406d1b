"""torch's parameters on the layers, functional ops and factories (issue 21): conv2d's padding
strings, BatchNorm's bias=False, the layers' device=/dtype=, forward(input=...), softmax's
implicit dim, and the parameters whose features are not built: accepted at their defaults,
refused by name otherwise."""
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
import minitorch_cnn.nn.functional as F


def _random(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- conv2d padding="same" / "valid"

@pytest.mark.parametrize("kernel, dilation", [((3, 3), 1), ((2, 3), 1), ((2, 4), (2, 1)), ((1, 1), 1)])
def test_conv2d_same_padding_matches_torch(kernel, dilation):
    torch = pytest.importorskip("torch")
    x, w, b = _random(2, 3, 5, 6), _random(4, 3, *kernel, seed=1), _random(4, seed=2)
    for padding in ("same", "valid"):
        expected = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                              padding=padding, dilation=dilation)
        got = F.conv2d(mt.tensor(x), mt.tensor(w), mt.tensor(b), padding=padding, dilation=dilation)
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", [(2, 3), (3, 3)])
def test_conv2d_same_padding_gradcheck(kernel):
    x = mt.tensor(_random(1, 2, 4, 5), dtype=mt.float64, requires_grad=True)
    w = mt.tensor(_random(3, 2, *kernel, seed=1), dtype=mt.float64, requires_grad=True)
    assert mt.gradcheck(lambda x, w: F.conv2d(x, w, padding="same"), (x, w))


def test_conv2d_padding_strings_refused_as_torch():
    x, w = mt.randn(1, 2, 5, 5), mt.randn(3, 2, 3, 3)
    with pytest.raises(RuntimeError, match="strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="padding string"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="strided"):
        mt.nn.Conv2d(2, 3, 3, stride=2, padding="same")


def test_conv2d_layer_same_padding_and_padding_mode():
    layer = mt.nn.Conv2d(2, 3, 4, padding="same")
    assert layer.padding == "same" and layer(mt.randn(1, 2, 7, 6)).shape == (1, 3, 7, 6)
    assert repr(layer) == "Conv2d(2, 3, kernel_size=(4, 4), stride=(1, 1), padding=same)"   # torch's words
    assert mt.nn.Conv2d(2, 3, 3, padding_mode="zeros").padding_mode == "zeros"
    with pytest.raises(ValueError, match="padding_mode"):
        mt.nn.Conv2d(2, 3, 3, padding_mode="mirror")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("options", [dict(padding=1), dict(padding="same"), dict(padding=(2, 1), dilation=(1, 2)),
                                     dict(padding="same", dilation=2)])
def test_conv2d_padding_modes_match_torch(mode, options):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Conv2d(2, 3, (2, 3), padding_mode=mode, dtype=torch.float64, **options)
    ours = mt.nn.Conv2d(2, 3, (2, 3), padding_mode=mode, dtype=mt.float64, **options)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = _random(2, 2, 6, 7)
    expected = theirs(torch.tensor(x)).detach().numpy()
    got = ours(mt.tensor(x)).detach().numpy()
    assert got.shape == expected.shape and repr(ours) == repr(theirs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    leaf = mt.tensor(_random(1, 2, 4, 5), requires_grad=True)
    assert mt.gradcheck(lambda t: ours(t), (leaf,))


# ---- BatchNorm bias=False, device= and dtype=

def test_batchnorm_without_bias_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.BatchNorm2d(3, bias=False).double()
    ours = mt.nn.BatchNorm2d(3, bias=False, dtype=mt.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.bias is None and repr(ours) == repr(theirs)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = _random(4, 3, 2, 2)
    expected = theirs(torch.tensor(x))
    np.testing.assert_allclose(ours(mt.tensor(x)).detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)


@pytest.mark.parametrize("make", [lambda **kw: mt.nn.Linear(3, 2, **kw), lambda **kw: mt.nn.Conv2d(1, 2, 3, **kw),
                                  lambda **kw: mt.nn.BatchNorm1d(4, **kw)])
def test_layers_take_device_and_dtype(make):
    layer = make(device="cpu", dtype=mt.float64)
    assert all(p.dtype == np.float64 for p in layer.parameters())
    assert all(p.dtype == np.float32 for p in make().parameters())


# ---- forward(input=...) as torch's modules

def test_forward_takes_input_by_keyword():
    x = mt.randn(2, 3)
    target = mt.tensor([0, 2])
    assert mt.nn.Linear(3, 2)(input=x).shape == (2, 2)
    assert mt.nn.ReLU()(input=x).shape == (2, 3)
    assert mt.nn.Sequential(mt.nn.Tanh())(input=x).shape == (2, 3)
    assert mt.nn.CrossEntropyLoss()(input=x, target=target).shape == ()
    assert mt.nn.NLLLoss()(input=x, target=target).shape == ()
    assert F.relu(input=x).shape == F.linear(input=x, weight=mt.randn(4, 3)).shape[:1] + (3,)


# ---- softmax's implicit dim

@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_without_dim_warns_and_picks_torchs_dim(shape):
    torch = pytest.importorskip("torch")
    x = _random(*shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.functional.softmax(torch.tensor(x)).numpy()
        expected_module = torch.nn.LogSoftmax()(torch.tensor(x)).numpy()
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        got = F.softmax(mt.tensor(x))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        got_module = mt.nn.LogSoftmax()(mt.tensor(x))
    np.testing.assert_allclose(got_module.numpy(), expected_module, rtol=1e-12)


# ---- torch's parameters whose features are not built

def test_factories_accept_torchs_defaults():
    assert mt.zeros(2, 3, out=None, layout=mt.strided, device=None).shape == (2, 3)
    assert mt.randn(2, generator=None, pin_memory=False).shape == (2,)
    assert mt.full((2,), 1.5, layout=mt.strided).tolist() == [1.5, 1.5]
    assert mt.arange(3, out=None, layout=mt.strided).tolist() == [0, 1, 2]
    x = mt.ones(2, 3).transpose(0, 1)
    for fmt in (mt.preserve_format, mt.contiguous_format):
        assert mt.zeros_like(x, memory_format=fmt, layout=None).shape == (3, 2)
    assert mt.tensor([1.0], dtype=mt.float64, device=None, pin_memory=False).dtype == np.float64


@pytest.mark.parametrize("call, words", [
    (lambda: mt.zeros(2, out=mt.zeros(2)), "out="),
    (lambda: mt.ones(2, layout="sparse"), "layout="),
    (lambda: mt.rand(2, generator=object()), "generator="),
    (lambda: mt.randn(2, pin_memory=True), "pin_memory"),
    (lambda: mt.ones_like(mt.ones(1, 2, 2, 2), memory_format=mt.channels_last), "memory_format="),
    (lambda: mt.tensor([1.0], pin_memory=True), "pin_memory"),
    (lambda: mt.matmul(mt.ones(2, 2), mt.ones(2, 2), out=mt.ones(2, 2)), "out="),
    (lambda: mt.mm(mt.ones(2, 2), mt.ones(2, 2), mt.float64), "out_dtype="),
    (lambda: mt.sigmoid(mt.ones(2), out=mt.ones(2)), "out="),
    (lambda: F.mse_loss(mt.ones(2), mt.ones(2), weight=mt.ones(2)), "weight="),
    (lambda: mt.nn.init.normal_(mt.ones(2), generator=object()), "generator="),
])
def test_unbuilt_features_are_refused_by_name(call, words):
    with pytest.raises(RuntimeError, match=words):
        call()


def test_tensor_takes_dtype_and_requires_grad_by_keyword_only():
    with pytest.raises(TypeError):
        mt.tensor([1.0], True)   # torch.tensor([1.0], True) is a TypeError too
    assert mt.tensor([1.0], requires_grad=True).requires_grad


def test_enums_compare_with_torchs():
    torch = pytest.importorskip("torch")
    assert mt.preserve_format == torch.preserve_format and mt.strided == torch.strided
    assert repr(mt.channels_last) == repr(torch.channels_last)
    assert mt.nn.init.constant_(mt.zeros(2), val=3.0).tolist() == [3.0, 3.0]


# ---- F.pad and torch.randint (the seed tutorials use them)

@pytest.mark.parametrize("pad", [(1, 2), (1, 1, 2, 0), (-1, 2, 0, -2), (0, 0, 0, 0, 1, 1)])
def test_pad_matches_torch_and_gradchecks(pad):
    torch = pytest.importorskip("torch")
    x = _random(2, 3, 4)
    expected = torch.nn.functional.pad(torch.tensor(x), pad, value=1.5).numpy()
    got = F.pad(mt.tensor(x), pad, value=1.5)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got.numpy(), expected)
    leaf = mt.tensor(x, requires_grad=True)
    assert mt.gradcheck(lambda t: F.pad(t, pad), (leaf,))


def test_pad_refusals_and_integer_value():
    torch = pytest.importorskip("torch")
    ints = [[1, 2]]
    expected = torch.nn.functional.pad(torch.tensor(ints), (1, 1), value=2.5).tolist()
    assert F.pad(mt.tensor(ints), (1, 1), value=2.5).tolist() == expected
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(mt.ones(2, 3), (1,))
    with pytest.raises(RuntimeError, match="two times"):
        F.pad(mt.ones(2, 3), (1, 1, 1, 1, 1, 1))
    with pytest.raises(NotImplementedError, match="not supported for 1D input"):
        F.pad(mt.ones(3), (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="less than the corresponding input dimension"):
        F.pad(mt.ones(1, 3), (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(mt.ones(1, 3), (1, 0), mode="replicate", value=1.0)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(2, 1), (-1, 2), (2, -1), (1, 2, 2, 1), (1, 0, -1, 1, 0, 2)])
def test_pad_modes_match_torch_and_gradcheck(mode, pad):
    torch = pytest.importorskip("torch")
    x = _random(2, 2, *(4, 5, 6)[3 - len(pad) // 2:])   # (N, C) and one dim per pair of widths
    expected = torch.nn.functional.pad(torch.tensor(x), pad, mode=mode).numpy()
    got = F.pad(mt.tensor(x), pad, mode=mode)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)
    assert mt.gradcheck(lambda t: F.pad(t, pad, mode=mode), (mt.tensor(x[:1], requires_grad=True),))


def test_randint_overloads_dtype_and_range():
    mt.manual_seed(0)
    values = mt.randint(3, 7, (200,))
    assert values.dtype == np.int64 and values.shape == (200,)
    assert set(values.tolist()) == {3, 4, 5, 6}
    assert mt.randint(5, (2, 2)).shape == (2, 2) and mt.randint(high=5, size=(3,)).shape == (3,)
    assert mt.randint(0, 2, (3,), dtype=mt.float32).dtype == np.float32
    with pytest.raises(RuntimeError, match="low < high"):
        mt.randint(3, 3, (2,))
    with pytest.raises(RuntimeError, match="floating point"):
        mt.randint(5, (2,), requires_grad=True)
