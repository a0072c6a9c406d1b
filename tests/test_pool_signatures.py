"""The pools take torch's parameters in torch's order (issue 21's silent difference:
F.avg_pool2d(x, 3, 1, 1, False) passed False as count_include_pad here, as ceil_mode in torch).
Parameters whose feature is not built are accepted at their default and refused by name
otherwise."""
import inspect

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F


@pytest.fixture
def x():
    return mt.tensor(np.random.default_rng(0).standard_normal((2, 3, 7, 7)))


def test_the_fifth_positional_of_avg_pool2d_is_ceil_mode(x):
    expected = F.avg_pool2d(x, 3, 1, 1, count_include_pad=True).numpy()
    np.testing.assert_array_equal(F.avg_pool2d(x, 3, 1, 1, False).numpy(), expected)
    np.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1, False)(x).numpy(), expected)
    excluded = F.avg_pool2d(x, 3, 1, 1, False, False).numpy()
    np.testing.assert_array_equal(excluded, F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).numpy())
    assert not np.array_equal(excluded, expected)       # the padding really is left out of the mean


@pytest.mark.parametrize("call,name", [
    (lambda x: F.avg_pool2d(x, 3, 1, 1, True), "ceil_mode"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=3), "divisor_override"),
    (lambda x: F.max_pool2d(x, 2, 2, 0, 2), "dilation"),
    (lambda x: F.max_pool2d(x, 2, ceil_mode=True), "ceil_mode"),
    (lambda x: F.max_pool2d(x, 2, return_indices=True), "return_indices"),
    (lambda x: nn.AvgPool2d(3, 1, 1, True)(x), "ceil_mode"),
    (lambda x: nn.MaxPool2d(2, return_indices=True)(x), "return_indices"),
    (lambda x: nn.MaxPool2d(2, 2, 0, (1, 2))(x), "dilation"),
])
def test_unbuilt_features_are_refused_by_name(x, call, name):
    with pytest.raises(RuntimeError, match=f"{name}=.*not supported.*real PyTorch"):
        call(x)


def test_defaults_given_explicitly_run(x):
    expected = F.max_pool2d(x, 2).numpy()
    np.testing.assert_array_equal(F.max_pool2d(x, 2, 2, 0, 1, False, False).numpy(), expected)
    np.testing.assert_array_equal(F.max_pool2d(x, 2, dilation=(1, 1)).numpy(), expected)
    np.testing.assert_array_equal(nn.MaxPool2d(2, 2, 0, 1, False, False)(x).numpy(), expected)
    np.testing.assert_array_equal(nn.AvgPool2d(2, None, 0, False, True, None)(x).numpy(),
                                  F.avg_pool2d(x, 2).numpy())


def test_a_bad_dilation_type_is_a_type_error(x):
    with pytest.raises(TypeError, match="max_pool2d: dilation"):
        F.max_pool2d(x, 2, dilation=1.5)


def test_the_functionals_take_torchs_documented_order():
    """torch's F.max_pool2d is a dispatch wrapper and F.avg_pool2d a builtin, so inspect cannot
    read them: this is their order in torch's documentation."""
    assert list(inspect.signature(F.max_pool2d).parameters)[1:] == [
        "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
    assert list(inspect.signature(F.avg_pool2d).parameters)[1:] == [
        "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]


@pytest.mark.parametrize("name", ["MaxPool2d", "AvgPool2d"])
def test_the_layers_take_torchs_parameters_in_torchs_order(name):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(getattr(nn, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]
