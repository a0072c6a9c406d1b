"""F.interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area; size,
scale_factor, recompute_scale_factor, align_corners), F.max_unpool2d and their layers (Upsample, UpsamplingNearest2d,
UpsamplingBilinear2d, MaxUnpool2d): core/resample.py and core/unpool.py through ops/resample.py
and ops/unpool.py.

Held to mt.gradcheck in float64 (no torch needed), and to torch over seeded random grids: values
and input gradients, float64 at rtol = atol = 1e-10 (summation order only), float32 at
rtol 1e-5 and atol max(1e-6, 1e-5 · max|expected|); nearest's chosen pixels exactly.  The calls off the happy path
(float16, integers, empty batches, NaN, wrong types and shapes) give torch's result or an error
of torch's kind that names the op.  Every test runs with the fast paths on and off (`engine`).
"""
import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.nn import functional as F

from _optional import needs_torch, torch

F64 = dict(rtol=1e-10, atol=1e-10)
F32 = dict(rtol=1e-5, atol=1e-6)
KINDS = (NotImplementedError, TypeError, ValueError, RuntimeError)


@pytest.fixture(params=[True, False], ids=["fast", "core"])
def engine(request):
    with mt.backends.fast.flags(enabled=request.param):
        yield request.param


def _kind(exc):
    return next(kind for kind in KINDS if isinstance(exc, kind))


def _run(fn, lib, *args):
    try:
        return fn(lib, *args), None
    except KINDS as exc:
        return None, exc


def _random_call(rng, i):
    """One interpolate call: (input shape, keyword arguments)."""
    mode = ["nearest", "bilinear", "linear", "nearest-exact", "area", "bicubic", "trilinear"][i % 7]
    axes = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, [1, 2, 2, 3][i % 4])
    if mode == "area":
        axes = min(axes, 2)
    spatial = tuple(int(v) for v in rng.integers(1, 8 if axes < 3 else 5, axes))
    kwargs = dict(mode=mode)
    if i % 2:
        kwargs["size"] = tuple(int(v) for v in rng.integers(1, 13, len(spatial)))
        if i % 7 == 1:
            kwargs["size"] = kwargs["size"][0]
    else:
        factors = tuple(float(v) for v in np.round(rng.uniform(0.25, 3.5, len(spatial)), 3))
        kwargs["scale_factor"] = factors if i % 4 else factors[0]
        kwargs["recompute_scale_factor"] = [None, True, False][i % 3]
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kwargs["align_corners"] = bool(rng.integers(2))
    return (int(rng.integers(0, 3)), int(rng.integers(1, 3))) + spatial, kwargs


def _normwise(tolerance, expected):
    """float32: atol grows with the result's largest magnitude (summation order in a sum of
    terms of both signs, as bicubic's, rounds relative to the terms, not to the result)."""
    if tolerance is F32 and expected.size:
        finite = np.abs(expected[np.isfinite(expected)])
        return dict(rtol=F32["rtol"], atol=max(F32["atol"], F32["rtol"] * float(finite.max(initial=0))))
    return tolerance


def _torch_departs(shape, kwargs):
    """Where torch's 1-D nearest backward is not its forward's (see
    test_nearest_1d_gradient_is_its_forwards_adjoint_where_torchs_is_not): a 3-D input, a
    scale_factor kept for the kernel, and out == in or out == 2·in."""
    if kwargs["mode"] != "nearest" or len(shape) != 3 or "scale_factor" not in kwargs \
            or kwargs.get("recompute_scale_factor"):
        factor = None
    else:
        factor = kwargs["scale_factor"][0] if isinstance(kwargs["scale_factor"], tuple) else kwargs["scale_factor"]
    return factor is not None and int(shape[-1] * factor) in (shape[-1], 2 * shape[-1])


