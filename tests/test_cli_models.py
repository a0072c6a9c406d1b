"""The CLI trains the ResNet and the autoencoder (issue 23; minitorch_cnn/train/task.py).

`--model resnet` is a classification run like the classic CNNs'.  `--model autoencoder` reports its
reconstruction loss (train and test) instead of accuracy: its history records keep every key, with
"train_acc" and "test_acc" None (null in metrics.json and in the checkpoint), and --plot adds
reconstructions.png.  A stop signal in mid-epoch and a --resume give the uninterrupted run's state
for both, in one process and (where mpiexec is present) on 2 ranks.  Tiny runs on the bundled
digits: 96 training images in 3 batches of 32, 40 test images.
"""
import json
import os
import signal
import subprocess
import sys
import types

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import models, train
from minitorch_cnn.checkpoint import load_checkpoint, read_checkpoint
from minitorch_cnn.data import Subset, load_dataset
from minitorch_cnn.nn import functional as F
from minitorch_cnn.train import task as tasks

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = ["--dataset", "bundled-digits", "--limit-train", "96", "--limit-test", "40", "--batch-size", "32",
        "--seed", "2"]
RECORD_KEYS = {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "images_per_s", "lr"}
TIMING = {"seconds", "images_per_s"}


def run_cli(argv, out=None, expect=0):
    argv = list(argv) + (["--out", str(out)] if out is not None else [])
    status = train.main(argv)
    assert status == expect, f"train.main({argv}) returned {status}, expected {expect}"


