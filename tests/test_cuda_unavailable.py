"""The CUDA path on a machine without it: clear errors, and device checks that need no GPU.

These tests run everywhere, GPU or not.  "No CuPy" is simulated, never assumed:
in-process by putting the backend in the state a failed `import cupy` leaves it
in, and in subprocesses by a `cupy` package on PYTHONPATH whose import fails
(so even a machine that has CuPy sees the missing-CuPy path).

Asking for 'cuda' without CuPy must raise one sentence that names what is
missing (CuPy, and why it did not import) and how to get it (the cuda12 /
cuda13 extras); the CLI turns it into one `error:` line and exit code 2, and
the GPU benchmark into one line and exit code 2.

Mixing devices in one op is checked without a GPU by one honest stand-in: a
NumPy array subclass that the backend reports as living on 'cuda'.  Only
`backend.device_of` is patched, so what is tested is the engine's own device
bookkeeping (autograd's check, cross_entropy's target, batch_norm's running
statistics, backward's seed); tests/test_cuda.py repeats the checks with real
CuPy arrays.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import backend, models
from minitorch_cnn.data import DataLoader, TensorDataset
from minitorch_cnn.nn import functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT_ERROR = "No module named 'cupy'"


# ---- missing CuPy, in this process -------------------------------------------------

@pytest.fixture
def no_cupy(monkeypatch):
    """The backend exactly as a failed `import cupy` leaves it (restored after the test)."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", ModuleNotFoundError(IMPORT_ERROR))


def assert_one_clear_sentence(message, device="device 'cuda'"):
    """Names the missing piece, why it is missing, and the extra that installs it; one line.
    (The training CLI names the flag: `--device cuda needs CuPy ...`.)"""
    assert "\n" not in message
    assert message.startswith(f"{device} needs CuPy, which could not be imported")
    assert IMPORT_ERROR in message
    assert 'pip install ".[cuda12]"' in message and ".[cuda13]" in message


ASK_FOR_CUDA = {
    "mt.tensor(device='cuda')": lambda: mt.tensor([1.0, 2.0], device="cuda"),
    "mt.tensor(device='cuda:0')": lambda: mt.tensor([1.0, 2.0], device="cuda:0"),
    "mt.zeros(device='cuda')": lambda: mt.zeros(2, 3, device="cuda"),
    "mt.randn(device='cuda')": lambda: mt.randn(2, 3, device="cuda"),
    "Tensor.to('cuda')": lambda: mt.tensor([1.0]).to("cuda"),
    "Tensor.cuda()": lambda: mt.tensor([1.0]).cuda(),
    "Tensor.to('cuda') requiring grad": lambda: mt.tensor([1.0], requires_grad=True).to("cuda"),
    "Module.to('cuda')": lambda: models.DigitCNN().to("cuda"),
    "Module.cuda()": lambda: models.LeNet5().cuda(),
    "DataLoader(device='cuda')": lambda: DataLoader(
        TensorDataset(np.zeros((4, 1, 2, 2), np.float32), np.arange(4)), batch_size=2, device="cuda"),
}


@pytest.mark.parametrize("ask", ASK_FOR_CUDA.values(), ids=list(ASK_FOR_CUDA))
def test_asking_for_cuda_without_cupy_raises_one_clear_sentence(no_cupy, ask):
    with pytest.raises(RuntimeError) as info:
        ask()
    assert_one_clear_sentence(str(info.value))


def test_is_available_is_false_without_cupy(no_cupy):
    assert mt.cuda.is_available() is False
    assert backend.cuda_is_available() is False


def test_a_failed_module_move_leaves_the_module_on_the_cpu(no_cupy):
    model = models.DigitCNN()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError):
        model.to("cuda")
    assert all(t.device == "cpu" for t in list(model.parameters()) + list(model.buffers()))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_cupy_without_a_gpu_says_so(monkeypatch):
    """CuPy imports but its runtime finds no device (a driver-less machine): a different sentence."""
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    class FakeCupy:   # only what the backend asks of CuPy before it can use a GPU
        class cuda:
            class runtime:
                getDeviceCount = staticmethod(no_device)

    monkeypatch.setattr(backend, "_cupy", FakeCupy)
    monkeypatch.setattr(backend, "_cupy_error", None)
    assert mt.cuda.is_available() is False
    with pytest.raises(RuntimeError, match=r"^device 'cuda' was asked for, but CuPy finds no NVIDIA GPU"):
        mt.tensor([1.0], device="cuda")