def _compare(fn, x_array, rng, tolerance, grads=True):
    """fn(lib, x) in both libraries: the same refusal kind (ours naming the op), or the same
    values and (grads) input gradient.  Returns "refused" or "compared"."""
    ours_x = mt.tensor(x_array, requires_grad=x_array.dtype.kind == "f")
    theirs_x = torch.tensor(x_array, requires_grad=x_array.dtype.kind == "f")
    ours, our_error = _run(fn, F, ours_x)
    theirs, their_error = _run(fn, torch.nn.functional, theirs_x)
    assert (our_error is None) == (their_error is None), f"torch: {their_error!r}, here: {our_error!r}"
    if our_error is not None:
        assert _kind(our_error) is _kind(their_error), f"torch: {their_error!r}, here: {our_error!r}"
        assert str(our_error).startswith(("interpolate", "max_unpool2d", "max_unpool1d")), our_error
        return "refused"
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    np.testing.assert_allclose(ours.detach().numpy(), expected, equal_nan=True, **_normwise(tolerance, expected))
    if grads and x_array.dtype.kind == "f":
        cotangent = rng.standard_normal(expected.shape).astype(x_array.dtype)
        try:
            ours.backward(mt.tensor(cotangent))
        except RuntimeError:        # then torch must refuse it too (area's empty output)
            with pytest.raises(RuntimeError):
                theirs.backward(torch.tensor(cotangent))
            return "backward refused"
        theirs.backward(torch.tensor(cotangent))
        expected = theirs_x.grad.numpy()
        np.testing.assert_allclose(ours_x.grad.numpy(), expected, **_normwise(tolerance, expected))
    return "compared"


# ---------------------------------------------------------------- gradient checks (torch-free)

GRAD_CALLS = [
    lambda F, x: F.interpolate(x, scale_factor=2),
    lambda F, x: F.interpolate(x, size=(3, 7)),
    lambda F, x: F.interpolate(x, scale_factor=(0.6, 1.7)),
    lambda F, x: F.interpolate(x, scale_factor=1.3, recompute_scale_factor=True),
    lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear"),
    lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True),
    lambda F, x: F.interpolate(x, size=(2, 9), mode="bilinear"),
    lambda F, x: F.interpolate(x, size=(7, 1), mode="bilinear", align_corners=True),
    lambda F, x: F.interpolate(x, scale_factor=(0.5, 1.45), mode="bilinear"),
    lambda F, x: F.interpolate(x[:, :, 0], size=9, mode="linear", align_corners=True),
    lambda F, x: F.interpolate(x[:, :, 1], scale_factor=1.6, mode="linear"),
    lambda F, x: F.interpolate(x[:, :, 2], size=3),
    lambda F, x: F.interpolate(x, scale_factor=(1.5, 0.75), mode="nearest-exact"),
    lambda F, x: F.interpolate(x, size=(3, 2), mode="area"),
    lambda F, x: F.interpolate(x, size=(6, 4), mode="bicubic"),
    lambda F, x: F.interpolate(x, scale_factor=1.7, mode="bicubic", align_corners=True),
    lambda F, x: F.interpolate(x.reshape(1, 2, 2, 4, 5), size=(3, 5, 2), mode="trilinear"),
    lambda F, x: F.interpolate(x.reshape(1, 2, 2, 4, 5), scale_factor=1.5),
]


@pytest.mark.parametrize("call", range(len(GRAD_CALLS)))
def test_interpolate_gradcheck_float64(engine, grad_check, rng, call):
    grad_check(GRAD_CALLS[call], rng.standard_normal((2, 2, 4, 5)))


@pytest.mark.parametrize("kernel, stride, padding, output_size", [
    (2, None, 0, (7, 7)), (3, 3, 1, None), ((2, 3), (2, 3), (1, 0), (7, 7)), (2, 2, 0, [2, 3, 7, 7]),
    (2, (2, 3), (1, 1), (7, 8))])
def test_max_unpool2d_gradcheck_float64(engine, grad_check, rng, distinct_values, kernel, stride, padding,
                                        output_size):
    """Windows that do not overlap: two equal indices would make the forward keep one value while
    the backward (a gather, as torch's) reads the gradient for both, which no finite difference sees."""
    x = mt.tensor(distinct_values((2, 3, 7, 7), rng))
    values, indices = F.max_pool2d(x, kernel, stride, padding, return_indices=True)
    grad_check(lambda F, v: F.max_unpool2d(v, indices, kernel, stride, padding, output_size),
               values.numpy().copy())


