"""The checkpoint schema (minitorch_cnn/train/schema.py): a checkpoint given to --resume is checked
whole before any of it is used.

Every field of the schema is tampered with alone, with the values its kind must refuse (generated
from schema.META: wrong types, out of range, a required key deleted, an unknown key added), and
each must be one `error:` line on stderr naming the field and the file, exit 2, no traceback, the
checkpoint untouched.  Then the malformed checkpoints and tampered values issue 22 lists, what the
fields must agree on, the arrays against the model and optimizer, and what may be called "the last
good checkpoint" and which option to advise after a run diverges.

Runs call `minitorch_cnn.train.main([...])` in-process; a few run `python -m minitorch_cnn.train`.
"""
import copy
import io
import json
import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from minitorch_cnn import train
from minitorch_cnn.train import schema

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# lenet5 (small arrays: quick to rewrite), 4 batches of 32 an epoch, the lr halved every epoch
DATA = ["--dataset", "bundled-digits", "--limit-train", "128", "--limit-test", "64", "--batch-size", "32"]
RUN = DATA + ["--model", "lenet5", "--step-size", "1", "--gamma", "0.5", "--seed", "1"]
BATCHES_PER_EPOCH = 4
DELETE = object()


def _interrupt_at_batch(monkeypatch, n):
    """SIGINT right after the n-th training batch of the run (the CLI's own handler sees it)."""
    calls = {"n": 0}
    original = train.Progress.update

    def update(self, done, loss=None):
        original(self, done, loss)
        if loss is not None:
            calls["n"] += 1
            if calls["n"] == n:
                signal.raise_signal(signal.SIGINT)
    monkeypatch.setattr(train.Progress, "update", update)


def _contents(path):
    """(arrays, meta) of a checkpoint file, read as plain .npz."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(str(arrays.pop("meta")))


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """The checkpoints every case starts from: "partial" (Adam, Ctrl-C at batch 2 of epoch 2 of 3:
    every field there is, a partial epoch too) and "sgd" (SGD with momentum, 1 epoch)."""
    root = tmp_path_factory.mktemp("schema")
    with pytest.MonkeyPatch.context() as mp:
        _interrupt_at_batch(mp, BATCHES_PER_EPOCH + 2)
        assert train.main(RUN + ["--epochs", "3", "--out", str(root / "partial")]) == 130
    assert train.main(RUN + ["--epochs", "1", "--optimizer", "sgd", "--out", str(root / "sgd")]) == 0
    out = {name: _contents(root / name / "checkpoint.npz") for name in ("partial", "sgd")}
    assert out["partial"][1]["partial"]["batches"] == 2 and out["partial"][1]["epoch"] == 1
    return out


def write(path, arrays, meta):
    """A checkpoint holding `arrays` and `meta` (anything JSON can hold)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, **arrays, meta=np.array(json.dumps(meta)))
    return str(path)


def tamper(meta, keys, value):
    """meta with meta[keys[0]][keys[1]]... set to value (DELETE: removed)."""
    meta = copy.deepcopy(meta)
    if not keys:
        return value
    node = meta
    for key in keys[:-1]:
        node = node[key]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return meta


def refused(path, capsys, *extra):
    """--resume `path` (out: its own folder): exit 2, one error line naming the file, no traceback,
    the file untouched, nothing written beside it.  -> the line."""
    before = open(path, "rb").read()
    rc = train.main(["--resume", path, *extra])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: --resume"), err
    assert path in lines[0], lines[0]
    assert "Traceback" not in err
    assert open(path, "rb").read() == before
    folder = os.path.dirname(path)
    assert not [f for f in os.listdir(folder) if f not in ("checkpoint.npz", ".lock")], os.listdir(folder)
    return lines[0]


