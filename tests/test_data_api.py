"""minitorch_cnn.data after issue 12's trim: random_split, atomic writes, folder search, names.

Offline and small, like tests/test_data.py (whose helpers it reuses).  Torch is only
asked, where installed, what random_split's lengths are.
"""
import inspect
import os
import signal

import numpy as np
import pytest

from minitorch_cnn import random as mt_random
from minitorch_cnn import serialization, train
from minitorch_cnn.data import (MNIST, DataLoader, DatasetNotFoundError, Subset, TensorDataset, load_dataset,
                                random_split, read_idx, write_idx)
from test_data import fake_split, serve_gz_split, write_split

SPLITS = [  # (n, lengths, the lengths torch 2.13's random_split gives)
    (10, [0.33, 0.33, 0.34], [4, 3, 3]),
    (4, [0.3, 0.3, 0.4], [2, 1, 1]),
    (4, (0.25, 0.75), [1, 3]),
    (0, [0.5, 0.5], [0, 0]),
    (1, [0.5, 0.5], [1, 0]),
    (5, [2, 3], [2, 3]),
    (1, [1], [1]),
    (4, [0, 4], [0, 4]),
    (3, [], None),              # nothing to split into: refused unless the dataset is empty
]


def toy(n):
    return TensorDataset(np.arange(n, dtype=np.float32)[:, None], np.arange(n))


# ---- random_split ------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Length of split")      # an empty split warns, as torch's
@pytest.mark.parametrize("n, lengths, expected", SPLITS[:-1])
def test_random_split_lengths(n, lengths, expected):
    parts = random_split(toy(n), lengths, generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == expected and all(isinstance(p, Subset) for p in parts)


@pytest.mark.filterwarnings("ignore:Length of split")      # an empty split warns, here as in torch
@pytest.mark.parametrize("n, lengths, expected", SPLITS)
def test_random_split_lengths_are_torchs(n, lengths, expected):
    pytest.importorskip("torch")
    from torch.utils.data import random_split as torch_random_split
    try:
        theirs = [len(p) for p in torch_random_split(list(range(n)), lengths)]
    except ValueError:
        theirs = None
        with pytest.raises(ValueError, match="random_split"):
            random_split(toy(n), lengths)
    assert theirs == expected
    if theirs is not None:
        assert [len(p) for p in random_split(toy(n), lengths)] == theirs


def test_random_split_is_a_partition_drawn_from_the_engines_generator():
    ds = toy(23)
    mt_random.manual_seed(5)
    parts = random_split(ds, [0.5, 0.3, 0.2])
    labels = [next(iter(DataLoader(p, batch_size=100)))[1].data.tolist() for p in parts]
    assert sorted(sum(labels, [])) == list(range(23)) and labels[0] != sorted(labels[0])
    mt_random.manual_seed(5)
    again = random_split(ds, [0.5, 0.3, 0.2])
    assert [p.indices for p in again] == [p.indices for p in parts]
    assert all(type(i) is int for p in parts for i in p.indices)      # a list of ints, as torch's
    x, y = parts[1].arrays()                                    # array-backed, as any Subset of one
    np.testing.assert_array_equal(x[:, 0], y)
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    assert [p.indices for p in random_split(ds, [20, 3], g1)] == [p.indices for p in random_split(ds, [20, 3], g2)]


@pytest.mark.parametrize("lengths, error, match", [
    ([3, 3], ValueError, r"summing to the dataset's 4 samples, got \[3, 3\]"),
    ([5, -1], ValueError, "counts >= 0"),             # torch returns a 4 and an empty subset: refused here
    ([1.5, -0.5], ValueError, r"fractions must lie in \[0, 1\]"),
    ([2.5, 1.5], TypeError, "must be integers"),      # torch: TypeError from randperm
    ([True, 3], TypeError, "must be integers"),
    ([], ValueError, "summing to the dataset's 4"),
])
def test_random_split_refuses_bad_lengths(lengths, error, match):
    with pytest.raises(error, match="random_split: .*" + match):
        random_split(toy(4), lengths)


# ---- one atomic write for every file -------------------------------------------
def test_downloaded_and_written_files_are_ordinary_0644_files(tmp_path, monkeypatch):
    """(The download's own temp-file-and-rename left 0600 files behind: mkstemp's mode.)"""
    mirror = tmp_path / "mirror"
    md5s, _, _ = serve_gz_split(mirror, train=False, n=4)
    monkeypatch.setattr(MNIST, "mirrors", (mirror.as_uri() + "/",))
    monkeypatch.setattr(MNIST, "md5s", md5s)
    MNIST(tmp_path / "root", train=False, download=True)
    files = list((tmp_path / "root" / "MNIST" / "raw").iterdir()) + list(mirror.iterdir())
    # the two .gz files, each unpacked beside it (as torchvision does), and the mirror's two
    assert len(files) == 6 and {oct(p.stat().st_mode & 0o777) for p in files} == {"0o644"}


def test_an_interrupted_write_idx_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = write_idx(tmp_path / "labels-idx1-ubyte.gz", np.arange(5, dtype=np.uint8))
    before = path.read_bytes()

    def fail(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(serialization.os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        write_idx(path, np.arange(9, dtype=np.uint8))
    assert path.read_bytes() == before and os.listdir(tmp_path) == [path.name]


def test_no_temp_file_and_rename_outside_serialization():
    """Every atomic write in the package, and in the checkout's tools/ and benchmarks/ scripts,
    goes through serialization.atomic_write."""
    import minitorch_cnn
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    roots = [os.path.dirname(minitorch_cnn.__file__)] + [
        os.path.join(checkout, d) for d in ("tools", "benchmarks") if os.path.isdir(os.path.join(checkout, d))]
    offenders = []
    for folder, _, names in (entry for root in roots for entry in os.walk(root)):
        for name in names:
            if name.endswith(".py") and name != "serialization.py":
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                offenders += [f"{name}: {w}" for w in ("os.replace", "os.rename", "mkstemp", "NamedTemporaryFile")
                              if w in text]
    assert offenders == []


# ---- reading and finding the files ------------------------------------------------
@pytest.mark.parametrize("name", ["nowhere-idx1-ubyte", "nowhere-idx1-ubyte.gz"])
def test_read_idx_of_a_missing_file_is_file_not_found(tmp_path, name):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / name)


def test_write_idx_refuses_what_idx_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="write_idx: IDX cannot store dtype int64"):
        write_idx(tmp_path / "x", np.arange(3))
    with pytest.raises(ValueError, match="write_idx: IDX needs at least one dimension"):
        write_idx(tmp_path / "x", np.uint8(3))
    big_endian = np.arange(6, dtype=">i4").reshape(2, 3)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "be", big_endian)), big_endian)