def test_max_unpool1d_gradcheck_float64(engine, grad_check, rng, distinct_values):
    x = mt.tensor(distinct_values((2, 3, 9), rng))
    values, indices = F.max_pool1d(x, 3, 3, 1, return_indices=True)
    grad_check(lambda F, v: F.max_unpool1d(v, indices, 3, 3, 1, (9,)), values.numpy().copy())


# ---------------------------------------------------------------- worked cases (torch-free)

def test_nearest_copies_and_its_gradient_adds_up(engine):
    x = mt.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    out = F.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4],
                                                               [3, 3, 4, 4]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 2, 2), 4.0))


def test_bilinear_weights_both_ways_of_aligning(engine):
    x = mt.tensor([[[[0.0, 3.0]]]], requires_grad=True)
    corners = F.interpolate(x, size=(1, 4), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(corners.detach().numpy()[0, 0, 0], [0, 1, 2, 3])
    centres = F.interpolate(x, size=(1, 4), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(centres.detach().numpy()[0, 0, 0], [0, 0.75, 2.25, 3])   # s = 0, .25, .75, 1
    centres.backward(mt.tensor([[[[1.0, 1.0, 1.0, 1.0]]]]))
    np.testing.assert_allclose(x.grad.numpy()[0, 0, 0], [2, 2])                        # 1 + .75 + .25, mirrored


def test_unpool_puts_each_maximum_back(engine):
    x = mt.tensor([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 6.0]]]])
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    out = nn.MaxUnpool2d(2)(values, indices)
    np.testing.assert_array_equal(out.numpy()[0, 0], [[0, 5, 0, 0], [0, 0, 8, 0]])


def test_modules_print_and_hold_no_state():
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert repr(nn.UpsamplingNearest2d(size=(3, 4))) == "UpsamplingNearest2d(size=(3, 4), mode='nearest')"
    assert nn.UpsamplingBilinear2d(scale_factor=2).align_corners is True
    assert repr(nn.MaxUnpool2d(3, 2)) == "MaxUnpool2d(kernel_size=(3, 3), stride=(2, 2), padding=(0, 0))"
    assert repr(nn.MaxUnpool1d(3)) == "MaxUnpool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert all(not m.state_dict() for m in (nn.Upsample(size=2), nn.MaxUnpool2d(2)))


# ---------------------------------------------------------------- parity with torch

@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolate_matches_torch_over_a_random_grid(engine, dtype):
    rng = np.random.default_rng(23)
    outcomes = []
    for i in range(210):
        shape, kwargs = _random_call(rng, i)
        x = rng.standard_normal(shape).astype(dtype)
        outcomes.append(_compare(lambda lib, t, kw=kwargs: lib.interpolate(t, **kw), x, rng,
                                 F64 if dtype == np.float64 else F32, grads=not _torch_departs(shape, kwargs)))
    assert outcomes.count("compared") > 150


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest_picks_torchs_pixels_for_every_size_and_scale(dtype, dims, mode):
    """index = min(⌊o · r⌋, in − 1): the same pixel as torch's, exactly, for every in × out size
    pair up to 40 and many scale factors, along the width of a 3-D input (torch's 1-D kernel: r in
    the input's dtype, no shortcut) and along both axes of a 4-D one (r in float32, out == in and
    out == 2·in taken exactly); nearest-exact's ⌊(o + ½) · r⌋ likewise, with no shortcut."""
    def both(x, **kwargs):
        ours = F.interpolate(mt.tensor(x), mode=mode, **kwargs).numpy()
        theirs = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kwargs).numpy()
        np.testing.assert_array_equal(ours, theirs)
    for size_in in range(1, 41):
        x = np.arange(size_in, dtype=dtype).reshape((1, 1) + (1,) * (dims - 1) + (size_in,))
        for size_out in range(1, 41):
            both(x if dims == 1 else x.swapaxes(2, 3), size=size_out if dims == 1 else (size_out, 1))
            if dims == 2:
                both(x, size=(1, size_out))
        for scale in (0.3, 0.7, 1.1, 1.3, 1.7, 2.1, 2.5, 2.9, 3.3, 1 / 3, 2 / 3, 3 / 7):
            if size_in * scale >= 1:
                both(x, scale_factor=scale if dims == 1 else (1.0, scale))
                if dims == 2:
                    both(x.swapaxes(2, 3), scale_factor=(scale, 1.5))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_unpool2d_matches_torch_over_a_random_grid(engine, dtype):
    rng = np.random.default_rng(5)
    for i in range(40):
        kernel = tuple(int(k) for k in rng.integers(1, 4, 2))
        stride = tuple(int(s) for s in rng.integers(1, 4, 2))
        padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        shape = (int(rng.integers(0, 3)), 2) + tuple(int(v) for v in rng.integers(3, 9, 2))
        x = torch.tensor(rng.standard_normal(shape).astype(dtype))
        values, indices = torch.nn.functional.max_pool2d(x, kernel, stride, padding, return_indices=True)
        default = [(n - 1) * s + k - 2 * p for n, k, s, p in zip(values.shape[2:], kernel, stride, padding)]
        output_size = [None, tuple(d + int(rng.integers(0, s)) for d, s in zip(default, stride))][i % 2]
        if i % 3 == 0:
            values, indices = values[0] if len(values) else values, indices[0] if len(indices) else indices
        ours_indices = mt.tensor(indices.numpy())
        def fn(lib, v, k=kernel, s=stride, p=padding, size=output_size, ind=indices, ours=ours_indices):
            return lib.max_unpool2d(v, ind if lib is torch.nn.functional else ours, k, s, p, size)
        _compare(fn, values.numpy(), rng, F64 if dtype == np.float64 else F32)