# ---- the schema's fields, one at a time ------------------------------------------------------------
def generated_cases():
    """(base, keys, value, what the line must say) for each field of schema.META and each value its
    kind must refuse; plus each required key deleted and an unknown key added where none is allowed."""
    cases = []

    def walk(spec, path, keys, base):
        if isinstance(spec, schema.Switch):     # the optimizer's groups: Adam's in "partial", SGD's in "sgd"
            for kind, sub in spec.specs.items():
                walk(sub, path, keys, "partial" if kind == "Adam" else "sgd")
            return
        for value in spec.bad_values():
            cases.append((base, keys, value, f"{path} "))
        if isinstance(spec, schema.Nullable) and spec.when is not None:
            cases.append((base, keys, None, f"{path} is null"))          # lenet5's accuracies are numbers
        if isinstance(spec, schema.List):
            walk(spec.item, f"{path}[0]", keys + [0], base)
        if isinstance(spec, schema.Obj):
            for key, child in spec.fields.items():
                walk(child, f"{path}.{key}", keys + [key], base)
                if key not in spec.optional:
                    cases.append((base, keys + [key], DELETE, f"{path} has no {key!r}"))
            if spec.extra is None or not spec.extra("bogus_key"):
                cases.append((base, keys + ["bogus_key"], 1, f"{path} has the unknown key 'bogus_key'"))
            elif spec.extra_spec is not None:
                cases.append((base, keys + ["bogus_key"], {"x": 1}, f"{path}.bogus_key "))
    walk(schema.META, "meta", [], "partial")
    return cases


CASES = generated_cases()


def _case_id(case):
    base, keys, value, _ = case
    shown = "deleted" if value is DELETE else json.dumps(value)
    return f"{base}:{'.'.join(map(str, keys)) or 'meta'}={shown}"


def test_the_generated_cases_cover_every_field():
    fields = {tuple(keys) for _, keys, _, _ in CASES}
    for key in schema.ARGS_FIELDS:
        assert ("args", key) in fields
    for keys in [("epoch",), ("history", 0, "train_acc"), ("scheduler", "gamma"), ("scheduler", "step_size"),
                 ("optimizer", "param_groups", 0, "lr"), ("optimizer", "param_groups", 0, "momentum"),
                 ("optimizer", "param_groups", 0, "betas", 0), ("partial", "batches"), ("partial", "seen"),
                 ("partial", "loss_sum"), ("partial", "correct"), ("rng_state",), ("epoch_rng_state",)]:
        assert keys in fields, keys
    assert len(CASES) > 250


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_each_field_tampered_alone_is_refused_naming_it(case, bases, tmp_path, capsys):
    base, keys, value, mention = case
    arrays, meta = bases[base]
    path = write(tmp_path / "run" / "checkpoint.npz", arrays, tamper(meta, keys, value))
    line = refused(path, capsys)
    assert mention in line, line
    assert " --" not in line.split(path, 1)[1], line     # the file's value, never a flag nobody passed


@pytest.mark.parametrize("base, epochs", [("partial", "3"), ("sgd", "2")])
def test_the_untampered_bases_resume(bases, tmp_path, capsys, base, epochs):
    """The cases above fail because of what was tampered with: the bases themselves resume."""
    arrays, meta = bases[base]
    meta = dict(meta, note="keys the schema does not know are another writer's")     # (fingerprint.py's)
    path = write(tmp_path / "run" / "checkpoint.npz", arrays, meta)
    assert train.main(["--resume", path, "--epochs", epochs]) == 0
    assert _contents(path)[1]["epoch"] == int(epochs)


# ---- issue 22's malformed checkpoints and tampered values ----------------------------------------------
def _set(keys, value):
    return lambda arrays, meta: (arrays, tamper(meta, keys, value))


def _array(key, value):
    def change(arrays, meta):
        return dict(arrays, **{key: value(arrays[key]) if callable(value) else value}), meta
    return change


def _rename(old, new):
    def change(arrays, meta):
        arrays = dict(arrays)
        arrays[new] = arrays.pop(old)
        return arrays, meta
    return change


def _drop_array(key):
    return lambda arrays, meta: ({k: v for k, v in arrays.items() if k != key}, meta)


STRUCTURED = np.zeros(6, dtype=[("a", "<f4"), ("b", "<i4")])

