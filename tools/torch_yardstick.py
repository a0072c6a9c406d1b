"""Torch's own yardstick: PyTorch's OpInfo and ModuleInfo sample inputs, run through this engine.

PyTorch ships, inside its wheel, the sample inputs its own operator tests use
(`torch.testing._internal.common_methods_invocations.op_db`, `common_modules.module_db`). This
tool runs every sample of every op and module that has torch's name here:

- op "nn.functional.conv2d" -> minitorch_cnn.nn.functional.conv2d, "add" -> minitorch_cnn.add (the
  function variant) and Tensor.add (the method variant), each counted as its own variant;
- module nn.Conv2d -> minitorch_cnn.nn.Conv2d built with the same constructor arguments, its
  parameters and buffers copied from the torch module, run in the same train/eval mode.

Sample inputs are converted: torch tensors (inside args, kwargs, lists, tuples) become this engine's
tensors with the same values, dtype, strides' layout and requires_grad; torch dtypes become this
engine's dtypes; torch.Size a tuple; torch.device its string; memory formats this engine's names
where it has them (else torch's object is passed as is, and the engine must refuse it).

Each sample is classified:
  matched   forward output of the same type, dtype, shape and values as torch's (and, for float64
            samples that need gradients, the same gradients of every input and parameter);
  mismatch  accepted but silently different (the worst outcome);
  refused   TypeError/ValueError/RuntimeError/NotImplementedError raised by a `raise` statement of
            this engine, or Python refusing the arguments: fine, but not "run";
  crash     any other exception, or one of those raised by NumPy/CuPy (their words, not ours);
  skipped   torch itself raised on the sample (nothing to compare with).

Dtypes: float32 and float64 on the CPU. float32 is this engine's default and what CNN scripts
train in; float64 is what gradient checks use, so float64 samples also compare gradients. Integer,
bool and float16 samples exist in OpInfo only for a few ops' dtype coverage, and the engine's own
tests hold those rules; complex and bfloat16 are not supported here.

Tolerances (|ours - torch| <= atol max(1, max|torch|) + rtol |torch|, NaN equal to NaN): float64
rtol 1e-7, atol 1e-9; float32 rtol 1.3e-6, atol 1e-5 (torch.testing's float32 defaults). The atol
scales with the output's largest magnitude because a sum's rounding error grows with its terms: an
element that cancels to 2.3 in a matmul whose outputs reach 213 carries float32 error ~1e-5 in
torch too. Integer and bool outputs exactly. Random ops (dropout, randn...) compare dtype and shape only.

    python tools/torch_yardstick.py [--ops NAME,...] [--modules NAME,...] [--no-ops] [--no-modules]
                                    [--stride N] [--cap N] [--out FILE]

Prints per-op counts and totals; --out writes them (with `git rev-parse HEAD`) as JSON.
"""
import argparse
import dis
import json
import os
import subprocess
import sys
import warnings
from collections import Counter, OrderedDict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import minitorch_cnn as mt  # noqa: E402

OUTCOMES = ("matched", "mismatch", "refused", "crash", "skipped")
REFUSALS = (TypeError, ValueError, RuntimeError, NotImplementedError)
RANDOM_OPS = ("nn.functional.dropout", "nn.functional.dropout2d", "randn", "randn_like", "rand_like", "randint",
              "empty", "empty_like", "new_empty", "empty_strided", "new_empty_strided")   # values undefined
RANDOM_MODULES = ("Dropout", "Dropout2d")
DTYPES = ("float32", "float64")
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (1.3e-6, 1e-5), "float16": (1e-3, 1e-3)}

# OpInfo ops whose `op` wraps torch's function with another argument order
FUNCTION_WRAPPERS = {
    "where": lambda ns, self, condition, other, **kw: ns.where(condition, self, other, **kw),
}


class Mismatch(Exception):
    """Our result differs from torch's; the message says where."""


def resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# ---------------------------------------------------------------- converting torch values to ours

