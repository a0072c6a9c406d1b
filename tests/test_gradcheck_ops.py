"""Every op's hand-written backward against float64 central differences (mt.gradcheck).

Inputs are kept small: gradcheck runs two forwards per input element.  Each
test writes its computation as fn(F, *tensors) with F = minitorch's functional.
"""
import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minitorch_cnn as mt

# ---- convolution -----------------------------------------------------------

CONV_GRID = list(itertools.product([1, 2, 3], [0, 1, 2, 3], [1, 2], [1, 2], [True, False]))


@pytest.mark.parametrize("stride,padding,dilation,groups,bias", CONV_GRID)
def test_conv2d_grid(grad_check, rng, stride, padding, dilation, groups, bias):
    # batch 1, non-square input (5 × 6) and kernel (2 × 3); 2 channels in and out
    x = rng.standard_normal((1, 2, 5, 6))
    w = rng.standard_normal((2, 2 // groups, 2, 3))
    b = rng.standard_normal(2) if bias else None
    grad_check(lambda F, x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding,
                                           dilation=dilation, groups=groups), x, w, b)


@st.composite
def conv_cases(draw):
    """Random valid conv2d problems with per-axis (h, w) hyper-parameters."""
    groups = draw(st.sampled_from([1, 2]))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    # the smallest input the (dilated) kernel fits in once padded, plus a little
    hw = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 2))
               for k, p, d in zip(kernel, padding, dilation))
    shape = (draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))) + hw
    out_c = groups * draw(st.integers(1, 2))
    return dict(shape=shape, weight=(out_c, shape[1] // groups) + kernel, stride=stride,
                padding=padding, dilation=dilation, groups=groups,
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@settings(max_examples=20, deadline=None, derandomize=True)
@given(conv_cases())
def test_conv2d_random_shapes(grad_check, case):
    rng = np.random.default_rng(case["seed"])
    x, w = rng.standard_normal(case["shape"]), rng.standard_normal(case["weight"])
    b = rng.standard_normal(case["weight"][0]) if case["bias"] else None
    grad_check(lambda F, x, w, b: F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"],
                                           dilation=case["dilation"], groups=case["groups"]), x, w, b)


# ---- pooling ---------------------------------------------------------------

POOL_GRID = [  # kernel, stride, padding: overlapping (3, 2), padded, non-square, default stride
    (3, 2, 0), (3, 2, 1), (3, 1, 1), ((2, 3), 1, (1, 1)), ((3, 2), (2, 1), (1, 0)), (2, None, 0), (2, None, 1),
]


@pytest.mark.parametrize("kernel,stride,padding", POOL_GRID)
def test_max_pool2d(grad_check, rng, distinct_values, kernel, stride, padding):
    x = distinct_values((2, 2, 7, 6), rng)   # no ties: the argmax is stable under ±eps
    grad_check(lambda F, x: F.max_pool2d(x, kernel, stride, padding), x)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("kernel,stride,padding", POOL_GRID)
def test_avg_pool2d(grad_check, rng, kernel, stride, padding, count_include_pad):
    x = rng.standard_normal((2, 2, 7, 6))
    grad_check(lambda F, x: F.avg_pool2d(x, kernel, stride, padding,
                                         count_include_pad=count_include_pad), x)


# ---- normalisation, activations, dropout -----------------------------------

@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4, 3)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(grad_check, rng, shape, training, affine):
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    w, b = (rng.standard_normal(c), rng.standard_normal(c)) if affine else (None, None)
    mean, var = mt.tensor(rng.standard_normal(c)), mt.tensor(rng.uniform(0.5, 2, c))
    grad_check(lambda F, x, w, b: F.batch_norm(x, mean, var, w, b, training=training), x, w, b)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activations(grad_check, rng, distinct_values, name):
    x = distinct_values((3, 5), rng)   # |x| ≥ 0.05: relu's kink at 0 is never straddled
    grad_check(lambda F, x: getattr(F, name)(x), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(grad_check, rng, name, dim):
    x = rng.standard_normal((2, 3, 4))
    grad_check(lambda F, x: getattr(F, name)(x, dim=dim), x)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout(grad_check, rng, p):
    def fn(F, x):
        mt.manual_seed(7)   # the same mask in every forward gradcheck runs
        return F.dropout(x, p)
    grad_check(fn, rng.standard_normal((4, 5)))


# ---- losses and linear -----------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(grad_check, rng, reduction):
    logits = rng.standard_normal((5, 4)) * 3
    target = mt.tensor([0, 3, 3, 1, 0])
    grad_check(lambda F, z: F.cross_entropy(z, target, reduction=reduction), logits)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(grad_check, rng, reduction):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    grad_check(lambda F, x, y: F.mse_loss(x, y, reduction=reduction), x, y)


@pytest.mark.parametrize("x_shape", [(3, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(grad_check, rng, x_shape, bias):
    x, w = rng.standard_normal(x_shape), rng.standard_normal((3, 4))
    b = rng.standard_normal(3) if bias else None
    grad_check(lambda F, x, w, b: F.linear(x, w, b), x, w, b)


# ---- elementwise with broadcasting -----------------------------------------

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}
SHAPE_PAIRS = [((3, 1, 4), (2, 4)), ((2, 4), (3, 1, 4)), ((4,), (3, 2, 1)), ((), (2, 3)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_broadcasting_binary(grad_check, rng, op, shapes):
    # positive operands away from 0 so that / and ** (and log a in d(a**b)/db) are smooth
    a, b = rng.uniform(0.5, 2.0, shapes[0]), rng.uniform(0.5, 2.0, shapes[1])
    grad_check(lambda F, a, b: BINARY[op](a, b), a, b)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_broadcasting_random_shapes(grad_check, shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(0.5, 2.0, shape) for shape in shapes.input_shapes)
    grad_check(lambda F, a, b: BINARY[op](a, b), a, b)


SCALAR_OPS = {
    "x + 2": lambda x: x + 2.0, "2 + x": lambda x: 2.0 + x,
    "x - 2": lambda x: x - 2.0, "2 - x": lambda x: 2.0 - x,
    "x * 3": lambda x: x * 3, "3 * x": lambda x: 3 * x,
    "x / 3": lambda x: x / 3.0, "3 / x": lambda x: 3.0 / x,
    "x ** 2": lambda x: x ** 2, "x ** 0.5": lambda x: x ** 0.5, "2 ** x": lambda x: 2.0 ** x,
    "-x": lambda x: -x,
}


@pytest.mark.parametrize("op", SCALAR_OPS)
def test_scalar_operand(grad_check, rng, op):
    grad_check(lambda F, x: SCALAR_OPS[op](x), rng.uniform(0.5, 2.0, (2, 3)))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs"])
def test_unary(grad_check, rng, name):
    grad_check(lambda F, x: getattr(x, name)(), rng.uniform(0.5, 2.0, (3, 4)))


# ---- matmul ----------------------------------------------------------------

MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3)),
                 ((2, 3, 4), (4,)), ((4,), (4,)), ((4,), (2, 4, 3)), ((3, 4), (2, 4, 2))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(grad_check, rng, shapes):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    grad_check(lambda F, a, b: a @ b, a, b)


# ---- reductions ------------------------------------------------------------

AXES = [None, 0, -1, (0, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "amax"])   # max over several axes is torch's amax
def test_reductions(grad_check, rng, distinct_values, name, axis, keepdims):
    x = distinct_values((2, 3, 4), rng)   # no ties: max has one arg-max per slice
    grad_check(lambda F, x: getattr(x, name)(axis=axis, keepdims=keepdims), x)


# ---- shape ops and indexing --------------------------------------------------

SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 6),
    "reshape -1": lambda x: x.reshape((-1, 2)),
    "view": lambda x: x.view(2, 12),
    "flatten": lambda x: x.flatten(),
    "flatten(1)": lambda x: x.flatten(1),
    "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1),
    "T": lambda x: x.T,
    "unsqueeze": lambda x: x.unsqueeze(1),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
}


@pytest.mark.parametrize("op", SHAPE_OPS)
def test_shape_ops(grad_check, rng, op):
    grad_check(lambda F, x: SHAPE_OPS[op](x) * 1.0, rng.standard_normal((2, 3, 4)))


def test_functional_flatten(grad_check, rng):
    grad_check(lambda F, x: F.flatten(x), rng.standard_normal((2, 3, 2, 2)))


INDICES = {
    "int": lambda x: x[1],
    "slice": lambda x: x[1:, ::2],
    "ellipsis": lambda x: x[..., 1],
    "newaxis": lambda x: x[None, 0],
    "repeated rows": lambda x: x[[0, 0, 2, 0]],
    "repeated pairs": lambda x: x[[0, 2, 0], [1, 1, 1]],
    "slice + array": lambda x: x[:, [3, 3, 0]],
    "array tensor": lambda x: x[mt.tensor([2, 2, 1])],
    "bool mask": lambda x: x[x > 0],
}


@pytest.mark.parametrize("index", INDICES)
def test_getitem(grad_check, rng, distinct_values, index):
    grad_check(lambda F, x: INDICES[index](x), distinct_values((3, 4, 2), rng))


# ---- a whole network -------------------------------------------------------

def test_small_cnn_end_to_end(grad_check, rng):
    """conv → batch_norm → relu → max_pool → flatten → linear → cross_entropy, all inputs checked."""
    x = rng.standard_normal((2, 1, 6, 6))
    w1, b1 = rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2)
    gamma, beta = rng.uniform(0.5, 1.5, 2), rng.standard_normal(2)
    w2, b2 = rng.standard_normal((3, 8)), rng.standard_normal(3)
    target = mt.tensor([2, 0])

    def net(F, x, w1, b1, gamma, beta, w2, b2):
        h = F.conv2d(x, w1, b1, padding=1)
        h = F.relu(F.batch_norm(h, None, None, gamma, beta, training=True))
        h = F.max_pool2d(h, 3, 2)
        return F.cross_entropy(F.linear(F.flatten(h), w2, b2), target)
    grad_check(net, x, w1, b1, gamma, beta, w2, b2)


