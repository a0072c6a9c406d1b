"""The checkpoint schema: everything --resume reads from a checkpoint, checked whole before any of
it is used.

    check_meta(meta, path)      the meta's every field, its type and range, and what its fields
                                must agree on (options.py, before the run is configured from it)
    check_fit(...)              every array's name, dtype, shape and finiteness against the model
                                and optimizer it will be loaded into, and the mid-epoch position
                                against the epoch's batches (resume.py, before anything is loaded)

A refusal is one UsageError naming the file, the field (meta.args.lr, meta.history[0].train_acc,
optimizer/3/exp_avg ...), what the file holds and what was expected: the file's value, never a
flag the user did not pass.  META is the schema itself, as data: tests/test_checkpoint_schema.py
walks it to tamper with one field at a time.

last_good(path) says whether a checkpoint may be called "the last good checkpoint" (errors.py).
"""
import json
import math
import re

import numpy as np

from .defaults import DEFAULTS
from .errors import UsageError


class Refused(Exception):
    """One field of the checkpoint is not what the schema allows: `field` and the sentence after it."""

    def __init__(self, field, message):
        super().__init__(f"{field} {message}")
        self.field = field


def _show(value):
    """A value as the file holds it (JSON), shortened."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _found(value):
    """'is 64.5', 'is the string "0.001"', 'is an object' ...: what the file holds, in JSON's words."""
    if isinstance(value, str):
        return f"is the string {_show(value)}"
    if isinstance(value, dict):
        return "is an empty object" if not value else f"is an object ({_show(value)})"
    if isinstance(value, list):
        return "is an empty list" if not value else f"is a list ({_show(value)})"
    return f"is {_show(value)}"