@needs_torch
def test_max_unpool1d_matches_torch_over_a_random_grid(engine):
    rng = np.random.default_rng(6)
    for i in range(30):
        kernel, stride = (int(v) for v in rng.integers(1, 4, 2))
        padding = int(rng.integers(0, kernel // 2 + 1))
        x = torch.tensor(rng.standard_normal((int(rng.integers(0, 3)), 2, int(rng.integers(3, 12)))))
        values, indices = torch.nn.functional.max_pool1d(x, kernel, stride, padding, return_indices=True)
        default = (values.shape[-1] - 1) * stride + kernel - 2 * padding
        output_size = [None, (default + int(rng.integers(0, stride)),)][i % 2]
        if i % 3 == 0 and len(values):
            values, indices = values[0], indices[0]
        ours_indices = mt.tensor(indices.numpy())
        def fn(lib, v, k=kernel, s=stride, p=padding, size=output_size, ind=indices, ours=ours_indices):
            return lib.max_unpool1d(v, ind if lib is torch.nn.functional else ours, k, s, p, size)
        _compare(fn, values.numpy(), rng, F64)


@needs_torch
def test_the_layers_match_torchs(engine, rng):
    x = rng.standard_normal((2, 3, 6, 5))
    layers = [("Upsample", dict(scale_factor=1.5, mode="bilinear")),
              ("Upsample", dict(size=(4, 9), mode="bilinear", align_corners=True)),
              ("Upsample", dict(scale_factor=(2, 3))), ("UpsamplingNearest2d", dict(size=7)),
              ("UpsamplingBilinear2d", dict(scale_factor=2))]
    for name, kwargs in layers:
        ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
        assert repr(ours) == repr(theirs)
        assert ours.state_dict().keys() == theirs.state_dict().keys()
        ours.load_state_dict(theirs.state_dict())
        theirs.load_state_dict(ours.state_dict())
        _compare(lambda lib, t, o=ours, th=theirs: (o if lib is F else th)(t), x, rng, F64)
    pool_ours = nn.MaxPool2d(3, 2, 1, return_indices=True)
    pool_theirs = torch.nn.MaxPool2d(3, 2, 1, return_indices=True)
    unpool_ours, unpool_theirs = nn.MaxUnpool2d(3, 2, 1), torch.nn.MaxUnpool2d(3, 2, 1)
    assert repr(unpool_ours) == repr(unpool_theirs)
    ours_in, theirs_in = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = unpool_ours(*pool_ours(ours_in), output_size=ours_in.shape)
    theirs = unpool_theirs(*pool_theirs(theirs_in), output_size=theirs_in.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **F64)
    cotangent = rng.standard_normal(x.shape)
    ours.backward(mt.tensor(cotangent))
    theirs.backward(torch.tensor(cotangent))
    np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), **F64)


