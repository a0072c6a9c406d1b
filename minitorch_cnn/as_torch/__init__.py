"""Run a PyTorch script unchanged on this engine: ``python -m minitorch_cnn.as_torch SCRIPT [ARGS...]``.

`install()` puts an import hook first on ``sys.meta_path``: from then on, in this process,
``import torch`` (and the submodules in MODULES, and the MNIST/FashionMNIST parts of
``torchvision``) gives a module whose attributes are this engine's, whether or not PyTorch is
installed.  ``import minitorch_cnn`` alone never installs it; the runner (``__main__.py``)
does, then runs the script as ``__main__``.

Each module here is a proxy (`TorchModule`): an attribute is looked up, in order, among
its submodules in MODULES, its ALIASES (torch names the engine spells otherwise, such as
``torch.long``), then the engine modules it stands for (``torch.nn`` -> ``minitorch_cnn.nn``),
so the API the engine gains shows up under torch's name with no table to update.  A name
found nowhere raises one error that names it and says the script needs real PyTorch for it:
an ImportError for ``import torch.fft``, an AttributeError for ``torch.nn.LSTM``.
"""
import importlib
import importlib.abc
import importlib.util
import sys
import types

PREFIX = "minitorch_cnn.as_torch:"
TORCH_VERSION = "2.13.0+minitorch_cnn"          # the torch release whose API the engine follows
TORCHVISION_VERSION = "0.28.0+minitorch_cnn"    # torchvision's release beside torch 2.13

# module name -> the modules whose attributes it shows, in order (imported when first read;
# a missing one is skipped, so a module the engine will grow needs no change here)
MODULES = {
    "torch": ("minitorch_cnn",),
    "torch.nn": ("minitorch_cnn.nn",),
    "torch.nn.functional": ("minitorch_cnn.nn.functional",),
    "torch.nn.init": ("minitorch_cnn.nn.init",),
    "torch.nn.utils": ("minitorch_cnn.nn.utils",),
    "torch.nn.parameter": ("minitorch_cnn.nn.module",),
    "torch.optim": ("minitorch_cnn.optim",),
    "torch.optim.lr_scheduler": ("minitorch_cnn.optim.lr_scheduler",),
    "torch.utils": ("minitorch_cnn.utils",),
    "torch.utils.data": ("minitorch_cnn.utils.data",),
    "torch.utils.data.dataloader": ("minitorch_cnn.utils.data.dataloader",),
    "torch.utils.data.dataset": ("minitorch_cnn.utils.data.dataset",),
    "torch.utils.data.sampler": ("minitorch_cnn.utils.data.sampler",),
    "torch.utils.data.distributed": ("minitorch_cnn.utils.data.distributed",),
    "torch.autograd": ("minitorch_cnn.autograd",),
    "torch.cuda": ("minitorch_cnn.cuda", "minitorch_cnn.as_torch.devices:cuda"),
    "torch.accelerator": ("minitorch_cnn.accelerator", "minitorch_cnn.as_torch.devices:accelerator"),
    "torch.backends": ("minitorch_cnn.as_torch.devices:backends",),
    "torch.backends.mps": ("minitorch_cnn.backends.mps",),
    "torch.backends.cudnn": ("minitorch_cnn.as_torch.devices:cudnn",),
    "torchvision": ("minitorch_cnn.as_torch.vision:torchvision",),
    "torchvision.datasets": ("minitorch_cnn.as_torch.vision:datasets",),
    "torchvision.transforms": ("minitorch_cnn.as_torch.vision:transforms",),
}

# torch names the engine spells otherwise: name -> "module:attribute" (or a value)
ALIASES = {
    "torch": {
        "__version__": TORCH_VERSION,
        "float": "minitorch_cnn:float32", "double": "minitorch_cnn:float64", "half": "minitorch_cnn:float16",
        "long": "minitorch_cnn:int64", "int": "minitorch_cnn:int32", "short": "numpy:int16",
        "bool": "minitorch_cnn:bool_", "int16": "numpy:int16",
        # torch.Tensor(...) is torch's legacy constructor (float32 always), isinstance the engine's
        **{name: f"minitorch_cnn.as_torch.legacy:{name}" for name in (
            "Tensor", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
            "ShortTensor", "ByteTensor", "CharTensor", "BoolTensor")},
    },
    "torch.autograd": {"gradcheck": "minitorch_cnn:gradcheck"},
    "torchvision": {"__version__": TORCHVISION_VERSION},
}