def test_cpu_work_never_imports_cupy():
    """The whole CPU path (a training step, a DataLoader, a checkpoint) runs without CuPy."""
    code = ("import sys; sys.modules['cupy'] = None\n"      # None makes `import cupy` fail
            "import numpy as np, minitorch_cnn as mt\n"
            "from minitorch_cnn import models, optim\n"
            "from minitorch_cnn.nn import functional as F\n"
            "mt.manual_seed(0)\n"
            "model = models.DigitCNN(); opt = optim.Adam(model.parameters())\n"
            "x = mt.randn(4, 1, 28, 28); y = mt.tensor([0, 1, 2, 3])\n"
            "loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()\n"
            "print(repr(loss)[:7], mt.cuda.is_available())\n")
    result = run_python(["-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tensor(", "False"]


# ---- missing CuPy, in a fresh process ------------------------------------------------

def run_python(args, cupy_blocker=None, timeout=120):
    """Run `python args...` from the repository root; with cupy_blocker (a folder holding a
    failing `cupy` package) first on the path, so `import cupy` fails there."""
    path = [str(cupy_blocker)] if cupy_blocker is not None else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path + [REPO, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable] + list(args), capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=timeout)


@pytest.fixture
def cupy_blocker(tmp_path):
    package = tmp_path / "blocker" / "cupy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"raise ImportError({IMPORT_ERROR!r})\n")
    return package.parent


def test_cli_device_cuda_without_cupy_is_one_error_line_and_exit_2(cupy_blocker, tmp_path):
    result = run_python(["-m", "minitorch_cnn.train", "--device", "cuda", "--limit-train", "256",
                         "--epochs", "1", "--dataset", "bundled-digits", "--out", str(tmp_path / "run")],
                        cupy_blocker)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr                    # no traceback
    assert lines[0].startswith("error: ")
    assert_one_clear_sentence(lines[0][len("error: "):], device="--device cuda")
    assert result.stdout == ""                               # nothing started
    assert not (tmp_path / "run").exists()


def test_gpu_benchmark_without_cupy_exits_with_one_line(cupy_blocker, tmp_path):
    result = run_python([os.path.join("benchmarks", "bench_gpu.py"), "--out", str(tmp_path / "results")],
                        cupy_blocker, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bench_gpu: cannot run: ")
    assert_one_clear_sentence(lines[0][len("bench_gpu: cannot run: "):])
    assert result.stdout == ""
    assert not (tmp_path / "results").exists()               # no empty result files


# ---- mixing devices in one op, with a stand-in 'cuda' array --------------------------

class FakeCudaArray(np.ndarray):
    """A NumPy array that the backend reports as living on 'cuda' (see the module doc)."""


@pytest.fixture
def fake_cuda(monkeypatch):
    real_device_of = backend.device_of
    monkeypatch.setattr(backend, "device_of",
                        lambda a: "cuda" if isinstance(a, FakeCudaArray) else real_device_of(a))

    def on_fake_cuda(array, requires_grad=False):
        return mt.Tensor(np.array(array).view(FakeCudaArray), requires_grad=requires_grad)
    return on_fake_cuda


TWO_DEVICES = r"expected all tensors to be on the same device, but found at least two devices, cpu and cuda"


def test_stand_in_reports_cuda(fake_cuda):
    assert fake_cuda(np.ones(3)).device == "cuda"
    assert mt.tensor(np.ones(3)).device == "cpu"


MIXED_OPS = {
    "add": lambda c, g: c + g,
    "mul (cuda first)": lambda c, g: g * c,
    "matmul": lambda c, g: c.reshape(2, 3) @ g.reshape(3, 2),
    "linear": lambda c, g: F.linear(g.reshape(2, 3), c.reshape(2, 3)),
    "conv2d": lambda c, g: F.conv2d(g.reshape(1, 1, 2, 3), c.reshape(1, 1, 2, 3)),
    "compare": lambda c, g: c < g,
}


@pytest.mark.parametrize("op", MIXED_OPS.values(), ids=list(MIXED_OPS))
def test_mixing_devices_in_one_op_names_both_devices(fake_cuda, op):
    rng = np.random.default_rng(0)
    cpu = mt.tensor(rng.standard_normal(6), requires_grad=True)
    gpu = fake_cuda(rng.standard_normal(6), requires_grad=True)
    with pytest.raises(RuntimeError, match=TWO_DEVICES):
        op(cpu, gpu)


def test_cross_entropy_checks_the_target_device(fake_cuda):
    logits = mt.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    target = fake_cuda(np.array([0, 3, 1]))
    with pytest.raises(RuntimeError, match=r"^CrossEntropy: " + TWO_DEVICES):
        F.cross_entropy(logits, target)


def test_batch_norm_checks_the_running_statistics_device(fake_cuda):
    x = fake_cuda(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    mean, var = mt.zeros(3), mt.ones(3)          # left on the cpu
    with pytest.raises(RuntimeError, match=r"batch_norm: .*running_mean is on cpu and the input on cuda"):
        F.batch_norm(x, mean, var, training=True)


def test_backward_seed_on_another_device_is_refused(fake_cuda):
    x = mt.tensor(np.ones(3), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"grad is on device 'cuda', but the tensor is on 'cpu'"):
        y.backward(fake_cuda(np.ones(3)))
    y.backward(mt.tensor(np.ones(3)))            # the same seed on the right device works
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
