"""minitorch_cnn.data: IDX files, MNIST-style datasets, downloads, bundled digits, DataLoader.

Everything here is offline and small: MNIST-format files are written into tmp
dirs, downloads are served from file:// URLs, and the offline path points the
mirrors at a closed local port.
"""
import hashlib
import socket
import sys
import time
import types
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from minitorch_cnn import random as mt_random
from minitorch_cnn.data import (MNIST, BundledDigits, ChecksumError, Compose, DataLoader, Dataset,
                                DatasetNotFoundError, FashionMNIST, Normalize, Subset, TensorDataset, ToFloat,
                                load_dataset, read_idx, resolve_default_dataset, write_idx)
from minitorch_cnn.data import download as download_mod
from minitorch_cnn.tensor import Tensor

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def fake_split(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), (np.arange(n) % 10).astype(np.uint8)


def write_split(folder, train, n, gz=True, seed=0):
    """Write an MNIST-format split (images + labels) into folder; returns the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = fake_split(n, seed)
    prefix = "train" if train else "t10k"
    ext = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.fixture
def no_network(monkeypatch):
    """Every mirror points at a closed local port: downloads fail at once."""
    for cls in (MNIST, FashionMNIST):
        monkeypatch.setattr(cls, "mirrors", ("http://127.0.0.1:9/",))
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())


# ---- IDX ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("ext", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, ext):
    a = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    path = write_idx(tmp_path / f"a-idx3{ext}", a)
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]        # no temp file left


def test_idx_header_is_mnist_format(tmp_path):
    write_idx(tmp_path / "x", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "y", np.zeros(3, np.uint8))
    assert (tmp_path / "x").read_bytes()[:8] == bytes([0, 0, 8, 3, 0, 0, 0, 3])     # magic 2051, N=3
    assert (tmp_path / "y").read_bytes()[:8] == bytes([0, 0, 8, 1, 0, 0, 0, 3])     # magic 2049


# ---- MNIST from files -----------------------------------------------------
@pytest.mark.parametrize("layout,gz", [(".", False), ("MNIST/raw", True), ("raw", True), ("MNIST/raw", False)])
def test_mnist_reads_idx_layouts(tmp_path, layout, gz):
    images, labels = write_split(tmp_path / layout, train=False, n=30, gz=gz)
    ds = MNIST(tmp_path, train=False, download=False, normalize=False)
    ext = ".gz" if gz else ""
    assert len(ds) == 30
    folder = tmp_path / layout
    assert ds.files == [folder / f"t10k-images-idx3-ubyte{ext}", folder / f"t10k-labels-idx1-ubyte{ext}"]
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    assert ds.targets.dtype == np.int64
    x, y = ds[3]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and isinstance(y, int) and y == labels[3]
    np.testing.assert_allclose(x[0], images[3] / 255, rtol=1e-6)


def test_mnist_default_normalisation_and_arrays(tmp_path):
    images, labels = write_split(tmp_path, train=True, n=20)
    ds = MNIST(tmp_path, train=True, download=False)
    X, Y = ds.arrays()
    assert X.shape == (20, 1, 28, 28) and X.dtype == np.float32 and Y.dtype == np.int64
    expected = (images.astype(np.float64) / 255 - 0.1307) / 0.3081
    np.testing.assert_allclose(X[:, 0], expected, rtol=1e-5, atol=1e-5)   # float32 arithmetic on O(1) values
    for i in (0, 7, 19):
        np.testing.assert_array_equal(ds[i][0], X[i])        # per-sample path == vectorised path, bit for bit
    assert ds.arrays()[0] is X                                # cached
    custom = MNIST(tmp_path, download=False, normalize=(0.5, 0.25))
    np.testing.assert_allclose(custom.arrays()[0][:, 0], (images / 255 - 0.5) / 0.25, rtol=1e-5, atol=1e-5)


def test_mnist_custom_per_sample_transform(tmp_path):
    images, _ = write_split(tmp_path, train=True, n=5)
    ds = MNIST(tmp_path, download=False, transform=lambda img: img.astype(np.float64).sum(keepdims=True))
    X, _ = ds.arrays()
    np.testing.assert_array_equal(X.reshape(5), images.reshape(5, -1).sum(1))


def test_corrupt_files_raise_valueerror_naming_the_file(tmp_path):
    write_split(tmp_path, train=True, n=10, gz=False)
    img = tmp_path / "train-images-idx3-ubyte"
    good = img.read_bytes()

    img.write_bytes(b"\x00\x00\x08\x07" + good[4:])             # wrong magic: dimension count 7
    with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
        MNIST(tmp_path, download=False)
    img.write_bytes(b"\x12\x34" + good[2:])                     # not IDX at all
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*magic"):
        MNIST(tmp_path, download=False)
    img.write_bytes(good[:-100])                                # truncated
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*truncated"):
        MNIST(tmp_path, download=False)
    img.write_bytes(good)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(9, np.uint8))   # 9 labels for 10 images
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        MNIST(tmp_path, download=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((10, 2), np.uint8))   # labels with an image magic
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte"):
        MNIST(tmp_path, download=False)

    gz_dir = tmp_path / "gz"
    write_split(gz_dir, train=False, n=4)
    (gz_dir / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz"):
        MNIST(gz_dir, train=False, download=False)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(tmp_path, train=True, download=False)
    err = info.value
    assert isinstance(err, FileNotFoundError)
    assert err.missing == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    assert str(tmp_path / "MNIST" / "raw") in err.searched and "download=False" in str(err)
    assert not (tmp_path / "MNIST").exists()


def test_a_datasets_own_folder_comes_before_the_shared_ones(tmp_path, monkeypatch):
    """MNIST and Fashion-MNIST share file names: root/<Name>/raw wins over root/ and root/raw/."""
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    write_split(tmp_path, train=False, n=5)                                   # say, Fashion-MNIST's files
    write_split(tmp_path / "MNIST" / "raw", train=False, n=3)
    assert len(MNIST(tmp_path, train=False, download=False)) == 3
    assert len(FashionMNIST(tmp_path, train=False, download=False)) == 5
    assert MNIST(tmp_path, train=False, download=False).search_dirs()[:3] == [
        tmp_path / "MNIST" / "raw", tmp_path, tmp_path / "raw"]


def test_a_folder_must_hold_both_files(tmp_path):
    write_split(tmp_path, train=True, n=4)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    write_split(tmp_path / "raw", train=True, n=6)
    ds = MNIST(tmp_path, train=True, download=False)
    assert len(ds) == 6 and {p.parent for p in ds.files} == {tmp_path / "raw"}


# ---- downloads ------------------------------------------------------------
def serve_gz_split(folder, train, n):
    """Write .gz files as a 'mirror' would serve them; returns their MD5s and the arrays."""
    images, labels = write_split(folder, train, n, gz=True)
    md5s = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return md5s, images, labels


def test_download_from_file_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    md5s, images, labels = serve_gz_split(mirror, train=False, n=12)
    root = tmp_path / "root"
    # the first mirror lacks the files (a 404 of sorts), the second serves them
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "empty").as_uri() + "/", mirror.as_uri() + "/"))
    monkeypatch.setattr(MNIST, "md5s", md5s)
    ds = MNIST(root, train=False, download=True, normalize=False)
    raw = root / "MNIST" / "raw"
    # the .gz files, and each unpacked beside it as torchvision does
    assert sorted(p.name for p in raw.iterdir()) == ["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz",
                                                     "t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    # a second construction reads the downloaded files: no mirror needed
    monkeypatch.setattr(MNIST, "mirrors", ())
    assert len(MNIST(root, train=False, download=True)) == 12


def test_download_over_http_skips_a_404_mirror(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    mirror = tmp_path / "site" / "mnist"
    md5s, images, _ = serve_gz_split(mirror, train=False, n=9)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setattr(MNIST, "mirrors", (base + "/gone/", base + "/mnist/"))
        monkeypatch.setattr(MNIST, "md5s", md5s)
        ds = MNIST(tmp_path / "root", train=False, download=True)
    finally:
        server.shutdown()
        server.server_close()
    np.testing.assert_array_equal(ds.data, images)


def test_checksum_mismatch_fails_and_leaves_no_file(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    md5s, _, _ = serve_gz_split(mirror, train=True, n=6)
    bad = dict(md5s, **{"train-images-idx3-ubyte.gz": "0" * 32})
    monkeypatch.setattr(MNIST, "mirrors", (mirror.as_uri() + "/",))
    monkeypatch.setattr(MNIST, "md5s", bad)
    root = tmp_path / "root"
    with pytest.raises(DatasetNotFoundError, match="MD5") as info:
        MNIST(root, train=True, download=True)
    assert any("MD5" in line for line in info.value.download_errors)
    raw = root / "MNIST" / "raw"
    assert not (raw / "train-images-idx3-ubyte.gz").exists()
    assert not any(p.name.endswith(".part") for p in raw.iterdir())   # the temp file is gone too
    assert (raw / "train-labels-idx1-ubyte.gz").exists()               # the good file was kept

    with pytest.raises(ChecksumError):
        download_mod.download_url(mirror.as_uri() + "/train-images-idx3-ubyte.gz", tmp_path / "x.gz", "0" * 32)
    assert not list(tmp_path.glob("x.gz*"))


def test_offline_failure_is_fast_and_specific(tmp_path, no_network):
    start = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(tmp_path / "nowhere", train=True, download=True)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and str(tmp_path / "nowhere") in message
    assert "download failed" in message and info.value.download_errors
    assert not (tmp_path / "nowhere").exists()              # nothing created when no server answered


def test_stops_after_first_network_unreachable_error(tmp_path, monkeypatch):
    calls = []

    def unreachable(url, timeout=None):
        calls.append((url, timeout))
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(download_mod.urllib.request, "urlopen", unreachable)
    with pytest.raises(DatasetNotFoundError, match="network unavailable"):
        MNIST(tmp_path, train=True, download=True)
    assert len(calls) == 1 and calls[0][1] == download_mod.DEFAULT_TIMEOUT <= 5
    assert calls[0][0] == MNIST.mirrors[0] + "train-images-idx3-ubyte.gz"


def test_published_md5s_are_the_official_ones():
    assert MNIST.md5s == {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    assert FashionMNIST.md5s["t10k-labels-idx1-ubyte.gz"] == "bb300cfdad3c16e7a12a480ee83cd310"
    assert all(m.endswith("/") for m in MNIST.mirrors + FashionMNIST.mirrors)


# ---- Debian's Fashion-MNIST -----------------------------------------------
@pytest.mark.skipif(not (DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz").exists(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_finds_debian_files(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "mirrors", ())         # must not need the network
    ds = FashionMNIST(tmp_path, train=False, download=True)
    assert ds.files == [DEBIAN_FASHION / "t10k-images-idx3-ubyte.gz", DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz"]
    assert len(ds) == 10_000 and ds.data.shape == (10_000, 28, 28) and ds.class_counts() == [1000] * 10
    assert ds.classes[9] == "Ankle boot"
    # Debian rewrote the gzip headers only: the content is the official file's. Restore the header
    # (FNAME flag, original name and mtime) and the official MD5 comes back.
    raw = (DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz").read_bytes()
    mtime = (1504176627).to_bytes(4, "little")                      # 2017-08-31 10:50:27 UTC
    original = b"\x1f\x8b\x08\x08" + mtime + raw[8:10] + b"t10k-labels-idx1-ubyte\0" + raw[10:]
    assert hashlib.md5(original).hexdigest() == FashionMNIST.md5s["t10k-labels-idx1-ubyte.gz"]
    # files in root win over the system copy
    write_split(tmp_path / "FashionMNIST" / "raw", train=False, n=7)
    assert len(FashionMNIST(tmp_path, train=False, download=False)) == 7


# ---- bundled digits -------------------------------------------------------
def test_bundled_digits_shapes_split_and_balance():
    train, test = BundledDigits(train=True), BundledDigits(train=False)
    assert (len(train), len(test)) == (4000, 1000)
    assert train.data.shape == (4000, 28, 28) and train.data.dtype == np.uint8
    assert train.class_counts() == [400] * 10 and test.class_counts() == [100] * 10
    assert train.targets[:20].tolist() == list(range(10)) * 2            # class-interleaved order
    X, Y = test.arrays()
    assert X.shape == (1000, 1, 28, 28) and X.dtype == np.float32 and Y.dtype == np.int64
    x, y = train[0]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and isinstance(y, int)
    scaled = BundledDigits(train=False, normalize=False).arrays()[0]
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert abs(float(X.mean()) - (scaled.mean() - 0.1307) / 0.3081) < 1e-4
    # disjoint splits, deterministic
    train_rows = {r.tobytes() for r in train.data}
    assert not any(r.tobytes() in train_rows for r in test.data)
    np.testing.assert_array_equal(BundledDigits(train=True).data, train.data)


def test_bundled_file_loads_without_pickle():
    from minitorch_cnn.data.bundled import BUNDLED_PATH
    with np.load(BUNDLED_PATH, allow_pickle=False) as z:
        assert z["images"].shape == (5000, 28, 28) and z["images"].dtype == np.uint8
        assert np.bincount(z["labels"]).tolist() == [500] * 10
        assert z["images"].max() == 255 and z["images"].min() == 0


# ---- choosing a dataset ---------------------------------------------------
def test_resolve_default_falls_back_to_bundled_offline(tmp_path, no_network):
    start = time.perf_counter()
    train, test, reason = resolve_default_dataset(tmp_path)
    assert time.perf_counter() - start < 5
    assert isinstance(train, BundledDigits) and (len(train), len(test)) == (4000, 1000)
    assert str(tmp_path) in reason and "download failed" in reason and "4,000 train / 1,000 test" in reason
    _, _, reason = resolve_default_dataset(tmp_path, download=False)
    assert "download disabled" in reason


def test_resolve_default_uses_mnist_when_present(tmp_path):
    write_split(tmp_path / "MNIST" / "raw", train=True, n=20)
    write_split(tmp_path / "MNIST" / "raw", train=False, n=10)
    train, test, reason = resolve_default_dataset(tmp_path, download=False)
    assert isinstance(train, MNIST) and (len(train), len(test)) == (20, 10)
    assert reason.startswith("MNIST from ") and "20 train / 10 test" in reason


def test_load_dataset_by_name(tmp_path, no_network):
    assert isinstance(load_dataset("bundled-digits", train=False), BundledDigits)
    assert len(load_dataset(" Bundled_Digits", train=False)) == 1000      # case, '_' and spaces do not matter
    write_split(tmp_path, train=False, n=5)
    assert len(load_dataset("mnist", tmp_path, train=False)) == 5
    with pytest.raises(DatasetNotFoundError):
        load_dataset("fashion-mnist", tmp_path / "empty", train=False)
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")


def test_torchvision_missing_gives_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)           # import torchvision -> ImportError
    with pytest.raises(ImportError, match="needs torchvision"):
        load_dataset("torchvision:MNIST", "data")


def test_torchvision_adapter_with_a_stand_in_module(tmp_path, monkeypatch):
    images, labels = fake_split(8)

    class FakeMNIST:
        classes = [str(i) for i in range(10)]

        def __init__(self, root, train, download):
            self.data, self.targets = images, labels.astype(np.int64)

    tv = types.ModuleType("torchvision")
    tv.datasets = types.SimpleNamespace(MNIST=FakeMNIST)
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    ds = load_dataset("torchvision:MNIST", tmp_path)
    X, Y = ds.arrays()
    assert X.shape == (8, 1, 28, 28) and X.dtype == np.float32 and Y.tolist() == labels.tolist()
    np.testing.assert_allclose(X[:, 0], (images / 255 - 0.1307) / 0.3081, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="no 'Nope'"):
        load_dataset("torchvision:Nope", tmp_path)


# ---- transforms -----------------------------------------------------------
def test_transforms():
    img = np.array([[0, 255], [51, 102]], np.uint8)
    x = ToFloat()(img)
    assert x.shape == (1, 2, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], [[0, 1], [0.2, 0.4]], rtol=1e-6)
    stack = ToFloat()(np.stack([img, img]))
    assert stack.shape == (2, 1, 2, 2)
    n = Normalize(0.5, 0.25)(x)
    assert n.dtype == np.float32
    np.testing.assert_allclose(n[0], [[-2, 2], [-1.2, -0.4]], rtol=1e-5)
    rgb = Normalize((0.0, 0.5, 1.0), (1.0, 0.5, 0.25))(np.ones((4, 3, 2, 2)))
    np.testing.assert_allclose(rgb[:, :, 0, 0], [[1, 1, 0]] * 4)
    assert Compose([ToFloat(), Normalize(0.1307, 0.3081)]).batched
    assert not Compose([ToFloat(), lambda a: a]).batched
    with pytest.raises(TypeError, match="ToFloat first"):
        Normalize(0.5, 0.5)(img[None])
    with pytest.raises(ValueError, match="positive"):
        Normalize(0.5, 0.0)
    with pytest.raises(ValueError, match="C = 3"):
        Normalize((0.1, 0.2, 0.3), (1, 1, 1))(np.ones((1, 2, 2)))


# ---- DataLoader -----------------------------------------------------------
class PerSample(Dataset):
    """A dataset without arrays(): the DataLoader must use __getitem__ + stacking."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 3), i, np.float32), i


