"""The training CLI end to end, on the bundled digits, in temporary folders.

Runs call `minitorch_cnn.train.main([...])` in-process (fast); one subprocess
checks `python -m minitorch_cnn.train --help`.  The reference run is DigitCNN
(it has dropout, so resuming must restore the random state too) with
--step-size 1, so the learning rate changes between epochs and the scheduler's
state must survive a resume as well.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models, train
from minitorch_cnn.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = ["--dataset", "bundled-digits", "--limit-train", "256", "--limit-test", "200", "--batch-size", "64"]
RUN = DATA + ["--model", "digitcnn", "--step-size", "1", "--gamma", "0.5", "--seed", "3"]
BATCHES_PER_EPOCH = 4           # 256 / 64
RECORD_KEYS = {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_s"}
TIMING_KEYS = {"seconds", "images_per_s"}


def run_cli(args, out=None, expect=0):
    argv = list(args) + (["--out", str(out)] if out is not None else [])
    rc = train.main(argv)
    assert rc == expect, f"train.main({argv}) returned {rc}, expected {expect}"
    return rc


def model_arrays(checkpoint_path):
    return read_checkpoint(str(checkpoint_path))[0]


def assert_same_weights(path_a, path_b):
    a, b = model_arrays(path_a), model_arrays(path_b)
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def assert_same_run_state(path_a, path_b):
    """Weights, optimizer state, scheduler state, random state and history: all identical."""
    assert_same_weights(path_a, path_b)
    _, opt_a, meta_a = read_checkpoint(str(path_a))
    _, opt_b, meta_b = read_checkpoint(str(path_b))
    assert sorted(opt_a) == sorted(opt_b)
    for index in opt_a:
        assert sorted(opt_a[index]) == sorted(opt_b[index])
        for name in opt_a[index]:
            np.testing.assert_array_equal(opt_a[index][name], opt_b[index][name], err_msg=f"{index}/{name}")
    for key in ("epoch", "scheduler", "rng_state", "optimizer"):
        assert meta_a[key] == meta_b[key], key
    assert without_timing(meta_a["history"]) == without_timing(meta_b["history"])


def metrics(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        return json.load(f)


def without_timing(history):
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in history]


def interrupt_at_update(monkeypatch, n, times=1):
    """Send this process SIGINT (`times` times) right after the n-th progress update, i.e. after
    n training batches: the CLI's own handler sees a real Ctrl-C.  signal.raise_signal runs the
    Python handler before it returns, so the moment is deterministic."""
    calls = {"n": 0}
    original = train.Progress.update

    def update(self, done, loss=None):
        original(self, done, loss)
        if loss is None:                   # an evaluation batch: not a training step
            return
        calls["n"] += 1
        if calls["n"] == n:
            for _ in range(times):
                signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(train.Progress, "update", update)


def poison_loss_at_batch(monkeypatch, n):
    """The n-th training loss (counted over the whole run) becomes NaN."""
    calls = {"n": 0}
    original = train.F.cross_entropy

    def cross_entropy(logits, target, reduction="mean"):
        loss = original(logits, target, reduction=reduction)   # torch's 3rd positional is weight
        if reduction == "mean":                 # training batches; evaluation sums
            calls["n"] += 1
            if calls["n"] == n:
                return loss * float("nan")
        return loss

    monkeypatch.setattr(train.F, "cross_entropy", cross_entropy)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The uninterrupted 2-epoch reference run, and a 1-epoch run (the start of every resume)."""
    root = tmp_path_factory.mktemp("cli")
    run_cli(RUN + ["--epochs", "2"], root / "ref")
    run_cli(RUN + ["--epochs", "1"], root / "one")
    return root


