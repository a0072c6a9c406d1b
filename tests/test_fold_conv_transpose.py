"""F.unfold, F.fold, F.conv_transpose2d and nn.Unfold, nn.Fold, nn.ConvTranspose2d (issue 23, part A).

1. float64 finite differences (mt.gradcheck) over a grid of options, and the adjoint identities
   that define the ops (torch-free);
2. parity with torch over seeded random configurations: output, input, weight and bias
   gradients; float64 at 1e-10, float32 at 1e-5 of the largest value (normwise);
3. off the happy path against torch: float16, bool and integer dtypes, empty batches, unbatched
   inputs, NaN, wrong types and shapes (same error class, our message names the op), positional
   arguments;
4. the modules: state_dict names as torch's, weights loaded both ways, repr, output_size, init.
"""
import itertools

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as mtF

from _optional import needs_torch, torch

F64 = dict(rtol=1e-10, atol=1e-10)
F32 = dict(rtol=1e-5, atol=None)     # normwise: atol = 1e-5 · max |torch's value|


def _out_hw(hw, k, s, p, op, d):
    return tuple((n - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + op_ + 1 for n, k_, s_, p_, op_, d_ in zip(hw, k, s, p, op, d))


def _valid_transpose(hw, k, s, p, op, d):
    ok_padding = all(o < s_ or o < d_ for o, s_, d_ in zip(op, s, d))
    return ok_padding and min(_out_hw(hw, k, s, p, op, d)) >= 1


# ---- 1. gradient checks and adjoints (no torch) ---------------------------------------------

CT_GRID = [c for c in itertools.product([1, 2, 3], [0, 1, 2], [0, 1], [1, 2], [1, 2], [True, False])
           if _valid_transpose((3, 4), (2, 3), (c[0],) * 2, (c[1],) * 2, (c[2],) * 2, (c[3],) * 2)]


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups,bias", CT_GRID)
def test_conv_transpose2d_gradcheck_grid(grad_check, rng, stride, padding, output_padding, dilation, groups, bias):
    # batch 1, non-square input (3 × 4) and kernel (2 × 3); 2 channels in and out
    x = rng.standard_normal((1, 2, 3, 4))
    w = rng.standard_normal((2, 2 // groups, 2, 3))
    b = rng.standard_normal(2) if bias else None
    grad_check(lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=stride, padding=padding,
                                                     output_padding=output_padding, groups=groups,
                                                     dilation=dilation), x, w, b)


def _random_transpose_case(rng, max_hw=4):
    """A valid conv_transpose2d problem with per-axis hyper-parameters."""
    while True:
        groups = int(rng.integers(1, 3))
        k, s, d = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        op = tuple(int(rng.integers(0, max(s_, d_))) for s_, d_ in zip(s, d))
        hw = tuple(int(v) for v in rng.integers(1, max_hw + 1, 2))
        if _valid_transpose(hw, k, s, p, op, d):
            in_c, out_c = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
            return dict(x=(int(rng.integers(1, 3)), in_c) + hw, w=(in_c, out_c // groups) + k,
                        kw=dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d),
                        bias=bool(rng.integers(0, 2)))


def test_conv_transpose2d_gradcheck_random_axes(grad_check):
    rng = np.random.default_rng(23)
    for _ in range(12):
        case = _random_transpose_case(rng, max_hw=3)
        x, w = rng.standard_normal(case["x"]), rng.standard_normal(case["w"])
        b = rng.standard_normal(case["w"][1] * case["kw"]["groups"]) if case["bias"] else None
        grad_check(lambda F, x, w, b: F.conv_transpose2d(x, w, b, **case["kw"]), x, w, b)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(y, W), x> = <y, conv_transpose2d(x, W)> for every y and x, with the same stride, padding,
    dilation and groups.  Where output_padding ≥ stride (allowed below the dilation) conv2d of y has
    more rows than x; the extra ones read only y's padding rows, so they are dropped."""
    rng = np.random.default_rng(5)
    for _ in range(30):
        case = _random_transpose_case(rng)
        x, w = rng.standard_normal(case["x"]), rng.standard_normal(case["w"])
        kw = case["kw"]
        y_shape = (x.shape[0], w.shape[1] * kw["groups"]) + _out_hw(x.shape[2:], w.shape[2:], kw["stride"],
                                                                    kw["padding"], kw["output_padding"], kw["dilation"])
        y = rng.standard_normal(y_shape)
        conv = mtF.conv2d(mt.tensor(y), mt.tensor(w), None, kw["stride"], kw["padding"], kw["dilation"],
                          kw["groups"]).numpy()
        transposed = mtF.conv_transpose2d(mt.tensor(x), mt.tensor(w), **kw).numpy()
        # conv2d's output may be larger than x only where output_padding ≥ stride (then it is cut)
        conv = conv[:, :, :x.shape[2], :x.shape[3]]
        np.testing.assert_allclose(np.vdot(conv, x), np.vdot(y, transposed), rtol=1e-12, atol=1e-12)


FOLD_GRID = list(itertools.product([(1, 1), (2, 3)], [1, 2], [0, 1], [1, 2]))


@pytest.mark.parametrize("kernel,stride,padding,dilation", FOLD_GRID)
def test_unfold_and_fold_gradcheck_grid(grad_check, rng, kernel, stride, padding, dilation):
    x = rng.standard_normal((2, 2, 5, 6))
    grad_check(lambda F, x: F.unfold(x, kernel, dilation, padding, stride), x)
    blocks = mtF.unfold(mt.tensor(x), kernel, dilation, padding, stride)
    b = rng.standard_normal(blocks.shape)
    grad_check(lambda F, b: F.fold(b, (5, 6), kernel, dilation, padding, stride), b)


def test_fold_is_the_adjoint_of_unfold_and_conv2d_is_unfold_then_matmul(rng):
    x = rng.standard_normal((2, 3, 6, 5))
    blocks = mtF.unfold(mt.tensor(x), (2, 3), 2, 1, (1, 2))
    b = rng.standard_normal(blocks.shape)
    folded = mtF.fold(mt.tensor(b), (6, 5), (2, 3), 2, 1, (1, 2))
    np.testing.assert_allclose(np.vdot(blocks.numpy(), b), np.vdot(x, folded.numpy()), rtol=1e-12)
    w = rng.standard_normal((4, 3, 2, 3))
    conv = mtF.conv2d(mt.tensor(x), mt.tensor(w), None, (1, 2), 1, 2).numpy()
    via_unfold = np.einsum("ok,nkl->nol", w.reshape(4, -1), blocks.numpy()).reshape(conv.shape)
    np.testing.assert_allclose(via_unfold, conv, rtol=1e-12, atol=1e-12)


def test_the_graph_names_the_new_functions(rng):
    x = mt.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    w = mt.tensor(rng.standard_normal((2, 1, 2, 2)), requires_grad=True)
    assert mtF.conv_transpose2d(x, w).grad_fn.__name__ == "ConvTranspose2d"
    assert mtF.unfold(x, 2).grad_fn.__name__ == "Unfold"
    assert mtF.fold(mtF.unfold(x, 2), 3, 2).grad_fn.__name__ == "Fold"


# ---- 2. parity with torch ----------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, F64), (np.float32, F32)], ids=["float64", "float32"])
def test_conv_transpose2d_random_parity(parity_check, dtype, tol):
    rng = np.random.default_rng(2023 if dtype == np.float64 else 2024)
    for _ in range(40):
        case = _random_transpose_case(rng, max_hw=5)
        x, w = rng.standard_normal(case["x"]).astype(dtype), rng.standard_normal(case["w"]).astype(dtype)
        b = rng.standard_normal(case["w"][1] * case["kw"]["groups"]).astype(dtype) if case["bias"] else None
        parity_check(lambda F, x, w, b: F.conv_transpose2d(x, w, b, **case["kw"]), x, w, b, **tol)


def _random_fold_case(rng):
    while True:
        k, s, d = (tuple(int(v) for v in rng.integers(1, 4, 2)) for _ in range(3))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        hw = tuple(int(v) for v in rng.integers(1, 8, 2))
        grid = [(n + 2 * p_ - d_ * (k_ - 1) - 1) // s_ + 1 for n, k_, s_, p_, d_ in zip(hw, k, s, p, d)]
        if min(grid) >= 1:
            return hw, k, d, p, s, grid[0] * grid[1]


@needs_torch
@pytest.mark.parametrize("dtype,tol", [(np.float64, F64), (np.float32, F32)], ids=["float64", "float32"])
def test_unfold_and_fold_random_parity(parity_check, dtype, tol):
    rng = np.random.default_rng(7 if dtype == np.float64 else 8)
    for _ in range(40):
        hw, k, d, p, s, windows = _random_fold_case(rng)
        n, c = int(rng.integers(1, 3)), int(rng.integers(1, 4))
        x = rng.standard_normal((n, c) + hw).astype(dtype)
        parity_check(lambda F, x: F.unfold(x, k, d, p, s), x, **tol)
        b = rng.standard_normal((n, c * k[0] * k[1], windows)).astype(dtype)
        parity_check(lambda F, b: F.fold(b, hw, k, d, p, s), b, **tol)


# ---- 3. off the happy path ------------------------------------------------------------------------

def _both(call):
    """call(F, lib) in minitorch and in torch: (ours, theirs), each a result or the exception raised."""
    out = []
    for F, lib in ((mtF, mt), (torch.nn.functional, torch)):
        try:
            out.append(call(F, lib))
        except Exception as exc:   # noqa: BLE001  (the test compares what each raised)
            out.append(exc)
    return out


def _same_refusal(call, op):
    ours, theirs = _both(call)
    assert isinstance(theirs, Exception), f"torch accepts it: {theirs}"
    assert isinstance(ours, Exception), f"minitorch accepts what torch refuses ({theirs!r})"
    assert type(ours) is type(theirs), f"{type(ours).__name__} {ours} vs torch's {type(theirs).__name__} {theirs}"
    assert op in str(ours), str(ours)


def _t(lib, array, **kw):
    return lib.tensor(np.asarray(array), **kw)


X = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
W = np.random.default_rng(1).standard_normal((3, 2, 3, 3))
BLOCKS = np.random.default_rng(2).standard_normal((2, 12, 16))

CONV_T_REFUSALS = {
    "input not a tensor": lambda F, lib: F.conv_transpose2d(X, _t(lib, W)),
    "weight not a tensor": lambda F, lib: F.conv_transpose2d(_t(lib, X), W.tolist()),
    "bias not a tensor": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), 1.0),
    "2-D input": lambda F, lib: F.conv_transpose2d(_t(lib, X[0, 0]), _t(lib, W)),
    "5-D input": lambda F, lib: F.conv_transpose2d(_t(lib, X[None]), _t(lib, W)),
    "3-D weight": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W[0])),
    "channels": lambda F, lib: F.conv_transpose2d(_t(lib, X[:, :2]), _t(lib, W)),
    "groups divide": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), groups=2),
    "groups zero": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), groups=0),
    "groups float": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), groups=1.0),
    "bias shape": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), _t(lib, np.zeros(3))),
    # torch's oneDNN path refuses a bias of another dtype (its slow path, taken for float64 inputs
    # among others, casts it): refused here whatever the shapes
    "bias dtype": lambda F, lib: F.conv_transpose2d(_t(lib, X.astype(np.float32)), _t(lib, W.astype(np.float32)),
                                                    _t(lib, np.zeros(2))),
    "weight dtype": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W.astype(np.float32))),
    "int input, float weight": lambda F, lib: F.conv_transpose2d(_t(lib, X.astype(np.int64)), _t(lib, W)),
    "int32": lambda F, lib: F.conv_transpose2d(_t(lib, X.astype(np.int32)), _t(lib, W.astype(np.int32))),
    "bool": lambda F, lib: F.conv_transpose2d(_t(lib, X > 0), _t(lib, W > 0)),
    "stride 0": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), stride=0),
    "stride 3 values": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), stride=(1, 2, 3)),
    "stride float": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), stride=1.5),
    "padding negative": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), padding=-1),
    "padding bool": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), padding=True),
    "padding string": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), padding="same"),
    "output_padding negative": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), output_padding=-1),
    "output_padding too big": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), stride=2, output_padding=2),
    "output_padding per axis": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), stride=(2, 1),
                                                                 dilation=(1, 1), output_padding=(1, 1)),
    "dilation 0": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), dilation=0),
    "output too small": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, W), padding=4),
    "empty height": lambda F, lib: F.conv_transpose2d(_t(lib, np.zeros((2, 3, 0, 4))), _t(lib, W)),
    "empty channels": lambda F, lib: F.conv_transpose2d(_t(lib, np.zeros((2, 0, 4, 4))), _t(lib, np.zeros((0, 2, 3, 3)))),
    "no output channel": lambda F, lib: F.conv_transpose2d(_t(lib, X), _t(lib, np.zeros((3, 0, 3, 3)))),
}

