"""Padding modes (issue 23, part A): F.pad's constant, reflect, replicate and circular modes, and
nn.Conv2d's padding_mode and padding strings, against torch and finite differences.

F.pad is compared over seeded random shapes, widths (negative ones crop), dtypes and values:
the same values exactly, the same gradients, or the same error class.  One deliberate departure:
a circular border wider than the part of the input the padding keeps is refused; torch copies
that border out of its own output, refusing where it sees the overlap and otherwise filling it
from memory it has just overwritten (or never written).
"""
import itertools

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as mtF

from _optional import needs_torch, torch

MODES = ["constant", "reflect", "replicate", "circular"]


def _pad(lib, x, pad, mode, value):
    """(output, gradient of x or None), or the exception raised."""
    F = mtF if lib is mt else torch.nn.functional
    try:
        t = lib.tensor(x, requires_grad=x.dtype.kind == "f")
        y = F.pad(t, pad, mode=mode, **({} if value is None else {"value": value}))
        grad = None
        if x.dtype.kind == "f" and y.numel():
            g = (np.arange(y.numel()).reshape(tuple(y.shape)) % 7).astype(x.dtype)
            y.backward(lib.tensor(g))
            grad = np.array(t.grad.detach().numpy())
        return np.array(y.detach().numpy()), grad
    except Exception as exc:   # noqa: BLE001  (compared with what torch raised)
        return exc


def _circular_wider_than_kept(shape, pad):
    for k in range(len(pad) // 2):
        before, after, n = pad[2 * k], pad[2 * k + 1], shape[len(shape) - 1 - k]
        kept = n - max(-before, 0) - max(-after, 0)
        if n + before + after > 0 and max(before, after) > kept:
            return True
    return False


@needs_torch
@pytest.mark.parametrize("mode", MODES)
def test_pad_random_cases_match_torch(mode):
    rng = np.random.default_rng(MODES.index(mode))
    outcomes = {"same value": 0, "same error": 0, "refused, wider than kept": 0}
    for _ in range(400):
        pairs = int(rng.integers(1, 4))
        pad = tuple(int(v) for v in rng.integers(-3, 4, 2 * pairs))
        if rng.random() < 0.7:    # the inputs each mode takes: batched or not, mostly without empty dims
            shape = tuple(int(s) for s in rng.integers(0 if rng.random() < 0.1 else 1, 6,
                                                       pairs + int(rng.integers(1, 3))))
        else:
            shape = tuple(int(s) for s in rng.integers(0, 5, int(rng.integers(1, 6))))
        dtype = [np.float64, np.float32, np.float16, np.int64][int(rng.integers(0, 4))]
        x = (rng.standard_normal(shape) * 3).astype(dtype)
        value = None if rng.random() < 0.7 else float(rng.integers(-2, 3))
        ours, theirs = _pad(mt, x, pad, mode, value), _pad(torch, x, pad, mode, value)
        case = f"{mode} {shape} {dtype.__name__} pad={pad} value={value}"
        if isinstance(theirs, Exception):
            assert isinstance(ours, Exception), f"{case}: torch refuses ({theirs!r}), minitorch accepts"
            assert type(ours) is type(theirs) and "pad" in str(ours), f"{case}: {ours!r} vs torch's {theirs!r}"
            outcomes["same error"] += 1
            continue
        if isinstance(ours, Exception) and mode == "circular" and _circular_wider_than_kept(shape, pad):
            assert "wider than" in str(ours) and x.size, case
            outcomes["refused, wider than kept"] += 1
            continue
        assert not isinstance(ours, Exception), f"{case}: torch accepts, minitorch raises {ours!r}"
        (y, g), (ty, tg) = ours, theirs
        assert y.shape == ty.shape and y.dtype == ty.dtype, case
        np.testing.assert_array_equal(y, ty, err_msg=case)
        assert (g is None) == (tg is None), case
        if g is not None:
            assert g.dtype == tg.dtype, case
            np.testing.assert_array_equal(g, tg, err_msg=case)
        outcomes["same value"] += 1
    assert outcomes["same value"] > 60 and outcomes["same error"] > 50, outcomes


@needs_torch
def test_circular_padding_wider_than_the_kept_part_is_refused_as_torch_does_in_one_dim():
    for n, pad in [(4, (2, -3)), (2, (-1, 2)), (3, (3, -1))]:
        x = np.arange(float(n)).reshape(1, 1, n)
        for lib in (mt, torch):
            F = mtF if lib is mt else torch.nn.functional
            with pytest.raises(RuntimeError):
                F.pad(lib.tensor(x), pad, mode="circular")


@pytest.mark.parametrize("mode,pad", [(m, p) for m in ["reflect", "replicate", "circular"]
                                       for p in [(1, 2), (2, 0, 1, 1), (-1, 2, 1, -1), (1, 1, 0, 1, 1, 0)]]
                         + [("constant", (1, 2, -1, 0))])
def test_pad_gradcheck(grad_check, rng, mode, pad):
    shape = {2: (2, 3, 4), 4: (2, 3, 4, 3), 6: (1, 2, 3, 4, 3)}[len(pad)]
    grad_check(lambda F, x: F.pad(x, pad, mode=mode), rng.standard_normal(shape))


# ---- nn.Conv2d: padding_mode and padding strings ----------------------------------------------------

def _random_conv_layer(rng):
    mode = ["zeros", "reflect", "replicate", "circular"][int(rng.integers(0, 4))]
    groups = int(rng.integers(1, 3))
    kernel, dilation = (tuple(int(v) for v in rng.integers(1, 5, 2)), tuple(int(v) for v in rng.integers(1, 3, 2)))
    choice = rng.random()
    if choice < 0.35:
        padding, stride = "same", 1             # even kernels included: torch's odd pixel goes last
    elif choice < 0.45:
        padding, stride = "valid", tuple(int(v) for v in rng.integers(1, 3, 2))
    else:
        padding, stride = tuple(int(v) for v in rng.integers(0, 3, 2)), tuple(int(v) for v in rng.integers(1, 3, 2))
    return dict(in_channels=groups * int(rng.integers(1, 3)), out_channels=groups * int(rng.integers(1, 3)),
                kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups,
                bias=bool(rng.random() < 0.7), padding_mode=mode)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv2d_padding_modes_and_strings_match_torch(dtype):
    """Output, input, weight and bias gradients: float64 to 1e-10, float32 to 1e-5 of the largest value."""
    rng = np.random.default_rng(11 if dtype == "float64" else 12)
    tol = 1e-10 if dtype == "float64" else 1e-5
    checked = 0
    for _ in range(50):
        options = _random_conv_layer(rng)
        shape = (int(rng.integers(1, 3)), options["in_channels"], int(rng.integers(3, 8)), int(rng.integers(3, 8)))
        if rng.random() < 0.2:
            shape = shape[1:]                      # unbatched
        x = rng.standard_normal(shape).astype(dtype)
        theirs = torch.nn.Conv2d(**options, dtype=getattr(torch, dtype))
        ours = mt.nn.Conv2d(**options, dtype=getattr(mt, dtype))
        assert repr(ours) == repr(theirs)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        tx, mx = torch.tensor(x, requires_grad=True), mt.tensor(x, requires_grad=True)
        try:
            ty = theirs(tx)
        except RuntimeError:                       # e.g. reflect padding wider than the input
            # (conv2d says ValueError where the kernel outgrows the padded input: ops/conv.py's choice)
            with pytest.raises((RuntimeError, ValueError), match="Conv2d"):
                ours(mx)
            continue
        my = ours(mx)
        g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
        ty.backward(torch.tensor(g))
        my.backward(mt.tensor(g))
        pairs = [(my, ty), (mx.grad, tx.grad)] + [(p.grad, q.grad) for p, q in zip(ours.parameters(), theirs.parameters())]
        for a, b in pairs:
            a, b = a.detach().numpy(), b.detach().numpy()
            assert a.shape == b.shape and a.dtype == b.dtype, options
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * float(np.abs(b).max()), err_msg=str(options))
        checked += 1
    assert checked > 35