def to_ours(value, torch):
    """A torch sample argument as this engine's: tensors (with layout and requires_grad), dtypes,
    sizes, devices, memory formats; containers converted element by element."""
    if isinstance(value, torch.Tensor):
        array = value.detach().numpy()   # keeps strides: a transposed sample stays transposed
        return mt.tensor(array, requires_grad=value.requires_grad)
    if isinstance(value, torch.dtype):
        return getattr(mt, str(value).replace("torch.", ""), value)
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, torch.memory_format):
        return getattr(mt, str(value).replace("torch.", ""), value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(to_ours(v, torch) for v in value)
    if isinstance(value, list):
        return [to_ours(v, torch) for v in value]
    if isinstance(value, dict):
        return {k: to_ours(v, torch) for k, v in value.items()}
    return value


def torch_leaves(value, torch):
    """The torch sample with every tensor made a leaf (same layout), so both engines differentiate
    with respect to the same leaves."""
    if isinstance(value, torch.Tensor):
        return value.detach().requires_grad_(value.requires_grad)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(torch_leaves(v, torch) for v in value)
    if isinstance(value, list):
        return [torch_leaves(v, torch) for v in value]
    if isinstance(value, dict):
        return {k: torch_leaves(v, torch) for k, v in value.items()}
    return value


def flat_tensors(value, kind):
    """The tensors of kind inside a nest of tuples/lists/dicts, in order."""
    if isinstance(value, kind):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flat_tensors(v, kind)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flat_tensors(v, kind)]
    return []


def raw(t):
    array = getattr(t, "array", None)
    if array is None or callable(array):
        array = t.data
    return np.asarray(array.get() if hasattr(array, "get") else array)


# ---------------------------------------------------------------- comparing

