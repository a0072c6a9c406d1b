"""torch's other pooling parameters, built: max_pool2d's dilation, ceil_mode and return_indices
(and F.max_pool2d_with_indices), avg_pool2d's ceil_mode and divisor_override, the 1-D pools and
adaptive max pooling.  Held to torch over randomized grids (values, indices, gradients, which
calls are refused), to mt.gradcheck in float64, and to hand-worked cases that need no torch.
Every test runs with the fast paths on and off (the `engine` fixture)."""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}


@pytest.fixture(params=[True, False], ids=["fast", "core"])
def engine(request):
    with mt.backends.fast.flags(enabled=request.param):
        yield request.param


def _sample(rng, dtype, shape, ties=False, nan=False, minus_inf=False):
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)                     # many equal values in a window
    if nan:
        x[rng.random(shape) < 0.15] = np.nan
    if minus_inf:
        x[rng.random(shape) < 0.5] = -np.inf
    return x.astype(dtype)


def _run(lib, fn, x):
    """(outputs, None) or (None, the exception)."""
    try:
        out = fn(lib, x)
        return (out if isinstance(out, tuple) else (out,)), None
    except (RuntimeError, ValueError, TypeError) as exc:
        return None, exc


def _compare_with_torch(fn, x_array, tolerance, rng):
    """fn(lib, x) in both libraries: the same refusal, or the same values, exact indices and
    the same input gradient.  A window of only padding (torch's backward writes out of bounds
    there) must be refused by our backward; torch's is not run.  Any other backward we refuse,
    torch must refuse too."""
    torch = pytest.importorskip("torch")
    ours_x = mt.tensor(x_array, requires_grad=x_array.dtype.kind == "f")
    theirs_x = torch.tensor(x_array, requires_grad=x_array.dtype.kind == "f")
    ours, our_error = _run(F, fn, ours_x)
    theirs, their_error = _run(torch.nn.functional, fn, theirs_x)
    assert (our_error is None) == (their_error is None), f"torch: {their_error!r}, here: {our_error!r}"
    if our_error is not None:
        return "refused"
    for mine, expected in zip(ours, theirs):
        expected = expected.detach().numpy()
        assert mine.shape == expected.shape and mine.dtype == expected.dtype
        if expected.dtype == np.int64 and mine is not ours[0]:
            np.testing.assert_array_equal(mine.detach().numpy(), expected)          # indices: exactly
        else:
            np.testing.assert_allclose(mine.detach().numpy(), expected, equal_nan=True, **tolerance)
    if x_array.dtype.kind != "f":
        return "forward"
    cotangent = rng.standard_normal(theirs[0].shape).astype(x_array.dtype)
    try:
        ours[0].backward(mt.tensor(cotangent))
    except RuntimeError as exc:
        if "holds only padding" in str(exc):
            return "unroutable"
        with pytest.raises(RuntimeError):           # torch refuses this backward too
            theirs[0].backward(torch.tensor(cotangent))
        return "backward refused"
    theirs[0].backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours_x.grad.detach().numpy(), theirs_x.grad.detach().numpy(), **tolerance)
    return "compared"


