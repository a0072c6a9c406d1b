"""Every public op documents its shapes and its gradient formula (issue 2's done-when).

`help(F.conv2d)` must say what goes in and comes out and how the gradient flows back,
without opening the source: each docstring names a shape mapping ("->", or "any shape"
/ "same shape" for elementwise ops) and at least one gradient formula ("dx = ...").
"""
import re

import pytest

from minitorch_cnn.nn import functional as F
from minitorch_cnn.ops import elementwise, matmul, reduce

GRADIENT = re.compile(r"\bd[a-zA-Z] = ")      # dx = ..., dW = ..., db = ...
OPS = ([getattr(F, name) for name in F.__all__]
       + [getattr(elementwise, name) for name in ("add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "abs")]
       + [matmul.matmul, reduce.sum, reduce.mean, reduce.max])


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.__module__.split('.')[-1]}.{op.__name__}")
def test_the_docstring_gives_the_gradient_formula(op):
    doc = op.__doc__ or ""
    assert GRADIENT.search(doc), f"{op.__name__}: no gradient formula in {doc!r}"


@pytest.mark.parametrize("op", [getattr(F, name) for name in F.__all__], ids=lambda op: op.__name__)
def test_the_functional_docstring_gives_the_shapes(op):
    doc = op.__doc__ or ""
    assert "->" in doc and f"F.{op.__name__}" in doc, f"{op.__name__}: no shapes in {doc!r}"
