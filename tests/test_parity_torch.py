"""Parity with PyTorch: outputs, input and parameter gradients, running statistics.

float64 must agree to 1e-10 (absolute + relative).  float32 tolerances are
relative and normwise (atol = rtol · max|torch's value|, see conftest.assert_close)
and each is justified where it is used.  float32 has ε = 1.2e-7; a sum of K
terms computed in a different order differs by about √K·ε relative to the
terms' magnitude, so the bounds below leave 10-100× headroom over that.
"""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minitorch_cnn as mt
from minitorch_cnn.nn import functional as F

torch = pytest.importorskip("torch", reason="needs torch: every test here compares with PyTorch")

# conv2d / linear in float32: GEMMs over at most a few hundred products per
# output; different blocking/summation order gives ~1e-7..1e-6 relative error.
RTOL_GEMM32 = 1e-5
# elementwise ops, pooling, softmax, losses in float32: one or two roundings
# per element, or short sums (≤ 25 terms): a few ulps.
RTOL_ELEM32 = 1e-6
# batch_norm in float32: mean and variance are sums over N·H·W values and x̂
# divides by √(σ² + eps); the backward subtracts two such sums from g.  Errors
# of a few ε · √(N·H·W) relative to the tensor's scale, ~1e-6.
RTOL_BN32 = 1e-5

HYPOTHESIS = settings(max_examples=25, deadline=None, derandomize=True)


def tol(dtype, rtol32):
    """float64: 1e-10 absolute + relative; float32: rtol32, normwise (conftest.assert_close)."""
    return dict(rtol=rtol32, atol=None) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


# ---- convolution -----------------------------------------------------------

CONV_GRID = list(itertools.product([1, 2], [1, 2, 3], [0, 1, 2, 3], [1, 2], [1, 2], [True, False]))


