"""Torch's signatures to the letter: every public name here that torch also has takes torch's
parameters, in torch's order, with torch's names, kinds (positional-or-keyword, keyword-only,
*args) and defaults.

Torch's signature comes from `inspect.signature` where torch's object is Python; most torch
builtins (torch.add, Tensor.view, F.conv2d) are not introspectable, and for those the signature
lines of torch's own docstring are parsed ("add(input, other, *, alpha=1, out=None) -> Tensor").
Where the docstring gives overloads (torch.max(input), max(input, dim, keepdim=False),
max(input, other)), each overload must bind to our one signature with its required parameters
given positionally and its optional ones by keyword, and shared defaults must agree. Names that
exist only here are not compared; names whose torch signature is neither introspectable nor
documented are skipped, each with its reason.
"""
import ast
import inspect
import os
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minitorch_cnn as mt  # noqa: E402
import minitorch_cnn.data  # noqa: E402,F401  (not imported by minitorch_cnn itself)

EMPTY = inspect.Parameter.empty
P = inspect.Parameter

# torch names whose torch signature cannot be read (neither introspectable nor documented)
UNDOCUMENTED = {
    "Tensor": "torch.Tensor(*args) is the legacy constructor, with no documented signature",
    "Function": "torch.autograd.Function is subclassed, not constructed",
    "layout": "torch.layout is an enum type scripts never construct",
    "memory_format": "torch.memory_format is an enum type scripts never construct",
}

# torch's real signature(s) where its docstring says otherwise or leaves overloads out, each
# checked by calling torch 2.13: torch.softmax(x, 1, torch.float64) works (the docs make dtype
# keyword-only); x.sort(stable=True), x.gather(0, i, sparse_grad=False), x.bitwise_and(other=y)
# (documented as "bitwise_and()"), x.std(0, True, False), torch.std(x, 0, True, False) and
# x.scatter(0, i, value=1.0) all work.
ACTUAL = {
    "softmax": ["softmax(input, dim, dtype=None)"],
    "log_softmax": ["log_softmax(input, dim, dtype=None)"],
    "Tensor.sort": ["sort(dim=-1, descending=False)", "sort(*, stable, dim=-1, descending=False)"],
    "Tensor.argsort": ["argsort(dim=-1, descending=False)", "argsort(*, stable, dim=-1, descending=False)"],
    "Tensor.gather": ["gather(dim, index, *, sparse_grad=False)"],
    "Tensor.std": ["std(dim=None, *, correction=1, keepdim=False)", "std(dim, unbiased, keepdim=False)"],
    "Tensor.var": ["var(dim=None, *, correction=1, keepdim=False)", "var(dim, unbiased, keepdim=False)"],
    "std": ["std(input, dim=None, *, correction=1, keepdim=False, out=None)",
            "std(input, dim, unbiased, keepdim=False, *, out=None)"],
    "var": ["var(input, dim=None, *, correction=1, keepdim=False, out=None)",
            "var(input, dim, unbiased, keepdim=False, *, out=None)"],
    "Tensor.scatter": ["scatter(dim, index, src)", "scatter(dim, index, value)",
                       "scatter(dim, index, src, *, reduce)", "scatter(dim, index, value, *, reduce)"],
    "scatter": ["scatter(input, dim, index, src)", "scatter(input, dim, index, value)",
                "scatter(input, dim, index, src, *, reduce)", "scatter(input, dim, index, value, *, reduce)"],
}
# undocumented or unparsable in the docs ("arange(start=0, end, step=1, ...)"), checked by calling
# torch 2.13: arange(end=3), arange(1, 5, 2), relu(input=x), masked_fill(x, mask=m, value=1.0),
# x.log_softmax(0, torch.float64)
ACTUAL.update({
    "arange": ["arange(end, *, out=None, dtype=None, layout=torch.strided, device=None, requires_grad=False)",
               "arange(start, end, step=1, *, out=None, dtype=None, layout=torch.strided, device=None, "
               "requires_grad=False)"],
    "relu": ["relu(input)"],
    "randint": ["randint(high, size, *, generator=None, out=None, dtype=None, layout=torch.strided, device=None, "
                "requires_grad=False)",
                "randint(low, high, size, *, generator=None, out=None, dtype=None, layout=torch.strided, "
                "device=None, requires_grad=False)"],
    "masked_fill": ["masked_fill(input, mask, value)"],
    "Tensor.relu": ["relu()"],
    "Tensor.detach": ["detach()"],
    "Tensor.log_softmax": ["log_softmax(dim, dtype=None)"],
    "Tensor.softmax": ["softmax(dim, dtype=None)"],   # documented as "softmax(dim)"; x.softmax(0, torch.float64) works
    # documented as "sum(dim=None, keepdim=False, dtype=None)", but torch's two overloads are these:
    # x.sum(keepdim=True) is a TypeError and dtype is keyword-only (x.sum(0, True, torch.float64) too)
    "Tensor.sum": ["sum(*, dtype=None)", "sum(dim, keepdim=False, *, dtype=None)"],
    "Tensor.mean": ["mean(*, dtype=None)", "mean(dim, keepdim=False, *, dtype=None)"],
    # documented as "gelu(input, approximate = 'none')", but F.gelu(x, "tanh") is a TypeError
    "nn.functional.gelu": ["gelu(input, *, approximate='none')"],
})
ACTUAL.update({f"Tensor.{op}{suffix}": [f"{op}{suffix}(other)"] for suffix in ("", "_")
               for op in ("bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or", "logical_xor")})