# names of the engine that torch does not have at that place (modules are hidden anyway, see __getattr__)
HIDDEN = {
    "torch": {"bool_", "summary", "to_dot", "gradcheck", "GradcheckError"},
}


_ABSENT = object()


class NotInEngineError(ImportError):
    """`import torch.X` where the engine has no torch.X."""


def missing_message(qualified_name):
    return (f"{PREFIX} {qualified_name} is not part of minitorch_cnn (the engine standing in for "
            f"PyTorch here); this script needs real PyTorch for it")


def _resolve(path):
    """'package.module' -> the module; 'package.module:attr' -> that attribute; None if absent."""
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None         # that module is not (yet) in the engine: skip it
        raise
    return getattr(module, attribute, None) if attribute else module


class TorchModule(types.ModuleType):
    """A torch module name standing for the engine's modules (see the module docstring)."""

    def __init__(self, name):
        super().__init__(name)
        self.__path__ = []          # a package: its submodules are imported through the hook
        self._sources_cache = None

    def _sources(self):
        if self._sources_cache is None:
            found = (_resolve(path) for path in MODULES[self.__name__])
            self._sources_cache = [source for source in found if source is not None]
        return self._sources_cache

    def __getattr__(self, attribute):
        if attribute in ALIASES.get(self.__name__, {}) and attribute.startswith("__"):
            return ALIASES[self.__name__][attribute]
        if attribute.startswith("__") or attribute == "_sources_cache":
            raise AttributeError(attribute)
        child = f"{self.__name__}.{attribute}"
        if child in MODULES:
            return importlib.import_module(child)
        alias = ALIASES.get(self.__name__, {}).get(attribute)
        if alias is not None:
            value = _resolve(alias) if isinstance(alias, str) and ":" in alias else alias
            if value is not None:
                return value
        elif not attribute.startswith("_") and attribute not in HIDDEN.get(self.__name__, ()):
            for source in self._sources():
                value = getattr(source, attribute, _ABSENT)
                # the engine's own modules (distributed, data, ...) are not torch's namesakes:
                # a module shows only where MODULES puts it
                if value is not _ABSENT and not isinstance(value, types.ModuleType):
                    return value
        raise AttributeError(missing_message(child))

    def __repr__(self):
        return f"<module {self.__name__!r} (minitorch_cnn standing in for PyTorch)>"

    def __dir__(self):
        names = set(super().__dir__())
        for source in self._sources():
            names.update(n for n in dir(source)
                          if not n.startswith("_") and not isinstance(getattr(source, n, None), types.ModuleType))
        names.update(n.rpartition(".")[2] for n in MODULES if n.rpartition(".")[0] == self.__name__)
        return sorted(names - HIDDEN.get(self.__name__, set()))


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers every import of torch, torch.*, torchvision and torchvision.*."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] not in ("torch", "torchvision"):
            return None
        if fullname not in MODULES:
            raise NotInEngineError(missing_message(fullname), name=fullname)
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec):
        return TorchModule(spec.name)

    def exec_module(self, module):
        pass


_finder = _Finder()


def installed():
    return _finder in sys.meta_path


def install():
    """Make torch and torchvision resolve to this engine in this process (idempotent).

    RuntimeError if real torch or torchvision is already imported here: its modules would
    be mixed with the engine's."""
    if installed():
        return
    real = sorted(name for name, module in sys.modules.items()
                  if name.partition(".")[0] in ("torch", "torchvision") and not isinstance(module, TorchModule))
    if real:
        raise RuntimeError(f"{PREFIX} cannot stand in for torch: {', '.join(real[:3])} "
                           f"{'is' if len(real) == 1 else 'are'} already imported in this process")
    sys.meta_path.insert(0, _finder)


def uninstall():
    """Undo install(): remove the hook and the proxy modules from sys.modules."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n, m in sys.modules.items() if isinstance(m, TorchModule)]:
        del sys.modules[name]


__all__ = ["MODULES", "ALIASES", "NotInEngineError", "TorchModule", "install", "installed", "uninstall"]
