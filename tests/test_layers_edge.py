"""Layers off the happy path, each case against what torch 2.13 does (run here, never hard-coded
unless torch's own value is spelled out): adaptive average pooling, unbatched (C, H, W) inputs,
empty batches, integer and float16 inputs, wrong-typed arguments, max-pool −inf/NaN routing,
batch norm's modes and dtypes.

Tolerances: float64 to 1e-10 (the same formulas in the same precision); float32 to 1e-5
relative (short sums in another order); float16 results to one half-precision ulp (2⁻¹⁰
relative: both engines compute in float32 and round once, and the float32 values may sit
on either side of a rounding boundary).
"""
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models, nn
from minitorch_cnn.nn import functional as F

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip

F64 = dict(rtol=1e-10, atol=1e-10)
F16 = dict(rtol=2 ** -10, atol=2 ** -10)


def mt_t(a, requires_grad=False):
    return mt.tensor(a, requires_grad=requires_grad)


def th_t(a, requires_grad=False):
    return torch.tensor(np.array(a, order="C"), requires_grad=requires_grad)   # not ascontiguousarray: it makes 0-d 1-d


def same(ours, theirs, rtol=1e-10, atol=1e-10):
    """Same shape, dtype and values (NaN where torch has NaN)."""
    a = np.asarray(ours.detach().numpy() if isinstance(ours, mt.Tensor) else ours)
    e = theirs.detach().numpy()
    assert a.shape == e.shape, f"shape {a.shape}, torch's {e.shape}"
    assert a.dtype == e.dtype, f"dtype {a.dtype}, torch's {e.dtype}"
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)


# ---- adaptive average pooling ------------------------------------------------------------

ADAPTIVE_CASES = [
    ((2, 3, 7, 9), (3, 4)),      # uneven, overlapping windows
    ((2, 3, 8, 6), (4, 3)),      # divides: a plain average pool
    ((1, 2, 5, 5), 1),           # global average
    ((1, 2, 3, 4), (7, 9)),      # output larger than the input
    ((1, 1, 1, 1), (3, 2)),      # one pixel spread everywhere
    ((2, 2, 6, 5), (None, 2)),   # None keeps the input's height
    ((2, 2, 6, 5), (4, None)),
    ((2, 2, 6, 5), [3, 3]),      # a list is a pair
    ((1, 2, 5, 5), 0),           # an empty output, as torch
]


@needs_torch
@pytest.mark.parametrize("shape,output_size", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_matches_torch_float64(parity_check, rng, shape, output_size):
    x = rng.standard_normal(shape)
    # torch's backward refuses an empty output (test_adaptive_avg_pool2d_empty_*)
    parity_check(lambda F, x: F.adaptive_avg_pool2d(x, output_size), x, requires_grad=[output_size != 0])


@pytest.mark.parametrize("shape,output_size", [c for c in ADAPTIVE_CASES if c[1] != 0])
def test_adaptive_avg_pool2d_gradcheck(grad_check, rng, shape, output_size):
    grad_check(lambda F, x: F.adaptive_avg_pool2d(x, output_size), rng.standard_normal(shape))


@needs_torch
def test_adaptive_avg_pool2d_float32_and_float16_match_torch(rng):
    x = rng.standard_normal((2, 3, 11, 7)).astype(np.float32)
    same(F.adaptive_avg_pool2d(mt_t(x), (4, 3)), torch.nn.functional.adaptive_avg_pool2d(th_t(x), (4, 3)),
         rtol=1e-6, atol=1e-6)
    h = x.astype(np.float16)
    ours_x, theirs_x = mt_t(h, True), th_t(h, True)
    ours = F.adaptive_avg_pool2d(ours_x, (4, 3))
    theirs = torch.nn.functional.adaptive_avg_pool2d(theirs_x, (4, 3))
    same(ours, theirs, **F16)
    g = rng.standard_normal(theirs.shape).astype(np.float16)
    ours.backward(mt_t(g))
    theirs.backward(torch.tensor(g))
    same(ours_x.grad, theirs_x.grad, **F16)


def test_adaptive_avg_pool2d_windows_follow_floor_and_ceil():
    # H = 5 into 3 windows: [0, 2), [1, 4), [3, 5): the middle one overlaps both others.
    x = mt_t(np.arange(5.0).reshape(1, 1, 5, 1))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (3, 1)).numpy().ravel(), [0.5, 2.0, 3.5])


@needs_torch
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # inf − inf, as intended
def test_adaptive_avg_pool2d_inf_and_nan_match_torch():
    x = np.ones((1, 1, 5, 4))
    x[0, 0, 1, 1], x[0, 0, 3, 2], x[0, 0, 4, 0] = np.inf, -np.inf, np.nan
    ours = F.adaptive_avg_pool2d(mt_t(x, True), (3, 3))
    theirs = torch.nn.functional.adaptive_avg_pool2d(th_t(x, True), (3, 3))
    same(ours, theirs, **F64)


@needs_torch
def test_adaptive_avg_pool2d_empty_batch_and_channels_match_torch():
    """Forward: empty in, empty out.  Backward: torch refuses a gradient with no channels
    (batched) or an empty output size; so do we."""
    for shape, output_size, backward_ok in [((0, 3, 5, 5), 2, True), ((2, 0, 5, 5), 2, False),
                                            ((0, 5, 5), 2, True), ((1, 2, 5, 5), 0, False)]:
        ours_x, theirs_x = mt.zeros(*shape).requires_grad_(), torch.zeros(shape, requires_grad=True)
        ours = F.adaptive_avg_pool2d(ours_x, output_size)
        theirs = torch.nn.functional.adaptive_avg_pool2d(theirs_x, output_size)
        same(ours, theirs)
        if backward_ok:
            theirs.sum().backward()
            ours.sum().backward()
            same(ours_x.grad, theirs_x.grad)
        else:
            with pytest.raises(RuntimeError):
                theirs.sum().backward()
            with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d \(AdaptiveAvgPool2d\) backward"):
                ours.sum().backward()