FOLD_REFUSALS = {
    "unfold: not a tensor": ("unfold", lambda F, lib: F.unfold(X, 2)),
    "unfold: 2-D": ("unfold", lambda F, lib: F.unfold(_t(lib, X[None]), 2)),
    "unfold: empty channels": ("unfold", lambda F, lib: F.unfold(_t(lib, X[:, :0]), 2)),
    "unfold: empty height": ("unfold", lambda F, lib: F.unfold(_t(lib, X[:, :, :0]), 2)),
    "unfold: int64": ("unfold", lambda F, lib: F.unfold(_t(lib, X.astype(np.int64)), 2)),
    "unfold: kernel too big": ("unfold", lambda F, lib: F.unfold(_t(lib, X), 6)),
    "unfold: kernel 0": ("unfold", lambda F, lib: F.unfold(_t(lib, X), 0)),
    "unfold: kernel 1 value": ("unfold", lambda F, lib: F.unfold(_t(lib, X), (2,))),
    "unfold: kernel 3 values": ("unfold", lambda F, lib: F.unfold(_t(lib, X), (2, 2, 2))),
    "unfold: kernel float": ("unfold", lambda F, lib: F.unfold(_t(lib, X), 2.0)),
    "unfold: kernel bool": ("unfold", lambda F, lib: F.unfold(_t(lib, X), True)),
    "unfold: stride 0": ("unfold", lambda F, lib: F.unfold(_t(lib, X), 2, stride=0)),
    "unfold: padding -1": ("unfold", lambda F, lib: F.unfold(_t(lib, X), 2, padding=-1)),
    "unfold: dilation 0": ("unfold", lambda F, lib: F.unfold(_t(lib, X), 2, dilation=0)),
    "fold: not a tensor": ("fold", lambda F, lib: F.fold(BLOCKS, (5, 5), 2)),
    "fold: 4-D": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS[None]), (5, 5), 2)),
    "fold: 1-D": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS[0, 0]), (5, 5), 2)),
    "fold: empty columns": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS[:, :, :0]), (5, 5), 2)),
    "fold: empty rows": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS[:, :0]), (5, 5), 2)),
    "fold: int64": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS.astype(np.int64)), (5, 5), 2)),
    "fold: blocks count": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS), (6, 6), 2)),
    "fold: rows not divisible": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS[:, :11]), (5, 5), 2)),
    "fold: output_size 1 value": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS), (5,), 2)),
    "fold: output_size float": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS), (5.0, 5), 2)),
    "fold: output too small": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS), (1, 1), 2)),
    "fold: output 0": ("fold", lambda F, lib: F.fold(_t(lib, BLOCKS), (0, 5), 2)),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(CONV_T_REFUSALS))
