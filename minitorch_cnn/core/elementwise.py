"""Elementwise ops (docs/02_broadcasting.md): + − × ÷ ** between operands that broadcast to one
shape, each gradient below a full-size term that `unbroadcast` sums back to its input's shape
(a Python number operand takes part but gets no gradient); then the unary ops, shape kept.
"""
from ..backend import get_array_module
from .autograd import Function


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: over the leading axes broadcasting added, and over each axis
    where `shape` has 1 and grad does not (kept as size 1); grad itself when nothing was broadcast."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)


def _operands(ctx, a, b, dtype):
    """a and b (arrays or Python numbers) as arrays of `dtype`, which the API picks by torch's
    promotion rules (the op only converts to it); their shapes kept on ctx for unbroadcast."""
    xp = get_array_module(b if isinstance(a, (bool, int, float)) else a)
    a, b = xp.asarray(a, dtype=dtype), xp.asarray(b, dtype=dtype)
    ctx.shapes = a.shape, b.shape
    return a, b


def _sum_back(ctx, grad_a, grad_b):
    """Each input's full-size term summed back to the input's shape (None: no gradient wanted)."""
    return tuple(unbroadcast(grad, shape) if needed else None
                 for grad, shape, needed in zip((grad_a, grad_b), ctx.shapes, ctx.needs_input_grad))


class Add(Function):
    """out = a + b;  da = g,  db = g."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        a, b = _operands(ctx, a, b, dtype)
        return a + b
    @staticmethod
    def backward(ctx, g):
        return _sum_back(ctx, g, g)


class Sub(Function):
    """out = a − b;  da = g,  db = −g."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        a, b = _operands(ctx, a, b, dtype)
        return a - b
    @staticmethod
    def backward(ctx, g):
        return _sum_back(ctx, g, -g)


class Mul(Function):
    """out = a · b;  da = g · b,  db = g · a."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        a, b = _operands(ctx, a, b, dtype)
        ctx.save_for_backward(a, b)
        return a * b
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        return _sum_back(ctx, g * b, g * a)


class Div(Function):
    """out = a / b;  da = g / b,  db = −g · a / b² = −g · out / b."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        a, b = _operands(ctx, a, b, dtype)
        out = a / b
        ctx.save_for_backward(b, out)     # a / b² is out / b: a itself need not be kept
        return out
    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved
        return _sum_back(ctx, g / b, -g * (out / b))


class Pow(Function):
    """out = a ** b;  da = g · b · a ** (b − 1)  (0 where b = 0),
    db = g · out · log a  (0 where a = 0 and b >= 0)."""
    @staticmethod
    def forward(ctx, a, b, dtype):
        a, b = _operands(ctx, a, b, dtype)
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out
    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved
        xp = get_array_module(a)
        # the limits torch takes where the formulas give 0 · inf: a ** 0 is flat in a, 0 ** b in b
        grad_a = xp.where(b == 0, 0, g * (b * a ** (b - 1)))
        return _sum_back(ctx, grad_a, xp.where((a == 0) & (b >= 0), 0, g * (out * xp.log(a))))


class Neg(Function):
    """out = −x, same shape;  dx = −g."""
    @staticmethod
    def forward(ctx, x):
        return -x
    @staticmethod
    def backward(ctx, g):
        return (-g,)


class Exp(Function):
    """out = exp(x), same shape;  dx = g · out  (exp is its own derivative: keep out, not x)."""
    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out
    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)


class Log(Function):
    """out = log(x), same shape;  dx = g / x."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).log(x)
    @staticmethod
    def backward(ctx, g):
        return (g / ctx.saved[0],)


class Sqrt(Function):
    """out = √x, same shape;  dx = g / (2 · out)."""
    @staticmethod
    def forward(ctx, x):
        out = get_array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out
    @staticmethod
    def backward(ctx, g):
        return (g / (2 * ctx.saved[0]),)


class Abs(Function):
    """out = |x|, same shape;  dx = g · sign(x)  (sign(0) = 0: torch's choice of subgradient at 0)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return get_array_module(x).abs(x)
    @staticmethod
    def backward(ctx, g):
        return (g * get_array_module(g).sign(ctx.saved[0]),)