# torch's argument parser also takes NumPy's names (x.sum(axis=0, keepdims=True) works, checked):
# ours may spell them as extra keyword-only parameters after torch's own
NUMPY_ALIASES = {"axis", "keepdims"}

# ---------------------------------------------------------------- where our names live

OWNERS = (   # (path fragment, owner) first match wins: the report routes each failure to its owner
    ("ops/pool.py", "B"), ("nn/layers.py:pool", "B"),
    ("ops/elementwise.py", "C"), ("ops/reduce.py", "C"), ("ops/shape.py", "C"), ("ops/join.py", "C"),
    ("tensor.py", "C"), ("core/", "C"), ("ops/inplace.py", "C"),
    ("autograd.py", "D"), ("nn/module.py", "D"),
    ("data/", "E"), ("utils/", "E"), ("optim/", "F"), ("as_torch", "G"),
    ("nn/layers.py", "A"), ("nn/functional.py", "A"), ("ops/conv.py", "A"), ("ops/norm.py", "A"),
    ("ops/activation.py", "A"), ("ops/loss.py", "A"), ("ops/dropout.py", "A"), ("ops/matmul.py", "A"),
    ("creation.py", "A"), ("nn/init.py", "A"),
)


def owner(obj):
    target = inspect.unwrap(obj)
    try:
        path = inspect.getsourcefile(target) or ""
    except TypeError:
        return "?"
    path = path.replace(os.sep, "/")
    if path.endswith("nn/layers.py") and "Pool" in getattr(obj, "__qualname__", ""):
        path += ":pool"
    for fragment, who in OWNERS:
        if fragment in path:
            return who
    return "lead"


# ---------------------------------------------------------------- torch's signatures

def _only_varargs(sig):
    """(*args, **kwargs): a wrapper's signature, saying nothing."""
    return [p.kind for p in sig.parameters.values()] == [P.VAR_POSITIONAL, P.VAR_KEYWORD]


