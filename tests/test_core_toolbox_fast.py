"""core/conv_transpose.py and core/fold.py against their fast replacements (fast/conv_transpose.py,
fast/fold.py), torch-free.

1. Through the public F.conv_transpose2d, F.unfold and F.fold in both modes (float64, every input
   requiring grad) over a seeded random grid of stride, padding, output_padding, dilation, groups
   and kernel sizes: the values and every gradient agree to 1e-12; float32 to ~1e-5.  Then each
   subset of requested gradients, inference, non-contiguous inputs, and the inputs `choose` sends
   to the fast Function in both modes (float16, int64, bool, empty batches): the core's results
   (exactly where the core's and the fast code make the same additions in the same order).
2. The CUDA path through the host emulation of tests/test_kernels_host.py: kernels/im2col.cu
   compiled for the CPU, fast/conv.py's im2col/col2im swapped for the launch wrappers, so the fast
   Functions run their GPU code (both column layouts of the forward's GEMM, the batch folded into
   the channels for unfold/fold) and are held to the core to 1e-12.
"""
import types

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.backends import fast
from minitorch_cnn.core import conv as core_conv
from minitorch_cnn.core import conv_transpose as core_ct
from minitorch_cnn.core import fold as core_fold
from minitorch_cnn.cuda import kernels, loader
from minitorch_cnn.fast import conv as fast_conv
from minitorch_cnn.fast import conv_transpose as fast_ct
from minitorch_cnn.fast import fold as fast_fold
from minitorch_cnn.nn import functional as F
from _modes import TOL, assert_same_run
from host_emulation.build import build_host_module, gxx, poisoned_empty


def transpose_case(seed, max_hw=5):
    """A valid conv_transpose2d problem: (x shape, w shape, bias?, hyper-parameters), per-axis values;
    output_padding up to max(stride, dilation) − 1, so some cases have output_padding ≥ stride."""
    rng = np.random.default_rng(seed)
    while True:
        groups = int(rng.integers(1, 4))
        k, s, d = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
        p = tuple(int(v) for v in rng.integers(0, 4, 2))
        op = tuple(int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d))
        hw = tuple(int(v) for v in rng.integers(1, max_hw + 1, 2))
        out = [(n - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o + 1 for n, k_, s_, p_, o, d_ in zip(hw, k, s, p, op, d)]
        if min(out) >= 1:
            in_c, per_group = groups * int(rng.integers(1, 3)), int(rng.integers(1, 4))
            params = dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d)
            return (int(rng.integers(1, 4)), in_c) + hw, (in_c, per_group) + k, bool(seed % 3), params


def fold_case(seed):
    """(x shape, kernel, dilation, padding, stride) with at least one window."""
    rng = np.random.default_rng(500 + seed)
    while True:
        k, d, s = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        hw = tuple(int(v) for v in rng.integers(1, 8, 2))
        if all(n + 2 * p_ >= d_ * (k_ - 1) + 1 for n, p_, d_, k_ in zip(hw, p, d, k)):
            return (int(rng.integers(1, 4)), int(rng.integers(1, 4))) + hw, k, d, p, s


def run(fn, arrays, enabled, requires_grad=None, seed=1):
    """out array, grad_fn, and each input's gradient (None where not asked) in one mode."""
    requires_grad = requires_grad or [a is not None for a in arrays]
    tensors = [None if a is None else mt.tensor(a, requires_grad=rg) for a, rg in zip(arrays, requires_grad)]
    with fast.flags(enabled=enabled):
        out = fn(*tensors)
        if out.requires_grad:
            grad = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
            out.backward(mt.tensor(grad))
    grads = [None if t is None or t.grad is None else t.grad.array for t in tensors]
    return out.array, out.grad_fn, grads


