"""The training CLI with --distributed, end to end on 2 ranks under a real `mpiexec -n 2`.

Each run is a subprocess (mpiexec cannot start ranks inside pytest's process) on the bundled
digits, a few batches per rank, one BLAS thread per rank.  Skipped with a reason where mpi4py or
mpiexec is missing.  The in-process tests at the end need neither: the error without mpi4py and
the warning for a run under mpiexec without --distributed (its environment simulated).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from minitorch_cnn import train
from minitorch_cnn.checkpoint import read_checkpoint
from minitorch_cnn.models import get_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 256 samples, 64 per rank per batch: 2 batches per rank per epoch
TINY = ["--model", "lenet5", "--dataset", "bundled-digits", "--limit-train", "256", "--limit-test", "100",
        "--batch-size", "64", "--seed", "1"]
TIMEOUT_S = 180


def _mpiexec():
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return shutil.which("mpiexec") or (beside_python if os.path.exists(beside_python) else None)


def _mpi_missing():
    try:
        import mpi4py  # noqa: F401  (only whether it imports)
    except ImportError:
        return 'mpi4py is not installed (pip install ".[distributed]")'
    if _mpiexec() is None:
        return "no mpiexec on PATH or beside the Python executable"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def mpirun(args, cwd, ranks=2, script=None):
    """`mpiexec -n ranks python -m minitorch_cnn.train args` (or `python -c script args`) in cwd."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    program = ["-c", script] if script else ["-m", "minitorch_cnn.train"]
    return subprocess.run([_mpiexec(), "-n", str(ranks), sys.executable, *program, *args], cwd=str(cwd),
                          env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def history(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def two_rank_run(tmp_path_factory):
    """One epoch on 2 ranks with the default output folder (runs/lenet5 under the run's cwd)."""
    cwd = tmp_path_factory.mktemp("distributed")
    done = mpirun(TINY + ["--distributed", "--epochs", "1"], cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return cwd, done


@needs_mpi
def test_only_rank_0_prints(two_rank_run):
    _, done = two_rank_run
    out = done.stdout
    for line in ("data: ", "model: lenet5", "output: ", "epoch 1/1 ", "final test accuracy"):
        assert out.count(line) == 1, f"{line!r} printed {out.count(line)} times:\n{out}"
    assert "batch 64 per rank x 2 ranks" in out
    assert "Traceback" not in done.stderr and "rank 1" not in done.stderr


@needs_mpi
def test_ranks_agree_on_one_output_folder_and_only_rank_0_writes(two_rank_run):
    cwd, _ = two_rank_run
    assert sorted(os.listdir(cwd / "runs")) == ["lenet5"]          # not lenet5 and lenet5-2
    assert sorted(os.listdir(cwd / "runs" / "lenet5")) == ["checkpoint.npz", "metrics.json"]


@needs_mpi
def test_metrics_count_all_ranks_images(two_rank_run):
    cwd, _ = two_rank_run
    (record,) = history(cwd / "runs" / "lenet5")
    assert record["epoch"] == 1
    # both ranks' 128 images each: the images/s and accuracy are over the 256, not rank 0's 128
    assert record["images_per_s"] == pytest.approx(256 / record["seconds"], rel=1e-9)
    assert (record["train_acc"] * 256) == pytest.approx(round(record["train_acc"] * 256))
    assert (record["test_acc"] * 100) == pytest.approx(round(record["test_acc"] * 100))
    assert np.isfinite(record["train_loss"]) and np.isfinite(record["test_loss"])


@needs_mpi
def test_checkpoint_holds_the_plain_module(two_rank_run):
    cwd, _ = two_rank_run
    weights, optimizer_state, meta = read_checkpoint(str(cwd / "runs" / "lenet5" / "checkpoint.npz"))
    assert list(weights) == list(get_model("lenet5").state_dict())     # no "module." prefix
    assert meta["epoch"] == 1 and meta["args"]["batch_size"] == 64 and optimizer_state


@needs_mpi
def test_resume_continues_on_two_ranks(two_rank_run, tmp_path):
    cwd, _ = two_rank_run
    shutil.copytree(cwd / "runs" / "lenet5", tmp_path / "run")
    done = mpirun(["--distributed", "--resume", str(tmp_path / "run" / "checkpoint.npz"), "--epochs", "2"],
                  tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("resumed from") == 1 and "epoch 2/2 " in done.stdout
    assert "epoch 1/2 " not in done.stdout
    records = history(tmp_path / "run")
    assert [r["epoch"] for r in records] == [1, 2]
    assert records[0] == history(cwd / "runs" / "lenet5")[0]
    assert read_checkpoint(str(tmp_path / "run" / "checkpoint.npz"))[2]["epoch"] == 2
    assert sorted(os.listdir(tmp_path)) == ["run"]      # no runs/ folder: the checkpoint's folder is used


# A rank's loss turns NaN, or a rank gets Ctrl-C, on that rank alone: the others must not wait forever
# in the gradients' all-reduce (the test's timeout would fail it).
_ON_RANK_1 = """
import os, signal, sys
from minitorch_cnn import train
rank = int(os.environ.get("PMI_RANK", "0"))
calls = {"n": 0}
WHAT = %r
if WHAT == "nan":
    original = train.F.cross_entropy
    def cross_entropy(logits, target, reduction="mean"):
        loss = original(logits, target, reduction=reduction)
        if reduction == "mean" and rank == 1:
            calls["n"] += 1
            if calls["n"] == 2:
                return loss * float("nan")
        return loss
    train.F.cross_entropy = cross_entropy
elif WHAT == "crash":
    original = train.optim.Adam.step
    def step(self):
        calls["n"] += 1
        if calls["n"] == 2 and rank == 1:
            raise RuntimeError("rank 1 crashed")
        return original(self)
    train.optim.Adam.step = step
else:
    original = train.Progress.update
    def update(self, done, loss=None):
        original(self, done, loss)
        if loss is not None and rank == 1:
            calls["n"] += 1
            if calls["n"] == 1:
                signal.raise_signal(signal.SIGINT)
    train.Progress.update = update
sys.exit(train.main(sys.argv[1:]))
"""


@needs_mpi
def test_a_nan_loss_on_one_rank_stops_both(tmp_path):
    done = mpirun(TINY + ["--distributed", "--epochs", "1", "--out", str(tmp_path / "run")], tmp_path,
                  script=_ON_RANK_1 % "nan")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error: the loss became non-finite on another rank at batch 2 of epoch 1; training stopped" \
        in done.stderr
    assert done.stderr.count("error:") == 1
    assert not os.path.exists(tmp_path / "run" / "checkpoint.npz")


@needs_mpi
def test_ctrl_c_on_one_rank_stops_both_and_saves_once(tmp_path):
    done = mpirun(TINY + ["--distributed", "--epochs", "1", "--out", str(tmp_path / "run")], tmp_path,
                  script=_ON_RANK_1 % "ctrl-c")
    assert done.returncode == 130, done.stdout + done.stderr
    assert done.stdout.count("saved ") == 1
    meta = read_checkpoint(str(tmp_path / "run" / "checkpoint.npz"))[2]
    # rank 1 asked during batch 1, so both stopped before batch 2: 1 batch of 64 on each rank counted
    assert meta["epoch"] == 0 and meta["partial"]["batches"] == 1 and meta["partial"]["seen"] == 128
    resumed = mpirun(["--distributed", "--resume", str(tmp_path / "run" / "checkpoint.npz")], tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    (record,) = history(tmp_path / "run")
    assert record["images_per_s"] == pytest.approx(256 / record["seconds"], rel=1e-9)


@needs_mpi
def test_a_crash_on_one_rank_ends_all_ranks(tmp_path):
    done = mpirun(TINY + ["--distributed", "--epochs", "1", "--out", str(tmp_path / "run")], tmp_path,
                  script=_ON_RANK_1 % "crash")
    assert done.returncode != 0
    assert "rank 1: Traceback" in done.stderr and "RuntimeError: rank 1 crashed; ending all 2 ranks" in done.stderr


# ---- in one process: no MPI needed ---------------------------------------------------------------
def test_distributed_without_mpi4py_exits_2_with_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mpi4py", None)      # `from mpi4py import MPI` raises ImportError
    rc = train.main(TINY + ["--distributed", "--out", str(tmp_path / "run")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err == 'error: --distributed needs mpi4py and an MPI library: pip install ".[distributed]"\n'
    assert not os.path.exists(tmp_path / "run")


def _clear_launcher_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("PMI_", "PMIX_", "OMPI_", "MV2_", "MPI_LOCAL")):
            monkeypatch.delenv(name)


def test_mpiexec_without_distributed_warns_on_rank_0(tmp_path, monkeypatch, capsys):
    _clear_launcher_env(monkeypatch)
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", "0")
    assert train.main(TINY + ["--epochs", "1", "--limit-train", "64", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert (f"warning: launched by mpiexec with 2 processes but without --distributed: every rank trains "
            f"alone on all the data and they all write to {tmp_path / 'run'}") in err
    assert os.path.exists(tmp_path / "run" / "checkpoint.npz")      # a warning, not a refusal


def test_mpiexec_without_distributed_is_quiet_on_other_ranks_and_alone(tmp_path, monkeypatch, capsys):
    _clear_launcher_env(monkeypatch)
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setenv("PMI_RANK", "1")
    assert train.main(TINY + ["--epochs", "1", "--limit-train", "64", "--out", str(tmp_path / "a")]) == 0
    monkeypatch.setenv("PMI_SIZE", "1")       # mpiexec -n 1: one rank is a normal run
    monkeypatch.setenv("PMI_RANK", "0")
    assert train.main(TINY + ["--epochs", "1", "--limit-train", "64", "--out", str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_help_lists_distributed(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    assert "--distributed" in capsys.readouterr().out
