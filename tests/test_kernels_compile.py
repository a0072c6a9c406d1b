"""kernels/*.cu compile, and minitorch_cnn.cuda finds them, without a GPU.

- nvcc compiles every file with every kernel instantiated for float and double
  (skipped when nvcc is absent), and ptxas reports no local memory (stack, spills)
  and at most 64 registers for any kernel (tools/kernel_resources.py prints them).
- NVRTC, the compiler CuPy's RawModule uses, compiles every file with the very
  arguments the loader gives RawModule (skipped when libnvrtc is not found; the
  `nvidia-cuda-nvrtc` wheel provides it without a GPU).
- The loader finds every .cu file in the source tree and in an installed
  layout; importing minitorch_cnn.cuda needs no CuPy.
"""
import ctypes
import ctypes.util
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minitorch_cnn
from minitorch_cnn.cuda import kernels, loader

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted(p.name for p in (REPO / "kernels").glob("*.cu"))
EXPECTED_KERNELS = {
    "im2col.cu": ["im2col", "col2im"],
    "pool.cu": ["max_pool2d_forward", "max_pool2d_backward",
                "avg_pool2d_forward", "avg_pool2d_backward"],
}


# ------------------------------------------------------------------ loader ----

def test_loader_finds_every_kernel_file():
    # From a source checkout it reads <repo>/kernels; from an installed package (as the README's
    # test command runs) the copies installed as minitorch_cnn/kernels: the same files either way.
    found = Path(loader.kernel_dir()).resolve()
    assert found in (REPO / "kernels", Path(minitorch_cnn.__file__).resolve().parent / "kernels")
    for name in SOURCES:
        assert (found / name).read_bytes() == (REPO / "kernels" / name).read_bytes()
    assert [p.name for p in loader.kernel_sources()] == SOURCES
    assert set(SOURCES) >= set(EXPECTED_KERNELS)
    for name in SOURCES:
        assert loader.kernel_names(loader.read_source(name)), f"{name} declares no kernel"
    for name, expected in EXPECTED_KERNELS.items():
        assert loader.kernel_names(loader.read_source(name)) == expected


def test_every_wrapper_launches_a_declared_kernel():
    launched = re.findall(r'_launch\("(\w+\.cu)", "(\w+)"', Path(kernels.__file__).read_text())
    assert {(file, name) for file, name in launched} == {
        (file, name) for file, names in EXPECTED_KERNELS.items() for name in names}


def test_loader_finds_installed_package_data(tmp_path, monkeypatch):
    """After `pip install .` the sources are the package data minitorch_cnn.kernels."""
    package = tmp_path / "minitorch_cnn" / "kernels"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in SOURCES:
        shutil.copy(REPO / "kernels" / name, package / name)
    spec = importlib.util.spec_from_file_location("minitorch_cnn.kernels", package / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "minitorch_cnn.kernels", module)
    monkeypatch.setattr(loader, "_source_tree_dir", lambda: None)
    assert Path(loader.kernel_dir()) == package
    assert [p.name for p in loader.kernel_sources()] == SOURCES
    assert loader.read_source("pool.cu") == (REPO / "kernels" / "pool.cu").read_text()


def test_loader_errors_name_the_problem():
    with pytest.raises(FileNotFoundError, match="im2col.cu"):
        loader.read_source("nope.cu")
    with pytest.raises(ValueError, match="template instantiations"):
        loader.get_kernel("im2col.cu", "im2col")
    with pytest.raises(ValueError, match="declares no kernel"):
        loader.get_kernel("im2col.cu", "conv<float>")
    with pytest.raises(TypeError, match="float32 or float64"):
        loader.name_expression("im2col", "int32")
    assert loader.name_expression("im2col", "float64") == "im2col<double>"