def test_conv_transpose2d_refuses_what_torch_refuses(name):
    _same_refusal(CONV_T_REFUSALS[name], "conv_transpose2d")


@needs_torch
@pytest.mark.parametrize("name", sorted(FOLD_REFUSALS))
def test_unfold_and_fold_refuse_what_torch_refuses(name):
    op, call = FOLD_REFUSALS[name]
    _same_refusal(call, op)


def _run_with_grad(F, lib, fn, arrays, grad_of):
    tensors = [_t(lib, a, requires_grad=(i in grad_of)) for i, a in enumerate(arrays)]
    out = fn(F, *tensors)
    if grad_of:
        out.backward(_t(lib, np.ones(tuple(out.shape), dtype=np.asarray(arrays[0]).dtype)))
    grads = [tensors[i].grad for i in grad_of]
    return out, grads


def _numpy(t):
    return np.array(t.detach().numpy()) if t is not None else None


def _assert_same(fn, arrays, grad_of=(), exact=True, rtol=0.0):
    (ours, our_grads), (theirs, their_grads) = (
        _run_with_grad(F, lib, fn, arrays, grad_of) for F, lib in ((mtF, mt), (torch.nn.functional, torch)))
    for a, b in [(ours, theirs)] + list(zip(our_grads, their_grads)):
        a, b = _numpy(a), _numpy(b)
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            finite = np.abs(b.astype(np.float64))[np.isfinite(b)]
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol,
                                       atol=rtol * float(finite.max(initial=0)))