# ---- a normal run -------------------------------------------------------------------------------
def test_metrics_json_has_one_record_per_epoch(runs):
    history = metrics(runs / "ref")
    assert [r["epoch"] for r in history] == [1, 2]
    for r in history:
        assert RECORD_KEYS <= set(r), f"missing keys {RECORD_KEYS - set(r)}"
        assert 0 <= r["train_acc"] <= 1 and 0 <= r["test_acc"] <= 1
        assert np.isfinite(r["train_loss"]) and np.isfinite(r["test_loss"]) and r["train_loss"] > 0
        assert r["seconds"] > 0
        assert r["images_per_s"] == pytest.approx(256 / r["seconds"], rel=1e-9)
        assert (r["train_acc"] * 256) == pytest.approx(round(r["train_acc"] * 256))     # fractions of 256
        assert (r["test_acc"] * 200) == pytest.approx(round(r["test_acc"] * 200))
    assert history[1]["train_loss"] < history[0]["train_loss"]        # it learns
    assert history[1]["lr"] == history[0]["lr"] * 0.5                  # --step-size 1 --gamma 0.5


def test_checkpoint_is_plain_npz_and_round_trips_into_a_fresh_model(runs):
    path = runs / "ref" / "checkpoint.npz"
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    assert meta["epoch"] == 2 and meta["model"] == "digitcnn" and len(meta["history"]) == 2
    model = models.DigitCNN()
    meta2 = load_checkpoint(str(path), model)
    assert meta2 == meta
    state = model.state_dict()
    assert list(state) == [k[len("model/"):] for k in arrays if k.startswith("model/")]
    for key, value in state.items():
        np.testing.assert_array_equal(value, arrays[f"model/{key}"], err_msg=key)
        assert value.dtype == np.float32
    assert sorted(os.listdir(runs / "ref")) == ["checkpoint.npz", "metrics.json"]     # no temp files


def test_the_same_seed_gives_the_same_run(runs, tmp_path):
    run_cli(RUN + ["--epochs", "1"], tmp_path)
    assert_same_run_state(tmp_path / "checkpoint.npz", runs / "one" / "checkpoint.npz")


# ---- resume ---------------------------------------------------------------------------------------
def test_resume_equals_an_uninterrupted_run(runs, tmp_path):
    """1 epoch, then --resume for the 2nd: the same final weights, bit for bit, and the same history."""
    run_cli(RUN + ["--epochs", "2", "--resume", str(runs / "one" / "checkpoint.npz")], tmp_path)
    assert_same_run_state(tmp_path / "checkpoint.npz", runs / "ref" / "checkpoint.npz")
    assert without_timing(metrics(tmp_path)) == without_timing(metrics(runs / "ref"))


@pytest.mark.parametrize("after_batches", [6, 2, 4], ids=["epoch2-batch2", "epoch1-batch2", "epoch1-last-batch"])
def test_ctrl_c_saves_mid_epoch_and_resume_ends_with_the_uninterrupted_weights(
        runs, tmp_path, monkeypatch, capsys, after_batches):
    interrupt_at_update(monkeypatch, after_batches)
    run_cli(RUN + ["--epochs", "2"], tmp_path, expect=130)
    monkeypatch.undo()
    captured = capsys.readouterr()
    assert "--resume" in captured.out and "Traceback" not in captured.err
    _, _, meta = read_checkpoint(str(tmp_path / "checkpoint.npz"))
    done_epochs, batches = (after_batches - 1) // BATCHES_PER_EPOCH, (after_batches - 1) % BATCHES_PER_EPOCH + 1
    assert meta["epoch"] == done_epochs and meta["partial"]["batches"] == batches
    if done_epochs == 0:
        assert not os.path.exists(tmp_path / "metrics.json")
    # the command the interrupt message prints, and nothing else: the rest comes from the checkpoint
    assert f"continue with --resume {tmp_path / 'checkpoint.npz'}" in captured.out
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert train.main(["--resume", str(tmp_path / "checkpoint.npz")]) == 0
    assert not [w for w in caught if "lr_scheduler.step()" in str(w.message)]   # no false alarm
    assert_same_run_state(tmp_path / "checkpoint.npz", runs / "ref" / "checkpoint.npz")
    assert without_timing(metrics(tmp_path)) == without_timing(metrics(runs / "ref"))