def metrics(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        return json.load(f)


def without_timing(history):
    return [{k: v for k, v in record.items() if k not in TIMING} for record in history]


def assert_same_run_state(path_a, path_b):
    """Weights, buffers, optimizer state, scheduler, random state and history (but for timing): identical."""
    weights_a, optimizer_a, meta_a = read_checkpoint(str(path_a))
    weights_b, optimizer_b, meta_b = read_checkpoint(str(path_b))
    assert list(weights_a) == list(weights_b)
    for key in weights_a:
        np.testing.assert_array_equal(weights_a[key], weights_b[key], err_msg=key)
    assert sorted(optimizer_a) == sorted(optimizer_b)
    for index in optimizer_a:
        for name in optimizer_a[index]:
            np.testing.assert_array_equal(optimizer_a[index][name], optimizer_b[index][name], err_msg=name)
    for key in ("epoch", "scheduler", "rng_state", "model"):
        assert meta_a[key] == meta_b[key], key
    assert without_timing(meta_a["history"]) == without_timing(meta_b["history"])


def signal_at_step(monkeypatch, n, signum):
    """Send this process `signum` right after the n-th training step's progress update: the CLI's own
    handler sees it (signal.raise_signal runs it before returning, so the moment is deterministic)."""
    calls = {"n": 0}
    original = train.Progress.update

    def update(self, done, loss=None):
        original(self, done, loss)
        if loss is not None:            # a training step (evaluation updates carry no loss)
            calls["n"] += 1
            if calls["n"] == n:
                signal.raise_signal(signum)

    monkeypatch.setattr(train.Progress, "update", update)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Each model's uninterrupted 2-epoch run, and its 1-epoch start (step size 1: the lr changes)."""
    root = tmp_path_factory.mktemp("cli_models")
    for name in ("resnet", "autoencoder"):
        run_cli(DATA + ["--model", name, "--epochs", "2", "--step-size", "1"], root / name / "ref")
        run_cli(DATA + ["--model", name, "--epochs", "1", "--step-size", "1"], root / name / "one")
    return root


def test_both_models_are_choices_of_the_cli():
    assert {"resnet", "autoencoder"} <= set(models.MODELS)
    assert isinstance(tasks.task_for(models.get_model("resnet")), tasks.Classification)
    assert isinstance(tasks.task_for(models.get_model("autoencoder")), tasks.Reconstruction)


# ---- the ResNet: a classification run -------------------------------------------------------------
def test_resnet_trains_with_accuracy(references, capsys):
    history = metrics(references / "resnet" / "ref")
    assert [r["epoch"] for r in history] == [1, 2]
    for record in history:
        assert set(record) == RECORD_KEYS
        assert 0 <= record["train_acc"] <= 1 and 0 <= record["test_acc"] <= 1
        assert record["train_acc"] * 96 == pytest.approx(round(record["train_acc"] * 96))   # fractions of 96
        assert np.isfinite(record["train_loss"]) and record["train_loss"] > 0
    assert [r["lr"] for r in history] == [0.001, 0.0005]
    meta = read_checkpoint(str(references / "resnet" / "ref" / "checkpoint.npz"))[2]
    assert meta["model"] == "resnet" and meta["history"] == history


def test_resnet_test_loss_is_the_cross_entropy_of_the_saved_model(references):
    model = models.ResNet()
    load_checkpoint(str(references / "resnet" / "ref" / "checkpoint.npz"), model)
    x, y = first_test_images(40)
    with mt.no_grad():
        logits = model.eval()(x)
    record = metrics(references / "resnet" / "ref")[-1]
    assert record["test_loss"] == pytest.approx(float(F.cross_entropy(logits, y).item()), rel=1e-5)
    assert record["test_acc"] == float((logits.argmax(axis=1) == y).array.mean())


def test_resnet_ctrl_c_in_mid_epoch_then_resume_is_the_uninterrupted_run(references, tmp_path, monkeypatch,
                                                                          capsys):
    signal_at_step(monkeypatch, 2, signal.SIGINT)                  # epoch 1, batch 2 of 3
    run_cli(DATA + ["--model", "resnet", "--epochs", "2", "--step-size", "1"], tmp_path, expect=130)
    monkeypatch.undo()
    assert "2/3 batches into epoch 1" in capsys.readouterr().out
    run_cli(["--resume", str(tmp_path / "checkpoint.npz")])
    assert_same_run_state(tmp_path / "checkpoint.npz", references / "resnet" / "ref" / "checkpoint.npz")


def test_resnet_resume_after_an_epoch_is_the_uninterrupted_run(references, tmp_path):
    one = tmp_path / "one"
    os.makedirs(one)
    for name in ("checkpoint.npz", "metrics.json"):
        with open(references / "resnet" / "one" / name, "rb") as src, open(one / name, "wb") as dst:
            dst.write(src.read())
    run_cli(["--resume", str(one / "checkpoint.npz"), "--epochs", "2"])
    assert_same_run_state(one / "checkpoint.npz", references / "resnet" / "ref" / "checkpoint.npz")


# ---- the autoencoder: reconstruction loss, no accuracy ------------------------------------------
def test_autoencoder_history_keeps_its_keys_with_null_accuracies(references):
    folder = references / "autoencoder" / "ref"
    history = metrics(folder)
    assert [r["epoch"] for r in history] == [1, 2]
    for record in history:
        assert set(record) == RECORD_KEYS                          # the keys of a classification run
        assert record["train_acc"] is None and record["test_acc"] is None
        assert np.isfinite(record["train_loss"]) and np.isfinite(record["test_loss"]) and record["train_loss"] > 0
    assert history[1]["train_loss"] < history[0]["train_loss"]    # it learns
    with open(folder / "metrics.json") as f:
        assert '"train_acc": null' in f.read()
    meta = read_checkpoint(str(folder / "checkpoint.npz"))[2]
    assert meta["model"] == "autoencoder" and meta["history"] == history


def test_autoencoder_prints_reconstruction_losses_and_no_accuracy(tmp_path, capsys):
    run_cli(DATA + ["--model", "autoencoder", "--epochs", "1"], tmp_path)
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("epoch 1/1  loss ")]
    assert "test loss " in line and "(MSE loss of the reconstruction)" in line and "acc" not in line
    assert "final test loss " in out and "accuracy" not in out


def test_autoencoder_losses_are_the_models_reconstruction_loss(references):
    """The recorded test loss is the saved model's MSE against its (normalised) input over the test set."""
    model = models.ConvAutoencoder()
    load_checkpoint(str(references / "autoencoder" / "ref" / "checkpoint.npz"), model)
    x, _ = first_test_images(40)
    with mt.no_grad():
        expected = float(F.mse_loss(model.eval()(x), x).item())
    assert metrics(references / "autoencoder" / "ref")[-1]["test_loss"] == pytest.approx(expected, rel=1e-5)


def test_autoencoder_sigterm_in_mid_epoch_then_resume_is_the_uninterrupted_run(references, tmp_path,
                                                                               monkeypatch, capsys):
    signal_at_step(monkeypatch, 4, signal.SIGTERM)                 # epoch 2, batch 1 of 3
    run_cli(DATA + ["--model", "autoencoder", "--epochs", "2", "--step-size", "1"], tmp_path, expect=143)
    monkeypatch.undo()
    assert "1/3 batches into epoch 2" in capsys.readouterr().out
    partial = read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["partial"]
    assert partial["batches"] == 1 and partial["correct"] == 0 and partial["seen"] == 32
    run_cli(["--resume", str(tmp_path / "checkpoint.npz")])
    assert_same_run_state(tmp_path / "checkpoint.npz", references / "autoencoder" / "ref" / "checkpoint.npz")