# ---- gradcheck itself catches a wrong backward -----------------------------

class HalfSquare(mt.Function):
    """out = x²  with the WRONG backward dx = g·x (should be 2·g·x)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)


class OneWrongElement(mt.Function):
    """out = 3x with a backward that is right everywhere except at element (1, 2)."""
    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, g):
        grad = 3 * g
        grad[1, 2] += 1.0
        return (grad,)


MESSAGE = re.compile(r"input (\d+) .*index \(([\d, ]+)\).*analytical (\S+), numerical (\S+) ")


def test_gradcheck_reports_a_wrong_backward(rng):
    a = mt.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = mt.tensor(rng.uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    with pytest.raises(mt.GradcheckError) as info:
        mt.gradcheck(lambda a, b: a * 2 + HalfSquare.apply(b), [a, b])
    match = MESSAGE.search(str(info.value))
    assert match, f"message does not name input, index and both values: {info.value}"
    index = tuple(int(i) for i in match.group(2).split(","))
    analytical, numerical = float(match.group(3)), float(match.group(4))
    assert match.group(1) == "1"                    # input 0 (a * 2) is right
    assert len(index) == 2 and all(0 <= i < n for i, n in zip(index, b.shape))
    assert numerical == pytest.approx(2 * analytical, rel=1e-5)   # the true derivative is twice


def test_gradcheck_names_the_wrong_element(rng):
    x = mt.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(mt.GradcheckError, match=r"input 0 .*index \(1, 2\).*analytical .*numerical"):
        mt.gradcheck(OneWrongElement.apply, [x])


def test_gradcheck_passes_a_right_backward_and_leaves_inputs_alone(rng):
    data = rng.standard_normal((3, 4))
    x = mt.tensor(data, requires_grad=True)
    assert mt.gradcheck(lambda x: (x * x).sum(axis=1), [x]) is True
    np.testing.assert_array_equal(x.data, data)     # perturbed copies only
    assert x.grad is None