@needs_torch
def test_float16_is_torchs_bit_for_bit(rng):
    """unfold copies and fold adds in float16 in torch's order: torch's values exactly.  conv_transpose2d
    computes in float32 and rounds once, as torch's oneDNN path; torch's slow path rounds its column
    buffer to float16 before adding it up, so the two agree to float16's precision (a unit in the
    last place here and there)."""
    for _ in range(5):
        hw, k, d, p, s, windows = _random_fold_case(rng)
        x = rng.standard_normal((2, 3) + hw).astype(np.float16)
        _assert_same(lambda F, x: F.unfold(x, k, d, p, s), [x], grad_of=(0,))
        b = rng.standard_normal((2, 3 * k[0] * k[1], windows)).astype(np.float16)
        _assert_same(lambda F, b: F.fold(b, hw, k, d, p, s), [b], grad_of=(0,))
    for _ in range(5):
        case = _random_transpose_case(rng, max_hw=5)
        x, w = (rng.standard_normal(case[key]).astype(np.float16) for key in ("x", "w"))
        _assert_same(lambda F, x, w: F.conv_transpose2d(x, w, **case["kw"]), [x, w], grad_of=(0, 1),
                     exact=False, rtol=2e-3)


@needs_torch
def test_int64_transposed_convolution_is_exact_and_bool_unfold_fold_as_torch(rng):
    x = rng.integers(-5, 5, (2, 4, 4, 3))
    w = rng.integers(-3, 3, (4, 3, 2, 3))
    b = rng.integers(-3, 3, (6,))
    _assert_same(lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2,
                                                       dilation=(2, 1)), [x, w, b])
    mask = rng.random((2, 3, 5, 4)) < 0.3
    _assert_same(lambda F, x: F.unfold(x, 2, padding=1), [mask])
    _assert_same(lambda F, x: F.fold(F.unfold(x, 2, padding=1), (5, 4), 2, padding=1), [mask])


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_batches_as_torch(dtype):
    x, w = np.zeros((0, 3, 4, 5), dtype), np.ones((3, 2, 3, 3), dtype)
    _assert_same(lambda F, x, w: F.conv_transpose2d(x, w, stride=2), [x, w], grad_of=(0, 1))
    _assert_same(lambda F, x: F.unfold(x, 2), [x], grad_of=(0,))
    _assert_same(lambda F, b: F.fold(b, (5, 5), 2), [np.zeros((0, 12, 16), dtype)], grad_of=(0,))
    # torch gives an empty batch in the input's dtype, whatever the weight's
    other = np.float64 if dtype == np.float32 else np.float32
    _assert_same(lambda F, x, w: F.conv_transpose2d(x, w), [x, w.astype(other)])


