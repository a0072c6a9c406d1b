"""The CUDA path on a machine without it: clear errors, and device checks that need no GPU.

These tests run everywhere, GPU or not.  "No CuPy" is simulated, never assumed:
in-process by putting the backend in the state a failed `import cupy` leaves it
in, and in subprocesses by a `cupy` package on PYTHONPATH whose import fails
(so even a machine that has CuPy sees the missing-CuPy path).

Asking for 'cuda' without CuPy must raise one sentence that names what is
missing (CuPy, and why it did not import) and how to get it (the cuda12 /
cuda13 extras); the CLI turns it into one `error:` line and exit code 2, and
the GPU benchmark into one line and exit code 2.

With CuPy importable, what else can fail is simulated by a fake `cupy` module
(in sys.modules in-process, a package on PYTHONPATH in subprocesses) that
raises what the real one raises, with CuPy 14.2's own texts: a driver too old
for the runtime, no driver, no device, libnvrtc / libcublasLt / libcurand not
found.  Each reason must reach the user whole: in cuda_unavailable_reason(),
in every "device 'cuda' cannot be used" error, in the CLI's error line, in the
skip reason of tests/test_cuda.py and, with MINITORCH_CNN_REQUIRE_CUDA=1, in
the failure that replaces those skips.

Mixing devices in one op is checked without a GPU by one honest stand-in: a
NumPy array subclass that the backend reports as living on 'cuda'.  Only
`backend.device_of` is patched, so what is tested is the engine's own device
bookkeeping (autograd's check, cross_entropy's target, batch_norm's running
statistics, backward's seed); tests/test_cuda.py repeats the checks with real
CuPy arrays.
"""
import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import _gpu
import minitorch_cnn as mt
from minitorch_cnn import backend, models
from minitorch_cnn.data import DataLoader, TensorDataset
from minitorch_cnn.nn import functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT_ERROR = "No module named 'cupy'"
REQUIRE_CUDA = "MINITORCH_CNN_REQUIRE_CUDA"


# ---- missing CuPy, in this process -------------------------------------------------

@pytest.fixture
def no_cupy(monkeypatch):
    """The backend exactly as a failed `import cupy` leaves it (restored after the test)."""
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", ModuleNotFoundError(IMPORT_ERROR))


def assert_one_clear_sentence(message, device="device 'cuda'"):
    """Names the missing piece, why it is missing, and the extra that installs it; one line.
    (The training CLI names the flag: `--device cuda cannot be used: ...`.)"""
    assert "\n" not in message
    assert message.startswith(f"{device} cannot be used: CuPy could not be imported")
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
    "DataLoader.to('cuda')": lambda: DataLoader(
        TensorDataset(np.zeros((4, 1, 2, 2), np.float32), np.arange(4)), batch_size=2).to("cuda"),
}


@pytest.mark.parametrize("ask", ASK_FOR_CUDA.values(), ids=list(ASK_FOR_CUDA))
def test_asking_for_cuda_without_cupy_raises_one_clear_sentence(no_cupy, ask):
    with pytest.raises(RuntimeError) as info:
        ask()
    assert_one_clear_sentence(str(info.value))


def test_is_available_is_false_without_cupy(no_cupy):
    assert mt.cuda.is_available() is False
    assert backend.cuda_is_available() is False
    assert mt.cuda.unavailable_reason() == backend.cuda_unavailable_reason()
    assert mt.cuda.unavailable_reason().startswith(
        f"CuPy could not be imported (ModuleNotFoundError: {IMPORT_ERROR}); install it with")


def test_a_failed_import_of_cupy_is_remembered_with_its_text(monkeypatch):
    """The real import path: `import cupy` fails, the backend keeps the exception and quotes it."""
    monkeypatch.setitem(sys.modules, "cupy", None)          # None makes `import cupy` fail
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    reason = backend.cuda_unavailable_reason()
    assert reason.startswith("CuPy could not be imported (ModuleNotFoundError: ")
    assert "cupy" in reason and isinstance(backend._cupy_error, ImportError)


def test_a_failed_module_move_leaves_the_module_on_the_cpu(no_cupy):
    model = models.DigitCNN()
    before = {k: v.clone() for k, v in model.state_dict().items()}     # (the values share memory)
    with pytest.raises(RuntimeError):
        model.to("cuda")
    assert all(t.device == "cpu" for t in list(model.parameters()) + list(model.buffers()))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


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