MALFORMED = {   # issue 22, "Malformed checkpoints give tracebacks under --resume", and kin
    "args.lr a string": (_set(["args", "lr"], "0.001"), 'meta.args.lr is the string "0.001", expected a finite'),
    "batch_size 64.5": (_set(["args", "batch_size"], 64.5), "meta.args.batch_size is 64.5, expected an integer"),
    "optimizer {}": (_set(["optimizer"], {}), "meta.optimizer has no 'class'"),
    "param_groups 5": (_set(["optimizer", "param_groups"], 5), "meta.optimizer.param_groups is 5, expected a list"),
    "scheduler step_size 0": (_set(["scheduler", "step_size"], 0), "meta.scheduler.step_size is 0, expected an "
                                                                   "integer >= 1"),
    "scheduler gamma 'x'": (_set(["scheduler", "gamma"], "x"), 'meta.scheduler.gamma is the string "x"'),
    "history [{epoch: 1}]": (_set(["history"], [{"epoch": 1}]), "meta.history[0] has no 'train_loss'"),
    "partial.batches 10**6": (_set(["partial", "batches"], 10 ** 6), "meta.partial.batches is 1000000, but an "
                                                                     "epoch of this run has 4 batches"),
    "partial.seen 0": (_set(["partial", "seen"], 0), "meta.partial.seen is 0 after 2 batches"),
    "rng_state not a state": (_set(["rng_state"], {"bit_generator": "PCG64", "state": "x"}),
                              "meta.rng_state is not a random generator state"),
    "meta a list": (lambda arrays, meta: (arrays, [1, 2]), "meta is a JSON list"),
    "no scheduler": (_set(["scheduler"], DELETE), "meta has no 'scheduler'"),
    "epoch -1": (_set(["epoch"], -1), "meta.epoch is -1, expected an integer >= 0"),
    "key optimizer/x/exp_avg": (_rename("optimizer/0/exp_avg", "optimizer/x/exp_avg"), "optimizer/x/exp_avg"),
    "structured weight": (_array("model/conv1.weight", STRUCTURED), "model/conv1.weight"),
    "exp_avg of the wrong shape": (_array("optimizer/0/exp_avg", np.zeros(3, np.float32)),
                                   "optimizer/0/exp_avg has shape (3,), expected (6, 1, 5, 5)"),
    "float64 weight": (_array("model/conv1.bias", lambda a: a.astype(np.float64)),
                       "model/conv1.bias has dtype float64, expected float32"),
    "missing weight": (_drop_array("model/fc3.bias"), "model/fc3.bias is missing"),
}

TAMPERED = {    # issue 22, "Tampered values used without complaint", and kin
    "param-group lr -1": (_set(["optimizer", "param_groups", 0, "lr"], -1),
                          "meta.optimizer.param_groups[0].lr is -1, expected a finite number >= 0"),
    "param-group lr off the schedule": (_set(["optimizer", "param_groups", 0, "lr"], 5.0),
                                        "meta.optimizer.param_groups[0].lr is 5.0, but the schedule gives 0.0005"),
    "partial.batches -3": (_set(["partial", "batches"], -3), "meta.partial.batches is -3, expected an integer >= 0"),
    "args.lr -1": (_set(["args", "lr"], -1), "meta.args.lr is -1, expected a finite number > 0"),
    "a NaN weight": (_array("model/conv2.weight", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 7,
                                                                     np.float32("nan"), a)),
                     "model/conv2.weight is not finite: 1 of 2,400 values are not finite (nan)"),
    "an inf in Adam's state": (_array("optimizer/4/exp_avg_sq", lambda a: np.full_like(a, np.inf)),
                               "optimizer/4/exp_avg_sq is not finite"),
    "negative exp_avg_sq": (_array("optimizer/1/exp_avg_sq", lambda a: -np.ones_like(a)),
                            "optimizer/1/exp_avg_sq holds negative values"),
    "Adam's step count": (_array("optimizer/3/step", np.array(7.0, np.float32)),
                          "optimizer/3/step is 7, expected 6 (the steps of 1 epoch of 4 batches and 2 of the "
                          "interrupted one)"),
    "a state entry dropped": (_drop_array("optimizer/2/exp_avg"), "optimizer/2/exp_avg is missing"),
    "an unknown state entry": (_rename("optimizer/2/exp_avg", "optimizer/2/momentum_buffer"),
                               "optimizer/2/momentum_buffer is no state of Adam"),
    "a parameter index past the end": (_rename("optimizer/9/exp_avg", "optimizer/99/exp_avg"),
                                       "optimizer/99/exp_avg names parameter 99, but the optimizer has 10"),
    "an unknown weight": (_rename("model/fc3.bias", "model/fc4.bias"), "model/fc3.bias is missing"),
    "model differs from args.model": (_set(["model"], "digitcnn"), 'meta.model is "digitcnn" but meta.args.model '
                                                                  'is "lenet5"'),
    "gamma differs from args.gamma": (_set(["scheduler", "gamma"], 0.7), "meta.scheduler.gamma is 0.7 but "
                                                                         "meta.args.gamma is 0.5"),
    "a history out of order": (_set(["history", 0, "epoch"], 2), "meta.history[0].epoch is 2, expected 1"),
    "a history too short": (_set(["history"], []), "meta.history has 0 records, expected one per epoch done"),
    "scheduler behind the epoch": (_set(["scheduler", "last_epoch"], 0), "meta.scheduler.last_epoch is 0, "
                                                                         "expected meta.epoch (1)"),
    "correct > seen": (_set(["partial", "correct"], 65), "meta.partial.correct is 65, more than the 64 images"),
    "seen > batches x batch_size": (_set(["partial", "seen"], 65), "meta.partial.seen is 65, more than 2 batches "
                                                                   "of 32 images"),
    "optimizer class differs from args.optimizer": (_set(["args", "optimizer"], "sgd"), 'meta.optimizer.class is '
                                                                                       '"Adam" but meta.args.'
                                                                                       'optimizer is "sgd"'),
    "a classifier's accuracy null": (_set(["history", 0, "test_acc"], None), "meta.history[0].test_acc is null"),
}


