"""Checkpoints: plain .npz files (no pickle), atomic writes, exact round trips, clear errors."""
import json
import os

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import checkpoint, models, nn, optim
from minitorch_cnn.checkpoint import CheckpointError, load_checkpoint, read_checkpoint, save_checkpoint

import _torch_helpers as th
from _torch_helpers import torch_single_thread  # noqa: F401 (an autouse fixture)


def train_steps(model, optimizer, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x, y = rng.standard_normal((4, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 4)
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(mt.tensor(x)), mt.tensor(y)).backward()
        optimizer.step()


def assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype, key
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


@pytest.fixture
def trained(tmp_path):
    """A DeepCNN (it has BatchNorm buffers) trained 2 Adam steps, saved with its optimizer."""
    mt.manual_seed(0)
    model = models.DeepCNN(num_blocks=2, initial_channels=4)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    train_steps(model, opt, 2, seed=0)
    path = str(tmp_path / "run" / "checkpoint.npz")
    save_checkpoint(path, model, opt, meta={"epoch": 3, "note": "ünïcode", "history": [{"loss": 0.5}]})
    return model, opt, path


def test_round_trip_restores_weights_buffers_optimizer_and_meta(trained):
    model, opt, path = trained
    mt.manual_seed(1)                                    # a fresh, differently initialised model
    fresh = models.DeepCNN(num_blocks=2, initial_channels=4)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    meta = load_checkpoint(path, fresh, fresh_opt)
    assert_same_state(fresh, model)
    assert fresh.features[0].bn.num_batches_tracked.item() == 2
    assert meta["epoch"] == 3 and meta["note"] == "ünïcode" and meta["history"] == [{"loss": 0.5}]
    assert fresh_opt.param_groups[0]["lr"] == 1e-2
    saved, restored = opt.state_dict(), fresh_opt.state_dict()
    assert saved["param_groups"] == restored["param_groups"]
    for index, entries in saved["state"].items():
        step = restored["state"][index]["step"]   # torch's layout: a 0-d float32 Tensor on the CPU
        assert isinstance(step, mt.Tensor) and step.dtype == np.float32 and step.shape == ()
        assert step.item() == entries["step"].item() == 2
        for name in ("exp_avg", "exp_avg_sq"):
            np.testing.assert_array_equal(th.to_np(restored["state"][index][name]), th.to_np(entries[name]))
            assert restored["state"][index][name].dtype == np.float32


def test_training_continues_identically_after_a_reload(trained):
    model, opt, path = trained
    fresh = models.DeepCNN(num_blocks=2, initial_channels=4)
    fresh_opt = optim.Adam(fresh.parameters())
    load_checkpoint(path, fresh, fresh_opt)
    mt.manual_seed(5)
    train_steps(model, opt, 2, seed=1)
    mt.manual_seed(5)
    train_steps(fresh, fresh_opt, 2, seed=1)
    assert_same_state(fresh, model)


def test_file_is_a_plain_npz_without_pickles(trained):
    model, opt, path = trained
    with np.load(path, allow_pickle=False) as data:
        names = set(data.files)
        arrays = {k: data[k] for k in names}
    assert {f"model/{k}" for k in model.state_dict()} <= names
    assert "meta" in names and any(k.startswith("optimizer/") for k in names)
    assert all(a.dtype != object for a in arrays.values())
    meta = json.loads(str(arrays["meta"]))
    assert meta["format"] == checkpoint.FORMAT and meta["optimizer"]["class"] == "Adam"
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(arrays[f"model/{key}"], value)
    model_state, optimizer_state, meta2 = read_checkpoint(path)
    assert list(model_state) == list(model.state_dict()) and meta2 == meta
    assert sorted(optimizer_state) == list(range(len(list(model.parameters()))))


def test_model_only_checkpoint_and_dtype_of_the_target(tmp_path):
    """A float64 model's checkpoint loads into a float32 model as float32 (and back)."""
    mt.manual_seed(0)
    source = models.LeNet5().double()
    path = save_checkpoint(str(tmp_path / "lenet.npz"), source)
    target = models.LeNet5()
    meta = load_checkpoint(path, target)
    assert meta["format"] == checkpoint.FORMAT and "optimizer" not in meta
    for (key, value), p in zip(source.state_dict().items(), target.parameters()):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(th.to_np(p), value.numpy().astype(np.float32), err_msg=key)
    with pytest.raises(CheckpointError, match="optimizer"):
        load_checkpoint(path, models.LeNet5(), optim.SGD(models.LeNet5().parameters(), lr=0.1))


def test_save_is_atomic(tmp_path, monkeypatch):
    """A save that fails half-way leaves the previous checkpoint intact and no temporary file."""
    model = models.LeNet5()
    path = str(tmp_path / "checkpoint.npz")
    save_checkpoint(path, model, meta={"epoch": 1})
    before = open(path, "rb").read()

    def broken_savez(file, **arrays):
        file.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, meta={"epoch": 2})
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    monkeypatch.undo()
    save_checkpoint(path, model, meta={"epoch": 2})               # overwrite in place, no leftovers
    assert os.listdir(tmp_path) == ["checkpoint.npz"] and read_checkpoint(path)[2]["epoch"] == 2