def _default(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return Expression(ast.unparse(node))


class Expression(str):
    """A documented default that is not a literal (torch.preserve_format, torch.strided)."""


def parse_signature_line(text):
    """'add(input, other, *, alpha=1, out=None)' -> inspect.Signature (docs write '*size, *,'
    for varargs followed by keyword-only ones)."""
    params_text = text[text.index("(") + 1:text.rindex(")")]
    params_text = params_text.replace("\\*", "*")
    params_text = params_text.replace("*size, *,", "*size,").replace("*sizes, *,", "*sizes,")
    tree = ast.parse(f"def f({params_text}): pass").body[0].args
    params = []
    positional = tree.posonlyargs + tree.args
    defaults = [EMPTY] * (len(positional) - len(tree.defaults)) + [_default(d) for d in tree.defaults]
    kinds = [P.POSITIONAL_ONLY] * len(tree.posonlyargs) + [P.POSITIONAL_OR_KEYWORD] * len(tree.args)
    for arg, default, kind in zip(positional, defaults, kinds):
        params.append(P(arg.arg, kind, default=default))
    if tree.vararg:
        params.append(P(tree.vararg.arg, P.VAR_POSITIONAL))
    for arg, default in zip(tree.kwonlyargs, tree.kw_defaults):
        if default is None and arg.arg == "out":   # the docs' "*, out: Optional[Tensor]" is optional
            params.append(P(arg.arg, P.KEYWORD_ONLY, default=None))
            continue
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=EMPTY if default is None else _default(default)))
    if tree.kwarg:
        params.append(P(tree.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(params)


def documented_signatures(obj, name):
    """The signature lines of obj's docstring, for name: the first line and '.. function::' /
    '.. method::' overloads."""
    lines = (getattr(obj, "__doc__", None) or "").splitlines()
    found = []
    for line in lines:
        line = line.strip()
        for prefix in (".. function:: ", ".. method:: "):
            if line.startswith(prefix):
                line = line[len(prefix):]
        line = line.split(" -> ")[0].strip()
        if line.startswith(name + "(") and line.endswith(")"):
            try:
                found.append(parse_signature_line(line))
            except SyntaxError:
                continue
    return [s for s in found if not _only_varargs(s)]


def torch_signatures(obj, name, strip_self):
    """torch's signature(s) of obj, or a skip with the reason."""
    try:
        sig = inspect.signature(obj)
        if not _only_varargs(sig):
            return [_strip_self(sig) if strip_self else sig]
    except (TypeError, ValueError):
        pass
    if name.startswith("nn.functional."):   # boolean_dispatch: F.max_pool2d and friends
        plain = getattr(torch.nn.functional, "_" + name.rsplit(".", 1)[1], None)
        if plain is not None:
            return [inspect.signature(plain)]
    if name in ACTUAL:
        return [parse_signature_line(line) for line in ACTUAL[name]]
    found = documented_signatures(obj, name.rsplit(".", 1)[-1])
    if found:
        return found
    pytest.skip(f"torch's {name} has no introspectable or documented signature")


def _strip_self(sig):
    params = list(sig.parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    return sig.replace(parameters=params)


# ---------------------------------------------------------------- comparing

def same_default(ours, theirs):
    if theirs is EMPTY or ours is EMPTY:
        return theirs is ours
    if isinstance(theirs, Expression):   # torch.preserve_format: ours prints as the same thing
        return str(theirs) in (str(ours), repr(ours))
    if type(theirs) in (torch.memory_format, torch.layout):   # a torch enum introspected: by name
        return str(theirs) == str(ours)
    if isinstance(theirs, torch.dtype):
        return str(theirs).replace("torch.", "") == str(np.dtype(ours)) if ours is not None else False
    if isinstance(theirs, (bool, np.bool_)) or isinstance(ours, (bool, np.bool_)):
        return type(theirs) is type(ours) and theirs == ours
    if theirs is torch.default_generator:     # random_split's default: the engine's own stream
        return ours is mt.default_generator
    try:
        return bool(ours == theirs) and type(ours) is not str or (isinstance(theirs, str) and ours == theirs)
    except Exception:   # noqa: BLE001  (an array default compares elementwise)
        return False


def describe(sig):
    return str(sig).replace("<class 'inspect._empty'>", "")


def differences(ours, theirs):
    """What differs between our signature and torch's single one, or []."""
    ours_params, theirs_params = list(ours.parameters.values()), list(theirs.parameters.values())
    problems = []
    if [p.name for p in ours_params] != [p.name for p in theirs_params]:
        problems.append(f"parameters {[p.name for p in ours_params]}, torch {[p.name for p in theirs_params]}")
    for o in ours_params:
        t = theirs.parameters.get(o.name)
        if t is None:
            continue
        if o.kind != t.kind:
            problems.append(f"{o.name} is {o.kind.description}, torch's {t.kind.description}")
        if not same_default(o.default, t.default):
            problems.append(f"{o.name} defaults to {o.default!r}, torch's {t.default!r}")
    return problems


def overload_binds(ours, overload):
    """One documented overload called on ours: required parameters positionally, optional ones by
    keyword, shared defaults equal."""
    args, kwargs = [], {}
    for p in overload.parameters.values():
        if p.kind in (P.VAR_POSITIONAL,):
            args.extend([1, 2])
        elif p.kind == P.VAR_KEYWORD:
            continue
        elif p.default is EMPTY and p.kind != P.KEYWORD_ONLY:
            args.append(object())
        else:
            kwargs[p.name] = object()
    try:
        ours.bind(*args, **kwargs)
    except TypeError as exc:
        return [f"overload {describe(overload)} does not bind ({exc})"]
    return [f"{p.name} defaults to {ours.parameters[p.name].default!r}, torch's {p.default!r}"
            for p in overload.parameters.values()
            if p.name in ours.parameters and p.default is not EMPTY
            and not same_default(ours.parameters[p.name].default, p.default)]


def _torch_size_args(sig):
    """torch's factories take the size as *size or as size=: Python cannot name both `size`, so
    ours spell them (*size_, ..., size=None); that pair stands for torch's *size."""
    params = list(sig.parameters.values())
    var = [p for p in params if p.kind == P.VAR_POSITIONAL and p.name.endswith("_")]
    if var and var[0].name[:-1] in sig.parameters:
        keyword = sig.parameters[var[0].name[:-1]]
        if keyword.kind == P.KEYWORD_ONLY and keyword.default is None:
            params = [var[0].replace(name=keyword.name) if p is var[0] else p for p in params if p is not keyword]
    return sig.replace(parameters=params)


def check(label, ours_obj, torch_obj, strip_self=False):
    if label.split(".")[-1] in UNDOCUMENTED and label.count(".") == 0:
        pytest.skip(UNDOCUMENTED[label])
    theirs = torch_signatures(torch_obj, label, strip_self)
    ours = _torch_size_args(inspect.signature(ours_obj))
    if strip_self:
        ours = _strip_self(ours)
    ours = ours.replace(parameters=[p for p in ours.parameters.values()
                                    if not (p.kind == P.KEYWORD_ONLY and p.name in NUMPY_ALIASES)])
    if len(theirs) == 1:
        problems = differences(ours, theirs[0])
    else:
        problems = [problem for overload in theirs for problem in overload_binds(ours, overload)]
    assert not problems, (f"[owner {owner(ours_obj)}] {label}: ours {describe(ours)}, torch "
                          f"{' | '.join(describe(t) for t in theirs)}: " + "; ".join(problems))


# ---------------------------------------------------------------- the names compared

def _public(namespace):
    return [n for n in dir(namespace) if not n.startswith("_")]


def _is_routine(obj):
    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) or \
        (callable(obj) and not isinstance(obj, type) and hasattr(obj, "__wrapped__"))


def _class_cases(prefix, ours_cls, torch_cls, base_methods_done=()):
    """The constructor, and each public method torch's class defines itself (not inherited
    from a base compared once on its own)."""
    cases = [(f"{prefix}", ours_cls, torch_cls, False)]
    for name in sorted(vars(torch_cls)):
        if name.startswith("_") and name != "__call__" or name in base_methods_done:
            continue
        if name == "__call__":
            continue
        if callable(getattr(torch_cls, name, None)) and hasattr(ours_cls, name) and \
                callable(getattr(ours_cls, name)) and not isinstance(getattr(torch_cls, name), type):
            cases.append((f"{prefix}.{name}", getattr(ours_cls, name), getattr(torch_cls, name), True))
    return cases


def collect_cases():
    cases = []
    # top-level functions and classes in __all__
    for name in mt.__all__:
        ours = getattr(mt, name, None)
        theirs = getattr(torch, name, None)
        if ours is None or theirs is None or isinstance(ours, types.ModuleType) or \
                isinstance(ours, (type(np.float32), np.dtype)) and issubclass(ours, np.generic):
            continue
        if isinstance(ours, type):
            if name in UNDOCUMENTED:
                continue
            cases.append((name, ours, theirs, False))
        elif callable(ours):
            cases.append((name, ours, theirs, False))
    # torch.nn.functional and torch.nn.init
    for sub in ("functional", "init"):
        ours_ns, torch_ns = getattr(mt.nn, sub), getattr(torch.nn, sub)
        for name in _public(ours_ns):
            ours, theirs = getattr(ours_ns, name), getattr(torch_ns, name, None)
            if theirs is not None and _is_routine(ours) and callable(theirs):
                cases.append((f"nn.{sub}.{name}", ours, theirs, False))
    # torch.nn modules: constructors, forward and their own methods; Module's methods once
    cases += _class_cases("nn.Module", mt.nn.Module, torch.nn.Module)
    module_methods = set(vars(torch.nn.Module))
    for name in _public(mt.nn):
        ours, theirs = getattr(mt.nn, name), getattr(torch.nn, name, None)
        if isinstance(ours, type) and isinstance(theirs, type) and ours is not mt.nn.Module:
            cases += _class_cases(f"nn.{name}", ours, theirs, module_methods - {"forward"})
            if "forward" in vars(theirs) and "forward" not in [c[0].rsplit(".", 1)[-1] for c in cases[-5:]] \
                    and hasattr(ours, "forward"):
                cases.append((f"nn.{name}.forward", ours.forward, theirs.forward, True))
    # optimizers and schedulers
    cases += _class_cases("optim.Optimizer", mt.optim.Optimizer, torch.optim.Optimizer)
    for name in _public(mt.optim):
        ours, theirs = getattr(mt.optim, name), getattr(torch.optim, name, None)
        if isinstance(ours, type) and isinstance(theirs, type) and name != "Optimizer":
            cases += _class_cases(f"optim.{name}", ours, theirs, set(vars(torch.optim.Optimizer)))
    sched, torch_sched = mt.optim.lr_scheduler, torch.optim.lr_scheduler
    base = getattr(torch_sched, "LRScheduler", None)
    for name in _public(sched):
        ours, theirs = getattr(sched, name), getattr(torch_sched, name, None)
        if isinstance(ours, type) and isinstance(theirs, type):
            done = set() if theirs is base else set(vars(base))
            cases += _class_cases(f"optim.lr_scheduler.{name}", ours, theirs, done)
    # torch.utils.data
    data = getattr(getattr(mt, "utils", None), "data", None) or mt.data
    for name in _public(data):
        ours, theirs = getattr(data, name), getattr(torch.utils.data, name, None)
        if theirs is None:
            continue
        if isinstance(ours, type) and isinstance(theirs, type):
            cases += _class_cases(f"utils.data.{name}", ours, theirs)
        elif _is_routine(ours) and callable(theirs):
            cases.append((f"utils.data.{name}", ours, theirs, False))
    # Tensor methods torch.Tensor also has
    for name in _public(mt.Tensor):
        ours, theirs = getattr(mt.Tensor, name), getattr(torch.Tensor, name, None)
        if theirs is None or not callable(ours) or isinstance(inspect.getattr_static(mt.Tensor, name), property):
            continue
        if isinstance(inspect.getattr_static(torch.Tensor, name, None), (property, types.GetSetDescriptorType)):
            continue
        cases.append((f"Tensor.{name}", ours, theirs, True))
    return cases


CASES = collect_cases()


@pytest.mark.parametrize("label, ours, theirs, strip_self", CASES, ids=[c[0] for c in CASES])
def test_signature_is_torchs(label, ours, theirs, strip_self):
    check(label, ours, theirs, strip_self)


# ---- the comparison itself can fail

def test_a_renamed_parameter_is_caught():
    def linear(x, weight, bias=None):
        pass
    with pytest.raises(AssertionError, match="parameters"):
        check("nn.functional.linear", linear, torch.nn.functional.linear)


def test_a_different_default_and_kind_are_caught():
    def add(input, other, alpha=2, out=None):  # noqa: A002
        pass
    with pytest.raises(AssertionError, match="alpha defaults to 2") as info:
        check("add", add, torch.add)
    assert "keyword-only" in str(info.value)


def test_a_missing_overload_is_caught():
    def view(self, dtype):
        pass
    with pytest.raises(AssertionError, match="does not bind"):
        check("Tensor.view", view, torch.Tensor.view, strip_self=True)


def test_documented_lines_parse():
    (sig,) = documented_signatures(torch.zeros, "zeros")
    assert [p.kind for p in sig.parameters.values()][:2] == [P.VAR_POSITIONAL, P.KEYWORD_ONLY]
    assert list(sig.parameters) == ["size", "out", "dtype", "layout", "device", "requires_grad"]
