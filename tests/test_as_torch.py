"""python -m minitorch_cnn.as_torch SCRIPT: PyTorch scripts run unchanged on this engine.

Each script under tests/as_torch_scripts/ runs through the runner in a subprocess (so the
import hook never meets the real torch this test process may have imported) and must learn:
its printed accuracy or loss is checked.  MNIST comes from IDX files written into the
script's data folder from the engine's bundled digits (torchvision's layout, no network), cut
to its first samples by MINITORCH_CNN_AS_TORCH_LIMIT where a script trains for long.
The hook itself, the torchvision datasets and transforms, and torch.save/load are tested
through small probe scripts run the same way, and in this process where no hook is needed.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn.data import BundledDigits, write_idx
from minitorch_cnn.data import torchvision_datasets as tvd
from minitorch_cnn.data.mnist import MNIST
from minitorch_cnn.data.transforms import Compose, Lambda, Normalize, PILToTensor, ToTensor, transform_stack

SCRIPTS = Path(__file__).parent / "as_torch_scripts"
STANDINS = SCRIPTS / "standins"
FASHION_DEBIAN = Path("/usr/share/datasets/fashion-mnist")


def run(script, *args, cwd, limit=None, timeout=600, extra_path=None, seed=0):
    """Run `script` through the runner in `cwd`; the CompletedProcess (stdout, stderr, returncode).
    The tutorials set no seed: MINITORCH_CNN_AS_TORCH_SEED makes each run the same (seed=None: unseeded)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MINITORCH_CNN_AS_TORCH_LIMIT", "MINITORCH_CNN_AS_TORCH_SEED")}
    if seed is not None:
        env["MINITORCH_CNN_AS_TORCH_SEED"] = str(seed)
    if limit is not None:
        env["MINITORCH_CNN_AS_TORCH_LIMIT"] = str(limit)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "minitorch_cnn.as_torch", str(script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def probe(tmp_path, code, *args, **kwargs):
    """Run the Python source `code` as a script through the runner."""
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(code))
    return run(script, *args, cwd=tmp_path, **kwargs)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def write_mnist(root, folder="MNIST", gz=True):
    """The bundled digits as torchvision's raw files under root/folder/raw; the two splits' arrays."""
    raw = Path(root) / folder / "raw"
    splits = {}
    for train, prefix in ((True, "train"), (False, "t10k")):
        digits = BundledDigits(train=train, normalize=False)
        suffix = ".gz" if gz else ""
        write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", digits.data)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", digits.targets.astype(np.uint8))
        splits[train] = (digits.data, digits.targets)
    return splits


def accuracies(pattern, text):
    return [float(v) for v in re.findall(pattern, text)]


# ----------------------------------------------------------------------------- the runner and its hook