def _bad_files(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "random.npz").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "no_meta.npz", **{"model/conv1.weight": np.zeros(3)})
    np.savez(tmp_path / "other_format.npz", meta=np.array(json.dumps({"format": "something/else"})))
    np.savez(tmp_path / "pickled.npz", meta=np.array([{"format": checkpoint.FORMAT}], dtype=object))
    zipped = tmp_path / "truncated.npz"
    save_checkpoint(str(zipped), models.LeNet5())
    zipped.write_bytes(zipped.read_bytes()[:2000])
    return ["random.npz", "empty.npz", "no_meta.npz", "other_format.npz", "pickled.npz", "truncated.npz",
            "missing.npz"]


def test_unreadable_files_raise_checkpoint_error(tmp_path):
    for name in _bad_files(tmp_path):
        with pytest.raises(CheckpointError, match=name):
            load_checkpoint(str(tmp_path / name), models.LeNet5())
    assert issubclass(CheckpointError, ValueError)


def test_checkpoint_of_another_model_raises_checkpoint_error(tmp_path):
    path = save_checkpoint(str(tmp_path / "digit.npz"), models.DigitCNN())
    with pytest.raises(CheckpointError, match="does not fit LeNet5"):
        load_checkpoint(path, models.LeNet5())
    path = save_checkpoint(str(tmp_path / "wide.npz"), models.DigitCNN(num_classes=7))
    with pytest.raises(CheckpointError, match="size mismatch for fc2.weight"):
        load_checkpoint(path, models.DigitCNN())


class _Scaled(nn.Module):
    """A model with a 0-d parameter (a learnable temperature)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.temperature = nn.Parameter(np.array(1.5, dtype=np.float32))

    def forward(self, x):
        return self.fc(x) * self.temperature


@pytest.mark.parametrize("make_optimizer", [lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
                                            lambda p: optim.Adam(p, lr=0.1)], ids=["sgd", "adam"])
def test_zero_dim_parameter_state_survives_a_checkpoint(tmp_path, make_optimizer):
    """The checkpoint returns a 0-d array entry as a Python float; it must come back as an array
    the optimizer updates in place (else momentum silently stops accumulating)."""
    def steps(model, opt, seed):
        rng = np.random.default_rng(seed)
        for _ in range(3):
            opt.zero_grad()
            x, y = rng.standard_normal((5, 3)).astype(np.float32), rng.integers(0, 2, 5)
            nn.CrossEntropyLoss()(model(mt.tensor(x)), mt.tensor(y)).backward()
            opt.step()

    mt.manual_seed(0)
    model = _Scaled()
    opt = make_optimizer(model.parameters())
    steps(model, opt, 0)
    path = save_checkpoint(str(tmp_path / "c.npz"), model, opt)
    fresh = _Scaled()
    fresh_opt = make_optimizer(fresh.parameters())
    load_checkpoint(path, fresh, fresh_opt)
    steps(model, opt, 1)
    steps(fresh, fresh_opt, 1)
    assert_same_state(fresh, model)
