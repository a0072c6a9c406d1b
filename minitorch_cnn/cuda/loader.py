"""Find, compile and cache the CUDA C kernels in kernels/*.cu.

The kernels are C++ templates over the element type, for example

    template <typename T>
    __global__ void im2col(const T* x, T* col, ...)

and are asked for by their instantiation, as C++ would write it:

    get_kernel("im2col.cu", "im2col<float>")

Each file is compiled once per process and element type with
`cupy.RawModule` (NVRTC), instantiating every kernel of the file for that type
through `name_expressions`; the compiled binary is also kept in CuPy's on-disk
kernel cache, keyed by the source text, so a changed file is recompiled.

The sources are found in the source tree (`<repo>/kernels/`) or, after
`pip install .`, in the installed package data `minitorch_cnn.kernels`.
CuPy is imported only by `get_kernel`: importing this module needs NumPy only.
"""
import importlib.resources
import re
from pathlib import Path

# C++ spelling of the element types the kernels are instantiated for.
CTYPES = {"float32": "float", "float64": "double"}

# NVRTC options.  The kernels include no header, so none are needed here.
COMPILE_OPTIONS = ("--std=c++17",)

# `template <typename T> __global__ void NAME(`: how a kernel is declared.
_KERNEL_DECL = re.compile(r"template\s*<\s*typename\s+T\s*>\s*__global__\s+void\s+(\w+)\s*\(")
# "NAME<ctype>": how a kernel is asked for.
_NAME_EXPR = re.compile(r"^\s*(\w+)\s*<\s*(\w+)\s*>\s*$")

_modules = {}   # (file, ctype) -> cupy.RawModule
_kernels = {}   # (file, "name<ctype>") -> cupy.RawKernel


def _source_tree_dir():
    """<repo>/kernels when running from a checkout (or an editable install)."""
    folder = Path(__file__).resolve().parents[2] / "kernels"
    return folder if any(folder.glob("*.cu")) else None


def _package_dir():
    """The installed package data minitorch_cnn.kernels, or None."""
    try:
        folder = importlib.resources.files("minitorch_cnn.kernels")
    except (ModuleNotFoundError, TypeError):
        return None
    if not any(entry.name.endswith(".cu") for entry in folder.iterdir()):
        return None
    return folder


def kernel_dir():
    """The folder holding the .cu files (a Path, or a Traversable if zipped)."""
    folder = _source_tree_dir() or _package_dir()
    if folder is None:
        raise FileNotFoundError(
            "minitorch_cnn.cuda: no CUDA kernel sources (*.cu) found, neither in "
            f"{Path(__file__).resolve().parents[2] / 'kernels'} (source tree) nor in "
            "the installed package data minitorch_cnn.kernels; reinstall minitorch_cnn")
    return folder


def kernel_sources():
    """Every kernel source file, sorted by name."""
    folder = kernel_dir()
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".cu")),
                  key=lambda entry: entry.name)


def read_source(file):
    """The text of kernels/<file>, e.g. read_source("im2col.cu")."""
    entry = kernel_dir() / file
    if not entry.is_file():
        names = ", ".join(source.name for source in kernel_sources())
        raise FileNotFoundError(f"no kernel source {file!r}; the kernel files are: {names}")
    return entry.read_text(encoding="utf-8")


def kernel_names(source):
    """The template kernels declared in a source text, in order of appearance."""
    return _KERNEL_DECL.findall(source)


def ctype_of(dtype):
    """'float' or 'double' for a NumPy/CuPy dtype; TypeError for anything else."""
    name = getattr(dtype, "name", None) or str(dtype)
    try:
        return CTYPES[name]
    except KeyError:
        raise TypeError(f"CUDA kernels take float32 or float64 arrays, got dtype {name}") from None


def name_expression(name, dtype):
    """("im2col", float32) -> "im2col<float>"."""
    return f"{name}<{ctype_of(dtype)}>"


def _parse_name(file, name):
    """"im2col<float>" -> ("im2col", "float"), checked against the file."""
    match = _NAME_EXPR.match(name)
    if match is None or match.group(2) not in CTYPES.values():
        raise ValueError(f"kernel names are template instantiations such as "
                         f"'im2col<float>' or 'im2col<double>', got {name!r}")
    base, ctype = match.groups()
    declared = kernel_names(read_source(file))
    if base not in declared:
        raise ValueError(f"{file} declares no kernel {base!r}; it declares {declared}")
    return base, ctype


def module_arguments(file, ctype):
    """cupy.RawModule's keyword arguments for `file` instantiated for `ctype`."""
    source = read_source(file)
    return dict(code=source, options=COMPILE_OPTIONS,
                name_expressions=tuple(f"{name}<{ctype}>" for name in kernel_names(source)))


def get_module(file, ctype):
    """The RawModule of `file` with every kernel instantiated for `ctype`."""
    key = (file, ctype)
    if key not in _modules:
        import cupy
        _modules[key] = cupy.RawModule(**module_arguments(file, ctype))
    return _modules[key]


def get_kernel(file, name):
    """The compiled kernel `name` ("im2col<float>") from kernels/<file>.

    The result is a cupy.RawKernel, launched as kernel(grid, block, args).
    Compiles the file on first use for that element type, then reuses it.
    """
    key = (file, name)
    if key not in _kernels:
        base, ctype = _parse_name(file, name)
        try:
            _kernels[key] = get_module(file, ctype).get_function(f"{base}<{ctype}>")
        except Exception as exc:
            # CuPy's error (a compile log, a missing libnvrtc) does not say which file it was compiling.
            raise RuntimeError(f"minitorch_cnn.cuda: compiling kernels/{file} for {ctype} with NVRTC "
                               f"failed: {type(exc).__name__}: {exc}") from exc
    return _kernels[key]