@pytest.mark.parametrize("mode,padding,kernel", list(itertools.product(
    ["zeros", "reflect", "replicate", "circular"], ["same", 1, (2, 1)], [(2, 3), (4, 2)])))
def test_conv2d_padding_modes_gradcheck(rng, mode, padding, kernel):
    layer = mt.nn.Conv2d(2, 3, kernel, padding=padding, padding_mode=mode, dilation=(1, 2) if padding == 1 else 1,
                         dtype=mt.float64)
    x = mt.tensor(rng.standard_normal((1, 2, 5, 6)), requires_grad=True)
    # the layer's own weight and bias: gradcheck perturbs them in place
    assert mt.gradcheck(lambda t, w, b: layer(t), (x, layer.weight, layer.bias))


def test_conv2d_same_keeps_the_size_with_even_kernels_and_the_extra_pixel_last():
    """padding="same" with kernel 2: one pixel of padding in all, after the image (torch's rule):
    output[i] = x[i]·w[0] + x[i + 1]·w[1], with x[H] = 0."""
    layer = mt.nn.Conv2d(1, 1, (1, 2), padding="same", bias=False, dtype=mt.float64)
    with mt.no_grad():
        layer.weight.copy_(mt.tensor([[[[1.0, 10.0]]]], dtype=mt.float64))
    out = layer(mt.tensor([[[[1.0, 2.0, 3.0]]]], dtype=mt.float64))
    np.testing.assert_array_equal(out.detach().numpy(), [[[[21.0, 32.0, 3.0]]]])
    reflect = mt.nn.Conv2d(1, 1, (1, 2), padding="same", bias=False, padding_mode="reflect", dtype=mt.float64)
    with mt.no_grad():
        reflect.weight.copy_(mt.tensor([[[[1.0, 10.0]]]], dtype=mt.float64))
    # reflect mirrors about the last pixel: x[3] = x[1] = 2
    np.testing.assert_array_equal(reflect(mt.tensor([[[[1.0, 2.0, 3.0]]]], dtype=mt.float64)).detach().numpy(),
                                  [[[[21.0, 32.0, 23.0]]]])


@needs_torch
def test_conv2d_constructor_refusals_as_torch():
    for kwargs in [dict(padding="same", stride=2), dict(padding="full"), dict(padding_mode="mirror")]:
        try:
            torch.nn.Conv2d(2, 3, 3, **kwargs)
        except Exception as exc:   # noqa: BLE001
            kind = type(exc)
        else:
            raise AssertionError(f"torch accepts {kwargs}")
        with pytest.raises(kind, match="Conv2d"):
            mt.nn.Conv2d(2, 3, 3, **kwargs)