def _number(value):
    """A JSON number (not a boolean)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---- the kinds of field --------------------------------------------------------------------------
class Spec:
    """One kind of value.  check(value, field, meta) raises Refused; bad_values() are values it must
    refuse whatever the rest of the meta holds (the tests tamper with them)."""
    expected = "a value"

    def check(self, value, field, meta):
        raise NotImplementedError

    def bad_values(self):
        return []

    def refuse(self, value, field):
        raise Refused(field, f"{_found(value)}, expected {self.expected}")


class Int(Spec):
    def __init__(self, lo=None, hi=None):
        self.lo, self.hi = lo, hi
        bounds = [f">= {lo}"] * (lo is not None) + [f"<= {hi}"] * (hi is not None)
        self.expected = "an integer" + (" " + " and ".join(bounds) if bounds else "")

    def check(self, value, field, meta):
        if not (isinstance(value, int) and not isinstance(value, bool)) \
                or (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            self.refuse(value, field)

    def bad_values(self):
        base = self.lo if self.lo is not None else 0
        return ([self.lo - 1] if self.lo is not None else []) + ([self.hi + 1] if self.hi is not None else []) \
            + [base + 0.5, str(base), True, None, [base]]


class Num(Spec):
    """A finite JSON number in a range; `above`: strictly above lo."""

    def __init__(self, lo=None, hi=None, above=False, below=False):
        self.lo, self.hi, self.above, self.below = lo, hi, above, below
        bounds = ([f"{'>' if above else '>='} {lo:g}"] if lo is not None else []) \
            + ([f"{'<' if below else '<='} {hi:g}"] if hi is not None else [])
        self.expected = "a finite number" + (" " + " and ".join(bounds) if bounds else "")

    def ok(self, value):
        if not _number(value) or not math.isfinite(value):
            return False
        if self.lo is not None and (value <= self.lo if self.above else value < self.lo):
            return False
        return not (self.hi is not None and (value >= self.hi if self.below else value > self.hi))

    def check(self, value, field, meta):
        if not self.ok(value):
            self.refuse(value, field)

    def bad_values(self):
        out = [float("nan"), float("inf"), "1", True, None]
        if self.lo is not None:
            out.insert(0, self.lo if self.above else self.lo - 1)
        if self.hi is not None:
            out.insert(0, self.hi if self.below else self.hi + 1)
        return out


class Choice(Spec):
    """One of a few values (compared as JSON compares: 0 and 0.0 alike, never True for 1)."""

    def __init__(self, *values, why=""):
        self.values = values
        self.expected = " or ".join(_show(v) for v in values) + why

    def check(self, value, field, meta):
        if not any(value == v and isinstance(value, bool) == isinstance(v, bool) and (v is None) == (value is None)
                   for v in self.values):
            self.refuse(value, field)

    def bad_values(self):
        out = ["bogus", 7]
        out += [None] if None not in self.values else [0.5]
        return out


class Bool(Spec):
    expected = "true or false"

    def check(self, value, field, meta):
        if not isinstance(value, bool):
            self.refuse(value, field)

    def bad_values(self):
        return [1, "true", None]


class Text(Spec):
    """A non-empty string, matching `pattern` (re.fullmatch, case-insensitive) when given."""

    def __init__(self, pattern=None, expected="a non-empty string"):
        self.pattern, self.expected = pattern, expected

    def check(self, value, field, meta):
        if not isinstance(value, str) or not value \
                or (self.pattern is not None and not re.fullmatch(self.pattern, value, re.IGNORECASE)):
            self.refuse(value, field)

    def bad_values(self):
        return ["", 5, None] + (["nonsense"] if self.pattern is not None else [])


class Nullable(Spec):
    """`spec`, or null (where `when(meta)` says so, if given)."""

    def __init__(self, spec, when=None, why=""):
        self.spec, self.when, self.why = spec, when, why
        self.expected = f"{spec.expected} or null" + (f" ({why})" if why else "")

    def allows_null(self, meta):
        return self.when is None or self.when(meta)

    def check(self, value, field, meta):
        if value is None:
            if not self.allows_null(meta):
                raise Refused(field, f"is null, expected {self.spec.expected} (null only {self.why})")
            return
        try:
            self.spec.check(value, field, meta)
        except Refused:
            if not self.allows_null(meta):
                raise
            self.refuse(value, field)       # "... expected <spec> or null"

    def bad_values(self):
        return [v for v in self.spec.bad_values() if v is not None]


class List(Spec):
    def __init__(self, item, size=None, min_size=0, what=None):
        self.item, self.size, self.min_size = item, size, min_size
        count = f" of {size}" if size is not None else f" of at least {min_size}" if min_size else ""
        self.expected = what or f"a list{count}, each {item.expected}"

    def check(self, value, field, meta):
        if not isinstance(value, list) or (self.size is not None and len(value) != self.size) \
                or len(value) < self.min_size:
            self.refuse(value, field)
        for i, item in enumerate(value):
            self.item.check(item, f"{field}[{i}]", meta)

    def bad_values(self):
        return ["x", {}] + ([[]] if self.size or self.min_size else [])


class Obj(Spec):
    """A JSON object with these `fields` (key -> Spec, checked in this order); `optional` keys may be
    absent; other keys are refused, or accepted when `extra(key)` says so (then checked by `extra_spec`)."""

    def __init__(self, fields, optional=(), extra=None, extra_spec=None, what="an object"):
        self.fields, self.optional, self.extra, self.extra_spec = fields, set(optional), extra, extra_spec
        self.expected = what

    def check(self, value, field, meta):
        if not isinstance(value, dict):
            self.refuse(value, field)
        for key, spec in self.fields.items():
            if key not in value:
                if key not in self.optional:
                    raise Refused(field, f"has no {key!r} (expected {spec.expected})")
                continue
            spec.check(value[key], f"{field}.{key}", meta)
        for key in value:
            if key in self.fields:
                continue
            if self.extra is None or not self.extra(key):
                raise Refused(field, f"has the unknown key {key!r} (this CLI writes "
                                     f"{', '.join(map(repr, self.fields))})")
            if self.extra_spec is not None:
                self.extra_spec.check(value[key], f"{field}.{key}", meta)

    def bad_values(self):
        return [[], "x", None]


class Switch(Spec):
    """The spec `choose(meta)` names (None: not checked here: an earlier field was refused)."""

    def __init__(self, choose, specs):
        self.choose, self.specs = choose, specs
        self.expected = " or ".join(dict.fromkeys(s.expected for s in specs.values()))

    def spec_for(self, meta):
        return self.specs.get(self.choose(meta))

    def check(self, value, field, meta):
        spec = self.spec_for(meta)
        if spec is not None:
            spec.check(value, field, meta)


class RngState(Spec):
    """A NumPy PCG64 bit generator state, as random.get_rng_state() gives it."""
    expected = "a PCG64 random generator state"

    def check(self, value, field, meta):
        if not isinstance(value, dict) or value.get("bit_generator") != "PCG64":
            raise Refused(field, f"{_found(value)}: not a random generator state (expected {self.expected})")
        try:
            np.random.default_rng().bit_generator.state = value
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise Refused(field, f"is not a random generator state ({exc})") from None

    def bad_values(self):
        return [[], "x", {"bit_generator": "PCG64", "state": "x"}, {"bit_generator": "MT19937"}]


# ---- the schema ----------------------------------------------------------------------------------
def _models():
    from ..models import MODELS
    return tuple(MODELS)


class ModelName(Spec):
    """A model the CLI knows (models.MODELS, read when checked: new models join by themselves)."""

    @property
    def expected(self):
        return "the name of a model: " + " or ".join(_show(m) for m in _models())

    def check(self, value, field, meta):
        if not isinstance(value, str) or value not in _models():
            self.refuse(value, field)

    def bad_values(self):
        return ["bogus", 7, None]


def _is_autoencoder(meta):
    return isinstance(meta, dict) and meta.get("model") == "autoencoder"


ACCURACY = Nullable(Num(0, 1), when=_is_autoencoder, why="when meta.model is \"autoencoder\"")
FINITE_OR_NULL = Nullable(Num())

HISTORY_RECORD = Obj({"epoch": Int(1), "train_loss": Num(0), "train_acc": ACCURACY, "test_loss": Num(0),
                      "test_acc": ACCURACY, "seconds": Num(0), "images_per_s": Num(0), "lr": Num(0)},
                     optional=("lr",), extra=lambda key: True, extra_spec=FINITE_OR_NULL,
                     what="an object with the epoch's metrics")

DATASET = Text(r"auto|mnist|fashion[-_]mnist|bundled[-_]digits|torchvision:\S+",
               "auto, mnist, fashion-mnist, bundled-digits or torchvision:<Name>")

class ReconstructionLoss(Spec):
    """--loss: null (the model's own loss), or "mse"/"bce" when meta.model is "autoencoder"."""
    expected = 'null, or "mse" or "bce" for the autoencoder'

    def check(self, value, field, meta):
        if value is None:
            return
        if value not in ("mse", "bce") or isinstance(value, bool):
            self.refuse(value, field)
        if not _is_autoencoder(meta):
            raise Refused(field, f"{_found(value)}, but only the autoencoder has a reconstruction loss "
                                 f"(meta.model {_found(meta.get('model') if isinstance(meta, dict) else None)})")

    def bad_values(self):
        return ["bogus", 7, True, "cross_entropy"]


ARGS_FIELDS = {"model": ModelName(), "dataset": DATASET, "data_dir": Nullable(Text()), "epochs": Int(1),
               "batch_size": Int(1), "lr": Num(0, above=True), "optimizer": Choice("adam", "sgd"),
               "momentum": Num(0), "weight_decay": Num(0), "step_size": Int(1), "gamma": Num(0, above=True),
               "device": Choice("cpu", "cuda"), "seed": Int(0), "limit_train": Nullable(Int(1)),
               "limit_test": Nullable(Int(1)), "out": Nullable(Text()), "core": Bool(),
               "loss": ReconstructionLoss()}
ARGS_OPTIONAL = ("data_dir", "device", "limit_train", "limit_test", "out", "core", "loss")


def _known_option(key):
    """An option of DEFAULTS this schema does not type (one added since): accepted as it is."""
    return key in DEFAULTS


class Scalar(Spec):
    expected = "a JSON string, number, boolean or null"

    def check(self, value, field, meta):
        if not (value is None or isinstance(value, (str, int, float, bool))):
            self.refuse(value, field)


ARGS = Obj(ARGS_FIELDS, optional=ARGS_OPTIONAL, extra=_known_option, extra_spec=Scalar(),
           what="an object with the run's options")

SCHEDULER = Obj({"step_size": Int(1), "gamma": Num(0, above=True), "base_lrs": List(Num(0, above=True), min_size=1),
                 "last_epoch": Int(0), "_step_count": Int(1), "_is_initial": Bool(),
                 "_get_lr_called_within_step": Bool(), "_last_lr": List(Num(0), min_size=1)},
                optional=("_step_count", "_is_initial", "_get_lr_called_within_step", "_last_lr"),
                what="StepLR's state")

_CLI = " (what this CLI trains with)"
PARAMS = List(Int(0), min_size=1, what="a list of parameter indices (integers >= 0)")
ADAM_GROUP = Obj({"lr": Num(0), "betas": List(Num(0, 1, below=True), size=2), "eps": Num(0),
                  "weight_decay": Num(0), "amsgrad": Choice(False, why=_CLI), "maximize": Choice(False, why=_CLI),
                  "foreach": Choice(None, False), "capturable": Choice(False), "differentiable": Choice(False),
                  "fused": Choice(None, False), "decoupled_weight_decay": Choice(False, why=_CLI),
                  "initial_lr": Num(0, above=True), "params": PARAMS},
                 optional=("amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused",
                           "decoupled_weight_decay"), what="an Adam parameter group")
SGD_GROUP = Obj({"lr": Num(0), "momentum": Num(0), "dampening": Choice(0, why=_CLI), "weight_decay": Num(0),
                 "nesterov": Choice(False, why=_CLI), "maximize": Choice(False, why=_CLI),
                 "foreach": Choice(None, False), "differentiable": Choice(False), "fused": Choice(None, False),
                 "initial_lr": Num(0, above=True), "params": PARAMS},
                optional=("dampening", "nesterov", "maximize", "foreach", "differentiable", "fused"),
                what="an SGD parameter group")
OPTIMIZER_CLASSES = {"adam": "Adam", "sgd": "SGD"}      # --optimizer -> the class the meta names
OPTIMIZER = Obj({"class": Choice("Adam", "SGD"),
                 "param_groups": List(Switch(lambda meta: meta["optimizer"]["class"],
                                             {"Adam": ADAM_GROUP, "SGD": SGD_GROUP}), min_size=1,
                                      what="a list of parameter groups (objects), at least one")},
                what="an object with the optimizer's class and parameter groups")

PARTIAL = Obj({"batches": Int(0), "loss_sum": Num(0), "correct": Int(0), "seen": Int(0), "seconds": Num(0)},
              what="the position inside the interrupted epoch")

# meta: the top level.  Keys not listed are the business of whoever writes them, and validated there
# ("format": checkpoint.read_checkpoint; "data_fingerprint": fingerprint.py).
META = Obj({"model": ModelName(), "epoch": Int(0),
            "args": ARGS, "history": List(HISTORY_RECORD), "scheduler": SCHEDULER, "optimizer": OPTIMIZER,
            "rng_state": RngState(), "partial": PARTIAL, "epoch_rng_state": RngState()},
           optional=("partial", "epoch_rng_state"), extra=lambda key: True, what="a JSON object")


# ---- what the fields must agree on ----------------------------------------------------------------
def _close(a, b):
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _scheduled(base, gamma, steps):
    """base * gamma ** steps as a float (inf past the largest one), as StepLR's lr after `steps` decays."""
    try:
        return base * gamma ** steps
    except OverflowError:
        return math.inf


def _agree(meta):
    """The cross-field rules; raises Refused naming the field at fault."""
    args, history, scheduler, optimizer = meta["args"], meta["history"], meta["scheduler"], meta["optimizer"]
    if meta["model"] != args["model"]:
        raise Refused("meta.model", f"is {_show(meta['model'])} but meta.args.model is {_show(args['model'])}")
    if optimizer["class"] != OPTIMIZER_CLASSES[args["optimizer"]]:
        raise Refused("meta.optimizer.class", f"is {_show(optimizer['class'])} but meta.args.optimizer is "
                                              f"{_show(args['optimizer'])}")
    epoch = meta["epoch"]
    if len(history) != epoch:
        raise Refused("meta.history", f"has {len(history)} records, expected one per epoch done (meta.epoch is "
                                      f"{epoch})")
    for i, record in enumerate(history):
        if record["epoch"] != i + 1:
            raise Refused(f"meta.history[{i}].epoch", f"is {record['epoch']}, expected {i + 1}")
    if epoch > args["epochs"]:
        raise Refused("meta.epoch", f"is {epoch}, more than the run's meta.args.epochs ({args['epochs']})")
    if "partial" in meta:
        if "epoch_rng_state" not in meta:
            raise Refused("meta", "has 'partial' but no 'epoch_rng_state' (the random state that drew the "
                                  "interrupted epoch's order)")
        if epoch >= args["epochs"]:
            raise Refused("meta.partial", f"is an interrupted epoch {epoch + 1}, past the run's meta.args.epochs "
                                          f"({args['epochs']})")
        _agree_partial(meta["partial"])
    elif "epoch_rng_state" in meta:
        raise Refused("meta.epoch_rng_state", "is there without the 'partial' position it belongs to")
    for key in ("step_size", "gamma"):
        if scheduler[key] != args[key]:
            raise Refused(f"meta.scheduler.{key}", f"is {_show(scheduler[key])} but meta.args.{key} is "
                                                   f"{_show(args[key])}")
    if scheduler["last_epoch"] != epoch:
        raise Refused("meta.scheduler.last_epoch", f"is {scheduler['last_epoch']}, expected meta.epoch ({epoch})")
    if "_step_count" in scheduler and scheduler["_step_count"] != epoch + 1:
        raise Refused("meta.scheduler._step_count", f"is {scheduler['_step_count']}, expected {epoch + 1} "
                                                    f"(meta.epoch + 1)")
    groups = optimizer["param_groups"]
    for key in ("base_lrs", "_last_lr"):
        if key in scheduler and len(scheduler[key]) != len(groups):
            raise Refused(f"meta.scheduler.{key}", f"has {len(scheduler[key])} entries, expected one per "
                                                   f"parameter group ({len(groups)})")
    seen = set()
    for g, group in enumerate(groups):
        at = f"meta.optimizer.param_groups[{g}]"
        base = scheduler["base_lrs"][g]
        if group["initial_lr"] != base:
            raise Refused(f"{at}.initial_lr", f"is {_show(group['initial_lr'])} but meta.scheduler.base_lrs[{g}] "
                                              f"is {_show(base)}")
        if base != args["lr"]:
            raise Refused(f"meta.scheduler.base_lrs[{g}]", f"is {_show(base)} but meta.args.lr is {_show(args['lr'])}")
        lr = _scheduled(base, scheduler["gamma"], epoch // scheduler["step_size"])
        if not _close(group["lr"], lr):
            raise Refused(f"{at}.lr", f"is {_show(group['lr'])}, but the schedule gives {lr:g} after epoch "
                                      f"{epoch} (meta.args.lr {_show(args['lr'])}, gamma {_show(args['gamma'])} "
                                      f"every {args['step_size']} epochs)")
        if "_last_lr" in scheduler and scheduler["_last_lr"][g] != group["lr"]:
            raise Refused(f"meta.scheduler._last_lr[{g}]", f"is {_show(scheduler['_last_lr'][g])} but {at}.lr is "
                                                           f"{_show(group['lr'])}")
        for key in ("weight_decay",) + (("momentum",) if optimizer["class"] == "SGD" else ()):
            if group[key] != args[key]:
                raise Refused(f"{at}.{key}", f"is {_show(group[key])} but meta.args.{key} is {_show(args[key])}")
        for index in group["params"]:
            if index in seen:
                raise Refused(f"{at}.params", f"lists parameter {index} twice")
            seen.add(index)


def _agree_partial(partial):
    batches, seen, correct = partial["batches"], partial["seen"], partial["correct"]
    if (batches == 0) != (seen == 0):
        raise Refused("meta.partial.seen", f"is {seen} after {batches} batches (meta.partial.batches), expected "
                                           + ("0" if batches == 0 else "more than 0"))
    if correct > seen:
        raise Refused("meta.partial.correct", f"is {correct}, more than the {seen} images seen (meta.partial.seen)")
    if batches == 0 and partial["loss_sum"] != 0:
        raise Refused("meta.partial.loss_sum", f"is {_show(partial['loss_sum'])} before any batch, expected 0")


def _where(path):
    return f"--resume: checkpoint {path}:"


def check_meta(meta, path):
    """Refuse (UsageError, one line naming the field and the file) a meta that is not what this CLI
    writes: every field's type and range, then what the fields must agree on."""
    try:
        META.check(meta, "meta", meta)
        _agree(meta)
    except Refused as refused:
        raise UsageError(f"{_where(path)} {refused}") from None


# ---- the arrays, against the model and optimizer they will be loaded into --------------------------
def _non_finite(array):
    """'2 of 150 values are not finite (nan, inf)', or None when every value is finite."""
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    kinds = sorted({"nan" if np.isnan(v) else "inf" if v > 0 else "-inf" for v in array[bad].ravel()[:1000].real})
    return f"{int(bad.sum()):,} of {array.size:,} values are not finite ({', '.join(kinds)})"


def _fit_array(name, value, shape, dtype):
    """Refuse member `name` unless it has this shape and dtype and is finite."""
    found = np.asarray(value)
    if found.dtype != dtype:
        raise Refused(name, f"has dtype {found.dtype}, expected {dtype}")
    if tuple(found.shape) != tuple(shape):
        raise Refused(name, f"has shape {tuple(found.shape)}, expected {tuple(shape)}")
    bad = _non_finite(found)
    if bad is not None:
        raise Refused(name, f"is not finite: {bad}; a checkpoint holding it is not a good one to resume")


STATE_NAMES = {"Adam": ("step", "exp_avg", "exp_avg_sq"), "SGD": ("momentum_buffer",)}


def check_fit(model_state, optimizer_state, meta, path, model, optimizer, batches_per_epoch, ranks=1):
    """Refuse (UsageError naming the member or field and the file) a checkpoint whose arrays do not fit
    `model` and `optimizer` (names, dtypes, shapes, finiteness, the optimizer's state entries) or whose
    mid-epoch position does not fit an epoch of `batches_per_epoch` batches (`ranks` processes)."""
    try:
        _fit_model(model_state, model)
        if "partial" in meta:
            _fit_partial(meta, batches_per_epoch, ranks)
        _fit_optimizer(optimizer_state, meta, optimizer, batches_per_epoch, ranks)
    except Refused as refused:
        raise UsageError(f"{_where(path)} {refused}") from None


def _fit_model(model_state, model):
    expected = model.state_dict()
    kind = type(model).__name__
    for key in expected:
        if key not in model_state:
            raise Refused(f"member model/{key}", f"is missing ({kind} has the parameter or buffer {key!r})")
    for key, value in model_state.items():
        if key not in expected:
            raise Refused(f"member model/{key}", f"is no parameter or buffer of {kind} (the model of meta.model)")
        want = expected[key]
        _fit_array(f"member model/{key}", value, want.shape, np.dtype(want.dtype))


def _fit_optimizer(optimizer_state, meta, optimizer, batches_per_epoch, ranks):
    groups, live_groups = meta["optimizer"]["param_groups"], optimizer.param_groups
    kind = type(optimizer).__name__
    if meta["optimizer"]["class"] != kind:
        raise Refused("meta.optimizer.class", f"is {_show(meta['optimizer']['class'])}, expected {kind!r}")
    if len(groups) != len(live_groups):
        raise Refused("meta.optimizer.param_groups", f"has {len(groups)} groups, expected {len(live_groups)}")
    params = {}
    for g, (group, live) in enumerate(zip(groups, live_groups)):
        if len(group["params"]) != len(live["params"]):
            raise Refused(f"meta.optimizer.param_groups[{g}].params", f"lists {len(group['params'])} parameters, "
                                                                      f"expected {len(live['params'])}")
        params.update(zip(group["params"], live["params"]))
    n = len(params)
    if sorted(params) != list(range(n)):
        raise Refused("meta.optimizer.param_groups", f"number the parameters {sorted(params)[:8]}..., expected "
                                                     f"0 to {n - 1}")
    names = STATE_NAMES.get(kind, ())
    group_of = {index: group for group in groups for index in group["params"]}
    steps_taken = meta["epoch"] > 0 or meta.get("partial", {}).get("batches", 0) > 0
    steps = {}
    for index in sorted(optimizer_state):
        if index not in params:
            raise Refused(f"member optimizer/{index}/{next(iter(optimizer_state[index]))}",
                          f"names parameter {index}, but the optimizer has {n} (0 to {n - 1})")
        for name in optimizer_state[index]:
            if name not in names:
                raise Refused(f"member optimizer/{index}/{name}", f"is no state of {kind} (it keeps "
                                                                  f"{', '.join(names) or 'none'})")
    for index in range(n):
        p, entries = params[index], optimizer_state.get(index, {})
        wanted = names
        if kind == "SGD" and group_of[index]["momentum"] == 0:
            wanted = ()         # SGD without momentum keeps no state
        if not steps_taken:
            wanted = ()         # nothing was trained yet: no state
        for name in wanted:
            if name not in entries:
                raise Refused(f"member optimizer/{index}/{name}", f"is missing (the state of parameter {index} "
                                                                  f"after {kind} steps)")
        for name in entries:
            if name not in wanted:
                raise Refused(f"member optimizer/{index}/{name}",
                              "is there, but " + ("no step was taken yet" if not steps_taken
                                                  else f"{kind} without momentum keeps no state"))
            value, member = entries[name], f"member optimizer/{index}/{name}"
            if name == "step":
                steps[index] = _fit_step(member, value)
                continue
            _fit_array(member, value, p.shape, np.dtype(p.dtype))
            if name == "exp_avg_sq" and (np.asarray(value) < 0).any():
                raise Refused(member, "holds negative values, expected squares (>= 0)")
    if steps:
        expected = meta["epoch"] * batches_per_epoch + meta.get("partial", {}).get("batches", 0)
        for index, step in steps.items():
            if ranks == 1 and step != expected:
                raise Refused(f"member optimizer/{index}/step",
                              f"is {step:g}, expected {expected} (the steps of {_epochs(meta['epoch'])} of "
                              f"{batches_per_epoch} batches" + (f" and {meta['partial']['batches']} of the "
                                                                f"interrupted one" if "partial" in meta else "") + ")")


def _epochs(n):
    return f"{n} epoch" + "s" * (n != 1)


def _fit_step(member, value):
    """The step counter: a number (a 0-d array in the file), a whole number >= 1."""
    if isinstance(value, np.ndarray):
        raise Refused(member, f"has shape {value.shape}, expected () (a step count)")
    if not _number(value) or not math.isfinite(value) or value < 1 or value != int(value) or value > 2 ** 24:
        raise Refused(member, f"{_found(value)}, expected a whole number of steps >= 1")
    return value


def _fit_partial(meta, batches_per_epoch, ranks):
    partial, batch_size = meta["partial"], meta["args"]["batch_size"]
    if partial["batches"] > batches_per_epoch:
        raise Refused("meta.partial.batches", f"is {partial['batches']}, but an epoch of this run has "
                                              f"{batches_per_epoch} batches")
    most = partial["batches"] * batch_size * ranks
    if partial["seen"] < partial["batches"]:
        raise Refused("meta.partial.seen", f"is {partial['seen']}, fewer than one image per batch done "
                                           f"({partial['batches']}, meta.partial.batches)")
    if partial["seen"] > most:
        raise Refused("meta.partial.seen", f"is {partial['seen']}, more than {partial['batches']} batches of "
                                           f"{batch_size} images (meta.args.batch_size) can hold")


# ---- what may be called good ----------------------------------------------------------------------
def last_good(path):
    """(path, None) when the checkpoint at `path` is readable and finite: the one to call the last
    good checkpoint; else (None, why not) - none exists, or it holds non-finite values."""
    import os

    from ..checkpoint import CheckpointError, read_checkpoint
    if not os.path.exists(path):
        return None, "nothing finite was saved"
    try:
        model_state, optimizer_state, _ = read_checkpoint(path)
    except CheckpointError as exc:
        return None, f"{path} cannot be read ({exc})"
    members = [(f"model/{k}", v) for k, v in model_state.items()] + \
              [(f"optimizer/{i}/{k}", v) for i, entries in optimizer_state.items() for k, v in entries.items()]
    for name, value in members:
        bad = _non_finite(value)
        if bad is not None:
            return None, f"{path} is not finite: its {name} holds NaN or inf"
    return path, None