def test_a_checkpoint_from_before_torchs_optimizer_layout_resumes(runs, tmp_path):
    """Written before the optimizer state and schedulers followed torch's layout: int 'step' entries,
    param groups without amsgrad, maximize, foreach..., a scheduler state without torch's
    bookkeeping keys.  It resumes, without a warning, to the uninterrupted run's weights."""
    with np.load(runs / "one" / "checkpoint.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    for key in ("_step_count", "_is_initial", "_get_lr_called_within_step"):
        del meta["scheduler"][key]
    old_keys = ("lr", "betas", "eps", "weight_decay", "initial_lr", "params")
    meta["optimizer"]["param_groups"] = [{k: group[k] for k in old_keys} for group in meta["optimizer"]["param_groups"]]
    arrays.update({k: np.array(int(v), dtype=np.int64) for k, v in arrays.items() if k.endswith("/step")})
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **arrays)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert train.main(["--resume", str(tmp_path / "old.npz"), "--epochs", "2",
                           "--out", str(tmp_path / "out")]) == 0
    assert not [w for w in caught if "lr_scheduler.step()" in str(w.message)]
    assert_same_weights(tmp_path / "out" / "checkpoint.npz", runs / "ref" / "checkpoint.npz")


def test_a_second_ctrl_c_aborts_at_once(runs, tmp_path, monkeypatch, capsys):
    shutil.copy(runs / "one" / "checkpoint.npz", tmp_path / "checkpoint.npz")
    interrupt_at_update(monkeypatch, 1, times=2)
    run_cli(RUN + ["--epochs", "2", "--resume", str(tmp_path / "checkpoint.npz")], tmp_path, expect=130)
    assert "aborted" in capsys.readouterr().err
    assert_same_weights(tmp_path / "checkpoint.npz", runs / "one" / "checkpoint.npz")   # left as it was


# ---- a loss that becomes NaN -----------------------------------------------------------------
def test_nan_loss_stops_with_exit_1_and_keeps_the_last_good_checkpoint(runs, tmp_path, monkeypatch, capsys):
    poison_loss_at_batch(monkeypatch, BATCHES_PER_EPOCH + 2)            # epoch 2, batch 2
    run_cli(RUN + ["--epochs", "2"], tmp_path, expect=1)
    err_lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err_lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in "\n".join(err_lines)
    assert "nan" in errors[0] and "batch 2 of epoch 2" in errors[0]
    assert str(tmp_path / "checkpoint.npz") in errors[0] and "--lr" in errors[0]
    assert_same_weights(tmp_path / "checkpoint.npz", runs / "one" / "checkpoint.npz")   # epoch 1's
    assert read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["epoch"] == 1
    assert [r["epoch"] for r in metrics(tmp_path)] == [1]


def test_a_huge_learning_rate_diverges_to_nan_before_any_checkpoint(tmp_path, capsys):
    """No monkeypatching: SGD with lr 1e12 overflows DigitCNN's activations within two batches."""
    with np.errstate(all="ignore"):
        run_cli(DATA + ["--model", "digitcnn", "--optimizer", "sgd", "--lr", "1e12", "--epochs", "1"],
                tmp_path, expect=1)
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and re.search(r"the loss became (nan|-?inf) at batch \d+ of epoch 1", errors[0])
    assert "last good checkpoint: none" in errors[0]
    assert not os.path.exists(tmp_path / "checkpoint.npz")