def run_python(args, cupy_blocker=None, timeout=120, require_cuda=None):
    """Run `python args...` from the repository root; with cupy_blocker (a folder holding a
    failing or fake `cupy` package) first on the path, so `import cupy` finds it there.
    MINITORCH_CNN_REQUIRE_CUDA is set to require_cuda, or removed when that is None."""
    path = [str(cupy_blocker)] if cupy_blocker is not None else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path + [REPO, os.environ.get("PYTHONPATH", "")])}
    env.pop(REQUIRE_CUDA, None)
    if require_cuda is not None:
        env[REQUIRE_CUDA] = require_cuda
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


# ---- CuPy imports, but something else fails: a fake cupy ---------------------------

# CuPy 14.2's own texts for each failure (read from cupy-cuda13x 14.2.0 on a machine without
# a driver, and from its error tables).
INSUFFICIENT_DRIVER = "cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version"
NO_DEVICE = "cudaErrorNoDevice: no CUDA-capable device is detected"
DEVICES_BUSY = "cudaErrorDevicesUnavailable: CUDA-capable device(s) is/are busy or unavailable"
NO_KERNEL_IMAGE = "cudaErrorNoKernelImageForDevice: no kernel image is available for execution on the device"
NO_NVRTC = ('Failure finding "libnvrtc.so.13 or libnvrtc.so.12": No such file: libnvrtc.so.13 or '
            'libnvrtc.so.12, No such file: libnvrtc.so.13 or libnvrtc.so.12\n')
NO_CUBLAS = ('Failure finding "libcublasLt.so.13 or libcublasLt.so.12": No such file: libcublasLt.so.13 '
             'or libcublasLt.so.12, No such file: libcublasLt.so.13 or libcublasLt.so.12\n')
NO_CURAND = ('Failure finding "libcurand.so.11 or libcurand.so.10": No such file: libcurand.so.11 or '
             'libcurand.so.10, No such file: libcurand.so.11 or libcurand.so.10\n')
COMPILE_LOG = ("/tmp/tmpxyz/probe.cu(1): error: identifier \"out\" is undefined\n\n"
               "1 error detected in the compilation of \"/tmp/tmpxyz/probe.cu\".\n")


class CUDARuntimeError(RuntimeError):
    """As cupy_backends.cuda.api.runtime.CUDARuntimeError: a status code and its CUDA text."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status = status


class DynamicLibNotFoundError(RuntimeError):
    """As cuda.pathfinder's, raised when CuPy looks for a CUDA library that is not installed."""


class CompileException(Exception):
    """As cupy.cuda.compiler.CompileException: NVRTC's log, over several lines."""


def make_fake_cupy(runtime=13000, driver=13000, devices=1, device_error=None, compile_error=None,
                   launch_error=None, kernel_writes=42, matmul_error=None, curand_error=None):
    """A `cupy` module with what the backend's probe uses, failing where told to.  Arrays are
    NumPy arrays; `calls` records what the probe did."""
    calls = []
    cupy = types.ModuleType("cupy")
    cupy.__version__ = "14.2.0"
    cupy.calls = calls
    cupy.int32, cupy.float32 = np.int32, np.float32
    cupy.zeros = np.zeros
    cupy.get_array_module = lambda *arrays: np

    def get_device_count():
        calls.append("getDeviceCount")
        if device_error is not None:
            raise device_error
        return devices

    cupy.cuda = types.ModuleType("cupy.cuda")
    cupy.cuda.runtime = types.SimpleNamespace(runtimeGetVersion=lambda: runtime,
                                              driverGetVersion=lambda: driver,
                                              getDeviceCount=get_device_count)

    def curand_module(name):      # CuPy's cupy.cuda loads libcurand when `curand` is first asked for
        if name != "curand":
            raise AttributeError(name)
        if curand_error is not None:
            raise curand_error
        return types.SimpleNamespace(CURAND_RNG_PSEUDO_PHILOX4_32_10=103)
    cupy.cuda.__getattr__ = curand_module

    class RawKernel:
        def __init__(self, code, name, options=()):
            calls.append(("RawKernel", name, tuple(options)))

        def compile(self):
            calls.append("compile")
            if compile_error is not None:
                raise compile_error

        def __call__(self, grid, block, args):
            calls.append("launch")
            if launch_error is not None:
                raise launch_error
            args[0][0] = kernel_writes
    cupy.RawKernel = RawKernel

    class Matrix(np.ndarray):
        def __matmul__(self, other):
            calls.append("matmul")
            if matmul_error is not None:
                raise matmul_error
            return np.asarray(self) @ np.asarray(other)
    cupy.ones = lambda shape, dtype: np.ones(shape, dtype).view(Matrix)

    class RandomState:
        def __init__(self, seed, method):
            calls.append(("RandomState", method))

        def random_sample(self, size, dtype):
            return np.full(size, 0.5, dtype)
    cupy.random = types.SimpleNamespace(RandomState=RandomState)
    return cupy