@needs_torch
def test_unbatched_inputs_and_nan_as_torch(rng):
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(2)
    x[1, 2, 3] = np.nan
    x[0, 0, 0] = np.inf
    _assert_same(lambda F, x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), [x, w, b], grad_of=(0, 1, 2),
                 exact=False, rtol=1e-12)
    _assert_same(lambda F, x: F.unfold(x, (2, 3), padding=1), [x], grad_of=(0,), exact=False, rtol=1e-12)
    blocks = rng.standard_normal((3 * 6, 9))
    blocks[4, 5] = np.nan
    _assert_same(lambda F, b: F.fold(b, (4, 5), (2, 3)), [blocks], grad_of=(0,), exact=False, rtol=1e-12)


@needs_torch
def test_positional_and_keyword_arguments_in_torchs_order(rng):
    x, w, b = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(6)
    _assert_same(lambda F, x, w, b: F.conv_transpose2d(x, w, b, 2, 1, (1, 0), 2, (1, 2)), [x, w, b],
                 exact=False, rtol=1e-12)
    _assert_same(lambda F, x, w, b: F.conv_transpose2d(input=x, weight=w, bias=b, stride=(2,), padding=[1, 0],
                                                       output_padding=1, groups=2, dilation=1), [x, w, b],
                 exact=False, rtol=1e-12)
    _assert_same(lambda F, x: F.unfold(x, (2, 2), 2, 1, (1, 2)), [x])
    _assert_same(lambda F, x: F.unfold(input=x, kernel_size=[2, 3], dilation=1, padding=(1, 0), stride=2), [x])
    blocks = rng.standard_normal((2, 8, 12))
    _assert_same(lambda F, b: F.fold(b, (5, 4), 2, 1, 0, 1), [blocks], exact=False, rtol=1e-12)
    _assert_same(lambda F, b: F.fold(input=b, output_size=[5, 4], kernel_size=(2, 2), dilation=1, padding=0,
                                     stride=(1, 1)), [blocks], exact=False, rtol=1e-12)