def test_a_split_is_never_read_from_two_folders(tmp_path):
    images, labels = fake_split(4)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "raw" / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DatasetNotFoundError, match=r"t10k-images-idx3-ubyte\[.gz\] and t10k-labels-idx1-ubyte\[.gz\] "
                                                   r"are in no one folder of") as info:
        MNIST(tmp_path, train=False, download=False)
    assert info.value.missing == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def test_only_the_missing_file_is_downloaded(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    md5s, _, mirror_labels = serve_gz_split(mirror, train=False, n=6)
    own_images, _ = write_split(tmp_path / "root" / "MNIST" / "raw", train=False, n=6, seed=1)
    (tmp_path / "root" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setattr(MNIST, "mirrors", (mirror.as_uri() + "/",))
    monkeypatch.setattr(MNIST, "md5s", md5s)
    ds = MNIST(tmp_path / "root", train=False, download=True)
    np.testing.assert_array_equal(ds.data, own_images)                 # kept, not fetched again
    np.testing.assert_array_equal(ds.targets, mirror_labels)


def test_names_are_the_four_documented_ones():
    assert len(load_dataset("BUNDLED-DIGITS", train=False)) == 1000
    for alias in ("digits", "mnist5k", "bundled"):                     # the alias table is gone
        with pytest.raises(ValueError, match=f"load_dataset: unknown dataset '{alias}'; expected one of mnist, "
                                             f"fashion-mnist, bundled-digits, torchvision:<Name>"):
            load_dataset(alias)


# ---- train.run in named steps ---------------------------------------------------
def test_train_run_is_named_steps_without_closures():
    steps = [train.prepare_data, train.start_run, train.restore, train.run_epoch, train.save_interrupted,
             train.record_epoch, train.save_epoch, train.save, train.report, train.run]
    for step in steps:
        assert inspect.getdoc(step), step.__name__
        nested = [c.co_name for c in step.__code__.co_consts if inspect.iscode(c) and c.co_name not in
                  ("<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>", "<lambda>")]
        assert nested == [], (step.__name__, nested)
        assert len(inspect.getsource(step).splitlines()) <= 40, step.__name__


def test_ctrl_c_handler_is_restored_even_when_training_fails():
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(RuntimeError):
        with train.CtrlC() as ctrl_c:
            assert signal.getsignal(signal.SIGINT) == ctrl_c.handle and not ctrl_c.requested
            ctrl_c.handle(signal.SIGINT, None)
            assert ctrl_c.requested
            with pytest.raises(KeyboardInterrupt):                      # the second Ctrl-C aborts
                ctrl_c.handle(signal.SIGINT, None)
            raise RuntimeError("boom")
    assert signal.getsignal(signal.SIGINT) is previous


def test_auto_hints_at_a_system_wide_fashion_mnist(tmp_path, monkeypatch):
    """Debian's /usr/share/datasets/fashion-mnist (here a stand-in folder) is named in the fallback's reason."""
    from minitorch_cnn.data import FashionMNIST, resolve_default_dataset
    write_split(tmp_path / "system", train=True, n=10)
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(tmp_path / "system"),))
    monkeypatch.setattr(MNIST, "mirrors", ("http://127.0.0.1:9/",))
    train_set, _, reason = resolve_default_dataset(tmp_path / "data")
    assert len(train_set) == 4000 and "pass --dataset fashion-mnist" in reason
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    assert "fashion" not in resolve_default_dataset(tmp_path / "data")[2]