# ---- --plot ---------------------------------------------------------------------------------------
def test_plot_writes_curves_filters_and_feature_maps(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run_cli(DATA + ["--limit-train", "64", "--limit-test", "50", "--epochs", "2", "--plot"], tmp_path)
    out = capsys.readouterr().out
    for name in ("curves.png", "filters.png", "feature_maps.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert str(tmp_path / name) in out, name


def test_a_stopped_run_has_its_plots_from_the_epochs_it_finished(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    poison_loss_at_batch(monkeypatch, BATCHES_PER_EPOCH + 1)            # epoch 2 fails at once
    run_cli(RUN + ["--epochs", "2", "--plot"], tmp_path, expect=1)
    for name in ("curves.png", "filters.png", "feature_maps.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_plot_without_matplotlib_is_one_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)              # `import matplotlib` fails
    run_cli(DATA + ["--epochs", "1", "--plot"], tmp_path, expect=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "matplotlib" in err[0]
    assert not os.path.exists(tmp_path / "checkpoint.npz")            # refused before training


# ---- bad arguments: one line, `error: ...`, exit code 2 --------------------------------------------
def _bad_cases(tmp_path, runs):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    digit_checkpoint = str(runs / "one" / "checkpoint.npz")
    return {
        "unknown-model": (["--model", "resnet152"], "resnet152"),
        "missing-data-dir": (["--data-dir", str(tmp_path / "nowhere")], "nowhere"),
        "data-dir-without-value": (["--data-dir"], "--data-dir"),
        "resume-missing-file": (["--resume", str(tmp_path / "nothing.npz")], "nothing.npz"),
        "resume-corrupt-file": (["--resume", str(corrupt)], "corrupt.npz"),
        "resume-other-model": (["--model", "lenet5", "--resume", digit_checkpoint], "--model lenet5 differs"),
        "epochs-0": (["--epochs", "0"], "--epochs"),
        "batch-size-0": (["--batch-size", "0"], "--batch-size"),
        "negative-lr": (["--lr", "-1"], "--lr"),
        "limit-train-0": (["--limit-train", "0"], "--limit-train"),
        "not-a-number": (["--epochs", "two"], "--epochs"),          # argparse's own errors, too
        "unknown-option": (["--bogus"], "--bogus"),
        "bad-choice": (["--optimizer", "lbfgs"], "lbfgs"),
    }


BAD_CASES = ["unknown-model", "missing-data-dir", "data-dir-without-value", "resume-missing-file", "resume-corrupt-file",
             "resume-other-model", "epochs-0", "batch-size-0", "negative-lr", "limit-train-0", "not-a-number",
             "unknown-option", "bad-choice"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_arguments_give_one_error_line_and_exit_2(case, runs, tmp_path, capsys):
    extra, mentioned = _bad_cases(tmp_path, runs)[case]
    argv = DATA + ["--epochs", "1"] + extra       # later options win: extra overrides the defaults
    run_cli(argv, tmp_path / "out", expect=2)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("error: ") and mentioned in lines[0]
    assert "Traceback" not in err
    assert not os.path.exists(tmp_path / "out" / "checkpoint.npz")


def test_resume_of_a_checkpoint_saved_for_another_model_name(runs, tmp_path, capsys):
    """Same architecture, other --model name in the meta: refused (the checkpoint says which)."""
    _, _, meta = read_checkpoint(str(runs / "one" / "checkpoint.npz"))
    meta = dict(meta, model="simplecnn")
    fake = tmp_path / "fake.npz"
    model = models.DigitCNN()
    load_checkpoint(str(runs / "one" / "checkpoint.npz"), model)
    save_checkpoint(str(fake), model, meta=meta)
    run_cli(RUN + ["--epochs", "2", "--resume", str(fake)], tmp_path / "out", expect=2)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")


# ---- every model trains from the CLI -------------------------------------------------------------
@pytest.mark.parametrize("name", list(models.MODELS))
def test_each_model_trains_from_the_cli(name, tmp_path, capsys):
    run_cli(["--dataset", "bundled-digits", "--limit-train", "128", "--limit-test", "100", "--epochs", "1",
             "--model", name], tmp_path)
    (record,) = metrics(tmp_path)
    assert record["epoch"] == 1 and np.isfinite(record["train_loss"])
    if name == "autoencoder":       # reconstruction loss, no accuracy (tests/test_cli_models.py)
        assert record["test_acc"] is None
    else:
        assert 0 <= record["test_acc"] <= 1
    assert f"model: {name}" in capsys.readouterr().out
    assert read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["model"] == name


# ---- the entry point -----------------------------------------------------------------------------
def test_help_in_a_subprocess():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "minitorch_cnn.train", "--help"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--model", "--epochs", "--resume", "--limit-train", "--plot", "--data-dir", "--core"):
        assert option in done.stdout
    assert "Traceback" not in done.stderr


def test_training_starts_by_keeping_freed_memory(tmp_path, monkeypatch):
    """The allocator setting (minitorch_cnn/allocator.py) is made where training starts, not on import."""
    calls = []
    monkeypatch.setattr(train.cli, "keep_freed_memory", lambda: calls.append(1) or True)
    run_cli(DATA + ["--epochs", "1", "--limit-train", "64"], tmp_path)
    assert calls == [1]


# ---- issue 11: resume remembers, runs never overwrite, no broken checkpoint -----------------------
def test_resume_alone_continues_the_run_as_configured(runs, tmp_path, monkeypatch, capsys):
    """`--resume CHECKPOINT --epochs 2` with no other option: model, data, limits, batch size,
    optimizer, scheduler, seed and folder come from the checkpoint; the result is the
    uninterrupted run's, bit for bit, written next to the checkpoint."""
    folder = tmp_path / "run"
    folder.mkdir()
    shutil.copy(runs / "one" / "checkpoint.npz", folder / "checkpoint.npz")
    monkeypatch.chdir(tmp_path)
    assert train.main(["--resume", str(folder / "checkpoint.npz"), "--epochs", "2"]) == 0
    assert f"output: {folder}" in capsys.readouterr().out
    assert_same_run_state(folder / "checkpoint.npz", runs / "ref" / "checkpoint.npz")
    assert not (tmp_path / "runs").exists()            # nothing went to runs/<model>


@pytest.mark.parametrize("option, value", [("--batch-size", "32"), ("--lr", "0.5"), ("--model", "lenet5"),
                                           ("--dataset", "mnist"), ("--seed", "4"), ("--optimizer", "sgd"),
                                           ("--limit-train", "128")])
def test_resume_refuses_an_option_that_differs_from_the_checkpoint(runs, tmp_path, capsys, option, value):
    checkpoint = str(runs / "one" / "checkpoint.npz")
    assert train.main(["--resume", checkpoint, option, value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --resume: {option} {value} differs from the checkpoint's {option} ")
    assert not (tmp_path / "checkpoint.npz").exists()


def test_runs_without_out_never_overwrite_each_other(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    quick = DATA + ["--model", "digitcnn", "--epochs", "1", "--limit-train", "64"]
    for expected in ("digitcnn", "digitcnn-2", "digitcnn-3"):
        assert train.main(quick) == 0
        assert f"output: {os.path.join('runs', expected)}" in capsys.readouterr().out
        assert (tmp_path / "runs" / expected / "checkpoint.npz").exists()


def test_an_explicit_out_with_a_checkpoint_is_refused_unless_overwrite(runs, tmp_path, capsys):
    shutil.copy(runs / "one" / "checkpoint.npz", tmp_path / "checkpoint.npz")
    before = (tmp_path / "checkpoint.npz").read_bytes()
    run_cli(RUN + ["--epochs", "1"], tmp_path, expect=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a checkpoint" in err[0]
    assert "--resume" in err[0] and "--overwrite" in err[0]
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    run_cli(RUN + ["--epochs", "1", "--overwrite", "--seed", "5"], tmp_path)
    assert (tmp_path / "checkpoint.npz").read_bytes() != before


@pytest.mark.parametrize("extra, mentioned", [
    (["--optimizer", "sgd", "--momentum", "nan"], "--momentum"),
    (["--momentum", "-1"], "--momentum"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--weight-decay", "inf"], "--weight-decay"),
    (["--seed", "-1"], "--seed"),
    (["--gamma", "nan"], "--gamma"),
    (["--lr", "nan"], "--lr"),
])
def test_bad_hyper_parameters_are_refused_up_front(tmp_path, capsys, extra, mentioned):
    run_cli(DATA + ["--epochs", "1"] + extra, tmp_path, expect=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and mentioned in err[0]
    assert not (tmp_path / "checkpoint.npz").exists()


def test_non_finite_weights_are_never_saved(runs, tmp_path, monkeypatch, capsys):
    """An optimizer state that overflowed (as Adam's does at lr 1e6) while the losses stay finite:
    the run stops with exit 1 and no checkpoint holds a non-finite value."""
    original = train.optim.Adam.step

    def step(self):                        # Adam's state becomes inf at the last batch of epoch 1
        original(self)
        step.calls += 1
        if step.calls == BATCHES_PER_EPOCH:
            self.state[self.param_groups[0]["params"][0]]["exp_avg_sq"][...] = np.inf
    step.calls = 0
    monkeypatch.setattr(train.optim.Adam, "step", step)
    run_cli(RUN + ["--epochs", "2"], tmp_path, expect=1)
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "after epoch 1" in errors[0]
    assert "the optimizer's exp_avg_sq of parameter 0 is no longer finite" in errors[0]
    assert "last good checkpoint: none" in errors[0]
    assert not (tmp_path / "checkpoint.npz").exists()


def test_sgd_gets_its_own_default_learning_rate(tmp_path, capsys):
    run_cli(DATA + ["--epochs", "1", "--optimizer", "sgd", "--limit-train", "64"], tmp_path)
    assert "sgd lr 0.01" in capsys.readouterr().out
    assert read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["args"]["lr"] == 0.01


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    text = capsys.readouterr().out
    for option in ("--model", "--dataset", "--epochs", "--batch-size", "--lr", "--optimizer", "--momentum",
                   "--weight-decay", "--step-size", "--gamma", "--device", "--seed", "--limit-train", "--out"):
        entry = re.search(r"\n  " + option + r"\b(.*?)(?=\n  -|\Z)", text, re.S)
        assert entry and "default" in entry.group(1), f"{option}: no default in --help"


def _rewrite_meta(source, target, change):
    """A copy of checkpoint `source` whose meta is change(meta) (anything JSON can hold)."""
    import json as json_module
    with np.load(source, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json_module.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json_module.dumps(change(meta)))
    np.savez(target, **arrays)
    return str(target)


def _drop(key):
    return lambda meta: {k: v for k, v in meta.items() if k != key}


@pytest.mark.parametrize("change, mentioned", [
    (lambda meta: [1, 2], "meta is a JSON list"),
    (lambda meta: "text", "meta is a JSON str"),
    (_drop("scheduler"), "no 'scheduler'"),
    (_drop("history"), "no 'history'"),
    (lambda meta: dict(meta, epoch="1"), 'meta.epoch is the string "1"'),
    (lambda meta: dict(meta, rng_state={"bit_generator": "PCG64", "state": "x"}), "not a random generator state"),
    (lambda meta: dict(meta, scheduler={"nonsense": 1}), "meta.scheduler has no 'step_size'"),
])
def test_a_malformed_checkpoint_meta_is_one_error_line(runs, tmp_path, capsys, change, mentioned):
    bad = _rewrite_meta(runs / "one" / "checkpoint.npz", tmp_path / "bad.npz", change)
    assert train.main(["--resume", bad, "--epochs", "2", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --resume") and mentioned in err[0], err
    assert not (tmp_path / "out" / "checkpoint.npz").exists()


def test_optimizer_arrays_of_the_wrong_shape_are_refused_before_training(runs, tmp_path, capsys):
    with np.load(runs / "one" / "checkpoint.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    key = next(k for k in arrays if k.startswith("optimizer/0/exp_avg"))
    arrays[key] = np.zeros(3, dtype=arrays[key].dtype)
    np.savez(tmp_path / "bad.npz", **arrays)
    assert train.main(["--resume", str(tmp_path / "bad.npz"), "--epochs", "2", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has shape (3,), expected" in err[0]


def test_out_under_a_regular_file_is_one_error_line(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    run_cli(DATA + ["--epochs", "1"], tmp_path / "file" / "run", expect=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out") and "cannot create the folder" in err[0]


def test_a_full_disk_keeps_the_previous_checkpoint(runs, tmp_path, monkeypatch, capsys):
    import errno
    shutil.copy(runs / "one" / "checkpoint.npz", tmp_path / "checkpoint.npz")
    before = (tmp_path / "checkpoint.npz").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(train.checkpointing, "save_checkpoint", full_disk)
    run_cli(RUN + ["--epochs", "2", "--resume", str(tmp_path / "checkpoint.npz")], tmp_path, expect=2)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "No space left on device" in err[0] and "previous checkpoint" in err[0]
    assert (tmp_path / "checkpoint.npz").read_bytes() == before


def test_an_empty_idx_split_is_one_error_line(tmp_path, capsys):
    from minitorch_cnn.data import write_idx
    data = tmp_path / "data"
    data.mkdir()
    for prefix, n in (("train", 0), ("t10k", 5)):
        write_idx(data / f"{prefix}-images-idx3-ubyte", np.zeros((n, 28, 28), np.uint8))
        write_idx(data / f"{prefix}-labels-idx1-ubyte", np.zeros(n, np.uint8))
    run_cli(["--dataset", "mnist", "--data-dir", str(data), "--epochs", "1"], tmp_path / "out", expect=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the training split has no images" in err[0]


def test_progress_shows_elapsed_time_and_time_left_and_evaluation_progress(tmp_path, capsys):
    run_cli(DATA + ["--epochs", "1"], tmp_path)
    err = capsys.readouterr().err
    assert re.search(r"epoch 1/1 4/4 batches .* \d+:\d\d elapsed, 0:00 left  loss \d", err), err
    assert re.search(r"epoch 1/1 test 1/1 batches .* elapsed", err), err


def test_messages_name_flags_not_python(tmp_path, capsys, monkeypatch):
    from minitorch_cnn.data import MNIST
    monkeypatch.setattr(MNIST, "mirrors", ("http://127.0.0.1:9/",))
    (tmp_path / "data").mkdir()
    run_cli(["--dataset", "mnist", "--data-dir", str(tmp_path / "data"), "--epochs", "1"], tmp_path / "out",
            expect=2)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dataset bundled-digits" in err[0] and "BundledDigits()" not in err[0]
    assert train._in_flags("no GPU; use device='cpu'") == "no GPU; use --device cpu"


def test_auto_points_at_fashion_mnist_files_when_mnist_is_absent(tmp_path, capsys, monkeypatch):
    from minitorch_cnn.data import MNIST, FashionMNIST, write_idx
    monkeypatch.setattr(MNIST, "mirrors", ("http://127.0.0.1:9/",))
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 20), ("t10k", 10)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", np.zeros((n, 28, 28), np.uint8))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", (np.arange(n) % 10).astype(np.uint8))
    run_cli(["--data-dir", str(tmp_path / "data"), "--epochs", "1", "--limit-train", "64", "--limit-test", "50"],
            tmp_path / "out")
    out = capsys.readouterr().out
    assert "MNIST files not found" in out and "pass --dataset fashion-mnist" in out


def test_resume_into_another_folder_holding_a_checkpoint_is_refused(runs, tmp_path, capsys):
    shutil.copy(runs / "ref" / "checkpoint.npz", tmp_path / "checkpoint.npz")
    before = (tmp_path / "checkpoint.npz").read_bytes()
    assert train.main(["--resume", str(runs / "one" / "checkpoint.npz"), "--epochs", "2",
                       "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already holds a checkpoint" in err[0]
    assert (tmp_path / "checkpoint.npz").read_bytes() == before


def test_a_non_finite_test_loss_saves_nothing(runs, tmp_path, monkeypatch, capsys):
    """(deepcnn, sgd, lr 1e6 gave a NaN test loss and still kept that epoch's checkpoint.)"""
    original = train.evaluate
    monkeypatch.setattr(train.epoch, "evaluate", lambda *a, **k: (float("nan"), original(*a, **k)[1]))
    run_cli(RUN + ["--epochs", "1"], tmp_path, expect=1)
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "the test loss became nan after epoch 1" in errors[0]
    assert not (tmp_path / "checkpoint.npz").exists()


@pytest.mark.parametrize("dataset, expected", [(["--dataset", "bundled-digits"], "bundled-digits"),
                                               ([], "bundled digits")])
def test_the_curves_title_names_model_data_optimizer_and_lr(tmp_path, monkeypatch, dataset, expected):
    pytest.importorskip("matplotlib")
    from minitorch_cnn import plots
    from minitorch_cnn.data import MNIST
    monkeypatch.setattr(MNIST, "mirrors", ("http://127.0.0.1:9/",))      # auto: no MNIST here
    titles = []
    original = plots.write_curves
    monkeypatch.setattr(plots, "write_curves", lambda h, out, title, b=None: titles.append(title) or original(h, out, title, b))
    run_cli(dataset + ["--data-dir", str(tmp_path), "--limit-train", "64", "--limit-test", "50", "--epochs", "1",
                       "--optimizer", "sgd", "--plot"], tmp_path / "out")
    assert titles == [f"LeNet5 on {expected} · sgd lr 0.01"]