def test_autoencoder_resume_after_an_epoch_is_the_uninterrupted_run(references, tmp_path, capsys):
    run_cli(DATA + ["--model", "autoencoder", "--epochs", "1", "--step-size", "1"], tmp_path)
    run_cli(["--resume", str(tmp_path / "checkpoint.npz"), "--epochs", "2"])
    assert "resumed from" in capsys.readouterr().out
    assert_same_run_state(tmp_path / "checkpoint.npz", references / "autoencoder" / "ref" / "checkpoint.npz")


def test_autoencoder_stops_on_a_non_finite_loss_and_saves_nothing(tmp_path, monkeypatch, capsys):
    calls = {"n": 0}
    original = train.F.mse_loss

    def mse_loss(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs) * (float("nan") if calls["n"] == 2 else 1.0)
    monkeypatch.setattr(train.F, "mse_loss", mse_loss)
    run_cli(DATA + ["--model", "autoencoder", "--epochs", "1"], tmp_path, expect=1)
    err = capsys.readouterr().err
    assert "the loss became nan at batch 2 of epoch 1" in err and "nothing finite was saved" in err
    assert not os.path.exists(tmp_path / "checkpoint.npz")


def test_autoencoder_with_bce_learns_the_pixels_in_0_1(tmp_path, capsys):
    """--loss bce: the target is the input's pixels (the dataset's Normalize undone), not the normalised input."""
    run_cli(DATA + ["--model", "autoencoder", "--loss", "bce", "--epochs", "1"], tmp_path)
    assert read_checkpoint(str(tmp_path / "checkpoint.npz"))[2]["args"]["loss"] == "bce"
    assert "(BCE-with-logits loss of the reconstruction)" in capsys.readouterr().out
    model = models.ConvAutoencoder(loss="bce")
    load_checkpoint(str(tmp_path / "checkpoint.npz"), model)
    x, _ = first_test_images(40)
    pixels = mt.tensor(load_dataset("bundled-digits", train=False).data[:40, None] / 255.0, dtype=mt.float32)
    with mt.no_grad():
        expected = float(F.binary_cross_entropy_with_logits(model.eval()(x), pixels).item())
    assert metrics(tmp_path)[0]["test_loss"] == pytest.approx(expected, rel=1e-5)


def test_the_loss_is_saved_by_name_kept_on_resume_and_refused_for_a_classifier(tmp_path, capsys):
    run_cli(DATA + ["--model", "autoencoder", "--epochs", "1"], tmp_path / "ae")
    checkpoint = str(tmp_path / "ae" / "checkpoint.npz")
    assert read_checkpoint(checkpoint)[2]["args"]["loss"] == "mse"          # the default, by name
    run_cli(["--resume", checkpoint, "--epochs", "3", "--loss", "bce"], expect=2)
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: --resume: --loss bce differs from the checkpoint's --loss mse; leave --loss out to continue the "
        "run as it was")
    run_cli(["--resume", checkpoint, "--epochs", "2"])
    assert "(MSE loss of the reconstruction)" in capsys.readouterr().out
    run_cli(DATA + ["--model", "lenet5", "--loss", "bce", "--epochs", "1"], tmp_path / "lenet", expect=2)
    assert capsys.readouterr().err.strip() == ("error: --loss bce: only --model autoencoder has a reconstruction "
                                               "loss to choose (--model lenet5 trains with cross-entropy)")
    assert not os.path.exists(tmp_path / "lenet")
    run_cli(DATA + ["--model", "lenet5", "--epochs", "1"], tmp_path / "lenet")
    assert read_checkpoint(str(tmp_path / "lenet" / "checkpoint.npz"))[2]["args"]["loss"] is None


# ---- the task's pieces ------------------------------------------------------------------------------
def test_the_bce_target_undoes_the_datasets_normalisation_through_subsets():
    dataset = Subset(load_dataset("bundled-digits", train=False), range(5))
    x = mt.tensor(np.stack([dataset[i][0] for i in range(5)]))
    bce = tasks.Reconstruction(types.SimpleNamespace(loss="bce", reconstruction_loss=None))
    target = bce.target(x, dataset).array
    assert target.dtype == np.float32 and target.min() >= 0 and target.max() <= 1
    np.testing.assert_allclose(target[:, 0], dataset.dataset.data[:5] / 255.0, atol=1e-6)
    raw = load_dataset("bundled-digits", train=False, normalize=False)      # no Normalize: clipped as it is
    assert tasks.normalization(raw) is None and tasks.normalization(dataset) is not None
    mse = tasks.Reconstruction(types.SimpleNamespace(loss="mse", reconstruction_loss=None))
    assert mse.target(x, dataset) is x                              # mse: the input as the model sees it