@pytest.mark.parametrize("output_size,error", [
    (None, TypeError), (2.5, TypeError), ((2.0, 2), TypeError), ("2", TypeError), (True, TypeError),
    ((2,), ValueError), ((2, 3, 4), ValueError), (-1, ValueError), ((2, -1), ValueError)])
def test_adaptive_avg_pool2d_refuses_what_torch_refuses(output_size, error):
    if torch is not None:  # torch refuses it too
        with pytest.raises(Exception):
            torch.nn.functional.adaptive_avg_pool2d(torch.zeros(1, 1, 4, 4), output_size)
    with pytest.raises(error, match="adaptive_avg_pool2d: output_size"):
        F.adaptive_avg_pool2d(mt.zeros(1, 1, 4, 4), output_size)


@pytest.mark.parametrize("shape,dtype,error", [
    ((2, 3, 0, 5), np.float32, ValueError), ((3, 5, 0), np.float32, ValueError),
    ((5, 5), np.float32, ValueError), ((1, 1, 1, 5, 5), np.float32, ValueError),
    ((1, 1, 4, 4), np.int64, TypeError), ((1, 1, 4, 4), np.bool_, TypeError)])
def test_adaptive_avg_pool2d_bad_inputs_raise_like_torch(shape, dtype, error):
    if torch is not None:  # torch refuses it too
        with pytest.raises(Exception):
            torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(np.zeros(shape, dtype)), 2)
    with pytest.raises(error, match="adaptive_avg_pool2d"):
        F.adaptive_avg_pool2d(mt.tensor(np.zeros(shape, dtype)), 2)


@needs_torch
def test_adaptive_avg_pool2d_layer_matches_torch(rng):
    x = rng.standard_normal((2, 3, 9, 7))
    for size in [(None, 2), 4, (3, 5)]:
        layer, twin = nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size)
        assert repr(layer) == repr(twin)
        ours, theirs = layer(mt_t(x, True)), twin(th_t(x, True))
        same(ours, theirs, **F64)
    with pytest.raises(TypeError, match=r"AdaptiveAvgPool2d\(output_size=2.5\): adaptive_avg_pool2d"):
        nn.AdaptiveAvgPool2d(2.5)(mt_t(x))


# ---- unbatched (C, H, W) inputs ----------------------------------------------------------