# ---------------------------------------------------------------- off the happy path, vs torch

OFF_PATH = [
    # dtypes: float16 through float32, uint8 nearest copies, the rest refused
    ("float16", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=1.5)),
    ("float16", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=(7, 3), mode="bilinear")),
    ("uint8", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=(7, 3))),
    ("int64", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=2)),
    ("int32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear")),
    ("bool", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=2)),
    ("float16", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x.float(), 1, return_indices=True)[1], 2)),
    # empty batch: an empty result; no channels or no pixels: refused
    ("float32", (0, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear")),
    ("float32", (0, 3, 4), lambda F, x: F.interpolate(x, size=6)),
    ("float32", (2, 0, 4, 5), lambda F, x: F.interpolate(x, scale_factor=2)),
    ("float32", (2, 3, 0, 5), lambda F, x: F.interpolate(x, size=(3, 3))),
    ("float32", (0, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2)),
    # sizes and factors
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=(0, 3))),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=0.1)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=-1.0)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=float("nan"))),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=(2.0, 3))),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=2.0)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size="2")),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor="2")),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=(2, 2, 2))),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, scale_factor=(2, 2, 2))),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, 3, 2)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, 3, None, "bilinear", True)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=3, recompute_scale_factor=True)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, None, 1.7, "nearest", None, True)),
    ("float32", (2, 3, 5, 5), lambda F, x: F.interpolate(x, scale_factor=1.1)),   # out == in: the identity
    ("float32", (2, 3, 5, 5), lambda F, x: F.interpolate(x, scale_factor=1.1, mode="bilinear")),
    ("forward", (2, 3, 5), lambda F, x: F.interpolate(x, scale_factor=1.1)),      # not for 1-D nearest
    ("forward", (2, 3, 5), lambda F, x: F.interpolate(x, scale_factor=2.1)),
    ("float32", (2, 3, 5), lambda F, x: F.interpolate(x, scale_factor=1.1, mode="linear")),
    ("uint8", (2, 3, 5), lambda F, x: F.interpolate(x, scale_factor=2.1)),
    # modes, align_corners, antialias and dims
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=3, align_corners=False)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=3, mode="bilinear", align_corners=1)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=3, antialias=True)),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=3, mode="linear")),
    ("float32", (2, 3, 4), lambda F, x: F.interpolate(x, size=3, mode="bilinear")),
    ("float32", (2, 3, 4, 5), lambda F, x: F.interpolate(x, size=3, mode="cubic")),
    ("float32", (3, 4), lambda F, x: F.interpolate(x, size=3)),
    # NaN: nearest copies it, bilinear spreads it to every output that reads it
    ("nan", (1, 2, 4, 5), lambda F, x: F.interpolate(x, scale_factor=1.7)),
    ("nan", (1, 2, 4, 5), lambda F, x: F.interpolate(x, size=(6, 9), mode="bilinear")),
    ("nan", (1, 2, 4, 5), lambda F, x: F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)),
    # max_unpool2d's checks
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1].int(), 2)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1][:, :1], 2)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1] + 100, 2)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1] - 1, 2)),
    ("float32", (3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2)),
    ("float32", (2, 0, 2, 2), lambda F, x: F.max_unpool2d(x, x.long(), 2)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2,
                                                          output_size=(2, 3, 5, 5))),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2,
                                                          output_size=(3, 5, 5))),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2,
                                                          output_size=(6, 5))),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2, 2, 5)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 3, 2, 1)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x, 1, return_indices=True)[1], 2.0)),
    ("int64", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, F.max_pool2d(x.float(), 1, return_indices=True)[1], 2)),
    ("float32", (2, 3, 2, 2), lambda F, x: F.max_unpool2d(x, x, 2)),
]