# ---- 4. the modules ---------------------------------------------------------------------------------

CONV_T_LAYERS = [dict(in_channels=4, out_channels=6, kernel_size=3),
                 dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=2, padding=1, output_padding=1,
                      groups=2, dilation=(2, 1)),
                 dict(in_channels=2, out_channels=3, kernel_size=2, stride=(2, 3), bias=False)]


@needs_torch
@pytest.mark.parametrize("options", CONV_T_LAYERS, ids=["plain", "all-options", "no-bias"])
def test_conv_transpose2d_module_matches_torch(options, rng):
    theirs = torch.nn.ConvTranspose2d(**options, dtype=torch.float64)
    ours = mt.nn.ConvTranspose2d(**options, dtype=mt.float64)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                 "dilation", "padding_mode", "transposed"):
        assert getattr(ours, name) == getattr(theirs, name), name
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((2, options["in_channels"], 3, 4))
    mx, tx = mt.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    my, ty = ours(mx), theirs(tx)
    g = rng.standard_normal(tuple(ty.shape))
    my.backward(mt.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), **F64)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **F64)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), err_msg=name, **F64)
    # and back: our weights into torch's layer
    fresh = torch.nn.ConvTranspose2d(**options, dtype=torch.float64)
    fresh.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    np.testing.assert_allclose(fresh(torch.tensor(x)).detach().numpy(), my.detach().numpy(), **F64)
    # unbatched
    np.testing.assert_allclose(ours(mt.tensor(x[0])).detach().numpy(), theirs(torch.tensor(x[0])).detach().numpy(), **F64)