UNBATCHED = {
    "conv2d": lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
    "conv2d groups dilation": lambda F, x, w, b: F.conv2d(x, w[:, :2], b, dilation=2, groups=2),
    "max_pool2d": lambda F, x, w, b: F.max_pool2d(x, 3, 2, padding=1),
    "avg_pool2d": lambda F, x, w, b: F.avg_pool2d(x, 2, padding=1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda F, x, w, b: F.adaptive_avg_pool2d(x, (3, 2)),
}


@needs_torch
@pytest.mark.parametrize("case", UNBATCHED)
def test_unbatched_input_matches_torch(parity_check, rng, distinct_values, case):
    x = distinct_values((4, 7, 6), rng)
    w, b = rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(6)
    out = parity_check(UNBATCHED[case], x, w, b, requires_grad=[True, "conv" in case, "conv" in case]).mt_out
    assert out.ndim == 3


@pytest.mark.parametrize("case", UNBATCHED)
def test_unbatched_input_gradcheck(grad_check, rng, distinct_values, case):
    x = distinct_values((4, 7, 6), rng)
    w, b = rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(6)
    grad_check(UNBATCHED[case], x, w, b, requires_grad=[True, "conv" in case, "conv" in case])


@needs_torch
def test_unbatched_layers_match_torch(rng):
    x = rng.standard_normal((3, 8, 8)).astype(np.float32)
    conv, twin = nn.Conv2d(3, 5, 3, padding=1), torch.nn.Conv2d(3, 5, 3, padding=1)
    twin.weight.data, twin.bias.data = torch.tensor(conv.weight.array), torch.tensor(conv.bias.array)
    for layer, torch_layer in [(conv, twin), (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
                               (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
                               (nn.AdaptiveAvgPool2d(3), torch.nn.AdaptiveAvgPool2d(3))]:
        same(layer(mt_t(x)), torch_layer(th_t(x)), rtol=1e-5, atol=1e-6)


def test_other_ranks_still_raise_clearly():
    for call in [lambda: F.max_pool2d(mt.zeros(5, 5), 2), lambda: F.avg_pool2d(mt.zeros(1, 1, 1, 5, 5), 2),
                 lambda: F.conv2d(mt.zeros(5, 5), mt.zeros(1, 1, 3, 3)),
                 lambda: nn.Conv2d(1, 1, 3)(mt.zeros(5, 5))]:
        with pytest.raises(ValueError, match=r"(?i)(conv2d|pool2d).*3-D|expected input"):
            call()


def test_unbatched_conv_with_wrong_channels_names_the_layer():
    with pytest.raises(ValueError, match=r"Conv2d\(1→1\): expected input \(N, 1, H, W\), got \(2, 3, 3\)"):
        nn.Conv2d(1, 1, 1)(mt.zeros(2, 3, 3))


# ---- float16 batch norm ------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("stats_dtype", [np.float16, np.float32])
@pytest.mark.parametrize("training", [True, False])
def test_float16_batch_norm_matches_torch(rng, stats_dtype, training):
    """Was all zeros with running_var inf.  torch normalises half in float32, with half or
    float32 parameters and statistics."""
    x = (rng.standard_normal((4, 3, 2, 2)) * 2 + 1).astype(np.float16)
    mean, var = (rng.random(3) * 0.5).astype(stats_dtype), (rng.random(3) + 0.5).astype(stats_dtype)
    w, b = rng.standard_normal(3).astype(stats_dtype), rng.standard_normal(3).astype(stats_dtype)
    ours_stats, theirs_stats = [mt_t(mean.copy()), mt_t(var.copy())], [th_t(mean), th_t(var)]
    ours_args = [mt_t(x, True)] + ours_stats + [mt_t(w, True), mt_t(b, True)]
    theirs_args = [th_t(x, True)] + theirs_stats + [th_t(w, True), th_t(b, True)]
    ours = F.batch_norm(*ours_args, training=training)
    theirs = torch.nn.functional.batch_norm(*theirs_args, training=training)
    same(ours, theirs, **F16)
    for a, e in zip(ours_stats, theirs_stats):
        same(a, e, rtol=1e-3 if stats_dtype == np.float16 else 1e-6, atol=1e-6)
        assert np.isfinite(a.numpy()).all()
    g = rng.standard_normal(x.shape).astype(np.float16)
    ours.backward(mt_t(g))
    theirs.backward(torch.tensor(g))
    for i in (0, 3, 4):    # x, weight, bias: each gradient in its leaf's dtype
        same(ours_args[i].grad, theirs_args[i].grad, rtol=1e-2, atol=1e-2)


@needs_torch
def test_batchnorm2d_layer_on_float16_input_keeps_float32_statistics(rng):
    x = (rng.standard_normal((4, 3, 2, 2)) * 2 + 1).astype(np.float16)
    layer, twin = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    same(layer(mt_t(x)), twin(th_t(x)), **F16)
    same(layer.running_mean, twin.running_mean, rtol=1e-6, atol=1e-6)
    same(layer.running_var, twin.running_var, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("x_dtype,stats_dtype,w_dtype", [
    (np.float64, np.float32, np.float32), (np.float32, np.float64, np.float32),
    (np.float16, np.float16, np.float32), (np.float16, np.float32, np.float16),
    (np.float16, np.float64, None)])
def test_batch_norm_mixed_dtypes_raise_like_torch(x_dtype, stats_dtype, w_dtype):
    def args(lib, tensor):
        w = None if w_dtype is None else tensor(np.ones(3, w_dtype))
        return (tensor(np.ones((4, 3), x_dtype)), tensor(np.zeros(3, stats_dtype)),
                tensor(np.ones(3, stats_dtype)), w)
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.nn.functional.batch_norm(*args(torch, th_t), training=True)
    with pytest.raises(TypeError, match="batch_norm: expected .* dtype"):
        F.batch_norm(*args(mt, mt_t), training=True)


def test_batchnorm_layer_refuses_float64_input_with_float32_parameters():
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.nn.BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"BatchNorm1d\(3\): batch_norm: expected"):
        nn.BatchNorm1d(3)(mt.tensor(np.ones((4, 3))))


# ---- constructor argument types ----------------------------------------------------------

@pytest.mark.parametrize("build,match", [
    (lambda lib: lib.nn.Linear(2.5, 3), r"Linear: in_features must be an int, got float 2.5"),
    (lambda lib: lib.nn.Linear(2, 3.0), r"Linear: out_features must be an int, got float"),
    (lambda lib: lib.nn.Linear("2", 3), r"Linear: in_features must be an int, got str"),
    (lambda lib: lib.nn.Conv2d(2, 3.0, 3), r"Conv2d\(2→3.0\): out_channels must be an int"),
    (lambda lib: lib.nn.Conv2d(2, 3, 3.0), r"Conv2d\(2→3\): kernel_size must be an int or a pair"),
    (lambda lib: lib.nn.Conv2d(2, 3, (3, 2.0)), r"Conv2d\(2→3\): kernel_size must be an int or a pair"),
    (lambda lib: lib.nn.Conv2d(2, 4, 3, groups=2.0), r"Conv2d\(2→4\): groups must be an int"),
    (lambda lib: lib.nn.BatchNorm1d(2.5), r"BatchNorm1d: num_features must be an int, got float"),
    (lambda lib: lib.nn.BatchNorm2d(2.0), r"BatchNorm2d: num_features must be an int, got float"),
    (lambda lib: lib.nn.BatchNorm2d(True), r"BatchNorm2d: num_features must be an int, got bool"),
])
def test_layer_sizes_of_the_wrong_type_raise_type_error(build, match):
    if torch is not None:  # torch refuses it too
        with pytest.raises(TypeError):
            build(torch)
    with pytest.raises(TypeError, match=match):
        build(mt)


def test_conv2d_in_channels_of_the_wrong_type_is_refused():
    if torch is not None:  # torch refuses it too
        with pytest.raises(ValueError):            # torch: "in_channels must be divisible by groups"
            torch.nn.Conv2d(2.5, 3, 3)
    with pytest.raises(TypeError, match=r"Conv2d\(2.5→3\): in_channels must be an int, got float"):
        nn.Conv2d(2.5, 3, 3)


def test_negative_sizes_are_refused():
    for build in [lambda lib: lib.nn.Linear(-1, 3), lambda lib: lib.nn.Conv2d(2, -3, 3),
                  lambda lib: lib.nn.BatchNorm2d(-1)]:
        if torch is not None:  # torch refuses it too
            with pytest.raises(RuntimeError):
                build(torch)
        with pytest.raises(ValueError, match="must be non-negative"):
            build(mt)


# ---- zero features / channels ------------------------------------------------------------

@needs_torch
def test_linear_with_zero_in_features_is_bias_filled_like_torch():
    """Was a ZeroDivisionError.  torch: the init is a no-op with a warning, the bias is 0."""
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        torch_layer = torch.nn.Linear(0, 2)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = nn.Linear(0, 2)
    same(layer.bias, torch_layer.bias)
    assert layer.weight.shape == (2, 0)
    x = mt_t(np.zeros((3, 0), np.float32), True)
    out = layer(x)
    same(out, torch_layer(torch.zeros(3, 0)))
    out.sum().backward()
    np.testing.assert_array_equal(layer.bias.grad.numpy(), [3.0, 3.0])
    assert x.grad.shape == (3, 0) and layer.weight.grad.shape == (2, 0)


@needs_torch
def test_conv2d_with_zero_in_channels_matches_torch(rng):
    """Was a ZeroDivisionError.  torch returns (N, 0, out_h, out_w), not a bias-filled
    (N, C_out, ...): we give the same, and zero gradients."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = nn.Conv2d(0, 4, 3)
    b = rng.standard_normal(4).astype(np.float32)
    for stride, padding in [(1, 0), (2, 1)]:
        x, w = np.zeros((2, 0, 5, 5), np.float32), np.zeros((4, 0, 3, 3), np.float32)
        ours_args, theirs_args = [mt_t(a, True) for a in (x, w, b)], [th_t(a, True) for a in (x, w, b)]
        ours = F.conv2d(*ours_args, stride=stride, padding=padding)
        theirs = torch.nn.functional.conv2d(*theirs_args, stride=stride, padding=padding)
        same(ours, theirs)
        ours.sum().backward()
        theirs.sum().backward()
        for a, e in zip(ours_args, theirs_args):
            same(a.grad, e.grad)
    assert layer(mt.zeros(2, 0, 5, 5)).shape == (2, 0, 3, 3)


def test_conv2d_with_zero_out_channels_is_refused():
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.nn.functional.conv2d(torch.zeros(1, 3, 5, 5), torch.zeros(0, 3, 3, 3))
    with pytest.raises(ValueError, match="conv2d: expected a weight with at least 1 output channel"):
        F.conv2d(mt.zeros(1, 3, 5, 5), mt.zeros(0, 3, 3, 3))


# ---- integer inputs ----------------------------------------------------------------------

@needs_torch
def test_avg_pool2d_layer_on_int64_matches_torch():
    """Was `_UFuncOutputCastingError.__init__() missing 4 required positional arguments`.
    torch averages int64 with the window sum divided toward zero."""
    x = np.array([[[[-7, 2, 5], [1, -1, 4], [9, 9, 3]]]], dtype=np.int64)
    for layer, twin in [(nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
                        (nn.AvgPool2d(2, 1, 1), torch.nn.AvgPool2d(2, 1, 1)),
                        (nn.AvgPool2d(2, 1, 1, count_include_pad=False),
                         torch.nn.AvgPool2d(2, 1, 1, count_include_pad=False))]:
        ours, theirs = layer(mt_t(x)), twin(torch.tensor(x))
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_])
def test_avg_pool2d_refuses_the_integer_dtypes_torch_refuses(dtype):
    x = np.ones((1, 1, 4, 4), dtype)
    if torch is not None:  # torch refuses it too
        with pytest.raises(NotImplementedError):
            torch.nn.functional.avg_pool2d(torch.from_numpy(x), 2)
    with pytest.raises(TypeError, match=r"AvgPool2d\(kernel_size=2\): avg_pool2d: not implemented"):
        nn.AvgPool2d(2)(mt_t(x))


@needs_torch
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_max_pool_conv_and_linear_match_torch(rng, dtype):
    x = rng.integers(0 if dtype == np.uint8 else -9, 10, (2, 2, 5, 5)).astype(dtype)
    w = rng.integers(0 if dtype == np.uint8 else -3, 4, (3, 2, 2, 2)).astype(dtype)
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    for ours, theirs in [
            (F.max_pool2d(mt_t(x), 3, 2, padding=1), torch.nn.functional.max_pool2d(tx, 3, 2, padding=1)),
            (F.conv2d(mt_t(x), mt_t(w), stride=2, padding=1), torch.nn.functional.conv2d(tx, tw, stride=2, padding=1)),
            (F.linear(mt_t(x[0, 0]), mt_t(x[1, 1])), torch.nn.functional.linear(tx[0, 0], tx[1, 1]))]:
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_conv2d_layer_on_int64_is_refused_like_torch():
    x = np.ones((1, 1, 4, 4), np.int64)
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            torch.nn.Conv2d(1, 1, 2)(torch.from_numpy(x))
    with pytest.raises(TypeError, match=r"Conv2d\(1→1\): conv2d: input dtype int64 differs from bias dtype float32"):
        nn.Conv2d(1, 1, 2)(mt_t(x))


def test_bool_inputs_are_refused():
    x = mt_t(np.ones((1, 1, 4, 4), bool))
    for call in [lambda: F.max_pool2d(x, 2), lambda: F.conv2d(x, x), lambda: F.batch_norm(x, None, None, training=True)]:
        with pytest.raises(TypeError, match="not implemented for dtype bool"):
            call()


def test_layer_errors_keep_numpy_exception_subclasses_readable(monkeypatch):
    """The layers used to rebuild errors as type(exc)(msg): NumPy's UFuncTypeError subclasses
    need more constructor arguments, so the rebuild itself crashed."""
    try:
        np.add(np.ones(2), 1.5, out=np.ones(2, dtype=np.int64))
    except TypeError as exc:
        numpy_error = exc
    assert type(numpy_error) is not TypeError

    def fails(*args, **kwargs):
        raise numpy_error
    monkeypatch.setattr(F, "avg_pool2d", fails)
    with pytest.raises(TypeError, match=r"^AvgPool2d\(kernel_size=2\): Cannot cast ufunc"):
        nn.AvgPool2d(2)(mt.zeros(1, 1, 4, 4))


# ---- wrong-typed hyper-parameters --------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2.0),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=(2, 2.0)),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride="2"),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=None),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=True),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1.0),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, dilation=1.5),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=1.0),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, groups=True),
    lambda lib, x, w: lib.nn.functional.max_pool2d(x, 2.0),
    lambda lib, x, w: lib.nn.functional.max_pool2d(x, 2, 2.0),
    lambda lib, x, w: lib.nn.functional.avg_pool2d(x, 2, 2, 1.0),
    lambda lib, x, w: lib.nn.MaxPool2d(2.5)(x),
    lambda lib, x, w: lib.nn.AvgPool2d(2.0)(x),
    lambda lib, x, w: lib.nn.Conv2d(1, 1, 2, stride=2.0)(x),
])
def test_wrong_typed_hyper_parameters_raise_type_error(call):
    """F.conv2d(x, w, stride=2.0) was "'float' object is not iterable"."""
    x, w = np.ones((1, 1, 6, 6), np.float32), np.ones((1, 1, 2, 2), np.float32)
    if torch is not None:  # torch refuses it too
        with pytest.raises(TypeError):
            call(torch, th_t(x), th_t(w))
    with pytest.raises(TypeError, match=r"(?i)(conv2d|pool2d).*(stride|padding|dilation|groups|kernel_size)"):
        call(mt, mt_t(x), mt_t(w))


@needs_torch
@pytest.mark.parametrize("call", [
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=(2,)),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=[1], dilation=np.int64(2)),
    lambda lib, x, w: lib.nn.functional.max_pool2d(x, (2,), stride=(1,)),
    lambda lib, x, w: lib.nn.functional.avg_pool2d(x, 3, stride=(), padding=(1,)),
    lambda lib, x, w: lib.nn.functional.max_pool2d(x, [3, 2], stride=()),
])
def test_one_element_and_empty_hyper_parameters_mean_what_they_mean_in_torch(call):
    x, w = np.arange(36.0).reshape(1, 1, 6, 6), np.ones((1, 1, 2, 2))
    same(call(mt, mt_t(x), mt_t(w)), call(torch, th_t(x), th_t(w)))


@pytest.mark.parametrize("call", [
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=(2, 2, 2)),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=[]),
    lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=0),
    lambda lib, x, w: lib.nn.functional.max_pool2d(x, (2, 2, 2)),
    lambda lib, x, w: lib.nn.functional.max_pool2d(x, 2, 2, -1),
])
def test_wrong_hyper_parameter_values_are_refused(call):
    x, w = np.ones((1, 1, 6, 6), np.float32), np.ones((1, 1, 2, 2), np.float32)
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            call(torch, th_t(x), th_t(w))
    with pytest.raises(ValueError, match=r"(conv2d|max_pool2d): (stride|kernel_size|padding)"):
        call(mt, mt_t(x), mt_t(w))


# ---- empty batches -----------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name", ["lenet5", "simplecnn", "digitcnn", "deepcnn"])
@pytest.mark.parametrize("training", [False, True])
def test_models_take_an_empty_batch_like_torch(name, training):
    """Each model used to raise on N = 0; torch returns logits of shape (0, 10)."""
    import torch_models
    torch_model = torch_models.TORCH_MODELS[name]().train(training)
    model = models.get_model(name).train(training)
    expected = torch_model(torch.zeros(0, 1, 28, 28))
    x = mt.tensor(np.zeros((0, 1, 28, 28), np.float32), requires_grad=True)
    out = model(x)
    same(out, expected)
    out.sum().backward()
    assert x.grad.shape == (0, 1, 28, 28)
    for p in model.parameters():
        assert p.grad is not None and not np.any(p.grad.numpy())


@needs_torch
def test_empty_batches_through_each_op_match_torch(rng):
    x = np.zeros((0, 3, 6, 6), np.float32)
    w, b = rng.standard_normal((4, 3, 3, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    m = rng.standard_normal((4, 108)).astype(np.float32)
    for call in [lambda F, t, x: F.conv2d(x, t(w), t(b), stride=2, padding=1),
                 lambda F, t, x: F.max_pool2d(x, 3, 2, 1), lambda F, t, x: F.avg_pool2d(x, 2),
                 lambda F, t, x: F.adaptive_avg_pool2d(x, 4),
                 lambda F, t, x: F.linear(x.reshape(0, 108), t(m), t(b))]:
        same(call(F, mt_t, mt_t(x)), call(torch.nn.functional, th_t, th_t(x)))


@needs_torch
def test_batch_norm_on_an_empty_batch_matches_torch():
    """Training on N = 0: torch returns the empty input normalised (empty), leaves the running
    statistics as they are and still counts the batch."""
    for cls, twin, shape in [(nn.BatchNorm2d, torch.nn.BatchNorm2d, (0, 3, 2, 2)),
                             (nn.BatchNorm1d, torch.nn.BatchNorm1d, (0, 3)),
                             (nn.BatchNorm2d, torch.nn.BatchNorm2d, (2, 3, 0, 2))]:
        layer, torch_layer = cls(3), twin(3)
        x = mt.tensor(np.zeros(shape, np.float32), requires_grad=True)
        out = layer(x)
        same(out, torch_layer(torch.zeros(shape)))
        out.sum().backward()
        same(layer.running_mean, torch_layer.running_mean)
        same(layer.running_var, torch_layer.running_var)
        assert int(layer.num_batches_tracked.item()) == int(torch_layer.num_batches_tracked) == 1
        np.testing.assert_array_equal(layer.weight.grad.numpy(), np.zeros(3, np.float32))
        same(layer.eval()(mt.zeros(*shape)), torch_layer.eval()(torch.zeros(shape)))


def test_zero_size_spatial_inputs_are_refused_like_torch():
    for call in [lambda F, lib: F.conv2d(lib.zeros(2, 3, 0, 5), lib.zeros(4, 3, 1, 1)),
                 lambda F, lib: F.max_pool2d(lib.zeros(2, 0, 5, 5), 2),
                 lambda F, lib: F.avg_pool2d(lib.zeros(2, 3, 0, 5), 1),
                 lambda F, lib: F.max_pool2d(lib.zeros(0, 5, 5), 2),
                 lambda F, lib: F.avg_pool2d(lib.zeros(1, 1, 1, 5), 2)]:
        if torch is not None:  # torch refuses it too
            with pytest.raises(RuntimeError):
                call(torch.nn.functional, torch)
        with pytest.raises(ValueError, match=r"(conv2d|pool2d): "):
            call(F, mt)


# ---- dtypes of bias and weight -----------------------------------------------------------

@pytest.mark.parametrize("call,match", [
    (lambda lib, t: lib.nn.functional.conv2d(t((1, 1, 4, 4), "float32"), t((1, 1, 2, 2), "float32"), t((1,), "float64")),
     r"conv2d: input dtype float32 differs from bias dtype float64"),
    (lambda lib, t: lib.nn.functional.conv2d(t((1, 1, 4, 4), "float64"), t((1, 1, 2, 2), "float64"), t((1,), "float32")),
     r"conv2d: input dtype float64 differs from bias dtype float32"),
    (lambda lib, t: lib.nn.functional.linear(t((2, 3), "float32"), t((4, 3), "float32"), t((4,), "float64")),
     r"linear\(3→4\): input dtype float32 differs from bias dtype float64"),
    (lambda lib, t: lib.nn.functional.linear(t((2, 3), "float32"), t((4, 3), "float32"), t((4,), "int64")),
     r"linear\(3→4\): input dtype float32 differs from bias dtype int64"),
    (lambda lib, t: lib.nn.functional.conv2d(t((1, 1, 4, 4), "float16"), t((1, 1, 2, 2), "float32")),
     r"conv2d: input dtype float16 differs from weight dtype float32"),
    (lambda lib, t: lib.nn.functional.linear(t((2, 3), "int64"), t((4, 3), "float32")),
     r"linear\(3→4\): input dtype int64 differs from weight dtype float32"),
    (lambda lib, t: lib.nn.Linear(3, 4)(t((2, 3), "float64")), r"linear\(3→4\): input dtype float64"),
])
def test_mixed_dtypes_are_refused_like_torch(call, match):
    """A float64 bias with float32 conv/linear inputs used to be accepted."""
    if torch is not None:  # torch refuses it too
        with pytest.raises(RuntimeError):
            call(torch, lambda shape, dtype: torch.ones(shape, dtype=getattr(torch, dtype)))
    with pytest.raises(TypeError, match=match):
        call(mt, lambda shape, dtype: mt.tensor(np.ones(shape, dtype)))


@needs_torch
def test_linear_bias_broadcasts_like_torch(rng):
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    for bias_shape in [(1, 4), (), (1,), (2, 4)]:
        b = rng.standard_normal(bias_shape)
        ours_b, theirs_b = mt_t(b, True), th_t(b, True)
        ours = F.linear(mt_t(x, True), mt_t(w, True), ours_b)
        theirs = torch.nn.functional.linear(th_t(x, True), th_t(w, True), theirs_b)
        same(ours, theirs, **F64)
        ours.sum().backward()
        theirs.sum().backward()
        same(ours_b.grad, theirs_b.grad, **F64)
    with pytest.raises(ValueError, match=r"linear\(3→4\): expected bias \(4,\)"):
        F.linear(mt_t(x), mt_t(w), mt_t(np.ones(3)))


@needs_torch
def test_float16_conv_and_linear_match_torch(rng):
    x = rng.standard_normal((2, 8, 6, 6)).astype(np.float16)
    w = (rng.standard_normal((4, 8, 3, 3)) * 0.2).astype(np.float16)
    ours = F.conv2d(mt_t(x, True), mt_t(w, True), padding=1)
    theirs = torch.nn.functional.conv2d(th_t(x, True), th_t(w, True), padding=1)
    same(ours, theirs, rtol=2e-3, atol=2e-3)
    a, m = rng.standard_normal((5, 40)).astype(np.float16), rng.standard_normal((3, 40)).astype(np.float16)
    same(F.linear(mt_t(a), mt_t(m)), torch.nn.functional.linear(th_t(a), th_t(m)), rtol=2e-3, atol=2e-3)


# ---- max pooling: −inf beside the padding, NaN -------------------------------------------

@needs_torch
@pytest.mark.parametrize("values,kernel,stride,padding", [
    (np.full((3, 3), -np.inf), 2, 2, 1),
    ([[-np.inf, 1.0], [2.0, -np.inf]], 2, 1, 1),
    ([[-np.inf, -np.inf], [-np.inf, -np.inf]], 2, 2, 0),
    ([[1.0, np.nan, 3.0], [np.nan, 2.0, 5.0], [7.0, 8.0, 9.0]], 2, 1, 1),
    ([[1.0, np.nan], [np.nan, 2.0]], 2, 2, 0),
    (np.full((4, 5), -np.inf), 3, 2, 1),
])
def test_max_pool2d_routes_inf_and_nan_like_torch(values, kernel, stride, padding):
    """A window of −inf next to the padding used to send its gradient into the padding (lost);
    torch never considers padding, so its index (and gradient) is the window's first real pixel."""
    x = np.asarray(values, dtype=np.float64)[None, None]
    ours_x, theirs_x = mt_t(x, True), th_t(x, True)
    ours = F.max_pool2d(ours_x, kernel, stride, padding)
    theirs = torch.nn.functional.max_pool2d(theirs_x, kernel, stride, padding)
    same(ours, theirs, **F64)
    g = np.arange(1.0, 1.0 + theirs.numel()).reshape(theirs.shape)
    ours.backward(mt_t(g))
    theirs.backward(torch.tensor(g))
    same(ours_x.grad, theirs_x.grad, **F64)


# ---- batch norm modes --------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("kwargs", [dict(momentum=None), dict(eps=1e-2), dict(affine=False),
                                    dict(track_running_stats=False), dict(affine=False, track_running_stats=False),
                                    dict(momentum=None, track_running_stats=False)])
def test_batchnorm_modes_match_torch(rng, dtype, kwargs):
    layer, twin = nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs)
    if dtype != np.float16:    # float16 inputs run against float32 parameters (mixed mode)
        layer.to(dtype)
        twin.to(getattr(torch, np.dtype(dtype).name))
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5) \
        if dtype == np.float32 else dict(rtol=1e-2, atol=1e-2)
    for step in range(3):
        # a non-contiguous input: channels-last memory seen as NCHW
        x = (rng.standard_normal((4, 2, 3, 3)) * (step + 1) + step).astype(dtype).transpose(0, 3, 1, 2)
        assert not x.flags.c_contiguous
        ours_x, theirs_x = mt_t(x, True), th_t(x, True)
        ours, theirs = layer(ours_x), twin(theirs_x)
        same(ours, theirs, **tol)
        g = rng.standard_normal(x.shape).astype(dtype)
        ours.backward(mt_t(g))
        theirs.backward(torch.tensor(g))
        same(ours_x.grad, theirs_x.grad, **(tol if dtype != np.float16 else dict(rtol=3e-2, atol=3e-2)))
        if kwargs.get("track_running_stats", True):
            same(layer.running_mean, twin.running_mean, **tol)
            same(layer.running_var, twin.running_var, **tol)
    layer.eval()
    twin.eval()
    x = rng.standard_normal((2, 3, 2, 2)).astype(dtype)
    same(layer(mt_t(x)), twin(th_t(x)), **tol)