@pytest.fixture
def fake_cupy(monkeypatch):
    """install(**behaviour): puts a fake cupy where `import cupy` finds it, the backend unloaded."""
    def install(**behaviour):
        cupy = make_fake_cupy(**behaviour)
        monkeypatch.setitem(sys.modules, "cupy", cupy)
        monkeypatch.setitem(sys.modules, "cupy.cuda", cupy.cuda)
        monkeypatch.setattr(backend, "_cupy", None)
        monkeypatch.setattr(backend, "_cupy_error", None)
        monkeypatch.setattr(backend, "_probed", (None, None))
        return cupy
    return install


FAILURES = {
    "driver too old for the runtime": (
        dict(driver=12040, runtime=13000, device_error=CUDARuntimeError(35, INSUFFICIENT_DRIVER)),
        ["the NVIDIA driver supports CUDA 12.4, older than the CUDA 13.0 runtime of CuPy 14.2.0",
         INSUFFICIENT_DRIVER, "install an NVIDIA driver for CUDA 13.x (>= 580 on Linux)",
         'pip install ".[cuda12]"']),
    "CUDA 12 runtime, older driver": (
        dict(driver=11080, runtime=12080, device_error=CUDARuntimeError(35, INSUFFICIENT_DRIVER)),
        ["supports CUDA 11.8, older than the CUDA 12.8 runtime", INSUFFICIENT_DRIVER,
         "for CUDA 12.x (>= 525.60.13 on Linux)"]),
    "no driver": (
        dict(driver=0, runtime=13020, device_error=CUDARuntimeError(35, INSUFFICIENT_DRIVER)),
        ["no NVIDIA driver was found (cudaDriverGetVersion() = 0), so CuPy 14.2.0 (CUDA runtime 13.2) "
         "cannot reach a GPU", INSUFFICIENT_DRIVER]),
    "no device": (
        dict(device_error=CUDARuntimeError(100, NO_DEVICE)),
        ["CuPy 14.2.0 (CUDA runtime 13.0) finds no NVIDIA GPU", NO_DEVICE, "use device='cpu'"]),
    "zero devices": (dict(devices=0), ["finds no NVIDIA GPU (cudaGetDeviceCount() = 0)"]),
    "devices busy": (
        dict(device_error=CUDARuntimeError(46, DEVICES_BUSY)),
        ["CuPy 14.2.0 (CUDA runtime 13.0) cannot start CUDA", DEVICES_BUSY]),
    "libnvrtc missing": (
        dict(compile_error=DynamicLibNotFoundError(NO_NVRTC)),
        ["NVRTC cannot compile a CUDA kernel with CuPy 14.2.0", "DynamicLibNotFoundError",
         NO_NVRTC.strip(), 'pip install ".[cuda12]"', '".[cuda13]"', "[ctk]"]),
    "compile error": (
        dict(compile_error=CompileException(COMPILE_LOG)),
        ["NVRTC cannot compile a CUDA kernel", " ".join(COMPILE_LOG.split())]),
    "kernel does not run": (
        dict(launch_error=CUDARuntimeError(209, NO_KERNEL_IMAGE)),
        ["a kernel compiled by NVRTC cannot run on the GPU", NO_KERNEL_IMAGE]),
    "kernel runs wrong": (dict(kernel_writes=0), ["ran but wrote 0 instead of 42"]),
    "libcublas missing": (
        dict(matmul_error=ImportError(NO_CUBLAS)),
        ["cuBLAS cannot be used (ImportError: " + NO_CUBLAS.strip(), "every matmul needs it", "[ctk]"]),
    "libcurand missing": (
        dict(curand_error=ImportError(NO_CURAND)),
        ["cuRAND cannot be used (ImportError: " + NO_CURAND.strip(), "dropout needs it", "[ctk]"]),
}


