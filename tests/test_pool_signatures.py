"""The pools take torch's parameters in torch's order (issue 21's silent difference:
F.avg_pool2d(x, 3, 1, 1, False) passed False as count_include_pad here, as ceil_mode in torch).
dilation, ceil_mode, return_indices and divisor_override are built; tests/test_pool_features.py
holds their values to torch's."""
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


@pytest.mark.parametrize("positional,keyword", [
    (lambda x: F.avg_pool2d(x, 3, 2, 1, True), lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
    (lambda x: F.max_pool2d(x, 2, 2, 0, 2), lambda x: F.max_pool2d(x, 2, 2, 0, dilation=2)),
    (lambda x: F.max_pool2d(x, 2, 2, 0, 1, True), lambda x: F.max_pool2d(x, 2, ceil_mode=True)),
    (lambda x: nn.AvgPool2d(3, 2, 1, True)(x), lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
    (lambda x: nn.AvgPool2d(2, 1, 0, False, True, 3)(x), lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3)),
    (lambda x: nn.MaxPool2d(2, 2, 0, (1, 2))(x), lambda x: F.max_pool2d(x, 2, dilation=(1, 2))),
    (lambda x: nn.MaxPool2d(2, 2, 0, 1, False, True)(x), lambda x: F.max_pool2d(x, 2, ceil_mode=True)),
])
def test_torchs_other_parameters_land_where_torch_puts_them(x, positional, keyword):
    """dilation, ceil_mode and divisor_override are built (tests/test_pool_features.py holds their
    values to torch); given positionally they mean what torch means."""
    np.testing.assert_array_equal(positional(x).numpy(), keyword(x).numpy())


def test_return_indices_returns_a_pair(x):
    out, indices = nn.MaxPool2d(2, return_indices=True)(x)
    np.testing.assert_array_equal(out.numpy(), F.max_pool2d(x, 2).numpy())
    assert indices.dtype == np.int64 and indices.shape == out.shape
    out, indices = F.max_pool2d_with_indices(x, 2, return_indices=False)   # always a pair, as torch
    assert indices.dtype == np.int64


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool2d(x, 2, ceil_mode=1), lambda x: F.max_pool2d(x, 2, ceil_mode=None),
    lambda x: F.avg_pool2d(x, 2, ceil_mode=0), lambda x: F.avg_pool2d(x, 2, count_include_pad=1),
    lambda x: F.avg_pool2d(x, 2, divisor_override=2.0), lambda x: F.avg_pool2d(x, 2, divisor_override=True),
    lambda x: F.max_pool1d(x[0], 2, ceil_mode=1), lambda x: F.avg_pool1d(x[0], 2, count_include_pad=None),
])
def test_torchs_bool_and_int_arguments_refuse_other_types(x, call):
    with pytest.raises(TypeError, match="pool.d: (ceil_mode|count_include_pad|divisor_override)"):
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


@pytest.mark.parametrize("name", ["MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d", "AdaptiveMaxPool2d"])
def test_the_layers_take_torchs_parameters_in_torchs_order(name):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(getattr(nn, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


@pytest.mark.parametrize("name", ["max_pool2d_with_indices", "max_pool1d_with_indices",
                                  "adaptive_max_pool2d_with_indices"])
def test_the_with_indices_functionals_have_torchs_signature(name):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(getattr(F, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.functional, name)).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


def test_the_other_functionals_take_torchs_documented_order():
    assert list(inspect.signature(F.max_pool1d).parameters) == [
        "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
    assert list(inspect.signature(F.avg_pool1d).parameters) == [
        "input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]
    assert list(inspect.signature(F.adaptive_max_pool2d).parameters) == ["input", "output_size", "return_indices"]


@pytest.mark.parametrize("make", [
    lambda lib: lib.MaxPool2d(3, 2, 1, 2, ceil_mode=True), lambda lib: lib.MaxPool1d(3),
    lambda lib: lib.AvgPool1d(3), lambda lib: lib.AvgPool1d((3,), 2, 1, True),
    lambda lib: lib.AvgPool2d(2, ceil_mode=True, divisor_override=3),
    lambda lib: lib.AdaptiveMaxPool2d((3, None), return_indices=True)])
def test_the_pool_layers_print_as_torchs(make):
    torch = pytest.importorskip("torch")
    assert repr(make(nn)) == repr(make(torch.nn))