def test_reading_a_reconstruction_step_counts_no_correct_predictions():
    position = train._epoch_start()
    reader = train.StepReader(position, train.Progress(2, "t", stream=None), 2, counts_correct=False)
    image = mt.tensor(np.ones((4, 1, 2, 2), dtype=np.float32))
    reader.add(mt.tensor(np.float32(0.5)), image, image)
    reader.read()
    assert position == {"batches": 1, "loss_sum": 2.0, "correct": 0, "seen": 4, "seconds": 0.0}


def test_plot_writes_test_images_beside_their_reconstructions(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from minitorch_cnn import plots
    run_cli(DATA + ["--model", "autoencoder", "--epochs", "1", "--plot"], tmp_path)
    assert f"{tmp_path / 'reconstructions.png'}" in capsys.readouterr().out
    for name in ("curves.png", "filters.png", "feature_maps.png", "reconstructions.png"):
        with open(tmp_path / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", name
    assert len(plots._curves_figure(metrics(tmp_path), "t").axes) == 1       # the loss alone, no accuracy
    model = models.ConvAutoencoder()
    load_checkpoint(str(tmp_path / "checkpoint.npz"), model)
    test_set = Subset(load_dataset("bundled-digits", train=False), range(40))
    shown, reconstructed = tasks.Reconstruction(model).pictures(test_set)
    x, _ = first_test_images(8)
    with mt.no_grad():
        np.testing.assert_allclose(reconstructed, model.eval()(x).array, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(shown, x.array)
    assert model.training is False      # pictures() restored the flags it found


def test_resnet_plot_draws_every_conv_including_the_shortcuts(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run_cli(DATA + ["--model", "resnet", "--epochs", "1", "--limit-train", "32", "--plot"], tmp_path)
    out = capsys.readouterr().out
    assert "feature_maps.png" in out and "reconstructions.png" not in out and "final test accuracy" in out


def test_python_m_trains_the_autoencoder(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "minitorch_cnn.train", *DATA, "--model", "autoencoder",
                           "--epochs", "1", "--out", str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "model: autoencoder" in done.stdout and "final test loss" in done.stdout
    assert metrics(tmp_path)[0]["test_acc"] is None


def test_help_names_both_models():
    from minitorch_cnn.train.options import parse_args
    with pytest.raises(train.UsageError, match="resnet, autoencoder"):
        parse_args(["--model", "vgg"])


# ---- both models under --distributed ----------------------------------------------------------------
def _mpiexec():
    import shutil
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return shutil.which("mpiexec") or (beside_python if os.path.exists(beside_python) else None)


def _mpi_missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed"
    return None if _mpiexec() else "no mpiexec on PATH or beside the Python executable"


@pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))
@pytest.mark.parametrize("name", ["resnet", "autoencoder"])
def test_distributed_two_ranks_train_and_resume(name, tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def mpirun(*args):
        return subprocess.run([_mpiexec(), "-n", "2", sys.executable, "-m", "minitorch_cnn.train", *args],
                              cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=180)
    done = mpirun(*DATA, "--model", name, "--distributed", "--epochs", "1", "--out", "run")
    assert done.returncode == 0, done.stdout + done.stderr
    final = "final test accuracy" if name == "resnet" else "final test loss"
    assert done.stdout.count(final) == 1 and "per rank x 2 ranks" in done.stdout and "Traceback" not in done.stderr
    resumed = mpirun("--distributed", "--resume", str(tmp_path / "run" / "checkpoint.npz"), "--epochs", "2")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    history = metrics(tmp_path / "run")
    assert [r["epoch"] for r in history] == [1, 2] and all(set(r) == RECORD_KEYS for r in history)
    assert all(r["images_per_s"] == pytest.approx(96 / r["seconds"], rel=1e-9) for r in history)   # both ranks
    for record in history:
        if name == "resnet":
            assert 0 <= record["train_acc"] <= 1 and 0 <= record["test_acc"] <= 1
        else:
            assert record["train_acc"] is None and record["test_acc"] is None


def first_test_images(n):
    """The first n bundled test digits, normalised as the CLI reads them: (x, y) Tensors."""
    test_set = load_dataset("bundled-digits", train=False)
    return (mt.tensor(np.stack([test_set[i][0] for i in range(n)])),
            mt.tensor(np.asarray([test_set[i][1] for i in range(n)], dtype=np.int64)))