def test_importing_the_engine_never_installs_the_hook():
    code = ("import sys, minitorch_cnn, minitorch_cnn.data, minitorch_cnn.as_torch as a\n"
            "print(a.installed(), any(type(m).__name__ == 'TorchModule' for m in sys.modules.values()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_argv_exit_status_and_a_failing_scripts_traceback(tmp_path):
    result = probe(tmp_path, """
        import sys
        print(sys.argv, __name__)
        sys.exit(int(sys.argv[2]))
    """, "--flag", "3")
    assert result.returncode == 3
    assert result.stdout.strip() == f"[{str(tmp_path / 'probe.py')!r}, '--flag', '3'] __main__"
    failing = probe(tmp_path, "x = 1\nraise KeyError('boom')\n")
    assert failing.returncode == 1
    assert "KeyError: 'boom'" in failing.stderr and "runpy" not in failing.stderr
    no_script = run(tmp_path / "missing.py", cwd=tmp_path)
    assert no_script.returncode == 2 and "no such script" in no_script.stderr
    usage = subprocess.run([sys.executable, "-m", "minitorch_cnn.as_torch"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: python -m minitorch_cnn.as_torch SCRIPT")


def test_torch_names_resolve_to_the_engine(tmp_path):
    out = ok(probe(tmp_path, """
        import numpy as np
        import torch, torch.nn as nn, torch.nn.functional as F, torch.optim as optim
        import torch.nn.init, torch.optim.lr_scheduler, torch.utils.data, torch.autograd
        from torch.utils.data.dataset import Dataset
        from torch.utils.data.sampler import RandomSampler
        from torch.nn.parameter import Parameter
        from torch import nn as nn_again
        assert nn_again is nn and Dataset is torch.utils.data.Dataset and Parameter is nn.Parameter
        import torchvision, torchvision.datasets, torchvision.transforms
        import minitorch_cnn as mt
        assert isinstance(mt.ones(1), torch.Tensor) and issubclass(mt.nn.Parameter, torch.Tensor)
        assert nn.Module is mt.nn.Module and F.relu is mt.nn.functional.relu
        assert nn.init.kaiming_uniform_ is mt.nn.init.kaiming_uniform_ and optim.SGD is mt.optim.SGD
        assert torch.optim.lr_scheduler.StepLR is mt.optim.lr_scheduler.StepLR
        assert torch.utils.data.DataLoader.__module__.startswith("minitorch_cnn")
        assert torch.float32 is mt.float32 and torch.float is mt.float32 and torch.double is mt.float64
        assert torch.long is mt.int64 and torch.int is mt.int32 and torch.half is mt.float16
        assert torch.bool is mt.bool_ and torch.uint8 is mt.uint8
        x = torch.randn(2, 3)
        assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
        assert torch.manual_seed(0) is not None
        with torch.no_grad():
            assert not (x * 2).requires_grad
        assert torch.cuda.is_available() == mt.cuda.is_available()
        assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
        torch.backends.cudnn.benchmark = True
        assert torch.backends.cudnn.benchmark is True
        assert torch.accelerator.is_available() == torch.cuda.is_available()
        assert torch.cuda.device_count() == int(torch.cuda.is_available())
        torch.cuda.manual_seed(0), torch.cuda.manual_seed_all(0), torch.cuda.synchronize(), torch.cuda.empty_cache()
        if not torch.cuda.is_available():
            assert torch.accelerator.current_accelerator() is None
        assert torch.__version__.startswith("2.13") and "minitorch_cnn" in repr(torch)
        assert "nn" in dir(torch) and "Conv2d" in dir(nn)
        print("ok")
    """))
    assert out.strip() == "ok"


@pytest.mark.parametrize("statement, error, name", [
    ("import torch.fft", "ImportError", "torch.fft"),
    ("from torch import fft", "ImportError", "torch.fft"),
    ("import torch.distributed", "ImportError", "torch.distributed"),
    ("from torchvision import models", "ImportError", "torchvision.models"),
    ("import torchvision.models", "ImportError", "torchvision.models"),
    ("import torch.nn as nn; nn.LSTM(2, 2)", "AttributeError", "torch.nn.LSTM"),
    ("import torch; torch.bfloat16", "AttributeError", "torch.bfloat16"),
    ("import torch; torch.distributed.init_process_group", "AttributeError", "torch.distributed"),
    ("import torchvision.datasets as d; d.CIFAR10('data')", "AttributeError", "torchvision.datasets.CIFAR10"),
    ("import torchvision.transforms as t; t.RandomCrop(2)", "AttributeError", "torchvision.transforms.RandomCrop"),
])
def test_what_the_engine_lacks_raises_one_clear_error(tmp_path, statement, error, name):
    out = ok(probe(tmp_path, f"""
        try:
            {statement}
        except Exception as exc:
            print(type(exc).__name__, isinstance(exc, ImportError), isinstance(exc, AttributeError))
            print(exc)
    """))
    kinds, message = out.strip().split("\n")
    _, is_import, is_attribute = kinds.split()
    assert (is_import, is_attribute) == (str(error == "ImportError"), str(error == "AttributeError"))
    assert message.startswith("minitorch_cnn.as_torch:") and f" {name} " in message
    assert "needs real PyTorch" in message


def test_legacy_tensor_constructors_make_torchs_dtype(tmp_path):
    """torch.Tensor(data) is always float32 and torch.Tensor(3, 4) a float32 3x4 (the custom-layer
    idiom nn.Parameter(torch.Tensor(out, in))); the engine's Tensor(...) keeps its argument's dtype,
    so the runner's torch.Tensor constructs as torch's and answers isinstance as the engine's."""
    out = ok(probe(tmp_path, """
        import numpy as np, torch, torch.nn as nn
        assert torch.Tensor([1, 2]).dtype == torch.float32 and torch.Tensor([1, 2]).tolist() == [1.0, 2.0]
        assert torch.Tensor(np.array([1, 2])).dtype == torch.float32
        assert tuple(torch.Tensor(2, 3).shape) == (2, 3) and torch.Tensor(2, 3).dtype == torch.float32
        assert tuple(torch.Tensor().shape) == (0,)
        w = nn.Parameter(torch.Tensor(4, 3))
        nn.init.kaiming_uniform_(w)
        assert w.requires_grad and w.dtype == torch.float32 and tuple(w.shape) == (4, 3)
        assert isinstance(w, torch.Tensor) and isinstance(torch.ones(2), torch.Tensor)
        assert isinstance(torch.ones(2, dtype=torch.long), torch.LongTensor)
        assert not isinstance(torch.ones(2), torch.LongTensor)
        assert torch.LongTensor([1.7, 2]).tolist() == [1, 2] and torch.FloatTensor(2).dtype == torch.float32
        for bad in (lambda: torch.Tensor(2.5), lambda: torch.Tensor([1], dtype=torch.float64)):
            try:
                bad()
            except TypeError as error:
                assert "torch.Tensor()" in str(error)
            else:
                raise AssertionError("accepted")
        print("legacy ok")
    """))
    assert "legacy ok" in out


def test_the_seed_variable_makes_an_unseeded_script_repeat(tmp_path):
    code = """
        import random, numpy as np, torch
        print(torch.rand(3).tolist(), np.random.rand(), random.random())
    """
    first, second = (ok(probe(tmp_path, code, seed=7)) for _ in range(2))
    assert first == second
    assert ok(probe(tmp_path, code, seed=8)) != first
    bad = probe(tmp_path, code, seed="seven")
    assert bad.returncode != 0 and "MINITORCH_CNN_AS_TORCH_SEED must be an integer" in bad.stderr


def test_install_refuses_when_real_torch_is_imported():
    code = ("import sys, types; sys.modules['torch'] = types.ModuleType('torch')\n"
            "import minitorch_cnn.as_torch as a\n"
            "try:\n    a.install()\nexcept RuntimeError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "cannot stand in for torch: torch is already imported" in out.stdout, out.stderr


def test_torch_save_and_load_through_the_hook(tmp_path):
    out = ok(probe(tmp_path, """
        import torch, torch.nn as nn
        model = nn.Linear(3, 2)
        torch.save(model.state_dict(), "model.pt")
        state = torch.load("model.pt", weights_only=True, map_location="cpu")
        assert (state["weight"].numpy() == model.weight.detach().numpy()).all()
        other = nn.Linear(3, 2)
        other.load_state_dict(torch.load("model.pt", map_location=torch.device("cpu")))
        assert (other.bias.detach().numpy() == model.bias.detach().numpy()).all()
        state = torch.load("model.pt", map_location={"cuda:0": "cpu"}, weights_only=False)
        print(sorted(state))
    """))
    assert out.strip() == "['bias', 'weight']"


# ----------------------------------------------------------------------------- torch.save / load's signature

def test_save_and_load_take_torchs_arguments(tmp_path):
    t = mt.tensor([1.0, 2.0])
    mt.save({"t": t}, tmp_path / "f", pickle_protocol=4)
    assert mt.load(tmp_path / "f", map_location=None, weights_only=True, mmap=False)["t"].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="pickle-free"):
        mt.save({"t": t}, tmp_path / "g", pickle_module=object())
    with pytest.raises(ValueError, match="pickle-free.*encoding"):
        mt.load(tmp_path / "f", encoding="latin1")
    with pytest.raises(ValueError, match="mmap=True"):
        mt.load(tmp_path / "f", mmap=True)
    with pytest.raises(TypeError, match="map_location as a function"):
        mt.load(tmp_path / "f", map_location=lambda storage, location: storage)
    with pytest.raises(ValueError, match="unknown device"):
        mt.load(tmp_path / "f", map_location="mps")


def test_save_and_load_signatures_equal_torchs():
    torch = pytest.importorskip("torch")
    import inspect

    def params(fn):
        return [(p.name, p.kind, p.default if p.name != "pickle_module" else "module")
                for p in inspect.signature(fn).parameters.values()]
    for name in ("save", "load"):
        assert params(getattr(mt, name)) == params(getattr(torch, name)), name


def test_a_real_torch_file_is_refused_naming_the_format(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "real.pt")
    with pytest.raises(RuntimeError, match="real PyTorch's pickled format"):
        mt.load(tmp_path / "real.pt")


# ----------------------------------------------------------------------------- torchvision's transforms

def test_to_tensor_as_torchvision_defines_it():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    t = ToTensor()(image)
    assert isinstance(t, mt.Tensor) and t.dtype == mt.float32 and t.shape == (1, 3, 4)
    np.testing.assert_array_equal(t.numpy()[0], image.astype(np.float32) / np.float32(255))
    rgb = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    np.testing.assert_array_equal(ToTensor()(rgb).numpy(), rgb.transpose(2, 0, 1) / np.float32(255))
    floats = np.full((2, 2), 3.5)       # not uint8: values kept, dtype kept (torchvision's rule)
    assert ToTensor()(floats).dtype == mt.float64 and ToTensor()(floats).numpy().max() == 3.5
    assert PILToTensor()(image).dtype == mt.uint8 and PILToTensor()(image).shape == (1, 3, 4)
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        ToTensor()(mt.zeros(1, 2, 2))


def test_to_tensor_takes_a_pil_image():
    Image = pytest.importorskip("PIL.Image")
    image = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10
    np.testing.assert_array_equal(ToTensor()(Image.fromarray(image, mode="L")).numpy()[0], image / np.float32(255))


def test_normalize_on_tensors_matches_torchvisions_formula():
    x = ToTensor()(np.arange(16, dtype=np.uint8).reshape(4, 4))
    y = Normalize((0.1307,), (0.3081,))(x)
    assert isinstance(y, mt.Tensor) and y.dtype == mt.float32
    expected = (x.numpy() - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_array_equal(y.numpy(), expected)
    Normalize((0.5,), (0.25,), inplace=True)(x)
    scaled = np.arange(16, dtype=np.float32).reshape(1, 4, 4) / np.float32(255)
    np.testing.assert_array_equal(x.numpy(), (scaled - np.float32(0.5)) / np.float32(0.25))
    with pytest.raises(TypeError, match="float tensor"):
        Normalize(0.5, 0.5)(mt.zeros(1, 2, 2, dtype=mt.uint8))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        Normalize(0.5, 0.5)(mt.zeros(2, 2))


def test_a_chain_on_a_whole_split_equals_it_image_by_image():
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    chain = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    stacked = transform_stack(chain, images)
    one_by_one = np.stack([chain(image).numpy() for image in images])
    assert stacked.dtype == np.float32
    np.testing.assert_array_equal(stacked, one_by_one)
    assert transform_stack(Compose([ToTensor(), Lambda(lambda t: t)]), images) is None


# ----------------------------------------------------------------------------- torchvision's datasets

def test_mnist_reads_torchvisions_layout(tmp_path):
    splits = write_mnist(tmp_path)
    ds = tvd.TorchvisionMNIST(tmp_path, train=False)
    assert len(ds) == 1000 and ds.classes[3] == "3 - three" and ds.class_to_idx["9 - nine"] == 9
    assert isinstance(ds.data, mt.Tensor) and ds.data.dtype == mt.uint8 and ds.data.shape == (1000, 28, 28)
    assert ds.targets.dtype == mt.int64 and ds.targets.shape == (1000,)
    np.testing.assert_array_equal(ds.data.numpy(), splits[False][0])
    image, target = ds[5]
    assert image.dtype == np.uint8 and image.shape == (28, 28) and target == int(splits[False][1][5])
    assert type(target) is int
    assert not hasattr(ds, "arrays")                 # no transform: items one by one
    ds = tvd.TorchvisionMNIST(str(tmp_path), train=True, transform=Compose([ToTensor(), Normalize((0.5,), (0.5,))]),
                              target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype == mt.float32 and y == int(splits[True][1][0]) + 100
    assert "Dataset MNIST" in repr(ds) and "Split: Train" in repr(ds)


def test_mnist_without_files_and_without_download_raises_torchvisions_error(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True to download it"):
        tvd.TorchvisionMNIST(tmp_path / "empty", train=True, download=False)


def test_offline_mnist_falls_back_to_the_bundled_digits_with_a_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(MNIST, "mirrors", ((tmp_path / "no-mirror").as_uri() + "/",))
    root = tmp_path / "data"
    train = tvd.TorchvisionMNIST(root, train=True, download=True)
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and "bundled" in notice[0] and "4,000 train / 1,000 test" in notice[0]
    assert len(train) == 4000 and not (root / "MNIST" / "raw").exists()
    test = tvd.TorchvisionMNIST(root, train=False)           # the test split follows, download=False
    assert len(test) == 1000 and capsys.readouterr().err == ""
    np.testing.assert_array_equal(test.data.numpy(), BundledDigits(train=False).data)


def test_fashion_mnist_never_falls_back_to_digits(tmp_path, monkeypatch):
    monkeypatch.setattr(tvd.TorchvisionFashionMNIST.engine_class, "mirrors", ((tmp_path / "none").as_uri() + "/",))
    monkeypatch.setattr(tvd.TorchvisionFashionMNIST.engine_class, "system_dirs", ())
    with pytest.raises(RuntimeError, match="FashionMNIST is not bundled"):
        tvd.TorchvisionFashionMNIST(tmp_path, train=False, download=True)


def test_fashion_mnist_from_its_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tvd.TorchvisionFashionMNIST.engine_class, "system_dirs", ())
    write_mnist(tmp_path, folder="FashionMNIST", gz=False)
    ds = tvd.TorchvisionFashionMNIST(tmp_path, train=True)
    assert len(ds) == 4000 and ds.classes[9] == "Ankle boot"
    assert ds.data.numpy().shape == (4000, 28, 28)


@pytest.mark.skipif(not FASHION_DEBIAN.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debians_package(tmp_path):
    ds = tvd.TorchvisionFashionMNIST(tmp_path, train=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    assert np.bincount(ds.targets.numpy()).tolist() == [1000] * 10


def test_the_limit_keeps_each_splits_first_samples(tmp_path, monkeypatch, capsys):
    splits = write_mnist(tmp_path)
    monkeypatch.setenv("MINITORCH_CNN_AS_TORCH_LIMIT", "300")
    ds = tvd.TorchvisionMNIST(tmp_path, train=True)
    assert len(ds) == 300 and "keeping the first 300 of 4,000" in capsys.readouterr().err
    np.testing.assert_array_equal(ds.targets.numpy(), splits[True][1][:300])


def test_the_loaders_batches_are_the_per_sample_path_bit_for_bit(tmp_path):
    write_mnist(tmp_path)
    chain = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    ds = tvd.TorchvisionMNIST(tmp_path, train=False, transform=chain)
    assert hasattr(ds, "arrays")
    images, labels = next(iter(mt.data.DataLoader(ds, batch_size=50)))
    expected = np.stack([ds[i][0].numpy() for i in range(50)])
    np.testing.assert_array_equal(images.numpy(), expected)
    assert labels.dtype == mt.int64 and labels.tolist() == [ds[i][1] for i in range(50)]
    ds.transform = Compose([ToTensor(), Lambda(lambda t: t * 2)])        # not stackable: item by item
    assert not hasattr(ds, "arrays")
    images, labels = next(iter(mt.data.DataLoader(ds, batch_size=20)))
    np.testing.assert_array_equal(images.numpy(), np.stack([ds[i][0].numpy() for i in range(20)]))
    assert labels.dtype == mt.int64 and images.shape == (20, 1, 28, 28)


# ----------------------------------------------------------------------------- the scripts

@pytest.fixture
def workdir(tmp_path):
    """tmp/work (the scripts' working directory), with MNIST's files in tmp/data (for '../data')
    and tmp/work/data (for 'data')."""
    work = tmp_path / "work"
    work.mkdir()
    write_mnist(tmp_path / "data")
    shutil.copytree(tmp_path / "data", work / "data")
    return work


def test_seed_000_custom_layers_learn(workdir):
    out = ok(run(SCRIPTS / "seed_000_custom_layers.py", cwd=workdir, limit=1000))
    assert "LeNet5 output shape: (2, 10)" in out
    test_accuracy = accuracies(r"test (\d+\.\d)%", out)
    assert len(test_accuracy) == 1 and test_accuracy[0] > 60      # about 80% (seeded by the runner's variable)


def test_seed_001_simple_cnn_runs(workdir):
    out = ok(run(SCRIPTS / "seed_001_simple_cnn.py", cwd=workdir))
    assert "(fc1): Linear(in_features=1568, out_features=128, bias=True)" in out
    assert re.search(r"Input shape: \D*4, 1, 28, 28\D*\n", out)
    assert re.search(r"Output shape: \D*4, 10\D*\n", out)


def test_seed_002_sequential_cnn_takes_a_step(workdir):
    out = ok(run(SCRIPTS / "seed_002_sequential_cnn.py", cwd=workdir))
    assert re.search(r"Output shape: \D*4, 10\D*\n", out)
    loss = float(re.search(r"Training step loss: (\S+)", out).group(1))
    assert 1.0 < loss < 4.0             # cross-entropy of 10 classes at initialisation: about ln 10


def test_seed_003_digit_cnn_learns(workdir):
    out = ok(run(SCRIPTS / "seed_003_digit_cnn.py", cwd=workdir, limit=1000))
    assert "Total parameters: 206,922" in out
    test_accuracy = accuracies(r"Test=(\d+\.\d)%", out)
    assert len(test_accuracy) == 3 and test_accuracy[-1] > 65     # about 85% (seeded by the runner's variable)
    assert "Layer 1: 16 learned filters" in out and out.count("[[") >= 2


def test_seed_004_mnist_csv_learns(workdir):
    digits = BundledDigits(train=True, normalize=False)          # a smaller mnist_small.csv: 1,500 rows
    rows = np.column_stack([digits.targets[:1500], digits.data[:1500].reshape(1500, -1)])
    header = ",".join(["label"] + [f"pixel{i}" for i in range(784)])
    np.savetxt(workdir / "mnist_small.csv", rows, fmt="%d", delimiter=",", header=header, comments="")
    real = all(importlib.util.find_spec(name) is not None for name in ("pandas", "sklearn"))
    standins = None if real else STANDINS
    out = ok(run(SCRIPTS / "seed_004_mnist_csv.py", cwd=workdir, extra_path=standins))
    losses = accuracies(r"epoch \d - loss (\d+\.\d+)", out)
    assert len(losses) == 10 and losses[-1] < losses[0] / 2
    assert float(re.search(r"Accuracy: (\S+)", out).group(1)) > 0.8
    assert float(re.search(r"SimpleCNN accuracy after one epoch on cpu : (\S+)", out).group(1)) > 0.5


def test_mnist_example_api_learns_and_saves(workdir):
    out = ok(run(SCRIPTS / "mnist_example_api.py", "--epochs", "1", "--save-model", cwd=workdir, limit=1000))
    assert "Using device: cpu" in out or "Using device: cuda" in out
    accuracy = re.findall(r"Accuracy: (\d+)/(\d+)", out)
    assert len(accuracy) == 1 and int(accuracy[0][0]) / int(accuracy[0][1]) > 0.8
    assert "Saved and reloaded mnist_cnn.pt" in out and (workdir / "mnist_cnn.pt").is_file()


def test_mnist_example_api_dry_run(workdir):
    out = ok(run(SCRIPTS / "mnist_example_api.py", "--dry-run", "--epochs", "1", cwd=workdir, limit=200))
    assert out.count("Train Epoch: 1") == 1 and "Test set: Average loss" in out


def test_autograd_function_example_checks_and_learns(workdir):
    out = ok(run(SCRIPTS / "autograd_function.py", cwd=workdir))
    assert "gradcheck ScaledSquare: True, LeakyClamp: True" in out
    first, last = map(float, re.search(r"loss first: (\S+)  last: (\S+)", out).groups())
    assert last < first / 100