def assert_both_modes_agree(fn, arrays, core_class, fast_class, requires_grad=None, tol=TOL):
    core = run(fn, arrays, False, requires_grad)
    faster = run(fn, arrays, True, requires_grad)
    if core[0].size:   # an empty input keeps the fast Function in both modes
        assert core[1] is (core_class if any(requires_grad or [True]) else None)
    assert faster[1] is (fast_class if any(requires_grad or [True]) else None)
    assert_same_run(core[0], core[2], faster[0], faster[2], tol)
    return core, faster


def transpose_arrays(seed, dtype=np.float64):
    x_shape, w_shape, bias, params = transpose_case(seed)
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[1] * params["groups"]).astype(dtype) if bias else None
    return x, w, b, params


# ---- 1. fast equals core ----------------------------------------------------------------------

def test_the_replacements_are_registered():
    replaced = fast.replacements()
    assert replaced[core_ct.ConvTranspose2d] is fast_ct.ConvTranspose2d
    assert replaced[core_fold.Unfold] is fast_fold.Unfold and replaced[core_fold.Fold] is fast_fold.Fold


def test_the_random_grid_reaches_every_branch():
    cases = [transpose_case(seed) for seed in range(60)]
    assert any(op >= s for *_, p in cases for op, s in zip(p["output_padding"], p["stride"]))
    assert {p["groups"] for *_, p in cases} == {1, 2, 3}
    assert any(min(p["dilation"]) > 1 and max(p["padding"]) > 1 for *_, p in cases)


@pytest.mark.parametrize("seed", range(60))
def test_conv_transpose2d_fast_is_the_core(seed):
    x, w, b, params = transpose_arrays(seed)
    assert_both_modes_agree(lambda x, w, b: F.conv_transpose2d(x, w, b, **params), [x, w, b],
                            core_ct.ConvTranspose2d, fast_ct.ConvTranspose2d)


@pytest.mark.parametrize("wanted", [(True, False, False), (False, True, False), (False, False, True),
                                    (True, True, False), (False, False, False)])
@pytest.mark.parametrize("seed", range(0, 60, 7))
def test_conv_transpose2d_each_subset_of_gradients(seed, wanted):
    x, w, _, params = transpose_arrays(seed)
    b = np.random.default_rng(seed).standard_normal(w.shape[1] * params["groups"])
    assert_both_modes_agree(lambda x, w, b: F.conv_transpose2d(x, w, b, **params), [x, w, b],
                            core_ct.ConvTranspose2d, fast_ct.ConvTranspose2d, requires_grad=list(wanted))


@pytest.mark.parametrize("seed", range(8))
def test_conv_transpose2d_float32_and_strided_inputs(seed):
    x, w, b, params = transpose_arrays(seed, np.float32)
    x = np.ascontiguousarray(np.swapaxes(x, 2, 3)).swapaxes(2, 3)    # a transposed view, x's values
    core = run(lambda x, w, b: F.conv_transpose2d(x, w, b, **params), [x, w, b], False)
    faster = run(lambda x, w, b: F.conv_transpose2d(x, w, b, **params), [x, w, b], True)
    for a, f in zip([core[0]] + core[2], [faster[0]] + faster[2]):
        if a is not None:
            assert a.dtype == f.dtype == np.float32
            np.testing.assert_allclose(f, a, rtol=1e-5, atol=1e-4)


def test_the_autoencoder_decoder_layers():
    """The shapes tools/time_tricks.py times: 32→16 and 16→1 channels, stride 2, output_padding 1."""
    rng = np.random.default_rng(3)
    for in_c, out_c, hw in ((32, 16, 7), (16, 1, 14)):
        x, w = rng.standard_normal((4, in_c, hw, hw)), rng.standard_normal((in_c, out_c, 3, 3))
        b = rng.standard_normal(out_c)
        assert_both_modes_agree(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), [x, w, b],
                                core_ct.ConvTranspose2d, fast_ct.ConvTranspose2d)