@pytest.mark.parametrize("batch,stride,padding,dilation,groups,bias", CONV_GRID)
def test_conv2d_grid_float64(parity_check, rng, batch, stride, padding, dilation, groups, bias):
    x = rng.standard_normal((batch, 4, 7, 6))        # non-square input, non-square kernel
    w = rng.standard_normal((6, 4 // groups, 2, 3))
    b = rng.standard_normal(6) if bias else None
    parity_check(lambda F, x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding,
                                             dilation=dilation, groups=groups), x, w, b)


@st.composite
def conv_cases(draw):
    """Random valid conv2d problems with per-axis (h, w) hyper-parameters."""
    groups = draw(st.sampled_from([1, 2, 3]))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    hw = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 6))
               for k, p, d in zip(kernel, padding, dilation))
    shape = (draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))) + hw
    out_c = groups * draw(st.integers(1, 3))
    return dict(shape=shape, weight=(out_c, shape[1] // groups) + kernel, stride=stride,
                padding=padding, dilation=dilation, groups=groups,
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=conv_cases())
def test_conv2d_random(parity_check, dtype, case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"]).astype(dtype)
    w = rng.standard_normal(case["weight"]).astype(dtype)
    b = rng.standard_normal(case["weight"][0]).astype(dtype) if case["bias"] else None
    limits = tol(dtype, RTOL_GEMM32)
    parity_check(lambda F, x, w, b: F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"],
                                             dilation=case["dilation"], groups=case["groups"]),
                 x, w, b, **limits)


def test_conv2d_without_input_grad(parity_check, rng):
    """The first layer's input needs no gradient: weight and bias grads still match."""
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out = parity_check(lambda F, x, w, b: F.conv2d(x, w, b, padding=1), x, w, b,
                       requires_grad=[False, True, True])
    assert out.mt[0].grad is None


# ---- pooling ---------------------------------------------------------------

POOL_GRID = [(3, 2, 0), (3, 2, 1), (3, 1, 1), ((2, 3), 1, (1, 1)), ((3, 2), (2, 1), (1, 0)),
             (2, None, 0), (2, None, 1), (4, 3, 2)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel,stride,padding", POOL_GRID)
def test_max_pool2d(parity_check, rng, distinct_values, kernel, stride, padding, dtype):
    x = distinct_values((2, 3, 9, 8), rng).astype(dtype)
    # float32: the output is a selection (exact); gradients add ≤ kh·kw routed values.
    limits = tol(dtype, RTOL_ELEM32)
    parity_check(lambda F, x: F.max_pool2d(x, kernel, stride, padding), x, **limits)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel,stride,padding", POOL_GRID)
def test_max_pool2d_ties_route_like_torch(parity_check, rng, kernel, stride, padding, dtype):
    """Integer inputs in {0, 1, 2}: nearly every window has tied maxima.

    The gradient must go to the first maximum in row-major window order, as in
    torch; integer cotangents make every sum exact, so equality is exact too.
    """
    x = rng.integers(0, 3, (2, 3, 9, 8)).astype(dtype)
    out_shape = mt.nn.functional.max_pool2d(mt.tensor(x), kernel, stride, padding).shape
    cotangent = rng.integers(-5, 6, out_shape).astype(dtype)
    parity_check(lambda F, x: F.max_pool2d(x, kernel, stride, padding), x,
                 cotangent=cotangent, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kernel,stride,padding", POOL_GRID)
def test_avg_pool2d(parity_check, rng, kernel, stride, padding, count_include_pad, dtype):
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    # float32: a sum of ≤ 16 values and one division per output: a few ulps.
    limits = tol(dtype, RTOL_ELEM32)
    parity_check(lambda F, x: F.avg_pool2d(x, kernel, stride, padding,
                                           count_include_pad=count_include_pad), x, **limits)


@st.composite
def pool_cases(draw):
    """Random valid pooling problems: kernel, stride, padding ≤ kernel / 2 per axis."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    hw = tuple(max(1, k - 2 * p) + draw(st.integers(0, 6)) for k, p in zip(kernel, padding))
    return dict(shape=(draw(st.integers(1, 2)), draw(st.integers(1, 3))) + hw, kernel=kernel,
                stride=stride, padding=padding, seed=draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@HYPOTHESIS
@given(case=pool_cases(), count_include_pad=st.booleans(), ties=st.booleans())
def test_pools_random(parity_check, distinct_values, dtype, case, count_include_pad, ties):
    rng = np.random.default_rng(case["seed"])
    args = case["kernel"], case["stride"], case["padding"]
    if ties:   # integer values and cotangents: exact, with tie routing exactly as torch
        x = rng.integers(0, 3, case["shape"]).astype(dtype)
        cotangent = rng.integers(-5, 6, mt.nn.functional.max_pool2d(mt.tensor(x), *args).shape).astype(dtype)
        parity_check(lambda F, x: F.max_pool2d(x, *args), x, cotangent=cotangent, rtol=0, atol=0)
    else:
        x = distinct_values(case["shape"], rng).astype(dtype)
        # float32 tolerance: as in test_max_pool2d
        parity_check(lambda F, x: F.max_pool2d(x, *args), x, **tol(dtype, RTOL_ELEM32))
    x = rng.standard_normal(case["shape"]).astype(dtype)      # float32 tolerance: as in test_avg_pool2d
    parity_check(lambda F, x: F.avg_pool2d(x, *args, count_include_pad=count_include_pad), x,
                 **tol(dtype, RTOL_ELEM32))


# ---- batch_norm: outputs, gradients and running statistics -----------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 5)])
def test_batch_norm(parity_check, close, rng, shape, training, affine, momentum, dtype):
    c = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    w = rng.uniform(0.5, 1.5, c).astype(dtype) if affine else None
    b = rng.standard_normal(c).astype(dtype) if affine else None
    mean, var = rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    limits = tol(dtype, RTOL_BN32)
    run = parity_check(lambda F, x, mean, var, w, b: F.batch_norm(x, mean, var, w, b, training=training,
                                                                  momentum=momentum),
                       x, mean, var, w, b, requires_grad=[True, False, False, affine, affine], **limits)
    # the running statistics were updated in place exactly as torch updates them (eval: untouched)
    close(run.mt[1], run.torch[1], what="running_mean", **limits)
    close(run.mt[2], run.torch[2], what="running_var", **limits)
    if not training:
        np.testing.assert_array_equal(run.mt[1].numpy(), mean)


def test_batch_norm_training_without_running_stats(parity_check, rng):
    x, w, b = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal(3), rng.standard_normal(3)
    parity_check(lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b)


def test_batch_norm_updates_raw_array_running_stats_like_torch(rng):
    # F.batch_norm also takes plain NumPy arrays as running statistics and updates them in
    # place; they once reached the op as the arrays' memoryview (`.data`) and crashed.
    x = rng.standard_normal((5, 3, 2, 2))
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    mt_mean, mt_var, torch_mean, torch_var = mean.copy(), var.copy(), torch.tensor(mean), torch.tensor(var)
    out = F.batch_norm(mt.tensor(x), mt_mean, mt_var, training=True, momentum=0.3)
    expected = torch.nn.functional.batch_norm(torch.tensor(x), torch_mean, torch_var, training=True, momentum=0.3)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mt_mean, torch_mean.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mt_var, torch_var.numpy(), rtol=1e-12, atol=1e-12)


# ---- activations, softmax, dropout -----------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activations(parity_check, rng, name, dtype):
    # include large |x|: sigmoid must neither overflow nor lose the tails
    x = np.concatenate([rng.standard_normal(20) * 3, [-800.0, -40.0, 40.0, 800.0, 0.0]]).astype(dtype)
    limits = tol(dtype, RTOL_ELEM32)   # one op per element
    parity_check(lambda F, x: getattr(F, name)(x), x.reshape(5, 5), **limits)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(parity_check, rng, name, dim, dtype):
    x = (rng.standard_normal((3, 4, 5)) * 4).astype(dtype)
    # float32: exp, a sum of ≤ 5 terms, a log/division per element.
    limits = tol(dtype, RTOL_ELEM32)
    parity_check(lambda F, x: getattr(F, name)(x, dim=dim), x, **limits)


def test_dropout_is_torchs_inverted_dropout(rng):
    """Different generators draw different masks, so compare against torch's definition:
    kept elements are x / (1 − p), dropped ones 0, about a fraction p dropped, dx = g · mask."""
    p = 0.3
    data = rng.uniform(1, 2, (200, 100)).astype(np.float32)
    mt.manual_seed(3)
    x = mt.tensor(data, requires_grad=True)
    out = mt.nn.functional.dropout(x, p)
    out.sum().backward()
    kept = out.detach().numpy() != 0
    expected = torch.tensor(data) * torch.tensor(kept) / (1 - p)      # torch's formula, in float32
    np.testing.assert_allclose(out.detach().numpy(), expected.numpy(), rtol=RTOL_ELEM32)
    np.testing.assert_allclose(x.grad.numpy(), kept / np.float32(1 - p), rtol=RTOL_ELEM32)
    assert abs(1 - kept.mean() - p) < 0.01      # 20,000 draws: the standard error is 0.0032
    mt.manual_seed(3)
    again = mt.nn.functional.dropout(mt.tensor(data), p)
    np.testing.assert_array_equal(again.numpy(), out.detach().numpy())   # seeded: reproducible
    assert mt.nn.functional.dropout(x, p, training=False) is x


# ---- losses and linear -----------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(parity_check, rng, reduction, dtype):
    logits = (rng.standard_normal((6, 5)) * 3).astype(dtype)
    target = np.array([0, 4, 4, 2, 1, 0])
    # float32: log-sum-exp of 5 terms and a subtraction per row.
    limits = tol(dtype, RTOL_ELEM32)
    parity_check(lambda F, z, t: F.cross_entropy(z, t, reduction=reduction), logits, target, **limits)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_huge_logits(parity_check, rng, reduction, dtype):
    """Logits of magnitude 1e4: exp overflows unless the max is subtracted first."""
    logits = (rng.standard_normal((5, 4)) * 1e4).astype(dtype)
    target = np.array([0, 1, 2, 3, 1])
    limits = tol(dtype, RTOL_ELEM32)
    run = parity_check(lambda F, z, t: F.cross_entropy(z, t, reduction=reduction), logits, target, **limits)
    assert np.isfinite(run.mt_out.detach().numpy()).all()
    assert np.isfinite(run.mt[0].grad.numpy()).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(parity_check, rng, reduction, dtype):
    x, y = rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    # float32: a square per element and a sum of 20 of them.
    limits = tol(dtype, RTOL_ELEM32)
    parity_check(lambda F, x, y: F.mse_loss(x, y, reduction=reduction), x, y, **limits)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape", [(5, 7), (2, 3, 7), (7,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(parity_check, rng, x_shape, bias, dtype):
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal((4, 7)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype) if bias else None
    limits = tol(dtype, RTOL_GEMM32)
    parity_check(lambda F, x, w, b: F.linear(x, w, b), x, w, b, **limits)


# ---- elementwise, matmul, reductions, shapes -------------------------------

BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}
SHAPE_PAIRS = [((3, 1, 4), (2, 4)), ((2, 4), (3, 1, 4)), ((4,), (3, 2, 1)), ((), (2, 3)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_broadcasting_binary(parity_check, rng, op, shapes):
    a, b = rng.uniform(0.5, 2.0, shapes[0]), rng.uniform(0.5, 2.0, shapes[1])
    parity_check(lambda F, a, b: BINARY[op](a, b), a, b)


@HYPOTHESIS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_broadcasting_random_shapes(parity_check, shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(0.5, 2.0, shape) for shape in shapes.input_shapes)
    parity_check(lambda F, a, b: BINARY[op](a, b), a, b)


SCALAR_OPS = {"x + 2": lambda x: x + 2.0, "2 - x": lambda x: 2.0 - x, "3 * x": lambda x: 3 * x,
              "3 / x": lambda x: 3.0 / x, "x ** 2": lambda x: x ** 2, "x ** 0.5": lambda x: x ** 0.5,
              "2 ** x": lambda x: 2.0 ** x, "-x": lambda x: -x}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", SCALAR_OPS)
def test_scalar_operand(parity_check, rng, op, dtype):
    limits = tol(dtype, RTOL_ELEM32)   # one op per element
    parity_check(lambda F, x: SCALAR_OPS[op](x), rng.uniform(0.5, 2.0, (2, 3)).astype(dtype), **limits)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs"])
def test_unary(parity_check, rng, name):
    parity_check(lambda F, x: getattr(x, name)(), rng.uniform(0.5, 2.0, (3, 4)))


MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)),
                 ((2, 3, 4), (4,)), ((4,), (4,)), ((4,), (2, 4, 3)), ((3, 4), (2, 4, 2))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(parity_check, rng, shapes, dtype):
    a, b = rng.standard_normal(shapes[0]).astype(dtype), rng.standard_normal(shapes[1]).astype(dtype)
    limits = tol(dtype, RTOL_GEMM32)
    parity_check(lambda F, a, b: a @ b, a, b, **limits)


def reduce(name, x, axis, keepdims):
    """x.sum/mean/max over axis in either engine; max over dims is amax (max(dim) gives indices)."""
    if name == "max":
        return x.amax(dim=() if axis is None else axis, keepdim=keepdims)
    return getattr(x, name)(dim=axis, keepdim=keepdims)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (1,)], ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reductions(parity_check, rng, name, axis, keepdims):
    parity_check(lambda F, x: reduce(name, x, axis, keepdims), rng.standard_normal((2, 3, 4)))


@pytest.mark.parametrize("axis", [None, 1])
def test_max_ties_share_the_gradient_like_amax(parity_check, rng, axis):
    x = rng.integers(0, 2, (3, 4)).astype(np.float64)   # many ties
    parity_check(lambda F, x: reduce("max", x, axis, False), x)


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6), "reshape -1": lambda x: x.reshape((-1, 2)),
    "view": lambda x: x.view(2, 12), "flatten": lambda x: x.flatten(), "flatten(1)": lambda x: x.flatten(1),
    "transpose": lambda x: x.transpose(0, 2), "permute": lambda x: x.permute(2, 0, 1),
    "unsqueeze": lambda x: x.unsqueeze(1), "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "F.flatten": lambda x: x.reshape(2, 3, 2, 2).flatten(1),
}


@pytest.mark.parametrize("op", SHAPE_OPS)
def test_shape_ops(parity_check, rng, op):
    parity_check(lambda F, x: SHAPE_OPS[op](x), rng.standard_normal((2, 3, 4)))


INDICES = {
    "int": lambda x: x[1], "slice": lambda x: x[1:, ::2], "ellipsis": lambda x: x[..., 1],
    "newaxis": lambda x: x[None, 0], "repeated rows": lambda x: x[[0, 0, 2, 0]],
    "repeated pairs": lambda x: x[[0, 2, 0], [1, 1, 1]], "slice + array": lambda x: x[:, [3, 3, 0]],
    "bool mask": lambda x: x[x > 0],
}


@pytest.mark.parametrize("index", INDICES)
def test_getitem(parity_check, rng, index):
    parity_check(lambda F, x: INDICES[index](x), rng.standard_normal((3, 4, 2)))


# ---- a whole network, float32 ----------------------------------------------

def test_small_cnn_float32(parity_check, close, rng):
    """conv → batch_norm → relu → max_pool → conv (groups) → avg_pool → linear → cross_entropy."""
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)   # noqa: E731
    args = [f32(4, 2, 12, 11), f32(6, 2, 3, 3), f32(6), f32(6), np.zeros(6, np.float32),
            np.ones(6, np.float32), f32(4, 3, 2, 2), f32(5, 16), f32(5), np.array([0, 4, 2, 2])]

    def net(F, x, w1, gamma, beta, mean, var, w2, w3, b3, target):
        h = F.conv2d(x, w1, padding=1)   # no bias before batch_norm: its gradient would be exactly 0
        h = F.relu(F.batch_norm(h, mean, var, gamma, beta, training=True))
        h = F.max_pool2d(h, 3, 2, 1)
        h = F.avg_pool2d(F.conv2d(h, w2, groups=2, stride=2), 2, 1, count_include_pad=False)
        return F.cross_entropy(F.linear(h.flatten(1), w3, b3), target)
    # chains of float32 GEMMs, normalisation and pooling: the conv/linear bound applies.
    run = parity_check(net, *args, requires_grad=[True] * 4 + [False, False] + [True] * 3 + [False],
                       rtol=RTOL_GEMM32, atol=None)
    close(run.mt[4], run.torch[4], rtol=RTOL_BN32, what="running_mean")
    close(run.mt[5], run.torch[5], rtol=RTOL_BN32, what="running_var")