def labels_of(loader):
    return np.concatenate([y.data for _, y in loader]).tolist()


def arange_tensor_dataset(n):
    return TensorDataset(np.repeat(np.arange(n, dtype=np.float32)[:, None], 3, axis=1), np.arange(n))


@pytest.mark.parametrize("make", [arange_tensor_dataset, PerSample])
def test_loader_covers_every_sample_once(make):
    ds = make(23)
    loader = DataLoader(ds, batch_size=5, shuffle=True)
    assert len(loader) == 5
    batches = list(loader)
    assert [len(y.data) for _, y in batches] == [5, 5, 5, 5, 3]              # last partial batch kept
    for x, y in batches:
        assert isinstance(x, Tensor) and isinstance(y, Tensor)
        assert x.dtype == np.float32 and y.dtype == np.int64
        np.testing.assert_array_equal(x.data.reshape(len(y.data), -1)[:, 0], y.data)   # x and y stay paired
    assert sorted(labels_of(batches)) == list(range(23))
    assert labels_of(DataLoader(ds, batch_size=5)) == list(range(23))                   # no shuffle: in order


def test_loader_drop_last_and_len():
    ds = TensorDataset(np.zeros((10, 1), np.float32), np.arange(10))
    assert len(DataLoader(ds, batch_size=4)) == 3
    dropped = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [y.shape for _, y in dropped] == [(4,), (4,)]
    assert len(DataLoader(ds, batch_size=10, drop_last=True)) == 1
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0 and list(DataLoader(ds, 11, drop_last=True)) == []
    assert len(DataLoader(ds, batch_size=1)) == 10


