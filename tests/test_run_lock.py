"""One writer per run folder (minitorch_cnn/train/lock.py): a run holds `<out>/.lock` for its
whole life; a second run into the folder, or a --resume of a live run, is refused with one line
naming the folder and the holder's PID; the default runs/<model> choice takes the lock as it
chooses, so runs started together get different folders; the lock goes when the run ends,
normally or by kill -9.

A run is held mid-run deterministically: either the test process takes the lock itself with the
CLI's own function, or a subprocess runs the real CLI with its data preparation blocked on stdin
(it prints `held` first: the test reads that line, so nothing races a timer)."""
import os
import signal
import subprocess
import sys

import pytest

from minitorch_cnn import train
from minitorch_cnn.train import lock as run_lock

pytestmark = pytest.mark.skipif(run_lock.fcntl is None, reason="the run-folder lock is POSIX-only (fcntl)")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--model", "lenet5", "--dataset", "bundled-digits", "--limit-train", "64", "--limit-test", "50",
        "--batch-size", "64", "--epochs", "1"]

# The real CLI, its data preparation held until a line arrives on stdin.
HELD = """
import sys
from minitorch_cnn.train import cli, runner
real = runner.prepare_data
def held(args):
    print("held", flush=True)
    sys.stdin.readline()
    return real(args)
runner.prepare_data = held
sys.exit(cli.main(sys.argv[1:]))
"""


def start_held(args, cwd):
    """A CLI run in a subprocess that has taken its folder's lock and waits; -> the Popen."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", HELD] + list(args), cwd=cwd, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline()
    if line.strip() != "held":
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the held run did not start: {line}{out}{err}")
    return proc


def finish(proc):
    out, err = proc.communicate("\n", timeout=60)
    return proc.returncode, out, err


def refused(argv, capsys, folder, pid):
    assert train.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ") and str(folder) in err[0] and f"PID {pid}" in err[0], err[0]
    return err[0]


def listing(folder):
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_a_second_run_into_a_held_folder_is_refused_and_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "run"
    held = run_lock.try_lock(str(folder))           # the CLI's own function, from this process
    try:
        assert (folder / ".lock").read_text() == f"{os.getpid()}\n"
        before = listing(folder)
        line = refused(TINY + ["--out", str(folder)], capsys, folder, os.getpid())
        assert "--out" in line and "still running" in line
        refused(TINY + ["--out", str(folder), "--overwrite"], capsys, folder, os.getpid())
        assert listing(folder) == before
    finally:
        held.release()
    assert not folder.exists()                      # it made the folder, and it held nothing else


def test_resume_of_a_live_run_is_refused_naming_its_pid(tmp_path, capsys):
    folder = tmp_path / "run"
    assert train.main(TINY + ["--out", str(folder)]) == 0
    capsys.readouterr()
    checkpoint = folder / "checkpoint.npz"
    assert sorted(os.listdir(folder)) == ["checkpoint.npz", "metrics.json"]     # a finished run leaves no lock
    proc = start_held(["--resume", str(checkpoint), "--epochs", "2"], tmp_path)
    try:
        assert (folder / ".lock").read_text() == f"{proc.pid}\n"
        before = listing(folder)
        line = refused(["--resume", str(checkpoint), "--epochs", "2"], capsys, folder, proc.pid)
        assert line.startswith("error: --resume")
        refused(TINY + ["--out", str(folder), "--overwrite"], capsys, folder, proc.pid)
        assert listing(folder) == before
    finally:
        rc, out, err = finish(proc)
    assert rc == 0, out + err
    assert "epoch 2/2" in out
    assert sorted(os.listdir(folder)) == ["checkpoint.npz", "metrics.json"]     # released: .lock removed
    assert train.main(["--resume", str(checkpoint), "--epochs", "3"]) == 0     # the folder is free again


def test_the_default_folder_skips_one_a_live_run_holds(tmp_path, monkeypatch, capsys):
    """Run A has taken runs/lenet5 but not yet written a checkpoint; run B, started meanwhile,
    goes to runs/lenet5-2; both finish, each with its own checkpoint."""
    monkeypatch.chdir(tmp_path)
    proc = start_held(TINY + ["--seed", "1"], tmp_path)
    try:
        assert (tmp_path / "runs" / "lenet5" / ".lock").read_text() == f"{proc.pid}\n"
        assert train.main(TINY + ["--seed", "2"]) == 0
        assert f"output: {os.path.join('runs', 'lenet5-2')}" in capsys.readouterr().out
    finally:
        rc, out, err = finish(proc)
    assert rc == 0, out + err
    assert f"output: {os.path.join('runs', 'lenet5')}\n" in out
    assert sorted(os.listdir(tmp_path / "runs")) == ["lenet5", "lenet5-2"]
    for name in ("lenet5", "lenet5-2"):
        assert sorted(os.listdir(tmp_path / "runs" / name)) == ["checkpoint.npz", "metrics.json"]


def test_two_runs_started_together_get_two_folders(tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-m", "minitorch_cnn.train"] + TINY + ["--seed", str(seed)],
                              cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for seed in (1, 2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    said = sorted(line for out, _ in outputs for line in out.splitlines() if line.startswith("output: "))
    assert said == [f"output: {os.path.join('runs', 'lenet5')}", f"output: {os.path.join('runs', 'lenet5-2')}"]
    for name in ("lenet5", "lenet5-2"):
        assert sorted(os.listdir(tmp_path / "runs" / name)) == ["checkpoint.npz", "metrics.json"]


def test_the_lock_goes_with_a_killed_run(tmp_path, capsys):
    folder = tmp_path / "run"
    proc = start_held(TINY + ["--out", str(folder)], tmp_path)
    assert (folder / ".lock").read_text() == f"{proc.pid}\n"
    refused(TINY + ["--out", str(folder)], capsys, folder, proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (folder / ".lock").exists()              # left behind, but no longer held by anyone
    assert train.main(TINY + ["--out", str(folder)]) == 0
    assert "output: " in capsys.readouterr().out
    assert sorted(os.listdir(folder)) == ["checkpoint.npz", "metrics.json"]


def test_a_released_lock_can_be_taken_again_and_holds_the_new_pid(tmp_path):
    folder = tmp_path / "run"
    first = run_lock.try_lock(str(folder))
    with pytest.raises(run_lock.FolderBusy) as busy:
        run_lock.try_lock(str(folder))
    assert busy.value.pid == os.getpid() and busy.value.folder == str(folder)
    first.release()
    second = run_lock.try_lock(str(folder))
    try:
        assert (folder / ".lock").read_text() == f"{os.getpid()}\n"
    finally:
        second.release()


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert train.main(TINY + ["--out", str(tmp_path / "file" / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out") and "cannot create the folder" in err[0]