@pytest.mark.parametrize("behaviour, expected", FAILURES.values(), ids=list(FAILURES))
def test_the_reason_names_what_failed(fake_cupy, behaviour, expected):
    fake_cupy(**behaviour)
    reason = mt.cuda.unavailable_reason()
    assert reason is not None and "\n" not in reason
    for text in expected:
        assert text in reason
    assert mt.cuda.is_available() is False and backend.cuda_is_available() is False
    with pytest.raises(RuntimeError) as info:
        backend.require_cuda()
    assert str(info.value) == f"device 'cuda' cannot be used: {reason}"


def test_a_driver_too_old_for_cupy_does_not_suggest_an_extra_that_does_not_exist(fake_cupy):
    fake_cupy(driver=11080, runtime=13000, device_error=CUDARuntimeError(35, INSUFFICIENT_DRIVER))
    reason = backend.cuda_unavailable_reason()
    assert "CUDA 13.x (>= 580 on Linux)" in reason and "cuda11" not in reason


def test_the_probe_stops_at_the_first_failure(fake_cupy):
    cupy = fake_cupy(compile_error=DynamicLibNotFoundError(NO_NVRTC))
    backend.cuda_unavailable_reason()
    assert "launch" not in cupy.calls and "matmul" not in cupy.calls
    assert not any(isinstance(call, tuple) and call[0] == "RandomState" for call in cupy.calls)


def test_a_working_cuda_passes_the_probe_which_runs_once(fake_cupy):
    cupy = fake_cupy()
    assert backend.cuda_unavailable_reason() is None
    assert mt.cuda.is_available() is True
    assert backend.require_cuda() is cupy
    for _ in range(3):
        backend.require_cuda()
    from minitorch_cnn.cuda.loader import COMPILE_OPTIONS
    assert cupy.calls == ["getDeviceCount", ("RawKernel", "minitorch_cnn_probe", COMPILE_OPTIONS),
                          "compile", "launch", "matmul", ("RandomState", 103)]


def test_a_failed_probe_runs_once_too(fake_cupy):
    cupy = fake_cupy(device_error=CUDARuntimeError(100, NO_DEVICE))
    for _ in range(3):
        assert mt.cuda.is_available() is False
        with pytest.raises(RuntimeError, match=NO_DEVICE):
            mt.zeros(2, device="cuda")
    assert cupy.calls == ["getDeviceCount"]


@pytest.mark.parametrize("ask", ASK_FOR_CUDA.values(), ids=list(ASK_FOR_CUDA))
def test_every_way_of_asking_for_cuda_quotes_the_reason(fake_cupy, ask):
    fake_cupy(driver=12040, runtime=13000, device_error=CUDARuntimeError(35, INSUFFICIENT_DRIVER))
    with pytest.raises(RuntimeError) as info:
        ask()
    assert str(info.value) == f"device 'cuda' cannot be used: {backend.cuda_unavailable_reason()}"
    assert INSUFFICIENT_DRIVER in str(info.value)


def test_a_kernel_that_fails_to_compile_names_its_file(monkeypatch):
    """After the probe: NVRTC's error for one of kernels/*.cu comes with the file and the type."""
    from minitorch_cnn.cuda import loader

    class FailingModule:
        def get_function(self, name):
            raise CompileException(COMPILE_LOG)
    monkeypatch.setattr(loader, "_kernels", {})
    monkeypatch.setattr(loader, "get_module", lambda file, ctype: FailingModule())
    with pytest.raises(RuntimeError, match=r"^minitorch_cnn\.cuda: compiling kernels/im2col\.cu for float "
                                           r"with NVRTC failed: CompileException: .*identifier \"out\""):
        loader.get_kernel("im2col.cu", "im2col<float>")


# A cupy package for subprocesses: imports, but its driver is older than its runtime.
OLD_DRIVER_CUPY = """
__version__ = "14.2.0"
from . import cuda
"""
OLD_DRIVER_CUPY_CUDA = f"""
import types


class CUDARuntimeError(RuntimeError):
    pass


def _no_device():
    raise CUDARuntimeError({INSUFFICIENT_DRIVER!r})


runtime = types.SimpleNamespace(runtimeGetVersion=lambda: 13000, driverGetVersion=lambda: 12040,
                                getDeviceCount=_no_device, CUDARuntimeError=CUDARuntimeError)
"""


