"""The loop in plain sight: examples/train_digits.py is a whole training loop that learns the
bundled digits; the CLI's own loop (minitorch_cnn/train/loop.py) is that loop, with nothing of
the CLI's bookkeeping inside it; and --core trains every model on the core engine alone, with the
same losses as the fast paths but for rounding."""
import ast
import inspect
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from minitorch_cnn import models, train
from minitorch_cnn.backends import fast
from minitorch_cnn.checkpoint import read_checkpoint
from minitorch_cnn.train import loop

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "train_digits.py")
DATA = ["--dataset", "bundled-digits", "--limit-train", "256", "--limit-test", "200", "--batch-size", "32"]


def metrics(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        return json.load(f)


# ---- examples/train_digits.py ---------------------------------------------------------------------
def test_the_example_learns_the_digits():
    """Two epochs on the 4,000 bundled training digits: 84.8% and 89.7% test accuracy (seed 0); a
    backward that is wrong or missing stays near chance, 10%."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, EXAMPLE, "2"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    epochs = re.findall(r"^epoch (\d+): train loss ([\d.]+), test accuracy ([\d.]+)%$", done.stdout, re.M)
    assert [int(epoch) for epoch, _, _ in epochs] == [1, 2], done.stdout
    losses = [float(loss) for _, loss, _ in epochs]
    assert losses[1] < losses[0]
    assert float(epochs[-1][2]) > 80, done.stdout


def test_the_example_is_a_short_plain_loop():
    source = open(EXAMPLE, encoding="utf-8").read()
    assert len(source.splitlines()) <= 50
    for step in ("DataLoader(", "optimizer.zero_grad()", "F.cross_entropy(", "loss.backward()", "optimizer.step()",
                 "model.eval()", "mt.no_grad()"):
        assert step in source, step


# ---- the CLI's loop is the example's ---------------------------------------------------------------
def test_the_cli_loop_takes_the_examples_steps_in_its_order():
    example = open(EXAMPLE, encoding="utf-8").read()
    cli = inspect.getsource(loop.train_one_epoch)
    steps = ["model.train()", "for x, y in ", "optimizer.zero_grad()", "cross_entropy(", ".backward()",
             "optimizer.step()"]
    for source in (example, cli):
        places = [source.index(step) for step in steps]
        assert places == sorted(places), places
    assert len(cli.splitlines()) <= 15


def test_no_function_in_the_loop_file_holds_the_clis_bookkeeping():
    """Resume, the GPU's deferred reads, the ranks' agreement and Ctrl-C sit around the loop (the watch,
    the batches it is given), never inside loop.py."""
    tree = ast.parse(inspect.getsource(loop))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for word in ("group", "ctrl_c", "requested", "position", "pending", "set_rng_state", "signal", "_READ_EVERY",
                 "Stop", "dist", "all_reduce", "checkpoint"):
        assert word not in names, word


# ---- --core: the core engine alone -----------------------------------------------------------------
@pytest.mark.parametrize("name", list(models.MODELS))      # lenet5, simplecnn, digitcnn, deepcnn
def test_the_cli_trains_each_model_on_the_core_alone(name, tmp_path, capsys, monkeypatch):
    engine_during_the_steps = set()
    for loss_name in ("cross_entropy", "mse_loss"):        # the autoencoder's loss: mse_loss (train/task.py)
        monkeypatch.setattr(train.F, loss_name, _seeing_the_engine(getattr(train.F, loss_name),
                                                                   engine_during_the_steps))
    before = fast.enabled
    assert train.main(DATA + ["--model", name, "--epochs", "2", "--core", "--out", str(tmp_path)]) == 0
    assert fast.enabled == before                        # for the run only
    assert engine_during_the_steps == {False}
    assert "engine: core (fast paths off)" in capsys.readouterr().out
    first, second = metrics(tmp_path)
    for record in (first, second):
        assert np.isfinite(record["train_loss"]) and np.isfinite(record["test_loss"])
    assert second["train_loss"] < first["train_loss"] or (second["test_acc"] or 0) > 0.2
    assert read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["args"]["core"] is True


def _seeing_the_engine(loss, seen):
    """`loss`, adding fast.enabled to the set `seen` at each call."""
    def seeing(*args, **kwargs):
        seen.add(fast.enabled)
        return loss(*args, **kwargs)
    return seeing


def _training_losses(monkeypatch, argv):
    """The loss of every training step of train.main(argv), as the engine computed it."""
    losses = []
    original = train.F.cross_entropy

    def cross_entropy(logits, target, reduction="mean"):
        loss = original(logits, target, reduction=reduction)
        if reduction == "mean":
            losses.append(float(np.asarray(loss.data)))
        return loss
    monkeypatch.setattr(train.F, "cross_entropy", cross_entropy)
    assert train.main(argv) == 0
    monkeypatch.undo()
    return losses


def test_core_and_fast_paths_give_the_same_losses_but_for_rounding(tmp_path, monkeypatch):
    run = DATA + ["--model", "lenet5", "--epochs", "2", "--seed", "2"]
    fast_losses = _training_losses(monkeypatch, run + ["--no-core", "--out", str(tmp_path / "fast")])
    core_losses = _training_losses(monkeypatch, run + ["--core", "--out", str(tmp_path / "core")])
    assert len(fast_losses) == len(core_losses) == 2 * 256 // 32
    np.testing.assert_allclose(core_losses, fast_losses, rtol=1e-4)
    for a, b in zip(metrics(tmp_path / "fast"), metrics(tmp_path / "core")):
        assert b["test_loss"] == pytest.approx(a["test_loss"], rel=1e-4)
        assert abs(b["test_acc"] - a["test_acc"]) <= 2 / 200          # a tie or two may round the other way
    fast_weights = read_checkpoint(str(tmp_path / "fast" / "checkpoint.npz"))[0]
    core_weights = read_checkpoint(str(tmp_path / "core" / "checkpoint.npz"))[0]
    for key in fast_weights:
        np.testing.assert_allclose(core_weights[key], fast_weights[key], rtol=1e-3, atol=1e-5, err_msg=key)


def test_a_resumed_run_keeps_its_engine_or_says_it_changed(tmp_path, capsys, monkeypatch):
    run = DATA + ["--model", "lenet5", "--limit-train", "64"]
    assert train.main(run + ["--epochs", "1", "--core", "--out", str(tmp_path)]) == 0
    checkpoint = str(tmp_path / "checkpoint.npz")
    capsys.readouterr()
    assert train.main(["--resume", checkpoint, "--epochs", "2"]) == 0         # the checkpoint's engine
    out = capsys.readouterr().out
    assert "engine: core (fast paths off)" in out and "goes on on" not in out
    assert read_checkpoint(checkpoint)[2]["args"]["core"] is True
    assert train.main(["--resume", checkpoint, "--epochs", "3", "--no-core"]) == 0
    out = capsys.readouterr().out
    assert "engine: core" not in out
    assert "it was trained on the core engine and goes on on the fast paths" in out
    assert read_checkpoint(checkpoint)[2]["args"]["core"] is False
    monkeypatch.setattr(fast, "enabled", False)          # what MINITORCH_CNN_FAST=0 sets at import: --core
    assert train.main(["--resume", checkpoint, "--epochs", "4"]) == 0
    assert "it was trained on the fast paths and goes on on the core engine" in capsys.readouterr().out
    assert read_checkpoint(checkpoint)[2]["args"]["core"] is True


def test_minitorch_cnn_fast_0_is_the_default_of_core(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(fast, "enabled", False)          # what MINITORCH_CNN_FAST=0 sets at import
    assert train.main(DATA + ["--model", "lenet5", "--limit-train", "64", "--epochs", "1",
                              "--out", str(tmp_path)]) == 0
    assert "engine: core (fast paths off)" in capsys.readouterr().out
    assert read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["args"]["core"] is True
    assert fast.enabled is False


def test_help_describes_core(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    text = capsys.readouterr().out
    assert "--core, --no-core" in text and "MINITORCH_CNN_FAST=0" in text
