"""A run's outputs never lag its checkpoint, a resumed run follows its data, the data folder is read
with bounded memory, and --distributed runs stopped by SIGTERM/SIGHUP exit as single processes do.

- metrics.json and the plots: written from the history the checkpoint holds; --resume writes them
  again from it (a kill between the checkpoint and metrics.json heals); a failure to write them
  after a good checkpoint is one `error:` line saying the checkpoint is safe, exit 2.
- --resume --data-dir NEW: the checkpoint holds a fingerprint of the data (train/fingerprint.py);
  the same data elsewhere (moved, gzipped or not) is accepted, other data refused naming the file,
  and a checkpoint's data folder that is gone is said to be gone, suggesting --data-dir NEW.
- read_idx: a gzip bomb in the data folder is refused after a few MiB (tracemalloc), not gigabytes.
- mpiexec -n 2 ... --distributed: SIGTERM / SIGHUP on one or every rank save and exit 128 + N.

Runs are tiny (the bundled digits or a fake MNIST of 128 images, 2 batches per epoch): in-process
through train.main where that suffices, a subprocess where a kill or "no traceback" is the point.
"""
import errno
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from minitorch_cnn import train
from minitorch_cnn.checkpoint import read_checkpoint
from minitorch_cnn.data import MNIST, FashionMNIST, read_idx, write_idx
from minitorch_cnn.train import fingerprint, outputs

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--model", "lenet5", "--dataset", "bundled-digits", "--limit-train", "128", "--limit-test", "50",
        "--batch-size", "64", "--seed", "1"]
MB = 1 << 20
TIMEOUT_S = 60


def main(argv, capsys):
    """train.main(argv) -> (exit status, stdout, stderr)."""
    status = train.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def error_lines(err):
    return [line for line in err.splitlines() if line.startswith("error:")]


def one_error(err):
    """The one `error:` line of `err` (and no traceback)."""
    assert "Traceback" not in err, err
    lines = error_lines(err)
    assert len(lines) == 1, err
    return lines[0]