def test_loader_shuffle_is_reproducible_under_a_seed():
    ds = BundledDigits(train=False)
    loader = DataLoader(ds, batch_size=64, shuffle=True)
    mt_random.manual_seed(7)
    first = [labels_of(loader), labels_of(loader)]
    mt_random.manual_seed(7)
    again = [labels_of(loader), labels_of(loader)]
    assert first == again
    assert first[0] != first[1]                          # a fresh permutation each epoch
    assert sorted(first[0]) == sorted(ds.targets.tolist())
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert labels_of(DataLoader(ds, 100, shuffle=True, generator=g1)) == \
        labels_of(DataLoader(ds, 100, shuffle=True, generator=g2))
    x, _ = next(iter(DataLoader(ds, batch_size=1000)))
    np.testing.assert_array_equal(x.data, ds.arrays()[0])
    x.data[...] = 0                                       # batches are copies, never views of the dataset
    assert ds.arrays()[0].any()


def test_loader_with_subset_and_int_labels():
    ds = TensorDataset(np.arange(12, dtype=np.float64).reshape(6, 2), np.arange(6, dtype=np.int32))
    x, y = next(iter(DataLoader(ds, batch_size=6)))
    assert x.dtype == np.float64 and y.dtype == np.int32      # every dtype kept, as torch's default_collate
    sub = Subset(ds, [5, 0, 2])
    assert hasattr(sub, "arrays") and labels_of(DataLoader(sub, batch_size=2)) == [5, 0, 2]
    single = DataLoader(TensorDataset(np.arange(4.0)), batch_size=4)
    (only,) = next(iter(single))
    assert only.shape == (4,)


def test_loader_validates_arguments():
    ds = TensorDataset(np.zeros((4, 1)))
    for bad in (0, -1, 2.5, True, "8"):                    # torch's BatchSampler's words
        with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
            DataLoader(ds, batch_size=bad)
    assert DataLoader(ds, shuffle="yes").sampler.__class__.__name__ == "RandomSampler"   # bool(shuffle), as torch
    with pytest.raises(TypeError, match="DataLoader: generator"):
        DataLoader(ds, generator=42)
    with pytest.raises(TypeError, match="DataLoader: dataset"):
        DataLoader(42)
    with pytest.raises(ValueError, match="same first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
