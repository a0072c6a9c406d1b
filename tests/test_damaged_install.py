"""A damaged install (issue 22): the bundled digits' file missing, truncated or not the archive
tools/make_bundled_digits.py writes gives one `error:` line naming the file and how to reinstall,
exit 2, no traceback."""
import shutil

import numpy as np
import pytest

from minitorch_cnn import train
from minitorch_cnn.data import bundled


@pytest.fixture
def damaged(tmp_path, monkeypatch):
    """-> a function that points the package at a damaged copy of mnist_5k.npz made by `damage`."""
    def use(damage):
        copy = tmp_path / "mnist_5k.npz"
        shutil.copyfile(bundled.BUNDLED_PATH, copy)
        damage(copy)
        monkeypatch.setattr(bundled, "BUNDLED_PATH", copy)
        monkeypatch.setattr(bundled, "_loaded", {})
        return copy
    return use


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_a_zip(path):
    path.write_bytes(b"<html>404 Not Found</html>\n")


def _wrong_arrays(path):
    np.savez(path.with_suffix(""), images=np.zeros((10, 28, 28), np.uint8), labels=np.zeros(10, np.int64))


def _no_labels(path):
    np.savez(path.with_suffix(""), images=np.zeros((5000, 28, 28), np.uint8))


@pytest.mark.parametrize("damage,what", [(lambda p: p.unlink(), "is missing"), (_truncate, "is damaged"),
                                         (_not_a_zip, "is damaged"), (_wrong_arrays, "5,000 uint8"),
                                         (_no_labels, "is damaged")])
@pytest.mark.parametrize("dataset", ["auto", "bundled-digits"])
def test_a_damaged_bundle_is_one_line_saying_reinstall(damaged, tmp_path, capsys, damage, what, dataset):
    path = damaged(damage)
    (tmp_path / "no_mnist_here").mkdir()
    rc = train.main(["--model", "lenet5", "--dataset", dataset, "--data-dir", str(tmp_path / "no_mnist_here"),
                     "--epochs", "1", "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert rc == 2, captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert str(path) in captured.err and what in captured.err and "reinstall" in captured.err
    assert "Traceback" not in captured.err


def test_the_dataset_itself_raises_the_named_error(damaged):
    damaged(_truncate)
    with pytest.raises(bundled.DamagedInstallError, match="reinstall"):
        bundled.BundledDigits(train=True)