def test_batch_norm_eps_must_be_positive_when_training():
    if torch is not None:  # torch refuses it too
        with pytest.raises(ValueError):
            torch.nn.BatchNorm1d(3, eps=0)(torch.ones(4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): batch_norm: eps must be positive when training"):
        nn.BatchNorm1d(3, eps=0)(mt.ones(4, 3))


def test_batch_norm_needs_both_or_neither_running_statistic_when_training():
    if torch is not None:  # torch refuses it too
        with pytest.raises(ValueError):
            torch.nn.functional.batch_norm(torch.ones(4, 3), torch.zeros(3), None, training=True)
    with pytest.raises(ValueError, match="batch_norm: running_mean and running_var must both be None or neither"):
        F.batch_norm(mt.ones(4, 3), mt.zeros(3), None, training=True)


@needs_torch
def test_batch_norm_takes_any_number_of_trailing_dims_like_torch(parity_check, rng):
    x = rng.standard_normal((3, 2, 2, 3, 2))
    parity_check(lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True), x,
                 rng.standard_normal(2), rng.standard_normal(2))


def test_batch_norm_counts_values_per_channel_as_torch():
    # (1, 3, 2): two values per channel are enough; (1, 3, 1) is one.
    assert nn.BatchNorm1d(3)(mt.randn(1, 3, 2)).shape == (1, 3, 2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(mt.randn(1, 3, 1))


# ---- Python lists into the layers ---------------------------------------------------------

@pytest.mark.parametrize("layer,name", [
    (lambda lib: lib.nn.Linear(3, 2), r"Linear\(3→2\)"),
    (lambda lib: lib.nn.Conv2d(1, 1, 1), r"Conv2d\(1→1\)"),
    (lambda lib: lib.nn.MaxPool2d(1), r"MaxPool2d\(kernel_size=1\)"),
    (lambda lib: lib.nn.AvgPool2d(1), r"AvgPool2d\(kernel_size=1\)"),
    (lambda lib: lib.nn.AdaptiveAvgPool2d(1), r"AdaptiveAvgPool2d\(output_size=1\)"),
    (lambda lib: lib.nn.BatchNorm1d(3), r"BatchNorm1d\(3\)"),
])
def test_a_python_list_into_a_layer_raises_type_error_naming_it(layer, name):
    data = [[[[1.0, 2.0, 3.0]]]] if "Linear" not in name and "BatchNorm" not in name else [[1.0, 2.0, 3.0]]
    if torch is not None:  # torch refuses it too
        with pytest.raises((TypeError, AttributeError)):
            layer(torch)(data)
    with pytest.raises(TypeError, match=name + r": expected input to be a Tensor, got list"):
        layer(mt)(data)


@pytest.mark.parametrize("call", [lambda F: F.linear([[1.0]], mt.ones(1, 1)),
                                  lambda F: F.conv2d([[[[1.0]]]], mt.ones(1, 1, 1, 1)),
                                  lambda F: F.max_pool2d([[[[1.0]]]], 1),
                                  lambda F: F.avg_pool2d([[[[1.0]]]], 1),
                                  lambda F: F.adaptive_avg_pool2d([[[[1.0]]]], 1),
                                  lambda F: F.batch_norm([[1.0, 2.0]], None, None, training=True)])
def test_a_python_list_into_a_functional_op_raises_type_error(call):
    with pytest.raises(TypeError, match=r"^[a-z_0-9]+: expected input to be a Tensor, got list"):
        call(F)


# ---- empty inputs: what torch checks and what it skips (found by tests/test_fuzz_layers.py) ----

@needs_torch
def test_conv2d_on_an_empty_batch_skips_the_dtype_check_and_promotes_like_torch():
    for x_dtype, w_dtype in [(np.float64, np.float32), (np.int64, np.float32), (np.float32, np.int64)]:
        x, w = np.zeros((0, 3, 5, 5), x_dtype), np.zeros((2, 3, 3, 3), w_dtype)
        same(F.conv2d(mt_t(x), mt_t(w)), torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w)))
    with pytest.raises(RuntimeError):   # an empty height with a real batch and channels
        torch.nn.functional.conv2d(torch.zeros(1, 3, 0, 5), torch.zeros(2, 3, 1, 1), padding=1)
    with pytest.raises(ValueError, match="conv2d: only an empty batch or zero channels may be empty"):
        F.conv2d(mt.zeros(1, 3, 0, 5), mt.zeros(2, 3, 1, 1), padding=1)