@needs_torch
@pytest.mark.parametrize("case", range(len(OFF_PATH)))
def test_off_the_happy_path_as_torch(engine, case):
    kind, shape, fn = OFF_PATH[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape)
    if kind == "nan":
        x[rng.random(shape) < 0.2] = np.nan
    x = (x * 50).astype(kind) if kind not in ("nan", "forward", "float16", "float32") else x.astype(
        {"nan": np.float64, "forward": np.float32}.get(kind, kind))
    tolerance = dict(rtol=1e-3, atol=1e-3) if kind == "float16" else F32
    if kind in ("nan", "forward"):   # NaN: the gradient carries NaN too; "forward": see the next test
        ours, theirs = fn(F, mt.tensor(x)), fn(torch.nn.functional, torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), equal_nan=True, **F64)
        return
    _compare(fn, x, rng, tolerance)


@needs_torch
@pytest.mark.parametrize("scale", [1.1, 2.1])
def test_nearest_1d_gradient_is_its_forwards_adjoint_where_torchs_is_not(scale):
    """torch's 1-D nearest forward reads pixel ⌊o · r⌋ (r = 1/scale) even where out == in or
    out == 2·in; its backward takes the 2-D kernel's shortcuts there (the identity, o // 2), so
    its gradient is not its forward's.  Ours is the forward's adjoint: each pixel collects the
    gradients of the outputs that copied it (the forward itself matches torch's, above)."""
    x = np.arange(5.0).reshape(1, 1, 5)
    ours_x = mt.tensor(x, requires_grad=True)
    out = F.interpolate(ours_x, scale_factor=scale)
    np.testing.assert_array_equal(out.detach().numpy(),
                                  torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale).numpy())
    g = np.arange(1.0, out.shape[-1] + 1).reshape(out.shape)
    out.backward(mt.tensor(g))
    expected = np.zeros(5)
    np.add.at(expected, out.detach().numpy().astype(int).ravel(), g.ravel())   # out holds the pixel's index
    np.testing.assert_array_equal(ours_x.grad.numpy().ravel(), expected)
    theirs_x = torch.tensor(x, requires_grad=True)
    torch.nn.functional.interpolate(theirs_x, scale_factor=scale).backward(torch.tensor(g))
    assert not np.array_equal(theirs_x.grad.numpy().ravel(), expected)      # torch's departure, pinned


def test_the_layers_name_themselves_in_errors():
    with pytest.raises(RuntimeError, match=r"^Upsample\(size=\(0, 2\), mode='nearest'\): interpolate: "):
        nn.Upsample(size=(0, 2))(mt.zeros(1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match=r"^Upsample.*interpolate: .*not built"):
        nn.Upsample(size=2, mode="area")(mt.zeros(1, 1, 2, 2, 2))
    with pytest.raises(RuntimeError, match=r"^MaxUnpool2d\(kernel_size=\(2, 2\)\): max_unpool2d: .*int64"):
        nn.MaxUnpool2d(2)(mt.zeros(1, 1, 2, 2), mt.zeros(1, 1, 2, 2))
    with pytest.raises(TypeError, match="max_unpool2d: expected indices to be a Tensor"):
        F.max_unpool2d(mt.zeros(1, 1, 2, 2), np.zeros((1, 1, 2, 2), dtype=np.int64), 2)
    with pytest.raises(TypeError, match="interpolate: expected input to be a Tensor"):
        F.interpolate(np.zeros((1, 1, 2, 2)), size=3)


def test_the_deprecated_forms_warn_and_agree(rng):
    x = mt.tensor(rng.standard_normal((1, 2, 3, 4)))
    with pytest.warns(UserWarning, match="deprecated"):
        bilinear = F.upsample_bilinear(x, scale_factor=2)
    np.testing.assert_array_equal(bilinear.numpy(), F.interpolate(x, scale_factor=2, mode="bilinear",
                                                                  align_corners=True).numpy())
    with pytest.warns(UserWarning, match="deprecated"):
        nearest = F.upsample(x, size=(5, 5))
    np.testing.assert_array_equal(nearest.numpy(), F.interpolate(x, size=(5, 5)).numpy())