def compare(ours, theirs, torch, random, where="output"):
    """Raise Mismatch where ours differs from torch's result theirs."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, mt.Tensor):
            raise Mismatch(f"{where}: torch gives a Tensor, ours {type(ours).__name__}")
        expected = theirs.detach().numpy()
        got = raw(ours)
        if got.dtype != expected.dtype:
            raise Mismatch(f"{where}: dtype {got.dtype}, torch {expected.dtype}")
        if got.shape != expected.shape:
            raise Mismatch(f"{where}: shape {got.shape}, torch {expected.shape}")
        if not random:
            close_or_raise(got, expected, where)
    elif isinstance(theirs, (tuple, list)):
        if not isinstance(ours, (tuple, list)) or len(ours) != len(theirs):
            raise Mismatch(f"{where}: torch gives {type(theirs).__name__} of {len(theirs)}, ours {type(ours).__name__}")
        for i, (o, t) in enumerate(zip(ours, theirs)):
            compare(o, t, torch, random, f"{where}[{i}]")
    elif isinstance(theirs, (bool, int, float)):
        if type(ours) is not type(theirs) and not (isinstance(theirs, float) and isinstance(ours, float)):
            raise Mismatch(f"{where}: torch gives {type(theirs).__name__}, ours {type(ours).__name__}")
        if not random:
            close_or_raise(np.asarray(ours), np.asarray(theirs), where)
    elif theirs is None:
        if ours is not None:
            raise Mismatch(f"{where}: torch gives None, ours {type(ours).__name__}")
    else:
        raise Mismatch(f"{where}: cannot compare torch's {type(theirs).__name__}")


def close_or_raise(got, expected, where):
    if expected.dtype.kind in "fc":
        rtol, atol = TOLERANCES.get(str(expected.dtype), (1e-7, 1e-9))
        finite = np.abs(expected[np.isfinite(expected)])
        scale = max(1.0, float(finite.max())) if finite.size else 1.0   # a sum's rounding grows with its terms
        ok = np.isclose(got, expected, rtol=rtol, atol=atol * scale, equal_nan=True)
    else:
        ok = got == expected
    if not np.all(ok):
        bad = np.argwhere(~np.asarray(ok))[:1]
        at = tuple(int(i) for i in bad[0]) if bad.size else ()
        raise Mismatch(f"{where}: values differ at {at}: ours {got[at] if got.ndim else got}, "
                       f"torch {expected[at] if expected.ndim else expected}")


def compare_gradients(ours_out, torch_out, ours_leaves, torch_leaves_, torch, where="grad"):
    """Backpropagate the same seeded upstream gradient through both results and compare the
    gradients of every leaf that requires one."""
    torch_outs = [t for t in flat_tensors(torch_out, torch.Tensor) if t.requires_grad and t.dtype.is_floating_point]
    needs = [i for i, t in enumerate(torch_leaves_) if t.requires_grad]
    if not torch_outs or not needs:
        return False
    ours_outs = [o for o, t in zip(flat_tensors(ours_out, mt.Tensor), flat_tensors(torch_out, torch.Tensor))
                 if t.requires_grad and t.dtype.is_floating_point]
    generator = torch.Generator().manual_seed(0)
    upstream = [torch.randn(t.shape, generator=generator, dtype=t.dtype) for t in torch_outs]
    torch_grads = torch.autograd.grad(torch_outs, [torch_leaves_[i] for i in needs], upstream,
                                      allow_unused=True)
    total = None
    for o, g in zip(ours_outs, upstream):
        term = (o * mt.tensor(g.numpy())).sum()
        total = term if total is None else total + term
    total.backward()
    for i, expected in zip(needs, torch_grads):
        got = ours_leaves[i].grad
        if expected is None:
            expected = torch.zeros_like(torch_leaves_[i])
        if got is None:
            if not np.any(expected.numpy()):
                continue
            raise Mismatch(f"{where}[{i}]: ours has no gradient, torch's is nonzero")
        compare(got, expected, torch, False, f"{where}[{i}]")
    return True


BINDING_ERRORS = ("unexpected keyword argument", "required positional argument", "positional argument",
                  "multiple values for argument", "required keyword-only argument")


def classify_exception(exc):
    """'refused' for a clear error of ours: a raise statement in this engine (or the engine's
    helpers), or Python refusing the arguments; 'crash' for anything else: another exception type,
    or an error NumPy/CuPy raised from inside a computation (their words, not ours)."""
    if not isinstance(exc, REFUSALS):
        return "crash"
    if isinstance(exc, TypeError) and any(words in str(exc) for words in BINDING_ERRORS):
        return "refused"
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None and "minitorch_cnn" in tb.tb_frame.f_code.co_filename and _is_raise(tb):
        return "refused"
    return "crash"


def _is_raise(tb):
    """Whether the instruction that raised is a raise statement (read from the bytecode, not the
    source line: a file edited since import would show another line)."""
    code = tb.tb_frame.f_code.co_code
    raising = (dis.opmap["RAISE_VARARGS"], dis.opmap.get("RERAISE", -1))
    return 0 <= tb.tb_lasti < len(code) and code[tb.tb_lasti] in raising


def describe(exc):
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]


# ---------------------------------------------------------------- running ops

def op_variants(op):
    """(variant name, our callable taking (input, *args, **kwargs), torch's) for op's variants here."""
    import torch
    variants = []
    ours_fn = resolve(mt, op.name)
    if ours_fn is not None and callable(ours_fn) and not isinstance(ours_fn, type):
        torch_fn = resolve(torch, op.name)
        if op.name in FUNCTION_WRAPPERS:
            wrap = FUNCTION_WRAPPERS[op.name]
            variants.append((op.name, lambda *a, _w=wrap, **k: _w(mt, *a, **k),
                             lambda *a, _w=wrap, **k: _w(torch, *a, **k)))
        elif torch_fn is not None:
            variants.append((op.name, ours_fn, torch_fn))
    if op.method_variant is not None and "." not in op.name and hasattr(mt.Tensor, op.name):
        name = op.name
        variants.append((f"Tensor.{name}", lambda self, *a, _n=name, **k: getattr(self, _n)(*a, **k),
                         lambda self, *a, _n=name, **k: getattr(self, _n)(*a, **k)))
    return variants


def run_call(ours_fn, torch_fn, sample_args, sample_kwargs, random, grads):
    """One sample through both engines: the outcome and, for failures, why."""
    import torch
    torch_args = torch_leaves(sample_args, torch)
    torch_kwargs = torch_leaves(sample_kwargs, torch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = torch_fn(*torch_args, **torch_kwargs)
    except Exception as exc:   # noqa: BLE001  (torch's own refusal: nothing to compare)
        return "skipped", "torch: " + describe(exc)
    ours_args = to_ours(torch_args, torch)
    ours_kwargs = to_ours(torch_kwargs, torch)
    graded = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = ours_fn(*ours_args, **ours_kwargs)
            compare(got, expected, torch, random)
            if grads and not random:
                graded = compare_gradients(got, expected, flat_tensors((ours_args, ours_kwargs), mt.Tensor),
                                           flat_tensors((torch_args, torch_kwargs), torch.Tensor), torch)
    except Mismatch as exc:
        return "mismatch", str(exc)
    except Exception as exc:   # noqa: BLE001  (classified, never hidden)
        return classify_exception(exc), describe(exc)
    return ("matched+grad" if graded else "matched"), ""


def run_ops(op_names=None, stride=1, cap=None):
    """Counts per variant: {variant: {"counts": Counter, "weighted": Counter, "examples": {...}}}.
    cap: run at most about `cap` evenly spaced samples per op and dtype (every k-th); each then
    stands for k samples in "weighted", so shares estimate the full run's."""
    import torch
    from torch.testing._internal.common_methods_invocations import op_db
    results = OrderedDict()
    for op in op_db:
        if op_names and op.name not in op_names:
            continue
        variants = op_variants(op)
        if not variants:
            continue
        label = op.name + ("." + op.variant_test_name if op.variant_test_name else "")
        for dtype_name in DTYPES:
            dtype = getattr(torch, dtype_name)
            if dtype not in op.supported_dtypes("cpu"):
                continue
            grads = dtype == torch.float64 and op.supports_autograd
            try:
                samples = list(op.sample_inputs("cpu", dtype, requires_grad=grads))
            except Exception as exc:   # noqa: BLE001
                print(f"  {label}: torch could not make samples ({describe(exc)})", file=sys.stderr)
                continue
            every = max(stride, -(-len(samples) // cap) if cap else 1)
            for index, sample in enumerate(samples):
                if index % every:
                    continue
                for variant, ours_fn, torch_fn in variants:
                    key = variant + label[len(op.name):]
                    outcome, why = run_call(ours_fn, torch_fn, (sample.input, *sample.args), sample.kwargs,
                                            op.name in RANDOM_OPS, grads)
                    record(results, key, outcome, why, f"{dtype_name} #{index}", every)
    return results


# ---------------------------------------------------------------- running modules

def copy_state(ours, theirs_state):
    """Copy a torch module's state (parameters and buffers) into ours; a Mismatch if the names differ."""
    ours_state = ours.state_dict()
    if set(ours_state) != set(theirs_state):
        raise Mismatch(f"state_dict keys: ours {sorted(ours_state)}, torch {sorted(theirs_state)}")
    for name, value in theirs_state.items():
        array = raw(ours_state[name]) if isinstance(ours_state[name], mt.Tensor) else np.asarray(ours_state[name])
        expected = value.detach().numpy()
        if array.shape != expected.shape or array.dtype != expected.dtype:
            raise Mismatch(f"{name}: ours {array.dtype}{tuple(array.shape)}, "
                           f"torch {expected.dtype}{tuple(expected.shape)}")
    ours.load_state_dict({name: value.detach().numpy() for name, value in theirs_state.items()})


def run_module_sample(module_info, module_input, dtype, training, grads):
    """One ModuleInput through torch's module and ours (same constructor arguments and state)."""
    import torch
    cls = module_info.module_cls
    c_args, c_kwargs = module_input.constructor_input.args, module_input.constructor_input.kwargs
    f_args, f_kwargs = module_input.forward_input.args, module_input.forward_input.kwargs
    random = cls.__name__ in RANDOM_MODULES
    graded = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = cls(*c_args, **c_kwargs).to(dtype)
            theirs.train(training)
            initial = {k: v.detach().clone() for k, v in theirs.state_dict().items()}
            torch_args, torch_kwargs = torch_leaves(f_args, torch), torch_leaves(f_kwargs, torch)
            expected = theirs(*torch_args, **torch_kwargs)
    except Exception as exc:   # noqa: BLE001
        return "skipped", "torch: " + describe(exc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = getattr(mt.nn, cls.__name__)(*to_ours(c_args, torch), **to_ours(c_kwargs, torch))
            ours.to(to_ours(dtype, torch))
            ours.train(training)
            copy_state(ours, initial)
            ours_args, ours_kwargs = to_ours(torch_args, torch), to_ours(torch_kwargs, torch)
            got = ours(*ours_args, **ours_kwargs)
            compare(got, expected, torch, random)
            if not random:
                compare_state(ours, theirs, torch)
            if grads and not random:
                torch_params = dict(theirs.named_parameters())
                ours_leaves = (flat_tensors((ours_args, ours_kwargs), mt.Tensor)
                               + [p for _, p in ours.named_parameters()])
                torch_leaves_ = (flat_tensors((torch_args, torch_kwargs), torch.Tensor)
                                 + [torch_params[n] for n, _ in ours.named_parameters()])
                graded = compare_gradients(got, expected, ours_leaves, torch_leaves_, torch)
    except Mismatch as exc:
        return "mismatch", str(exc)
    except Exception as exc:   # noqa: BLE001
        return classify_exception(exc), describe(exc)
    return ("matched+grad" if graded else "matched"), ""


def compare_state(ours, theirs, torch):
    """Buffers after the forward (running statistics) must match too."""
    ours_state = ours.state_dict()
    for name, value in theirs.state_dict().items():
        target = ours_state[name]
        if not isinstance(target, mt.Tensor):
            target = mt.tensor(np.asarray(target))
        compare(target, value, torch, False, f"state[{name}]")


def run_modules(module_names=None, stride=1):
    import torch
    from torch.testing._internal.common_modules import module_db
    results = OrderedDict()
    for module_info in module_db:
        name = module_info.module_cls.__name__
        if module_names and name not in module_names:
            continue
        if not hasattr(mt.nn, name):
            continue
        for dtype_name in DTYPES:
            dtype = getattr(torch, dtype_name)
            if dtype not in module_info.supported_dtypes("cpu"):
                continue
            grads = dtype == torch.float64
            modes = (True, False) if module_info.train_and_eval_differ else (True,)
            for training in modes:
                try:
                    inputs = module_info.module_inputs_func(module_info, device="cpu", dtype=dtype,
                                                            requires_grad=grads, training=training)
                except Exception as exc:   # noqa: BLE001
                    print(f"  nn.{name}: torch could not make samples ({describe(exc)})", file=sys.stderr)
                    continue
                for index, module_input in enumerate(inputs):
                    if index % stride or module_input.forward_input is None:
                        continue
                    torch.manual_seed(index)
                    outcome, why = run_module_sample(module_info, module_input, dtype, training, grads)
                    mode = "train" if training else "eval"
                    record(results, f"nn.{name}", outcome, why, f"{dtype_name} {mode} #{index} {module_input.desc}")
    return results


# ---------------------------------------------------------------- reporting

def record(results, key, outcome, why, where, weight=1):
    entry = results.setdefault(key, {"counts": Counter(), "weighted": Counter(), "examples": {}})
    entry["weighted"][outcome.split("+")[0]] += weight
    if outcome == "matched+grad":   # matched, gradients compared too
        entry["counts"]["gradients_matched"] += 1
        outcome = "matched"
    entry["counts"][outcome] += 1
    if outcome != "matched":
        examples = entry["examples"].setdefault(outcome, [])
        if len(examples) < 5 and why not in [e["why"] for e in examples]:
            examples.append({"sample": where, "why": why})


def totals(results, weighted=False):
    total = Counter()
    for entry in results.values():
        total.update(entry["weighted" if weighted else "counts"])
    compared = sum(total[o] for o in OUTCOMES if o != "skipped")
    total["compared"] = compared
    return total


def summary_line(total):
    compared = total["compared"] or 1
    return (f"{total['compared']} samples compared: {total['matched']} matched "
            f"({100 * total['matched'] / compared:.1f}%), {total['refused']} refused, "
            f"{total['mismatch']} mismatch, {total['crash']} crash ({total['skipped']} skipped: torch refused)")


def print_table(title, results):
    print(f"\n{title}")
    print(f"{'name':44s} {'matched':>8s} {'refused':>8s} {'mismatch':>8s} {'crash':>6s} {'skipped':>8s}")
    for key, entry in results.items():
        c = entry["counts"]
        print(f"{key:44s} {c['matched']:8d} {c['refused']:8d} {c['mismatch']:8d} {c['crash']:6d} {c['skipped']:8d}")
    print(summary_line(totals(results)))


def as_json(ops, modules, stride, cap=None):
    def part(results):
        return {key: {"counts": dict(entry["counts"]), "examples": entry["examples"]} for key, entry in results.items()}
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        head = None
    everything = totals(ops) + totals(modules)
    everything["compared"] = totals(ops)["compared"] + totals(modules)["compared"]
    import torch
    weighted = totals(ops, weighted=True) + totals(modules, weighted=True)
    return {"git_head": head, "cap": cap,
            "weighted_totals": dict(weighted), "torch": torch.__version__, "dtypes": list(DTYPES), "stride": stride,
            "dirty_files": len(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                                              text=True).stdout.splitlines()),
            "engine_mode": "fast" if os.environ.get("MINITORCH_CNN_FAST", "1") != "0" else "core",
            "totals": dict(everything), "op_totals": dict(totals(ops)), "module_totals": dict(totals(modules)),
            "ops": part(ops), "modules": part(modules)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", help="comma-separated OpInfo names (default: all with a name here)")
    parser.add_argument("--modules", help="comma-separated module class names (default: all here)")
    parser.add_argument("--no-ops", action="store_true")
    parser.add_argument("--no-modules", action="store_true")
    parser.add_argument("--stride", type=int, default=1, help="run every Nth sample (deterministic)")
    parser.add_argument("--cap", type=int, help="at most about CAP samples per op and dtype (every k-th; "
                        "each counts k times in the weighted share)")
    parser.add_argument("--out", help="write the counts as JSON here")
    args = parser.parse_args(argv)
    ops = {} if args.no_ops else run_ops(args.ops and set(args.ops.split(",")), args.stride, args.cap)
    modules = {} if args.no_modules else run_modules(args.modules and set(args.modules.split(",")), args.stride)
    print_table("OpInfo samples", ops)
    print_table("ModuleInfo samples", modules)
    report = as_json(ops, modules, args.stride, args.cap)
    print("\nall: " + summary_line(Counter(report["totals"])))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1, default=str)
        print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