@pytest.fixture
def old_driver_cupy(tmp_path):
    package = tmp_path / "old_driver" / "cupy"
    (package / "cuda").mkdir(parents=True)
    (package / "__init__.py").write_text(OLD_DRIVER_CUPY)
    (package / "cuda" / "__init__.py").write_text(OLD_DRIVER_CUPY_CUDA)
    return package.parent


def test_cli_device_cuda_with_an_old_driver_quotes_the_driver_error(old_driver_cupy, tmp_path):
    result = run_python(["-m", "minitorch_cnn.train", "--device", "cuda", "--limit-train", "256",
                         "--epochs", "1", "--dataset", "bundled-digits", "--out", str(tmp_path / "run")],
                        old_driver_cupy)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: --device cuda cannot be used: the NVIDIA driver supports CUDA 12.4, "
                               "older than the CUDA 13.0 runtime of CuPy 14.2.0")
    assert INSUFFICIENT_DRIVER in lines[0]
    assert not (tmp_path / "run").exists()


# ---- tests/test_cuda.py: skipped with the reason, or failed under MINITORCH_CNN_REQUIRE_CUDA=1 ----

@pytest.fixture
def cupy_and_torch_blocker(cupy_blocker):
    """The cupy blocker, plus a torch that fails to import: torch has no say in whether the
    GPU tests run, and importing it would double the time of each run below."""
    torch_package = cupy_blocker / "torch"
    torch_package.mkdir()
    (torch_package / "__init__.py").write_text("raise ImportError('torch blocked for this test')\n")
    return cupy_blocker


def run_gpu_tests(blocker, require_cuda=None):
    """pytest tests/test_cuda.py in a fresh process where `import cupy` fails."""
    return run_python(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/test_cuda.py"],
                      blocker, timeout=300, require_cuda=require_cuda)


def test_gpu_tests_skip_with_the_real_reason_without_the_variable(cupy_and_torch_blocker):
    result = run_gpu_tests(cupy_and_torch_blocker)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ skipped in [\d.]+s", summary), summary      # nothing ran, nothing failed
    assert (f"CUDA unavailable: CuPy could not be imported (ImportError: {IMPORT_ERROR}); "
            'install it with `pip install ".[cuda12]"`') in output


def test_gpu_tests_fail_and_say_why_when_cuda_is_required(cupy_and_torch_blocker):
    result = run_gpu_tests(cupy_and_torch_blocker, require_cuda="1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert (f"{REQUIRE_CUDA}=1, but device 'cuda' cannot be used: CuPy could not be imported "
            f"(ImportError: {IMPORT_ERROR})") in output
    assert "ERROR collecting tests/test_cuda.py" in output
    assert "skipped" not in output and "passed" not in output


@pytest.mark.parametrize("value, required", [("1", True), ("yes", True), ("0", False), ("", False),
                                             (None, False)])
def test_which_values_of_the_variable_require_cuda(monkeypatch, value, required):
    monkeypatch.delenv(REQUIRE_CUDA, raising=False)
    if value is not None:
        monkeypatch.setenv(REQUIRE_CUDA, value)
    assert _gpu.cuda_required() is required


def test_gpu_tests_with_an_old_driver_skip_or_fail_quoting_the_driver_error(fake_cupy, monkeypatch):
    fake_cupy(driver=12040, runtime=13000, device_error=CUDARuntimeError(35, INSUFFICIENT_DRIVER))
    reason = backend.cuda_unavailable_reason()
    monkeypatch.delenv(REQUIRE_CUDA, raising=False)
    assert _gpu.gpu_or_skip_reason() == (False, reason)
    monkeypatch.setenv(REQUIRE_CUDA, "1")
    with pytest.raises(pytest.fail.Exception) as info:
        _gpu.gpu_or_skip_reason()
    assert str(info.value) == f"{REQUIRE_CUDA}=1, but device 'cuda' cannot be used: {reason}"
    assert INSUFFICIENT_DRIVER in str(info.value)


def test_gpu_tests_run_where_cuda_works_even_when_required(fake_cupy, monkeypatch):
    fake_cupy()
    monkeypatch.setenv(REQUIRE_CUDA, "1")
    assert _gpu.gpu_or_skip_reason() == (True, "")


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
