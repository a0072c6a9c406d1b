"""mt.save / mt.load: state dicts and nested containers round-trip exactly, without pickle."""
import io
import json
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn

from _optional import needs_torch, torch  # torch is None without it: @needs_torch tests skip


def test_model_load_state_dict_of_mt_load(tmp_path):
    mt.manual_seed(0)
    source, target = mt.models.LeNet5(), mt.models.LeNet5()
    path = tmp_path / "lenet.mtsave"
    mt.save(source.state_dict(), path)
    loaded = mt.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(source.state_dict())
    target.load_state_dict(loaded)
    for (key, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert a.dtype == b.dtype, key
        np.testing.assert_array_equal(a, b, err_msg=key)


def test_nested_containers_round_trip(tmp_path):
    t = mt.tensor([1.5, -2.0], requires_grad=True)
    obj = {"epoch": 3, "lr": 0.1, "nan": float("nan"), "flag": True, "name": "run", "none": None,
           "t": t, "same_t": t, "half": mt.tensor([1, 2], dtype=mt.float16), "ints": np.arange(3),
           "np_scalar": np.float32(2.5), "nested": [(1, 2.0), {"k": mt.zeros(0, 3)}], 7: "int key",
           "param": nn.Parameter(np.ones(2, dtype=np.float32))}
    mt.save(obj, tmp_path / "obj")
    got = mt.load(tmp_path / "obj")
    assert got["epoch"] == 3 and type(got["epoch"]) is int
    assert got["lr"] == 0.1 and np.isnan(got["nan"]) and got["flag"] is True and got[7] == "int key"
    assert got["name"] == "run" and got["none"] is None
    assert got["t"] is got["same_t"] and got["t"].requires_grad and got["t"].dtype == np.float32
    np.testing.assert_array_equal(got["t"].data, [1.5, -2.0])
    assert got["half"].dtype == np.float16
    assert isinstance(got["ints"], np.ndarray) and got["ints"].dtype == np.arange(3).dtype
    assert type(got["np_scalar"]) is np.float32 and got["np_scalar"] == 2.5
    assert got["nested"][0] == (1, 2.0) and isinstance(got["nested"][0], tuple)
    assert got["nested"][1]["k"].shape == (0, 3)
    assert isinstance(got["param"], nn.Parameter) and got["param"].requires_grad


def test_file_objects_work():
    buffer = io.BytesIO()
    mt.save({"w": mt.ones(2)}, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(mt.load(buffer)["w"].data, [1.0, 1.0])


def test_the_file_holds_no_pickle(tmp_path):
    mt.save({"w": mt.ones(2), "meta": {"a": 1}}, tmp_path / "f")
    with zipfile.ZipFile(tmp_path / "f") as z:
        for name in z.namelist():
            head = z.read(name)[:16]
            assert head.startswith(b"\x93NUMPY"), name        # plain .npy entries only
    with np.load(tmp_path / "f", allow_pickle=False) as data:   # readable without pickle
        json.loads(str(data["structure"]))


@needs_torch
def test_a_pickled_file_is_refused_without_running_it(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, structure=np.array([{"x": 1}], dtype=object))
    with pytest.raises(RuntimeError, match="load: .* is not a file written by mt.save"):
        mt.load(path)
    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    with pytest.raises(RuntimeError, match="not a file written by mt.save"):
        mt.load(tmp_path / "torch.pt")


@pytest.mark.parametrize("obj, what", [(nn.Linear(2, 2), "Linear"), ({"f": len}, "builtin_function"),
                                       ({(1, 2): 3}, "dict keys"), (np.array(["a"], dtype=object), "dtype object")])
def test_unsupported_objects_raise_clearly(tmp_path, obj, what):
    with pytest.raises(TypeError, match=f"save: .*{what}"):
        mt.save(obj, tmp_path / "x")
    assert not (tmp_path / "x").exists()          # nothing half-written


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="load: no such file"):
        mt.load("/nonexistent/file")


def test_a_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "keep"
    mt.save({"w": mt.ones(2)}, path)
    with pytest.raises(TypeError):
        mt.save({"w": object()}, path)
    np.testing.assert_array_equal(mt.load(path)["w"].data, [1, 1])