def apply_both(core_class, fast_class, arrays, params, grad_seed=2):
    """core_class.apply and fast_class.apply on the same inputs (any dtype, no switch, no API):
    out and the gradients of the floating inputs."""
    results = []
    for cls in (core_class, fast_class):
        tensors = [None if a is None else mt.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = cls.apply(*tensors, **params)
        grads = []
        if out.requires_grad:
            g = np.random.default_rng(grad_seed).standard_normal(out.shape).astype(out.dtype)
            out.backward(mt.tensor(g))
            grads = [t.grad.array for t in tensors if t is not None and t.requires_grad]
        results.append((out.array, grads))
    return results


def test_conv_transpose2d_int64_runs_the_cores_code_exactly():
    rng = np.random.default_rng(4)
    for seed in range(10):
        x_shape, w_shape, bias, params = transpose_case(seed)
        x, w = rng.integers(-5, 5, x_shape), rng.integers(-3, 3, w_shape)
        b = rng.integers(-3, 3, w_shape[1] * params["groups"]) if bias else None
        (core_out, _), (fast_out, _) = apply_both(core_ct.ConvTranspose2d, fast_ct.ConvTranspose2d, [x, w, b], params)
        assert fast_out.dtype == core_out.dtype == np.int64
        np.testing.assert_array_equal(fast_out, core_out)
        with fast.flags(enabled=False):   # int64 keeps the fast Function with the switch off, torch's answer
            assert F.conv_transpose2d(mt.tensor(x), mt.tensor(w), None if b is None else mt.tensor(b),
                                      **params).dtype == mt.int64


def test_conv_transpose2d_float16_is_float32_rounded_once():
    """Called directly (the API already hands it float32): computed in float32, rounded once."""
    for seed in range(6):
        x, w, b, params = transpose_arrays(seed, np.float16)
        (ref_out, ref_grads), _ = apply_both(core_ct.ConvTranspose2d, core_ct.ConvTranspose2d,
                                            [a if a is None else a.astype(np.float32) for a in (x, w, b)], params)
        (fast_out, fast_grads), _ = apply_both(fast_ct.ConvTranspose2d, fast_ct.ConvTranspose2d, [x, w, b], params)
        assert fast_out.dtype == np.float16
        np.testing.assert_allclose(fast_out.astype(np.float32), ref_out, rtol=2e-3, atol=2e-3 * np.abs(ref_out).max())
        for got, want in zip(fast_grads, ref_grads):
            assert got.dtype == np.float16
            np.testing.assert_allclose(got.astype(np.float32), want, rtol=2e-3, atol=4e-3 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_batches(dtype):
    x, w, b = np.zeros((0, 4, 3, 5), dtype), np.ones((4, 3, 3, 2), dtype), np.ones(6, dtype)
    for enabled in (False, True):   # the fast Function in both modes
        out, grad_fn, (dx, dw, db) = run(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2), [x, w, b], enabled)
        assert grad_fn is fast_ct.ConvTranspose2d and out.shape == (0, 6, 6, 9) and out.dtype == dtype
        assert dx.shape == x.shape and not dw.any() and dw.shape == w.shape and not db.any() and db.dtype == dtype
        blocks, grad_fn, (dx,) = run(lambda x: F.unfold(x, (2, 3), padding=1), [x], enabled)
        assert grad_fn is fast_fold.Unfold and blocks.shape == (0, 24, 4 * 5) and dx.shape == x.shape
        y, grad_fn, (db,) = run(lambda b: F.fold(b, (3, 5), (2, 3), padding=1), [np.zeros((0, 24, 20), dtype)], enabled)
        assert grad_fn is fast_fold.Fold and y.shape == (0, 4, 3, 5) and db.shape == (0, 24, 20)


@pytest.mark.parametrize("enabled", [False, True])
def test_an_in_place_change_to_the_weight_before_backward_is_refused_in_both_modes(enabled):
    rng = np.random.default_rng(8)
    x = mt.tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    w = mt.tensor(rng.standard_normal((4, 3, 2, 2)), requires_grad=True)
    with fast.flags(enabled=enabled):
        y = F.conv_transpose2d(x, w, stride=2, groups=2)
    with mt.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


@pytest.mark.parametrize("seed", range(30))
def test_unfold_and_fold_fast_are_the_core(seed):
    x_shape, k, d, p, s = fold_case(seed)
    x = np.random.default_rng(seed).standard_normal(x_shape)
    (core_blocks, *_), _ = assert_both_modes_agree(lambda x: F.unfold(x, k, d, p, s), [x],
                                                   core_fold.Unfold, fast_fold.Unfold)
    blocks = np.random.default_rng(seed + 1).standard_normal(core_blocks.shape)
    assert_both_modes_agree(lambda b: F.fold(b, x_shape[2:], k, d, p, s), [blocks], core_fold.Fold, fast_fold.Fold)


def test_unfold_output_is_a_new_array_and_strided_inputs_work():
    """A 1×1 kernel at stride 1 is x's own memory as a view; the output is still a copy."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 6, 5))
    tensor = mt.tensor(x)
    with fast.flags(enabled=True):
        blocks = F.unfold(tensor, 1)
    assert not np.shares_memory(blocks.array, tensor.array)
    view = np.swapaxes(rng.standard_normal((2, 3, 5, 6)), 2, 3)
    assert_both_modes_agree(lambda x: F.unfold(x, (2, 2), 2, 1, (1, 2)), [view], core_fold.Unfold, fast_fold.Unfold)
    blocks = np.swapaxes(rng.standard_normal((2, 4 * 3, 12)), 1, 2).copy().swapaxes(1, 2)
    assert_both_modes_agree(lambda b: F.fold(b, (6, 5), 2, 1, 1, 2), [blocks], core_fold.Fold, fast_fold.Fold)


@pytest.mark.parametrize("dtype", [np.float16, np.bool_])
def test_unfold_and_fold_float16_and_bool_are_the_cores_bits(dtype):
    """Both sent to the fast Functions in both modes: the same copies, the same additions in the
    same order per pixel (an or for bool), so the core's (torch's) bits."""
    for seed in range(8):
        x_shape, k, d, p, s = fold_case(seed)
        rng = np.random.default_rng(seed)
        x = (rng.standard_normal(x_shape) > 0.3) if dtype == np.bool_ else rng.standard_normal(x_shape).astype(dtype)
        (core_out, core_grads), (fast_out, fast_grads) = apply_both(
            core_fold.Unfold, fast_fold.Unfold, [x], dict(kernel_size=k, dilation=d, padding=p, stride=s))
        np.testing.assert_array_equal(fast_out, core_out)
        assert fast_out.dtype == dtype
        for a, b in zip(core_grads, fast_grads):
            np.testing.assert_array_equal(a, b)
        blocks = core_out if dtype == np.bool_ else rng.standard_normal(core_out.shape).astype(dtype)
        params = dict(image_size=x_shape[2:], kernel_size=k, dilation=d, padding=p, stride=s)
        (core_y, core_grads), (fast_y, fast_grads) = apply_both(core_fold.Fold, fast_fold.Fold, [blocks], params)
        np.testing.assert_array_equal(fast_y, core_y)
        assert fast_y.dtype == dtype
        for a, b in zip(core_grads, fast_grads):
            np.testing.assert_array_equal(a, b)


# ---- 2. the CUDA path, through the host emulation -------------------------------------------

needs_gxx = pytest.mark.skipif(gxx() is None, reason="g++ is needed to build the host emulation")


@pytest.fixture(scope="module")
def host_im2col(tmp_path_factory):
    source, = [s for s in loader.kernel_sources() if s.name == "im2col.cu"]
    return build_host_module(source, tmp_path_factory.mktemp("host_kernels"))


@pytest.fixture
def on_kernels(monkeypatch, host_im2col):
    """fast/conv.py's im2col and col2im replaced by their launch wrappers running the emulated
    kernels (NumPy for CuPy, new arrays filled with NaN), and the fast Functions' GPU branches
    taken; returns a function naming the kernels launched so far."""
    fake_cupy = types.SimpleNamespace(ndarray=np.ndarray, ascontiguousarray=np.ascontiguousarray,
                                      empty=poisoned_empty)
    monkeypatch.setattr(kernels, "_cupy", lambda: fake_cupy)
    monkeypatch.setattr(kernels, "get_kernel", lambda file, name: host_im2col.get_function(name))
    monkeypatch.setattr(fast_conv, "im2col", kernels.im2col)
    monkeypatch.setattr(fast_conv, "col2im", kernels.col2im)
    monkeypatch.setattr(fast_ct, "tap_major_pays", lambda *args: False)     # the GPU never takes it
    monkeypatch.setattr(fast_fold, "on_kernels", lambda array: array.dtype in fast_fold.KERNEL_DTYPES)
    host_im2col.launches.clear()
    return lambda: {name.split("<")[0] for name, _, _ in host_im2col.launches}


def core_run(fn, arrays):
    return run(fn, arrays, enabled=False)


@needs_gxx
@pytest.mark.parametrize("pixels_fastest", [True, False], ids=["gpu-layout", "cpu-layout"])
@pytest.mark.parametrize("seed", range(10))
def test_conv_transpose2d_on_the_kernels_is_the_core(on_kernels, monkeypatch, seed, pixels_fastest):
    x, w, b, params = transpose_arrays(seed)
    fn = lambda x, w, b: F.conv_transpose2d(x, w, b, **params)   # noqa: E731
    core = core_run(fn, [x, w, b])
    monkeypatch.setattr(fast_conv, "pixels_fastest", lambda xp: pixels_fastest)
    kernel = run(fn, [x, w, b], enabled=True)
    assert kernel[1] is fast_ct.ConvTranspose2d
    assert_same_run(core[0], core[2], kernel[0], kernel[2])
    assert on_kernels() == {"im2col", "col2im"}


@needs_gxx
@pytest.mark.parametrize("seed", range(10))
def test_unfold_and_fold_on_the_kernels_are_the_core(on_kernels, seed):
    x_shape, k, d, p, s = fold_case(seed)
    x = np.random.default_rng(seed).standard_normal(x_shape)
    core = core_run(lambda x: F.unfold(x, k, d, p, s), [x])
    kernel = run(lambda x: F.unfold(x, k, d, p, s), [x], enabled=True)
    np.testing.assert_array_equal(kernel[0], core[0])      # a copy: exact
    assert_same_run(core[0], core[2], kernel[0], kernel[2])
    blocks = np.random.default_rng(seed + 1).standard_normal(core[0].shape)
    core = core_run(lambda b: F.fold(b, x_shape[2:], k, d, p, s), [blocks])
    kernel = run(lambda b: F.fold(b, x_shape[2:], k, d, p, s), [blocks], enabled=True)
    assert kernel[1] is fast_fold.Fold
    assert_same_run(core[0], core[2], kernel[0], kernel[2])
    assert on_kernels() == {"im2col", "col2im"}


@needs_gxx
def test_fold_reads_its_blocks_in_place_on_the_kernel(on_kernels, monkeypatch):
    """The batch folded into the channels makes blocks a view the col2im kernel reads through its
    strides: the array launched is the blocks' own memory."""
    passed = []
    real_get_kernel = kernels.get_kernel
    monkeypatch.setattr(kernels, "get_kernel", lambda file, name: (
        lambda grid, block, args: passed.append(args[0]) or real_get_kernel(file, name)(grid, block, args)))
    blocks = np.random.default_rng(0).standard_normal((3, 2 * 4, 12))
    y = fast_fold.fold_blocks(blocks, (4, 5), (2, 2), (1, 1), (0, 0), (1, 1))
    expected = core_conv.col2im(core_fold._col(blocks), (3, 2, 4, 5), (2, 2), (1, 1), (0, 0), (1, 1))
    np.testing.assert_allclose(y, expected, **TOL)
    assert np.shares_memory(passed[-1], blocks) and passed[-1].size == blocks.size