def test_import_needs_no_cupy():
    """With `import cupy` failing, minitorch_cnn.cuda imports and reports no GPU."""
    code = ("import sys; sys.modules['cupy'] = None\n"     # None makes `import cupy` fail
            "import minitorch_cnn.cuda as cuda, minitorch_cnn.cuda.kernels\n"
            "assert not cuda.is_available()\n"
            "print(len(cuda.kernel_sources()))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(len(SOURCES))


def test_import_does_not_load_cupy():
    code = ("import sys, minitorch_cnn.cuda, minitorch_cnn.cuda.kernels\n"
            "print('cupy' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# -------------------------------------------------------------------- nvcc ----

def instantiation_unit(name):
    """C++ that includes kernels/<name> and instantiates every kernel for float and double."""
    kernels_in_file = loader.kernel_names(loader.read_source(name))
    addresses = ", ".join(f"(void*)&{k}<{t}>" for k in kernels_in_file for t in ("float", "double"))
    return f'#include "{REPO / "kernels" / name}"\nvoid* instantiate[] = {{{addresses}}};\n'


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (the CUDA toolkit) is not installed")
@pytest.mark.parametrize("name", SOURCES)
def test_nvcc_compiles(name, tmp_path):
    unit = tmp_path / f"instantiate_{name}"
    unit.write_text(instantiation_unit(name))
    command = ["nvcc", "-c", "-o", str(tmp_path / "out.o"), "--std=c++17", "-arch=sm_80",
               "-Werror", "all-warnings", str(unit)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}{result.stderr}"


def _kernel_resources():
    """tools/kernel_resources.py, imported by path (tools/ is no package)."""
    spec = importlib.util.spec_from_file_location("kernel_resources", REPO / "tools" / "kernel_resources.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc (the CUDA toolkit) is not installed")
@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("name", SOURCES)
def test_kernels_use_no_local_memory_and_few_registers(name, arch):
    """ptxas's report for every kernel and element type: no stack frame and no spills (local
    memory is as slow as global), and at most 64 registers a thread, so that a 256-thread
    block takes at most a quarter of an SM's 64K registers (4 blocks, 1024 threads resident).
    The numbers, printed by tools/kernel_resources.py, are in docs/cuda.md."""
    usage = _kernel_resources().resource_usage(name, arch)
    expected = {(k, t) for k in EXPECTED_KERNELS[name] for t in ("float", "double")}
    assert set(usage) == expected
    for (kernel, ctype), u in usage.items():
        assert u["stack"] == u["spill_stores"] == u["spill_loads"] == 0, (kernel, ctype, u)
        assert u["registers"] <= 64, (kernel, ctype, u)


# ------------------------------------------------------------------- NVRTC ----

def find_nvrtc():
    """A loadable libnvrtc, or None."""
    candidates = []
    spec = importlib.util.find_spec("nvidia")           # pip's nvidia-cuda-nvrtc wheels
    for root in (spec.submodule_search_locations or []) if spec else []:
        candidates += sorted(glob.glob(os.path.join(root, "*", "lib", "libnvrtc.so*")))
    for var in ("CUDA_PATH", "CUDA_HOME"):
        if os.environ.get(var):
            candidates += sorted(glob.glob(os.path.join(os.environ[var], "lib64", "libnvrtc.so*")))
    candidates += sorted(glob.glob("/usr/local/cuda/lib64/libnvrtc.so*"))
    if ctypes.util.find_library("nvrtc"):
        candidates.append(ctypes.util.find_library("nvrtc"))
    for path in candidates:
        if "builtins" in os.path.basename(path):
            continue
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def nvrtc_compile(nvrtc, code, options, name_expressions):
    """Compile like RawModule does; returns (ok, log, {expression: lowered name})."""
    prog = ctypes.c_void_p()
    c_str = lambda s: s.encode()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(prog), c_str(code), b"kernel.cu", 0, None, None) == 0
    try:
        for expression in name_expressions:
            assert nvrtc.nvrtcAddNameExpression(prog, c_str(expression)) == 0
        argv = (ctypes.c_char_p * len(options))(*map(c_str, options))
        status = nvrtc.nvrtcCompileProgram(prog, len(options), argv)
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(prog, log)
        lowered = {}
        if status == 0:
            for expression in name_expressions:
                name = ctypes.c_char_p()
                assert nvrtc.nvrtcGetLoweredName(prog, c_str(expression), ctypes.byref(name)) == 0
                lowered[expression] = name.value.decode()
        return status == 0, log.value.decode(errors="replace"), lowered
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(prog))


@pytest.mark.parametrize("ctype", ["float", "double"])
@pytest.mark.parametrize("name", SOURCES)
def test_nvrtc_compiles_what_the_loader_asks_for(name, ctype):
    nvrtc = find_nvrtc()
    if nvrtc is None:
        pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc to run this check)")
    arguments = loader.module_arguments(name, ctype)
    options = arguments["options"] + ("-arch=compute_80",)
    ok, log, lowered = nvrtc_compile(nvrtc, arguments["code"], options,
                                     arguments["name_expressions"])
    assert ok, log
    assert "warning" not in log.lower(), log
    assert set(lowered) == set(arguments["name_expressions"])