@needs_torch
def test_conv_transpose2d_output_size_as_torch(rng):
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=(2, 3), padding=1, dtype=torch.float64)
    ours = mt.nn.ConvTranspose2d(2, 3, 3, stride=(2, 3), padding=1, dtype=mt.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((1, 2, 4, 4))
    for size in [(7, 10), (8, 12), [1, 3, 8, 11], (7, 9), (9, 10), (8,), (1, 2, 3)]:
        ours_out, theirs_out = _both(lambda F, lib: (ours if lib is mt else theirs)(_t(lib, x), output_size=size))
        if isinstance(theirs_out, Exception):
            assert type(ours_out) is type(theirs_out) and "ConvTranspose2d" in str(ours_out), (size, ours_out)
        else:
            np.testing.assert_allclose(ours_out.detach().numpy(), theirs_out.detach().numpy(), **F64)


@needs_torch
def test_conv_transpose2d_constructor_refusals_as_torch():
    for kwargs in [dict(padding_mode="reflect"), dict(padding_mode="bogus"), dict(groups=4), dict(groups=0)]:
        try:
            torch.nn.ConvTranspose2d(4, 6, 3, **kwargs)
        except Exception as exc:   # noqa: BLE001
            kind = type(exc)
        with pytest.raises(kind, match="ConvTranspose2d"):
            mt.nn.ConvTranspose2d(4, 6, 3, **kwargs)
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(2→3\): expected input \(N, 2, H, W\)"):
        mt.nn.ConvTranspose2d(2, 3, 3)(mt.zeros(1, 3, 4, 4))


def test_conv_transpose2d_init_is_torchs_formula():
    """W ~ U(±1/√fan_in) (kaiming_uniform_ with a=√5), b ~ U(±1/√fan_in), fan_in = out/groups·kh·kw."""
    mt.manual_seed(0)
    layer = mt.nn.ConvTranspose2d(64, 8, (3, 2), groups=2)
    bound = 1 / np.sqrt(8 // 2 * 3 * 2)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.shape == (64, 4, 3, 2) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    mt.manual_seed(0)
    again = mt.nn.ConvTranspose2d(64, 8, (3, 2), groups=2)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)


@needs_torch
def test_unfold_and_fold_modules_match_torch(rng):
    for ours, theirs in [(mt.nn.Unfold((2, 3), dilation=1, padding=[1, 0], stride=2),
                          torch.nn.Unfold((2, 3), dilation=1, padding=[1, 0], stride=2)),
                         (mt.nn.Unfold(2), torch.nn.Unfold(2))]:
        assert repr(ours) == repr(theirs)
        x = rng.standard_normal((2, 3, 6, 5))
        np.testing.assert_array_equal(ours(mt.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    ours, theirs = mt.nn.Fold(4, 2), torch.nn.Fold(4, 2)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict()) == []
    b = rng.standard_normal((2, 12, 9))
    np.testing.assert_allclose(ours(mt.tensor(b)).numpy(), theirs(torch.tensor(b)).numpy(), **F64)


@needs_torch
def test_signatures_are_torchs():
    import inspect

    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]
    for name in ("unfold", "fold"):
        assert params(getattr(mtF, name)) == params(getattr(torch.nn.functional, name)), name
    # torch's conv_transpose2d is a builtin without a signature: its documented one
    assert params(mtF.conv_transpose2d) == [("input", inspect.Parameter.empty), ("weight", inspect.Parameter.empty),
                                           ("bias", None), ("stride", 1), ("padding", 0), ("output_padding", 0),
                                           ("groups", 1), ("dilation", 1)]
    for name in ("ConvTranspose2d", "Unfold", "Fold"):
        ours, theirs = getattr(mt.nn, name), getattr(torch.nn, name)
        assert params(ours) == params(theirs), name
        assert params(ours.forward) == params(theirs.forward), name