@needs_torch
def test_dilated_integer_conv2d_is_int64_only_like_torch():
    x, w = np.ones((1, 1, 5, 5), np.int32), np.ones((1, 1, 2, 2), np.int32)
    with pytest.raises(NotImplementedError):
        torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), dilation=2)
    with pytest.raises(TypeError, match="conv2d: a dilated convolution is not implemented for dtype int32"):
        F.conv2d(mt_t(x), mt_t(w), dilation=2)
    x64, w64 = x.astype(np.int64), w.astype(np.int64)
    np.testing.assert_array_equal(F.conv2d(mt_t(x64), mt_t(w64), dilation=2).numpy(),
                                  torch.nn.functional.conv2d(torch.from_numpy(x64), torch.from_numpy(w64),
                                                             dilation=2).numpy())


@needs_torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the mean of an empty window
def test_adaptive_avg_pool2d_to_one_pixel_is_torchs_mean_over_the_last_two_dims():
    """torch computes a 1 × 1 output as x.mean((-2, -1)): any rank, NaN for an empty side."""
    for shape in [(2, 5), (2, 2, 2, 3, 3), (3, 0, 5), (0, 0, 1, 1)]:
        x = np.ones(shape)
        ours_x, theirs_x = mt_t(x, True), th_t(x, True)
        ours, theirs = F.adaptive_avg_pool2d(ours_x, 1), torch.nn.functional.adaptive_avg_pool2d(theirs_x, 1)
        same(ours, theirs)
        ours.sum().backward()
        theirs.sum().backward()
        same(ours_x.grad, theirs_x.grad)
    with pytest.raises(RuntimeError):
        torch.nn.functional.adaptive_avg_pool2d(torch.zeros(0, 1, 1, dtype=torch.long), 1)
    with pytest.raises(TypeError, match="adaptive_avg_pool2d: not implemented for dtype int64"):
        F.adaptive_avg_pool2d(mt.tensor(np.zeros((0, 1, 1), np.int64)), 1)
    # other output sizes never reach torch's dtype check on an empty input
    same(F.adaptive_avg_pool2d(mt.tensor(np.zeros((0, 1, 1), np.int64)), 2),
         torch.nn.functional.adaptive_avg_pool2d(torch.zeros(0, 1, 1, dtype=torch.long), 2))


@needs_torch
def test_batch_norm_on_an_empty_input_skips_the_checks_torch_skips():
    z = np.zeros
    for x, w in [(z((0, 3), np.int64), z(3, np.float32)), (z((0, 3), np.float64), z(3, np.float32)),
                 (z((0,)), None), (z((0, 3), np.float32), z(2, np.float32))]:
        args = lambda t: (t(x), None, None, None if w is None else t(w))
        same(F.batch_norm(*args(mt_t), training=False), torch.nn.functional.batch_norm(*args(th_t), training=False))
    with pytest.raises(IndexError):
        torch.nn.functional.batch_norm(torch.zeros(4, 0), None, None, torch.zeros(0), training=True)
    with pytest.raises(ValueError, match="batch_norm: weight has no elements"):
        F.batch_norm(mt.zeros(4, 0), None, None, mt.zeros(0), training=True)
