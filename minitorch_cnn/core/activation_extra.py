"""More activations, one element at a time: GELU (exact and tanh), SiLU, ELU, Hardtanh (ReLU6 is
Hardtanh(0, 6)), Softplus, Hardswish.

Each is y = f(x) elementwise, so every backward is dx = g · f'(x) (g: the gradient of the loss with
respect to y, docs/01_graph.md).  At a kink f' has two one-sided values; each docstring says which
one torch takes there, and where a NaN x sends its gradient.
"""
import math

from ..backend import get_array_module
from .autograd import Function

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)     # tanh GELU: √(2/π) (x + 0.044715 x³)
_KAPPA = 0.044715


def erf(x):
    """The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, elementwise, to about 1e-15 (NumPy has none).
    For |x| < 3 the series 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5···(2n+1)), whose terms are all
    positive (no cancellation); above, 1 − erfc(x) with erfc's continued fraction
    e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the 30th level up."""
    xp = get_array_module(x)
    a = xp.abs(x)
    small = xp.minimum(a, 3.0)
    term, total, step = small, small, 2 * small * small
    for n in range(1, 45):
        term = term * step / (2 * n + 1)
        total = total + term
    series = total * xp.exp(-small * small) * (2 / math.sqrt(math.pi))
    big = xp.maximum(a, 3.0)
    fraction = big
    for k in range(30, 0, -1):
        fraction = big + (k / 2) / fraction
    tail = 1 - xp.exp(-big * big) / (math.sqrt(math.pi) * fraction)
    return xp.sign(x) * xp.where(a < 3.0, series, tail)


class GELU(Function):
    """x (any shape) -> x · Φ(x), Φ(x) = (1 + erf(x/√2)) / 2 the normal CDF (approximate='none');
    dx = g · (Φ(x) + x · φ(x)), φ(x) = e^(−x²/2)/√(2π).
    approximate='tanh': y = x/2 · (1 + t), t = tanh(u), u = √(2/π) (x + 0.044715 x³);
    dx = g · ((1 + t)/2 + x/2 · (1 − t²) · √(2/π) (1 + 3 · 0.044715 x²))."""
    @staticmethod
    def forward(ctx, x, approximate):
        xp = get_array_module(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + _KAPPA * x * x * x))
            ctx.save_for_backward(x, t)
            return 0.5 * x * (1 + t)
        cdf = 0.5 * (1 + erf(x * math.sqrt(0.5)))
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        x, saved = ctx.saved
        if ctx.approximate == "tanh":
            slope = 0.5 * (1 + saved) + 0.5 * x * (1 - saved * saved) * _SQRT_2_OVER_PI * (1 + 3 * _KAPPA * x * x)
            return (g * slope,)
        pdf = get_array_module(x).exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return (g * (saved + x * pdf),)


class SiLU(Function):
    """x (any shape) -> x · s, s = σ(x) = 1/(1 + e⁻ˣ);  dx = g · s · (1 + x · (1 − s))."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        s = xp.exp(-xp.logaddexp(0, -x))     # σ(x) without overflow (core/activation.py's Sigmoid)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved
        return (g * s * (1 + x * (1 - s)),)


class ELU(Function):
    """x (any shape) -> x where x > 0, else α (eˣ − 1);  dx = g where x > 0, else g · α eˣ.
    At x = 0 torch takes the left side (α); a NaN x passes g on."""
    @staticmethod
    def forward(ctx, x, alpha):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.alpha = x.dtype.type(alpha)
        return xp.where(x <= 0, ctx.alpha * xp.expm1(x), x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved
        xp = get_array_module(x)
        return (xp.where(x <= 0, g * ctx.alpha * xp.exp(x), g),)


class Hardtanh(Function):
    """x (any shape) -> min(max(x, lo), hi) (NaN stays NaN);  dx = g where lo < x < hi, else 0:
    0 at both kinks, and g for a NaN x, as torch.  relu6 is Hardtanh with lo = 0, hi = 6."""
    @staticmethod
    def forward(ctx, x, min_val, max_val):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return xp.minimum(xp.maximum(x, x.dtype.type(min_val)), x.dtype.type(max_val))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved
        lo, hi = ctx.bounds
        return (get_array_module(g).where((x <= lo) | (x >= hi), 0, g),)


class Softplus(Function):
    """x (any shape) -> log(1 + e^(βx)) / β, or x itself where βx > threshold (there the two agree
    to rounding);  dx = g · z/(1 + z), z = e^(βx) (= σ(βx)), or g where βx > threshold."""
    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = get_array_module(x)
        scaled = x * x.dtype.type(beta)
        linear = scaled > threshold
        ctx.save_for_backward(scaled, linear)
        return xp.where(linear, x, xp.log1p(xp.exp(scaled)) / x.dtype.type(beta))

    @staticmethod
    def backward(ctx, g):
        scaled, linear = ctx.saved
        xp = get_array_module(g)
        z = xp.exp(scaled)
        return (xp.where(linear, g, g * z / (z + 1)),)


class Hardswish(Function):
    """x (any shape) -> x · min(max(x + 3, 0), 6) / 6;  dx = 0 where x ≤ −3, g · (x/3 + 1/2) where
    −3 < x < 3, g where x ≥ 3 (torch's sides at the kinks; a NaN x passes g on)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        ctx.save_for_backward(x)
        return x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved
        xp = get_array_module(x)
        return (xp.where(x <= -3, 0, xp.where(x < 3, g * (x / 3 + 0.5), g)),)