@pytest.mark.parametrize("name", list(MALFORMED) + list(TAMPERED))
def test_malformed_and_tampered_checkpoints_are_one_line_naming_the_field(name, bases, tmp_path, capsys):
    change, mention = {**MALFORMED, **TAMPERED}[name]
    arrays, meta = change(*copy.deepcopy(bases["partial"]))
    line = refused(write(tmp_path / "run" / "checkpoint.npz", arrays, meta), capsys)
    assert mention in line, line
    assert "last good" not in line and "--lr" not in line


def _raw_npz(path, members):
    """A .npz written member by member: name -> the member's bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return str(path)


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _huge_header():
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": (10 ** 12,)})
    return buffer.getvalue() + b"\0" * 64


@pytest.mark.parametrize("kind, mention", [("header of 10**12 elements", "model/conv1.weight"),
                                           ("a plain .npy", "npy"), ("meta nested 100,000 deep", "100,000 levels"),
                                           ("no meta", "meta")])
def test_files_refused_before_any_member_is_inflated(kind, mention, bases, tmp_path, capsys):
    arrays, meta = bases["partial"]
    path = tmp_path / "run" / "checkpoint.npz"
    path.parent.mkdir()
    members = {f"{k}.npy": _npy_bytes(v) for k, v in arrays.items()}
    members["meta.npy"] = _npy_bytes(np.array(json.dumps(meta)))
    if kind == "header of 10**12 elements":
        members["model/conv1.weight.npy"] = _huge_header()
        _raw_npz(path, members)
    elif kind == "a plain .npy":
        path.write_bytes(_npy_bytes(arrays["model/conv1.weight"]))
    elif kind == "meta nested 100,000 deep":
        members["meta.npy"] = _npy_bytes(np.array("[" * 100_000 + "]" * 100_000))
        _raw_npz(path, members)
    else:
        del members["meta.npy"]
        _raw_npz(path, members)
    assert mention in refused(str(path), capsys)


# ---- in a real process: no traceback anywhere ------------------------------------------------------
@pytest.mark.parametrize("name", ["args.lr a string", "partial.batches 10**6"])
def test_in_a_subprocess_the_refusal_is_one_line_and_exit_2(name, bases, tmp_path):
    change, mention = MALFORMED[name]
    arrays, meta = change(*copy.deepcopy(bases["partial"]))
    path = write(tmp_path / "run" / "checkpoint.npz", arrays, meta)
    before = open(path, "rb").read()
    done = subprocess.run([sys.executable, "-m", "minitorch_cnn.train", "--resume", path], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and mention in lines[0], done.stderr
    assert "Traceback" not in done.stderr and open(path, "rb").read() == before


# ---- what is accepted ------------------------------------------------------------------------------
def test_an_autoencoders_null_accuracies_resume(tmp_path, capsys):
    """The autoencoder records no accuracy: null train_acc/test_acc are its, and resume."""
    run = ["--dataset", "bundled-digits", "--limit-train", "64", "--limit-test", "32", "--model", "autoencoder"]
    assert train.main(run + ["--epochs", "1", "--out", str(tmp_path)]) == 0
    meta = _contents(tmp_path / "checkpoint.npz")[1]
    assert meta["history"][0]["train_acc"] is None and meta["history"][0]["test_acc"] is None
    assert train.main(["--resume", str(tmp_path / "checkpoint.npz"), "--epochs", "2"]) == 0
    assert [r["epoch"] for r in _contents(tmp_path / "checkpoint.npz")[1]["history"]] == [1, 2]


def test_a_reconstruction_loss_in_a_classifiers_checkpoint_is_refused(bases, tmp_path, capsys):
    arrays, meta = bases["sgd"]
    path = write(tmp_path / "run" / "checkpoint.npz", arrays, tamper(meta, ["args", "loss"], "bce"))
    line = refused(path, capsys)
    assert 'meta.args.loss is the string "bce", but only the autoencoder has a reconstruction loss' in line, line
    assert "--loss" not in line


def test_check_meta_accepts_what_the_cli_wrote(bases):
    for _, meta in bases.values():
        schema.check_meta(meta, "x.npz")


# ---- "the last good checkpoint" and what to advise -------------------------------------------------------
def test_last_good_is_only_a_readable_finite_checkpoint(bases, tmp_path):
    arrays, meta = bases["partial"]
    good = write(tmp_path / "good.npz", arrays, meta)
    assert schema.last_good(good) == (good, None)
    bad = write(tmp_path / "bad.npz", dict(arrays, **{"model/fc1.bias": np.full(120, np.nan, np.float32)}), meta)
    path, why = schema.last_good(bad)
    assert path is None and "not finite" in why and "model/fc1.bias" in why
    assert schema.last_good(str(tmp_path / "none.npz")) == (None, "nothing finite was saved")


def test_a_non_finite_checkpoint_is_never_called_the_last_good_one(bases, tmp_path, monkeypatch, capsys):
    """--out holds a checkpoint with a NaN weight (--overwrite replaces it) and the new run's loss
    becomes NaN before its first save: that file is said to be not finite, not "good"."""
    arrays, meta = bases["partial"]
    out = tmp_path / "out"
    write(out / "checkpoint.npz", dict(arrays, **{"model/fc1.bias": np.full(120, np.nan, np.float32)}), meta)
    original = train.F.cross_entropy
    monkeypatch.setattr(train.F, "cross_entropy", lambda *a, **k: original(*a, **k) * float("nan"))
    assert train.main(RUN + ["--epochs", "1", "--out", str(out), "--overwrite"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "The last good checkpoint: none (" in errors[0] and "is not finite" in errors[0], errors[0]


def test_a_gamma_that_grows_the_lr_past_use_advises_gamma_not_lr(tmp_path, capsys):
    """--gamma 1e308: the lr grows to 1e305 after epoch 1 and the loss becomes NaN in epoch 2."""
    with np.errstate(all="ignore"):
        assert train.main(DATA + ["--epochs", "3", "--step-size", "1", "--gamma", "1e308",
                                  "--out", str(tmp_path)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "epoch 2" in errors[0]
    assert "--gamma 1e+308 multiplies the learning rate" in errors[0] and "try a --gamma of at most 1" in errors[0]
    assert "--lr" not in errors[0]
    assert f"The last good checkpoint: {tmp_path / 'checkpoint.npz'}" in errors[0]     # epoch 1's: finite

    # resumed, the gamma is the checkpoint's: it says so, and that a new run must change it
    with np.errstate(all="ignore"):
        assert train.main(["--resume", str(tmp_path / "checkpoint.npz")]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "the checkpoint's gamma 1e+308" in errors[0] and "start a new run with a --gamma of at most 1" in errors[0]
    assert "--lr" not in errors[0] and "--gamma 1e" not in errors[0]


def test_a_resumed_run_that_diverges_says_the_lr_is_the_checkpoints(bases, tmp_path, monkeypatch, capsys):
    arrays, meta = bases["sgd"]
    path = write(tmp_path / "run" / "checkpoint.npz", arrays, meta)
    original = train.F.cross_entropy
    monkeypatch.setattr(train.F, "cross_entropy", lambda *a, **k: original(*a, **k) * float("nan"))
    assert train.main(["--resume", path, "--epochs", "2"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "keeps its checkpoint's learning rate (0.01)" in errors[0] and "new run with a smaller --lr" in errors[0]
    assert f"The last good checkpoint: {path}" in errors[0]