def history(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        return json.load(f)


def meta_of(path):
    return read_checkpoint(str(path))[2]


def subprocess_env():
    return dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


def python(args, cwd, script=None):
    program = ["-c", script] if script else ["-m", "minitorch_cnn.train"]
    return subprocess.run([sys.executable, *program, *map(str, args)], cwd=str(cwd), env=subprocess_env(),
                          capture_output=True, text=True, timeout=TIMEOUT_S)


def rewrite_meta(path, change):
    """Rewrite the checkpoint at `path` with change(meta) applied to its meta (a test's tampering)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.fixture(scope="module")
def two_epochs(tmp_path_factory):
    """A 2-epoch run on the bundled digits: its folder."""
    folder = tmp_path_factory.mktemp("two") / "run"
    assert train.main(TINY + ["--epochs", "2", "--out", str(folder)]) == 0
    return folder


# ---- metrics.json and the plots never lag the checkpoint ----------------------------------------
# The CLI killed (SIGKILL) right after its checkpoint of epoch 2 is written, before metrics.json.
_KILLED_AFTER_CHECKPOINT = r"""
import os, signal, sys
from minitorch_cnn import train
original = train.checkpointing.save_checkpoint
calls = {"n": 0}
def save_checkpoint(*args, **kwargs):
    result = original(*args, **kwargs)
    calls["n"] += 1
    if calls["n"] == int(os.environ["TEST_KILL_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return result
train.checkpointing.save_checkpoint = save_checkpoint
sys.exit(train.main(sys.argv[1:]))
"""


def test_a_kill_between_checkpoint_and_metrics_is_healed_by_resume(tmp_path, capsys):
    killed = subprocess.run([sys.executable, "-c", _KILLED_AFTER_CHECKPOINT, *TINY, "--epochs", "2",
                             "--out", str(tmp_path / "run")], cwd=str(tmp_path), capture_output=True, text=True,
                            env=dict(subprocess_env(), TEST_KILL_AFTER="2"), timeout=TIMEOUT_S)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    saved = meta_of(checkpoint)
    assert saved["epoch"] == 2 and [r["epoch"] for r in history(tmp_path / "run")] == [1]    # one epoch behind
    status, out, err = main(["--resume", checkpoint], capsys)       # nothing left to train: heal, report
    assert status == 0, err
    assert history(tmp_path / "run") == saved["history"]
    assert f"note: {tmp_path / 'run' / 'metrics.json'} was behind the checkpoint (1 of its 2 epochs); " \
           f"written again from the checkpoint's history (2 epochs)" in err
    assert "final test accuracy" in out


def test_resume_writes_a_missing_metrics_json_and_says_nothing_when_it_matches(two_epochs, tmp_path, capsys):
    shutil.copytree(two_epochs, tmp_path / "run")
    os.remove(tmp_path / "run" / "metrics.json")
    status, _, err = main(["--resume", tmp_path / "run" / "checkpoint.npz"], capsys)
    assert status == 0 and "metrics.json was missing; written again" in err
    assert history(tmp_path / "run") == meta_of(tmp_path / "run" / "checkpoint.npz")["history"]
    status, _, err = main(["--resume", tmp_path / "run" / "checkpoint.npz"], capsys)
    assert status == 0 and "note:" not in err


def test_a_full_disk_for_metrics_json_after_a_good_checkpoint_is_one_line(tmp_path, capsys, monkeypatch):
    def full_disk(path, write):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(outputs, "atomic_write", full_disk)
    status, _, err = main(TINY + ["--epochs", "2", "--out", tmp_path / "run"], capsys)
    assert status == 2
    line = one_error(err)
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    assert line == (f"error: could not write {tmp_path / 'run' / 'metrics.json'} (No space left on device); the "
                    f"checkpoint {checkpoint} is safe (1 of 2 epochs saved): once it can be written (a full disk: make "
                    f"room), --resume {checkpoint} writes it again from the checkpoint and goes on")
    assert meta_of(checkpoint)["epoch"] == 1            # the good checkpoint, and the run stopped there
    assert not (tmp_path / "run" / "metrics.json").exists()
    monkeypatch.undo()          # room again: --resume writes metrics.json and trains epoch 2
    status, _, err = main(["--resume", checkpoint], capsys)
    assert status == 0 and "metrics.json was missing" in err
    assert [r["epoch"] for r in history(tmp_path / "run")] == [1, 2]


def test_a_metrics_path_that_cannot_be_written_is_one_line_without_traceback(tmp_path):
    (tmp_path / "run" / "metrics.json").mkdir(parents=True)      # a real failure: os.replace onto a folder
    done = python(TINY + ["--epochs", "1", "--out", tmp_path / "run"], tmp_path)
    assert done.returncode == 2, done.stderr
    line = one_error(done.stderr)
    assert "could not write" in line and "metrics.json" in line and "is safe (1 of 1 epochs saved)" in line
    assert meta_of(tmp_path / "run" / "checkpoint.npz")["epoch"] == 1
    # and --resume, with metrics.json still a folder: one line, the checkpoint untouched
    before = (tmp_path / "run" / "checkpoint.npz").read_bytes()
    done = python(["--resume", tmp_path / "run" / "checkpoint.npz"], tmp_path)
    assert done.returncode == 2
    line = one_error(done.stderr)
    assert "from the checkpoint" in line and "which is safe and unchanged" in line
    assert (tmp_path / "run" / "checkpoint.npz").read_bytes() == before


def test_a_full_disk_for_the_plots_after_a_good_checkpoint_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from minitorch_cnn import plots

    def full_disk(path, write):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(plots, "atomic_write", full_disk)
    status, _, err = main(TINY + ["--epochs", "1", "--limit-train", "64", "--plot", "--out", tmp_path / "run"],
                          capsys)
    assert status == 2
    line = one_error(err)
    assert line.startswith(f"error: could not write the plots (--plot) in {tmp_path / 'run'} (No space left on "
                           f"device); the checkpoint {tmp_path / 'run' / 'checkpoint.npz'} is safe")
    assert [r["epoch"] for r in history(tmp_path / "run")] == [1]        # metrics.json was written first


def test_resume_with_plot_writes_the_plots_before_training(two_epochs, tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    shutil.copytree(two_epochs, tmp_path / "run")       # trained without --plot: no plots yet
    original = train.F.cross_entropy

    def nan_loss(logits, target, reduction="mean"):     # epoch 3 stops at its first batch
        loss = original(logits, target, reduction=reduction)
        return loss * float("nan") if reduction == "mean" else loss
    monkeypatch.setattr(train.F, "cross_entropy", nan_loss)
    status, _, err = main(["--resume", tmp_path / "run" / "checkpoint.npz", "--epochs", "3", "--plot"], capsys)
    assert status == 1 and "the loss became nan at batch 1 of epoch 3" in err
    assert {"curves.png", "filters.png", "feature_maps.png"} <= set(os.listdir(tmp_path / "run"))


def test_resuming_after_the_heal_is_the_uninterrupted_run(two_epochs, tmp_path, capsys):
    """Writing metrics.json (and the plots) on --resume changes nothing of the run's numbers."""
    assert train.main(TINY + ["--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    os.remove(tmp_path / "run" / "metrics.json")
    status, _, _ = main(["--resume", tmp_path / "run" / "checkpoint.npz", "--epochs", "2"], capsys)
    assert status == 0
    a = read_checkpoint(str(tmp_path / "run" / "checkpoint.npz"))
    b = read_checkpoint(str(two_epochs / "checkpoint.npz"))
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key], err_msg=key)
    assert a[2]["rng_state"] == b[2]["rng_state"]


# ---- a run follows its data ------------------------------------------------------------------------
def fake_mnist(folder, gz=True, seed=0, n_train=128, n_test=50):
    """MNIST's four IDX files in `folder`: random digits (labels 0-9)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", (np.arange(n) % 10).astype(np.uint8))
    return folder


MNIST_RUN = ["--model", "lenet5", "--dataset", "mnist", "--batch-size", "64", "--seed", "1"]


@pytest.fixture
def offline(monkeypatch):
    for cls in (MNIST, FashionMNIST):
        monkeypatch.setattr(cls, "mirrors", ("http://127.0.0.1:9/",))
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())


@pytest.fixture
def mnist_run(tmp_path, offline):
    """One epoch on a fake MNIST in tmp_path/data: (the checkpoint, the data folder)."""
    data = fake_mnist(tmp_path / "data")
    assert train.main(MNIST_RUN + ["--data-dir", str(data), "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    return tmp_path / "run" / "checkpoint.npz", data


def test_the_checkpoint_holds_the_data_fingerprint(mnist_run):
    checkpoint, data = mnist_run
    saved = meta_of(checkpoint)["data_fingerprint"]
    fingerprint.validate(saved, checkpoint)
    assert saved["data"] == "mnist" and saved["folder"] == str(data)
    assert [p["role"] for p in saved["parts"]] == list(fingerprint.ROLES)
    assert saved["parts"][0]["file"] == str(data / "train-images-idx3-ubyte.gz")
    assert saved["parts"][0]["shape"] == [128, 28, 28] and saved["parts"][3]["shape"] == [50]


def test_moved_data_is_named_gone_and_followed_with_data_dir(mnist_run, tmp_path, capsys):
    checkpoint, data = mnist_run
    before = checkpoint.read_bytes()
    os.rename(data, tmp_path / "moved")
    status, _, err = main(["--resume", checkpoint, "--epochs", "2"], capsys)
    assert status == 2
    line = one_error(err)
    assert line == (f"error: --resume: the checkpoint's data folder {data} (meta.args.data_dir) does not exist or "
                    f"is not a folder: if the data moved, pass --data-dir NEW (it is accepted when its files hold "
                    f"the same data)")
    assert checkpoint.read_bytes() == before
    status, out, err = main(["--resume", checkpoint, "--epochs", "2", "--data-dir", tmp_path / "moved"], capsys)
    assert status == 0, err
    assert "epoch 2/2" in out
    meta = meta_of(checkpoint)
    assert meta["epoch"] == 2 and meta["args"]["data_dir"] == str(tmp_path / "moved")     # it follows its data
    assert meta["data_fingerprint"]["parts"][0]["file"] == str(tmp_path / "moved" / "train-images-idx3-ubyte.gz")


def test_the_same_data_moved_and_unpacked_resumes_as_the_uninterrupted_run(mnist_run, tmp_path, capsys):
    checkpoint, data = mnist_run
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    for name in os.listdir(data):         # the same values, no longer gzipped
        (unpacked / name[:-3]).write_bytes(gzip.decompress((data / name).read_bytes()))
    status, _, err = main(["--resume", checkpoint, "--epochs", "2", "--data-dir", unpacked], capsys)
    assert status == 0, err
    assert train.main(MNIST_RUN + ["--data-dir", str(data), "--epochs", "2", "--out", str(tmp_path / "straight")]) == 0
    a, b = read_checkpoint(str(checkpoint)), read_checkpoint(str(tmp_path / "straight" / "checkpoint.npz"))
    for key in a[0]:
        np.testing.assert_array_equal(a[0][key], b[0][key], err_msg=key)


def test_other_data_is_refused_naming_the_file_that_differs(mnist_run, tmp_path, capsys):
    checkpoint, data = mnist_run
    before = checkpoint.read_bytes()
    other = tmp_path / "other"
    shutil.copytree(data, other)
    write_idx(other / "t10k-labels-idx1-ubyte.gz", ((np.arange(50) + 1) % 10).astype(np.uint8))   # other labels
    status, _, err = main(["--resume", checkpoint, "--epochs", "2", "--data-dir", other], capsys)
    assert status == 2
    line = one_error(err)
    assert line.startswith(f"error: --resume: --data-dir {other}: {other / 't10k-labels-idx1-ubyte.gz'} (test labels: "
                           f"50 labels int64, sha256 ")
    assert f"is not the data the run trained on, {data / 't10k-labels-idx1-ubyte.gz'} (50 labels int64" in line
    assert line.endswith("; pass the --data-dir that holds the run's data, or leave --data-dir out")
    assert checkpoint.read_bytes() == before
    # more images: named by their counts
    fake_mnist(other, n_train=192)
    status, _, err = main(["--resume", checkpoint, "--epochs", "2", "--data-dir", other], capsys)
    line = one_error(err)
    assert status == 2 and "(train images: 192 images of 28x28 uint8" in line and "(128 images of 28x28 uint8" in line
    assert "(and 2 more of the run's 4 parts differ)" in line     # its labels, and the test images drawn after


def test_data_changed_in_place_is_refused_too(mnist_run, capsys):
    checkpoint, data = mnist_run
    fake_mnist(data, seed=1)
    status, _, err = main(["--resume", checkpoint, "--epochs", "2"], capsys)
    assert status == 2
    line = one_error(err)
    assert f"--resume: the checkpoint's data folder {data} (meta.args.data_dir): " in line
    assert line.endswith("pass --data-dir with the folder that holds the run's data")


def test_the_default_data_folder_seen_from_elsewhere_is_named_with_where_the_run_read_it(tmp_path, capsys,
                                                                                         offline, monkeypatch):
    fake_mnist(tmp_path / "a" / "data")
    monkeypatch.chdir(tmp_path / "a")       # --dataset auto, no --data-dir: MNIST from ./data
    run = ["--limit-train", "128", "--limit-test", "50", "--batch-size", "64"]
    status, out, _ = main(run + ["--epochs", "1", "--out", tmp_path / "run"], capsys)
    assert status == 0 and "data: MNIST from" in out
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "b")       # resumed from another folder: no ./data here
    status, _, err = main(["--resume", tmp_path / "run" / "checkpoint.npz", "--epochs", "2"], capsys)
    assert status == 2
    assert one_error(err) == (f"error: --resume: the default data folder ./data (the run read it as "
                              f"{tmp_path / 'a' / 'data'}) does not exist or is not a folder: if the data moved, "
                              f"pass --data-dir NEW (it is accepted when its files hold the same data)")
    status, _, err = main(["--resume", tmp_path / "run" / "checkpoint.npz", "--epochs", "2",
                           "--data-dir", tmp_path / "a" / "data"], capsys)
    assert status == 0, err


def test_auto_choosing_other_data_on_resume_is_refused(tmp_path, capsys, offline):
    """--dataset auto chose the bundled digits (no MNIST in the folder); MNIST there later is other data."""
    (tmp_path / "data").mkdir()
    run = ["--limit-train", "128", "--limit-test", "50", "--batch-size", "64", "--data-dir", tmp_path / "data"]
    status, _, _ = main(run + ["--epochs", "1", "--out", tmp_path / "run"], capsys)
    assert status == 0
    fake_mnist(tmp_path / "data")
    status, _, err = main(["--resume", tmp_path / "run" / "checkpoint.npz", "--epochs", "2"], capsys)
    assert status == 2
    line = one_error(err)
    assert f"gives MNIST ({tmp_path / 'data' / 'train-images-idx3-ubyte.gz'}), not the bundled digits the run " \
           f"trained on" in line


def test_a_checkpoint_without_a_fingerprint_keeps_its_data_dir(mnist_run, tmp_path, capsys):
    checkpoint, data = mnist_run
    rewrite_meta(checkpoint, lambda meta: meta.pop("data_fingerprint"))
    shutil.copytree(data, tmp_path / "copy")
    status, _, err = main(["--resume", checkpoint, "--epochs", "2", "--data-dir", tmp_path / "copy"], capsys)
    assert status == 2 and "differs from the checkpoint's --data-dir" in one_error(err)
    shutil.rmtree(data)
    status, _, err = main(["--resume", checkpoint, "--epochs", "2"], capsys)
    assert status == 2
    assert "this checkpoint carries no fingerprint of its data, so only the same folder can be used" in one_error(err)


@pytest.mark.parametrize("field, change, message", [
    ("", lambda fp: fp.clear(), "has keys [], expected"),
    (".version", lambda fp: fp.update(version=2), "is 2, expected 1"),
    (".parts", lambda fp: fp["parts"].pop(), "is not the list of the four parts"),
    (".parts[0].sha256", lambda fp: fp["parts"][0].update(sha256="x"), "is 'x', expected 64 lowercase hex digits"),
    (".parts[1].shape", lambda fp: fp["parts"][1].update(shape=[-1]), "is [-1], expected a list of 1 to 8 sizes"),
    (".parts[2].dtype", lambda fp: fp["parts"][2].update(dtype="object"), "is 'object', expected one of"),
    (".folder", lambda fp: fp.update(folder=3), "is a int, expected a string or null"),
])
def test_a_tampered_fingerprint_is_one_line_naming_the_field(mnist_run, capsys, field, change, message):
    checkpoint, _ = mnist_run
    rewrite_meta(checkpoint, lambda meta: change(meta["data_fingerprint"]))
    before = checkpoint.read_bytes()
    status, _, err = main(["--resume", checkpoint, "--epochs", "2"], capsys)
    assert status == 2
    line = one_error(err)
    assert line.startswith(f"error: --resume: checkpoint {checkpoint}: meta.data_fingerprint{field} {message}"), line
    assert checkpoint.read_bytes() == before


# ---- a gzip bomb in the data folder ----------------------------------------------------------------
def idx_header(shape, code=0x08):
    return bytes([0, 0, code, len(shape)]) + b"".join(int(n).to_bytes(4, "big") for n in shape)


def gzip_bomb(head, total):
    """A gzip file of `head` then zeros, `total` bytes inflated, ~1 MB per GB: gzip members of 16 MiB of
    zeros (cheap to make), the first starting with `head`."""
    block = gzip.compress(bytes(16 * MB), compresslevel=9, mtime=0)
    first = gzip.compress(head + bytes(16 * MB - len(head)), compresslevel=9, mtime=0)
    return first + block * (total // (16 * MB) - 1)


def peak_of_read(path):
    """(the exception read_idx raised, the peak of traced memory during it, in bytes)."""
    tracemalloc.start()
    try:
        read_idx(path)
    except ValueError as exc:
        raised = exc
    else:
        raised = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return raised, peak


@pytest.mark.parametrize("case, head, message", [
    ("no IDX header", b"", r"not an IDX file \(magic number 0x00000000"),
    ("a small header", idx_header((10, 28, 28)), r"inflates to more than that \(a gzip bomb or a corrupt file\): "
                                                 r"refused after 7,857 bytes"),
    ("a header claiming half of it", idx_header((500_000, 1000)), r"inflates to more than that .*refused after"),
    ("a header claiming more than gzip can hold", idx_header((2 ** 31, 2 ** 20)),
     r"more than a [\d,]+-byte gzip file can hold \(deflate inflates at most 1032:1\)"),
], ids=["no-header", "small-header", "header-claims-half", "header-claims-too-much"])
def test_a_gzip_bomb_is_refused_with_bounded_memory(tmp_path, case, head, message):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip_bomb(head, 1024 * MB))         # ~1 MB on disk, 1 GiB inflated
    assert path.stat().st_size < 1.1 * MB
    raised, peak = peak_of_read(path)
    assert raised is not None, case
    assert str(path) in str(raised)
    assert re.search(message, str(raised)), str(raised)
    assert peak < 50 * MB, f"{case}: {peak / MB:.1f} MiB traced"


def test_highly_compressible_files_that_are_right_still_read(tmp_path):
    blank = np.zeros((3000, 28, 28), np.uint8)       # compresses far past 64:1: counted first, then read
    blank[7, 3, 4] = 9
    path = write_idx(tmp_path / "x-idx3-ubyte.gz", blank)
    assert blank.nbytes > 64 * path.stat().st_size
    np.testing.assert_array_equal(read_idx(path), blank)
    short = gzip.compress(idx_header((3000, 28, 28)) + bytes(3000 * 28 * 28 - 1), mtime=0)
    (tmp_path / "short.gz").write_bytes(short)
    with pytest.raises(ValueError, match=r"short.gz: IDX header says .* but the file inflates to 2,352,015 bytes"):
        read_idx(tmp_path / "short.gz")


def test_an_uncompressed_file_is_checked_against_its_header_before_it_is_read(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    with open(path, "wb") as f:      # 1 GiB, sparse: a header for 10 images, then nothing but a size
        f.write(idx_header((10, 28, 28)))
        f.truncate(1024 * MB)
    raised, peak = peak_of_read(path)
    assert "IDX header says shape (10, 28, 28) of uint8 (7,856 bytes), but the file holds 1,073,741,824 bytes " \
           "(truncated or corrupt)" in str(raised)
    assert peak < MB, f"{peak / MB:.1f} MiB traced"


def test_a_gzip_bomb_in_the_data_folder_is_one_error_line(tmp_path, capsys, offline):
    data = fake_mnist(tmp_path / "data")
    (data / "train-images-idx3-ubyte.gz").write_bytes(gzip_bomb(idx_header((128, 28, 28)), 256 * MB))
    status, _, err = main(MNIST_RUN + ["--data-dir", data, "--epochs", "1", "--out", tmp_path / "run"], capsys)
    assert status == 2
    line = one_error(err)
    assert f"{data / 'train-images-idx3-ubyte.gz'}: IDX header says shape (128, 28, 28)" in line
    assert "a gzip bomb or a corrupt file" in line
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


# ---- --distributed: SIGTERM and SIGHUP exit 128 + N ---------------------------------------------------
def _mpiexec():
    beside_python = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return shutil.which("mpiexec") or (beside_python if os.path.exists(beside_python) else None)


def _mpi_missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return 'mpi4py is not installed (pip install ".[distributed]")'
    return None if _mpiexec() else "no mpiexec on PATH or beside the Python executable"


# The CLI sending itself TEST_SIGNAL on the ranks in TEST_RANKS, during its first training batch.
_SIGNAL_ON_RANKS = r"""
import os, signal, sys
from minitorch_cnn import train
rank = int(os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
signum = getattr(signal, os.environ["TEST_SIGNAL"])
ranks = {int(r) for r in os.environ["TEST_RANKS"].split(",")}
calls = {"n": 0}
original = train.Progress.update
def update(self, done, loss=None):
    original(self, done, loss)
    if loss is not None and rank in ranks:
        calls["n"] += 1
        if calls["n"] == 1:
            signal.raise_signal(signum)
train.Progress.update = update
sys.exit(train.main(sys.argv[1:]))
"""


@pytest.mark.skipif(os.name != "posix" or _mpi_missing() is not None, reason=str(_mpi_missing()))
@pytest.mark.parametrize("name, ranks", [("SIGTERM", "1"), ("SIGHUP", "0,1")])
def test_distributed_runs_stopped_by_sigterm_or_sighup_exit_128_plus_n(tmp_path, name, ranks):
    args = ["--model", "lenet5", "--dataset", "bundled-digits", "--limit-train", "256", "--limit-test", "100",
            "--batch-size", "64", "--seed", "1", "--distributed", "--epochs", "1", "--out", str(tmp_path / "run")]
    done = subprocess.run([_mpiexec(), "-n", "2", sys.executable, "-c", _SIGNAL_ON_RANKS, *args], cwd=str(tmp_path),
                          env=dict(subprocess_env(), TEST_SIGNAL=name, TEST_RANKS=ranks), capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    assert done.returncode == 128 + getattr(signal, name), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count(f"interrupted by {name}") == 1          # said once, by rank 0, whoever got it
    assert done.stdout.count("saved ") == 1
    meta = meta_of(tmp_path / "run" / "checkpoint.npz")
    assert meta["epoch"] == 0 and meta["partial"]["batches"] == 1 and meta["partial"]["seen"] == 128