def _window_grid(rng, count, dilation=True):
    for _ in range(count):
        kernel = tuple(int(k) for k in rng.integers(1, 5, 2))
        yield dict(kernel=kernel, stride=tuple(int(s) for s in rng.integers(1, 4, 2)),
                   padding=tuple(int(rng.integers(0, k // 2 + 2)) for k in kernel),   # some too large
                   dilation=tuple(int(d) for d in rng.integers(1, 4, 2)) if dilation else (1, 1),
                   ceil_mode=bool(rng.integers(2)), hw=tuple(int(v) for v in rng.integers(1, 9, 2)),
                   batch=int(rng.integers(0, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(4))
def test_max_pool2d_matches_torch_over_a_random_grid(engine, dtype, seed):
    rng = np.random.default_rng(seed)
    outcomes = set()
    for i, case in enumerate(_window_grid(rng, 60)):
        x = _sample(rng, dtype, (case["batch"], 3) + case["hw"], ties=i % 3 == 0, nan=i % 7 == 0,
                    minus_inf=i % 11 == 0)
        if i % 5 == 0:
            x = x[0] if len(x) else x        # unbatched (C, H, W)
        def fn(lib, t, c=case):
            return lib.max_pool2d(t, c["kernel"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"], True)
        outcomes.add(_compare_with_torch(fn, x, TOLERANCE[dtype], rng))
    assert {"compared", "refused"} <= outcomes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(4))
def test_avg_pool2d_matches_torch_over_a_random_grid(engine, dtype, seed):
    rng = np.random.default_rng(100 + seed)
    outcomes = set()
    for i, case in enumerate(_window_grid(rng, 60, dilation=False)):
        x = _sample(rng, dtype, (case["batch"], 3) + case["hw"])
        divisor = [None, int(rng.integers(-3, 6))][i % 2]        # 0 included: torch refuses it
        include_pad = bool(rng.integers(2))
        def fn(lib, t, c=case, include_pad=include_pad, divisor=divisor):
            return lib.avg_pool2d(t, c["kernel"], c["stride"], c["padding"], c["ceil_mode"], include_pad, divisor)
        outcomes.add(_compare_with_torch(fn, x, TOLERANCE[dtype], rng))
    assert {"compared", "refused"} <= outcomes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_1d_pools_match_torch_over_a_random_grid(engine, dtype):
    rng = np.random.default_rng(7)
    outcomes = set()
    for i in range(120):
        kernel, stride, dilation = (int(v) for v in rng.integers(1, 5, 3))
        padding, ceil_mode, include_pad = int(rng.integers(0, kernel // 2 + 2)), bool(rng.integers(2)), i % 3 == 0
        shape = (int(rng.integers(0, 3)), 2, int(rng.integers(1, 12)))
        x = _sample(rng, dtype, shape if i % 4 else shape[1:], ties=i % 3 == 0, nan=i % 7 == 0)
        if i % 2:
            fn = lambda lib, t: lib.max_pool1d(t, kernel, stride, padding, dilation, ceil_mode, i % 3 > 0)  # noqa: E731
        else:
            fn = lambda lib, t: lib.avg_pool1d(t, kernel, stride, padding, ceil_mode, include_pad)  # noqa: E731
        outcomes.add(_compare_with_torch(fn, x, TOLERANCE[dtype], rng))
    assert {"compared", "refused"} <= outcomes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adaptive_max_pool2d_matches_torch_over_a_random_grid(engine, dtype):
    rng = np.random.default_rng(8)
    for i in range(60):
        hw = tuple(int(v) for v in rng.integers(1, 9, 2))
        size = (int(rng.integers(0, 7)), [None, int(rng.integers(1, 7))][i % 2])
        x = _sample(rng, dtype, (int(rng.integers(0, 3)), 2) + hw, ties=i % 3 == 0, nan=i % 5 == 0)
        fn = lambda lib, t: lib.adaptive_max_pool2d(t, size if i % 4 else size[0], True)  # noqa: E731
        _compare_with_torch(fn, x if i % 6 else x[0] if len(x) else x, TOLERANCE[dtype], rng)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "float16"])
def test_max_pool2d_pools_torchs_dtypes(engine, dtype):
    rng = np.random.default_rng(9)
    x = rng.integers(-100, 100, (2, 3, 7, 6)).astype(dtype)
    # float16 gradients: torch sums a shared winner's gradients in float16, here in float64
    tolerance = dict(rtol=1e-3, atol=1e-3) if dtype == "float16" else dict(rtol=0, atol=0)
    _compare_with_torch(lambda lib, t: lib.max_pool2d(t, 3, 2, 1, 2, True, True), x, tolerance, rng)
    _compare_with_torch(lambda lib, t: lib.max_pool1d(t, 3, 2, 1, 2, True, True), x[0], tolerance, rng)


@pytest.mark.parametrize("dtype", ["int64", "float16"])
@pytest.mark.parametrize("args", [(3, 2, 1, True, True, None), (3, 2, 1, True, False, None),
                                  (2, 3, 1, False, True, -3), (3, 2, 1, True, False, 5)])
def test_avg_pool2d_takes_torchs_integer_and_half_rules(engine, dtype, args):
    """int64: the window sum divided with truncation toward zero (also by a negative divisor);
    float16: summed and divided in float32, rounded once."""
    rng = np.random.default_rng(10)
    x = rng.integers(-50, 50, (2, 3, 7, 6)).astype(dtype) / (7 if dtype == "float16" else 1)
    # the forward is exact; float16 gradients may differ from torch's by a rounding
    tolerance = dict(rtol=1e-3, atol=1e-3) if dtype == "float16" else dict(rtol=0, atol=0)
    assert _compare_with_torch(lambda lib, t: lib.avg_pool2d(t, *args), x.astype(dtype), tolerance, rng) != "refused"


# ------------------------------------------------------------------------ no torch needed

def test_ceil_mode_keeps_a_last_partial_window(engine):
    x = mt.tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    out, indices = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    expected = np.array([[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], expected)
    np.testing.assert_array_equal(indices.detach().numpy()[0, 0], expected)      # x = its own flat index
    assert indices.dtype == np.int64
    # the last window must start inside the input or the left padding: 6 rows, k 3, s 2, p 1
    assert F.max_pool2d(mt.zeros(1, 1, 6, 6), 3, 2, 1, ceil_mode=True).shape == (1, 1, 4, 4)
    assert F.max_pool2d(mt.zeros(1, 1, 5, 5), 3, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool2d(mt.zeros(1, 1, 5, 5), 3, 2, 1, ceil_mode=False).shape == (1, 1, 3, 3)


def test_dilation_spaces_the_window_taps(engine):
    x = mt.tensor(np.array([[[[1.0, 9.0, 2.0, 0.0, 3.0]]]]))
    out, indices = F.max_pool2d(x, (1, 3), 1, 0, (1, 2), return_indices=True)   # taps 0, 2, 4
    np.testing.assert_array_equal(out.detach().numpy(), [[[[3.0]]]])
    np.testing.assert_array_equal(indices.detach().numpy(), [[[[4]]]])


def test_ties_take_the_first_maximum_and_nan_the_last_nan(engine):
    x = mt.tensor(np.array([[[[1.0, 5.0], [5.0, 1.0]]]]), requires_grad=True)
    out, indices = F.max_pool2d(x, 2, return_indices=True, ceil_mode=True)
    assert indices.item() == 1
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), [[[[0.0, 1.0], [0.0, 0.0]]]])
    nan = np.nan
    y = mt.tensor(np.array([[[[1.0, nan, 3.0, nan], [nan, 2.0, 5.0, 5.0]]]]))
    out, indices = F.max_pool2d(y, 2, return_indices=True, ceil_mode=True)
    np.testing.assert_array_equal(indices.detach().numpy(), [[[[4, 3]]]])     # (1, 0) and (0, 3): the last NaN
    assert np.isnan(out.detach().numpy()).all()
    _, indices = F.adaptive_max_pool2d(y, (1, 2), return_indices=True)
    np.testing.assert_array_equal(indices.detach().numpy(), [[[[4, 3]]]])
    _, indices = F.adaptive_max_pool2d(mt.tensor(np.array([[[[1.0, 5.0], [5.0, 1.0]]]])), 1, True)
    assert indices.item() == 1


def test_a_window_of_minus_inf_names_its_first_real_pixel(engine):
    x = mt.full((1, 1, 3, 3), -np.inf)
    out, indices = F.max_pool2d(x, 3, 1, 1, return_indices=True, ceil_mode=True)
    np.testing.assert_array_equal(indices.detach().numpy()[0, 0], [[0, 0, 1], [0, 0, 1], [3, 3, 4]])
    assert np.isneginf(out.detach().numpy()).all()
    _, indices = F.max_pool2d(x, 3, 2, 1, dilation=2, return_indices=True)   # taps -1, 1, 3: first real 1
    np.testing.assert_array_equal(indices.detach().numpy(), [[[[4]]]])


def test_overlapping_windows_add_their_gradients_at_a_shared_winner(engine):
    x = mt.tensor(np.array([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2, 1, ceil_mode=True).sum().backward()          # all four 2×2 windows hold the 9
    np.testing.assert_array_equal(x.grad.detach().numpy()[0, 0], [[0, 0, 0], [0, 4, 0], [0, 0, 0]])


def test_avg_pool2d_ceil_mode_divisors_are_torchs(engine):
    ones = mt.ones(1, 1, 5, 5)
    # windows start at -1, 1, 3; the last one's rows 3..5 are cut to the padded input (3 rows) but
    # hold only rows 3, 4 of the input: 2·2 ones / (3·3) in the corner
    included = F.avg_pool2d(ones, 3, 2, 1, ceil_mode=True).detach().numpy()[0, 0]
    np.testing.assert_allclose(included, np.outer([2, 3, 2], [2, 3, 2]) / 9.0)
    np.testing.assert_array_equal(F.avg_pool2d(ones, 3, 2, 1, ceil_mode=True, count_include_pad=False).detach().numpy(),
                                  np.ones((1, 1, 3, 3)))
    np.testing.assert_array_equal(F.avg_pool2d(ones, 3, 2, 1, True, True, -2).detach().numpy()[0, 0],
                                  -np.outer([2, 3, 2], [2, 3, 2]) / 2.0)
    # a window reaching past the padded input: 2 × 2 input, kernel 4, stride 3, ceil_mode
    x = mt.tensor(np.arange(4.0).reshape(1, 1, 2, 2))
    assert F.avg_pool2d(x, 4, 3, ceil_mode=True).item() == 1.5
    assert F.max_pool2d(x, 4, 3, ceil_mode=True).item() == 3.0


def test_integer_avg_pool_truncates_toward_zero(engine):
    x = mt.tensor(np.array([[[[-3, -4, 5], [1, 2, 7]]]]))
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, ceil_mode=True).detach().numpy(), [[[[-1, 6]]]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2, ceil_mode=True, divisor_override=-3).numpy(), [[[[1, -4]]]])


def test_the_1d_pools_index_along_the_length(engine):
    x = mt.tensor(np.array([[[1.0, 7.0, 2.0, 8.0, 3.0]]]))
    out, indices = F.max_pool1d(x, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), [[[7.0, 8.0, 3.0]]])
    np.testing.assert_array_equal(indices.detach().numpy(), [[[1, 3, 4]]])
    np.testing.assert_allclose(F.avg_pool1d(x, 2, ceil_mode=True, count_include_pad=False).detach().numpy(),
                               [[[4.0, 5.0, 3.0]]])
    assert F.max_pool1d(x[0], 2).shape == (1, 2)


def test_a_window_of_only_padding_is_refused_in_the_backward(engine):
    """Width 2, kernel 2, padding 1, dilation 3: the one window's taps are columns -1 and 2, both
    padding.  torch returns -inf with an index outside the window, and its backward writes out of
    bounds (it crashes); the forward here is torch's, the backward refuses."""
    x = mt.randn(1, 1, 2, 2, requires_grad=True)
    out, indices = F.max_pool2d(x, 2, 1, 1, 3, return_indices=True)
    assert np.isneginf(out.detach().numpy()).all() and indices.item() == 6
    with pytest.raises(RuntimeError, match="MaxPool2dWithIndices backward: a window holds only padding"):
        out.sum().backward()


def test_unbatched_and_empty_batches(engine):
    x = mt.randn(3, 7, 7)
    out, indices = F.max_pool2d(x, 3, 2, 1, 2, True, True)
    assert out.shape == indices.shape == (3, 3, 3)
    np.testing.assert_array_equal(out.numpy(), F.max_pool2d(x.unsqueeze(0), 3, 2, 1, 2, True).numpy()[0])
    empty = mt.zeros(0, 3, 7, 7, requires_grad=True)
    out, indices = F.max_pool2d(empty, 3, 2, 1, ceil_mode=True, return_indices=True)
    assert out.shape == indices.shape == (0, 3, 4, 4)
    out.sum().backward()
    assert empty.grad.shape == (0, 3, 7, 7)
    assert F.avg_pool2d(empty, 3, 2, 1, ceil_mode=True, divisor_override=2).shape == (0, 3, 4, 4)
    assert F.adaptive_max_pool2d(empty, 2).shape == (0, 3, 2, 2)
    assert F.adaptive_max_pool2d(x, 0).shape == (3, 0, 0)


def test_return_indices_leaves_the_default_path_and_values_alone(engine):
    x = mt.tensor(np.random.default_rng(0).standard_normal((2, 3, 8, 8)), requires_grad=True)
    plain = F.max_pool2d(x, 2)
    assert plain.grad_fn.__name__ == "MaxPool2d"          # the core/fast Function, as before
    out, _ = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), plain.detach().numpy())
    plain.sum().backward()
    expected, x.grad = x.grad.detach().numpy().copy(), None
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.detach().numpy(), expected)


@pytest.mark.parametrize("call", [
    lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2, ceil_mode=True),
    lambda x: F.max_pool2d(x, (3, 2), (1, 2), (1, 0), (2, 3), True),
    lambda x: F.max_pool2d(x[0], 3, 2, 1, 2, True),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda x: F.avg_pool2d(x, (2, 3), 2, (1, 1), False, True, -3),
    lambda x: F.max_pool1d(x[0], 3, 2, 1, 2, True),
    lambda x: F.avg_pool1d(x[0], 3, 2, 1, True, False),
    lambda x: F.adaptive_max_pool2d(x, (4, 3)),
    lambda x: F.adaptive_max_pool2d(x, 5),
])
def test_gradcheck_float64(engine, distinct_values, rng, call):
    x = mt.tensor(distinct_values((2, 3, 7, 6), rng), requires_grad=True)
    assert mt.gradcheck(call, [x])


@pytest.mark.parametrize("call,error,message", [
    (lambda x: F.max_pool2d(x, 2, 1, 2), ValueError, r"max_pool2d: padding .* at most half"),
    (lambda x: F.max_pool2d(x, 3, 2, 2, dilation=2), ValueError, r"max_pool2d: padding .* at most half"),
    (lambda x: F.max_pool2d(x, 8, dilation=2), ValueError, r"max_pool2d: output size .* too small"),
    (lambda x: F.max_pool2d(x, 3, dilation=0), ValueError, r"max_pool2d: dilation must be positive"),
    (lambda x: F.max_pool2d(x, 3, dilation=(1, 2, 3)), ValueError, r"max_pool2d: dilation"),
    (lambda x: F.max_pool2d(x, 2, ceil_mode=1), TypeError, r"max_pool2d: ceil_mode must be bool"),
    (lambda x: F.max_pool2d(x.int(), 2, ceil_mode=True), None, None),
    (lambda x: F.max_pool2d(x > 0, 2, ceil_mode=True), TypeError, r"max_pool2d: not implemented for dtype bool"),
    (lambda x: F.max_pool2d(x[0, 0], 2, ceil_mode=True), ValueError, r"max_pool2d: expected a 3-D"),
    (lambda x: F.max_pool2d(x[:, :0], 2, ceil_mode=True), ValueError, r"max_pool2d: expected non-zero channels"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), ValueError, r"avg_pool2d: divisor_override must not be zero"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=1.5), TypeError, r"avg_pool2d: divisor_override must be an int"),
    (lambda x: F.avg_pool2d(x, 8, ceil_mode=True), None, None),       # one window, cut to the input
    (lambda x: F.avg_pool2d(x, 8, divisor_override=2), ValueError, r"avg_pool2d: output size .* too small"),
    (lambda x: F.avg_pool2d(x.int(), 2, ceil_mode=True), TypeError, r"avg_pool2d: not implemented for dtype int32"),
    (lambda x: F.max_pool1d(x[0].long(), 2), TypeError, r"max_pool1d: not implemented for dtype int64"),
    (lambda x: F.max_pool1d(x[0], (2, 2)), ValueError, r"max_pool1d: kernel_size must be an int or a tuple of one"),
    (lambda x: F.max_pool1d(x[0], 2.0), TypeError, r"max_pool1d: kernel_size"),
    (lambda x: F.max_pool1d(x[0, 0, 0], 2), ValueError, r"max_pool1d: expected a 2-D \(C, L\)"),
    (lambda x: F.max_pool1d(x[0], 2, 1, 2), ValueError, r"max_pool1d: padding .* at most half"),
    (lambda x: F.avg_pool1d(x, 2), ValueError, r"avg_pool1d: expected a 2-D \(C, L\)"),
    (lambda x: F.avg_pool1d(x[0], 2, count_include_pad=1), TypeError, r"avg_pool1d: count_include_pad must be bool"),
    (lambda x: F.adaptive_max_pool2d(x[0, 0], 2), ValueError, r"adaptive_max_pool2d: expected a 3-D"),
    (lambda x: F.adaptive_max_pool2d(x[:, :0], 2), ValueError, r"adaptive_max_pool2d: expected a 3-D"),
    (lambda x: F.adaptive_max_pool2d(x, -1), ValueError, r"adaptive_max_pool2d: output_size must be non-negative"),
    (lambda x: F.adaptive_max_pool2d(x, (1, 2, 3)), ValueError, r"adaptive_max_pool2d: output_size"),
    (lambda x: F.adaptive_max_pool2d(x.requires_grad_(), (0, 2)).sum().backward(), RuntimeError,
     r"AdaptiveMaxPool2d backward: expects a gradient with non-zero channels, height and width"),
    (lambda x: F.adaptive_max_pool2d(x.long(), 2), TypeError, r"adaptive_max_pool2d: not implemented for dtype int64"),
    (lambda x: nn.MaxPool2d(2, 1, 2, ceil_mode=True)(x), ValueError, r"MaxPool2d\(kernel_size=2\).*padding"),
    (lambda x: nn.AdaptiveMaxPool2d(2)(x.long()), TypeError, r"AdaptiveMaxPool2d\(output_size=2\).*int64"),
])
def test_refusals_name_the_op_and_what_it_got(engine, call, error, message):
    """torch refuses each of these too (its NotImplementedError for dtypes is a TypeError here,
    like the rest of this engine's dtype refusals); None: torch accepts it, so do we."""
    x = mt.randn(2, 3, 5, 5)
    if error is None:
        call(x)
        return
    with pytest.raises(error, match=message):
        call(x)


def test_the_layers_run_torchs_features(engine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 9, 8))
    for make in [lambda lib: lib.MaxPool2d(3, 2, 1, 2, True, True), lambda lib: lib.MaxPool1d(3, 2, 1, 2, True, True),
                 lambda lib: lib.AvgPool1d(3, 2, 1, True, False), lambda lib: lib.AvgPool2d(3, 2, 1, True, False, 4),
                 lambda lib: lib.AdaptiveMaxPool2d((4, None), True)]:
        data = x[0] if isinstance(make(nn), (nn.MaxPool1d, nn.AvgPool1d)) else x
        ours, theirs = make(nn)(mt.tensor(data)), make(torch.nn)(torch.tensor(data))
        as_tuple = lambda out: out if isinstance(out, tuple) else (out,)  # noqa: E731
        for mine, expected in zip(as_tuple(ours), as_tuple(theirs)):
            np.testing.assert_allclose(mine.detach().numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-12)
            assert mine.dtype == expected.detach().numpy().dtype
