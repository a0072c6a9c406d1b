"""nn.Module's surface that tutorials use, and devices, held to torch 2.13: requires_grad_,
forward and forward-pre hooks (with_kwargs, prepend, always_call, handles), buffers
(persistent=False), named_* with prefix/recurse/remove_duplicate, apply, zero_grad,
get_submodule, extra_repr, state_dict values as Tensors sharing memory, load_state_dict's
errors and result, Module.to / cuda / half, and mt.device / mt.cuda / mt.backends.mps /
mt.accelerator."""
import inspect

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import nn


def both(fn):
    torch = pytest.importorskip("torch")
    return fn(mt), fn(torch)


def values(t):
    if not isinstance(t, mt.Tensor):
        return t.detach().numpy()
    return mt.backend.to_numpy(t.array)


def net(lib):
    """conv -> bn -> a shared linear used twice, a non-persistent buffer, a parameter."""
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.nn.Conv2d(1, 2, 3)
            self.bn = lib.nn.BatchNorm2d(2)
            self.head = lib.nn.Linear(2, 2)
            self.tail = self.head
            self.scale = lib.nn.Parameter(lib.ones(1, dtype=lib.float32))
            self.register_buffer("steps", lib.zeros(1, dtype=lib.float32))
            self.register_buffer("cache", lib.zeros(2, dtype=lib.float32), persistent=False)

        def forward(self, x):
            return self.tail(self.head(self.bn(self.conv(x)).mean((2, 3)))) * self.scale

        def extra_repr(self):
            return "scale=1"
    lib.manual_seed(0)
    return Net()


@pytest.mark.parametrize("name", [
    "requires_grad_", "register_forward_hook", "register_forward_pre_hook", "register_buffer",
    "named_buffers", "buffers", "named_parameters", "parameters", "named_modules", "modules", "apply",
    "zero_grad", "get_submodule", "extra_repr", "state_dict", "load_state_dict", "cuda", "cpu", "half",
    "double", "float", "train", "register_parameter", "register_module", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_backward_hook"])
def test_module_method_signatures_are_torchs(name):
    torch = pytest.importorskip("torch")
    ours, theirs = (inspect.signature(getattr(lib.nn.Module, name)).parameters for lib in (mt, torch))
    assert [(p.name, p.default, p.kind) for p in ours.values()] == \
           [(p.name, p.default, p.kind) for p in theirs.values()]


def test_names_buffers_parameters_and_modules_match_torch():
    def run(lib):
        model = net(lib)
        return [
            [n for n, _ in model.named_parameters()],
            [n for n, _ in model.named_parameters(prefix="m", remove_duplicate=False)],
            [n for n, _ in model.named_parameters(recurse=False)],
            [n for n, _ in model.named_buffers()],
            [n for n, _ in model.named_buffers(prefix="m", recurse=False)],
            len(list(model.buffers())), len(list(model.buffers(recurse=False))),
            [n for n, _ in model.named_modules()],
            [n for n, _ in model.named_modules(prefix="root", remove_duplicate=False)],
            len(list(model.modules(remove_duplicate=False))),
            list(model.state_dict()),
            list(model.state_dict(prefix="p.")),
        ]

    ours, theirs = both(run)
    assert ours == theirs


def test_register_buffer_errors_are_torchs():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        model = lib.nn.Linear(2, 2)
        with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'b'"):
            model.register_buffer("b", [1.0])
        with pytest.raises(KeyError, match="attribute 'weight' already exists"):
            model.register_buffer("weight", lib.ones(1))
        with pytest.raises(KeyError, match="buffer name can.+t contain"):
            model.register_buffer("a.b", lib.ones(1))
        with pytest.raises(KeyError, match="buffer name can.+t be empty"):
            model.register_buffer("", lib.ones(1))
        model.register_buffer("extra", lib.ones(1), persistent=False)
        assert "extra" not in model.state_dict() and "extra" in dict(model.named_buffers())
        model.register_buffer("extra", lib.ones(1))          # persistent again
        assert "extra" in model.state_dict()


def test_requires_grad_apply_zero_grad_and_get_submodule_match_torch():
    def run(lib):
        model = net(lib)
        assert model.requires_grad_(False) is model
        frozen = [p.requires_grad for p in model.parameters()]
        model.conv.requires_grad_()
        mixed = [p.requires_grad for p in model.parameters()]
        visited = []
        assert model.apply(lambda m: visited.append(type(m).__name__)) is model
        model.requires_grad_(True)
        model(lib.ones(2, 1, 5, 5)).sum().backward()
        model.zero_grad(set_to_none=False)
        zeroed = [float(p.grad.abs().sum()) for p in model.parameters()]
        model.zero_grad()
        cleared = [p.grad is None for p in model.parameters()]
        found = [type(model.get_submodule(path)).__name__ for path in ("", "conv", "tail")]
        return frozen, mixed, visited, zeroed, cleared, found

    ours, theirs = both(run)
    assert ours == theirs


def test_get_submodule_errors_are_torchs():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        model = net(lib)
        with pytest.raises(AttributeError, match="has no attribute `missing`"):
            model.get_submodule("conv.missing")
        with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
            model.get_submodule("scale")


def test_repr_with_extra_repr_matches_torch():
    def run(lib):
        class Leaf(lib.nn.Module):
            def extra_repr(self):
                return "size=3"

        class Outer(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.leaf = Leaf()

            def extra_repr(self):
                return "outer"
        return repr(Leaf()), repr(Outer())

    ours, theirs = both(run)
    assert ours == theirs


# ---- hooks ---------------------------------------------------------------------------------
def test_forward_hooks_and_pre_hooks_match_torch():
    def run(lib):
        calls = []
        layer = lib.nn.Linear(2, 2)
        layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", len(args))))
        layer.register_forward_pre_hook(lambda m, args: args[0] * 2)            # a non-tuple: wrapped
        layer.register_forward_pre_hook(lambda m, args, kwargs: calls.append(("pre-kw", sorted(kwargs))),
                                        with_kwargs=True)
        layer.register_forward_pre_hook(lambda m, args: calls.append(("first", 0)), prepend=True)
        layer.register_forward_hook(lambda m, args, out: calls.append(("hook", tuple(out.shape))))
        layer.register_forward_hook(lambda m, args, out: out + 100)
        layer.register_forward_hook(lambda m, args, kwargs, out: calls.append(("hook-kw", len(args))),
                                    with_kwargs=True)
        removed = layer.register_forward_hook(lambda m, args, out: out * 0, prepend=True)
        removed.remove()
        with layer.register_forward_hook(lambda m, args, out: calls.append(("temporary", 0))):
            layer(lib.ones(1, 2))
        lib.manual_seed(0)
        out = layer(lib.ones(1, 2))
        return calls, out.shape, float((out - layer(lib.ones(1, 2))).abs().sum().detach())

    ours, theirs = both(run)
    assert ours[0] == theirs[0] and tuple(ours[1]) == tuple(theirs[1]) and ours[2] == theirs[2] == 0


def test_hook_replacements_give_torchs_values():
    def run(lib):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.arange(6.0).reshape(2, 3)))   # (the same weights in both)
        layer.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
        layer.register_forward_hook(lambda m, args, out: out * 2)
        x = lib.tensor(np.array([[1.0, 2.0, 3.0]]))
        return layer(x) - layer.bias * 2

    ours, theirs = both(run)
    np.testing.assert_allclose(values(ours), values(theirs), rtol=1e-12)


def test_always_call_hooks_run_when_forward_raises_as_torch():
    def run(lib):
        calls = []

        class Broken(lib.nn.Module):
            def forward(self, x):
                raise ValueError("broken")
        module = Broken()
        module.register_forward_hook(lambda m, a, o: calls.append(("always", o)), always_call=True)
        module.register_forward_hook(lambda m, a, o: calls.append(("normal", o)))
        with pytest.raises(ValueError, match="broken"):
            module(1)
        return calls

    ours, theirs = both(run)
    assert ours == theirs == [("always", None)]


def test_a_bad_pre_hook_with_kwargs_result_is_refused_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        layer = lib.nn.Linear(2, 2)
        layer.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple of"):
            layer(lib.ones(1, 2))


def test_a_module_without_forward_says_so_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
            lib.nn.Module()(1)


def test_parameter_without_data_is_empty_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = mt.nn.Parameter(), torch.nn.Parameter()
    assert ours.shape == tuple(theirs.shape) == (0,) and ours.requires_grad and ours.dtype == np.float32


# ---- state_dict and load_state_dict ---------------------------------------------------------
def test_state_dict_values_are_detached_tensors_sharing_memory_as_torch():
    def run(lib):
        model = net(lib)
        state = model.state_dict()
        facts = [type(state["conv.weight"]).__name__, state["conv.weight"].requires_grad,
                 state["conv.weight"] is model.conv.weight]
        state["conv.weight"].zero_()
        state["steps"].fill_(3)
        facts += [float(model.conv.weight.detach().abs().sum()), float(model.steps.sum())]
        kept = model.state_dict(keep_vars=True)
        facts += [kept["conv.weight"] is model.conv.weight, kept["scale"].requires_grad]
        into = {}
        facts.append(model.state_dict(destination=into) is into and list(into) == list(state))
        return facts

    ours, theirs = both(run)
    assert ours == theirs == ["Tensor", False, False, 0.0, 3.0, True, True, True]


def test_load_state_dict_result_and_errors_match_torch():
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (mt, torch):
        model = lib.nn.Linear(2, 2)
        state = lib.nn.Linear(2, 2).state_dict()
        matched = model.load_state_dict(state)
        extra = dict(state, extra=lib.ones(1))
        del extra["bias"]
        loose = model.load_state_dict(extra, strict=False)
        messages = []
        for bad in (extra, {"weight": lib.ones(2, 3), "bias": lib.ones(2)}):
            with pytest.raises(RuntimeError) as info:
                model.load_state_dict(bad)
            messages.append(str(info.value).replace("torch.Size([", "(").replace("])", ")").replace(", 3)", ", 3)"))
        outcomes.append((repr(matched), tuple(loose), loose.missing_keys, loose.unexpected_keys, messages))
    assert outcomes[0][:4] == outcomes[1][:4]
    assert outcomes[0][0] == "<All keys matched successfully>"
    ours, theirs = outcomes[0][4], outcomes[1][4]
    assert ours[0] == theirs[0]          # missing and unexpected keys, word for word
    assert ours[1] == theirs[1].replace("(2, 3)", "(2, 3)")


def test_load_state_dict_copies_values_into_the_same_tensors():
    model = nn.Linear(2, 2)
    weight = model.weight
    source = nn.Linear(2, 2).double()
    model.load_state_dict(source.state_dict())
    assert model.weight is weight and model.weight.dtype == np.float32
    np.testing.assert_allclose(values(model.weight), values(source.weight), rtol=1e-7)
    with pytest.raises(NotImplementedError, match="assign=True"):
        model.load_state_dict(source.state_dict(), assign=True)


def test_a_checkpoint_round_trip_through_state_dict_and_save(tmp_path):
    model = net(mt)
    mt.save(model.state_dict(), str(tmp_path / "w.pt"))
    other = net(mt)
    other.conv.weight.data[...] = 0
    other.load_state_dict(mt.load(str(tmp_path / "w.pt")))
    for (key, a), b in zip(model.state_dict().items(), other.state_dict().values()):
        np.testing.assert_array_equal(values(a), values(b), err_msg=key)


# ---- dtype and device -----------------------------------------------------------------------
def test_module_dtype_moves_match_torch():
    def run(lib):
        model = net(lib)
        seen = [str(model.double().conv.weight.dtype).replace("torch.", "")]
        seen.append(str(model.float().bn.running_mean.dtype).replace("torch.", ""))
        seen.append(str(model.half().conv.weight.dtype).replace("torch.", ""))
        seen.append(str(model.bn.num_batches_tracked.dtype).replace("torch.", ""))      # integers stay
        seen.append(str(model.to(lib.float64).head.weight.dtype).replace("torch.", ""))
        seen.append(str(model.to("cpu", lib.float32, non_blocking=True).head.weight.dtype).replace("torch.", ""))
        seen.append(str(model.to(lib.ones(1, dtype=lib.float64)).scale.dtype).replace("torch.", ""))
        seen.append(model.cpu() is model and model.to(lib.device("cpu")) is model)
        return seen

    ours, theirs = both(run)
    assert ours == theirs


def test_module_to_an_integer_dtype_is_refused_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
            lib.nn.Linear(2, 2).to(lib.int64)


@pytest.mark.skipif(mt.cuda.is_available(), reason="checks the machine without CUDA")
def test_cuda_without_cuda_raises_torchs_error_type():
    """torch built without CUDA raises AssertionError; a CUDA build without a GPU RuntimeError.
    The engine's error is both, and names what failed."""
    for call in (lambda: nn.Linear(2, 2).cuda(), lambda: mt.ones(2).cuda(), lambda: mt.ones(2).to("cuda")):
        with pytest.raises(AssertionError, match="device 'cuda' cannot be used"):
            call()
        with pytest.raises(RuntimeError):
            call()
    model = nn.Linear(2, 2)
    with pytest.raises(AssertionError):
        model.to("cuda")
    assert all(p.device == "cpu" for p in model.parameters())


def test_tensor_to_takes_torchs_forms():
    x = mt.tensor(np.array([1.5, 2.5]), requires_grad=True)
    assert x.to("cpu", non_blocking=True) is x and x.to(mt.device("cpu")) is x
    assert x.to(mt.float32).dtype == np.float32 and x.to(mt.float32).requires_grad
    assert x.to("cpu", mt.float32, non_blocking=True, copy=False).dtype == np.float32
    assert x.to(mt.ones(1, dtype=mt.float32)).dtype == np.float32
    copied = x.to(copy=True)
    assert copied is not x and np.shares_memory(copied.array, x.array) is False
    assert x.to(dtype=mt.float64, copy=True) is not x
    with pytest.raises(ValueError, match="unknown device"):
        x.to("tpu")
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        x.to("cpu", bogus=1)
    with pytest.raises(ValueError, match="one GPU, cuda:0"):
        x.to("cuda:1")


# ---- devices --------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 0), ("cuda:3",), ("cpu", 0),
                                  ("mps",), ("meta",)])
def test_device_objects_match_torch(args):
    torch = pytest.importorskip("torch")
    ours, theirs = mt.device(*args), torch.device(*args)
    assert (ours.type, ours.index, str(ours), repr(ours)) == (theirs.type, theirs.index, str(theirs), repr(theirs))
    assert mt.device(ours) == ours and mt.device(str(ours)) == ours


@pytest.mark.parametrize("args", [("cuda:x",), ("gpu",), ("cpu", -1), ("cuda:0", 0), ("cuda:01",)])
def test_device_errors_match_torch(args):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as theirs:
        torch.device(*args)
    with pytest.raises(RuntimeError) as ours:
        mt.device(*args)
    assert str(ours.value).split(":")[0] == str(theirs.value).split(":")[0]


def test_device_equality_matches_torch_between_devices_and_also_takes_strings():
    torch = pytest.importorskip("torch")
    pairs = [("cpu", "cpu"), ("cuda", "cuda:0"), ("cuda:0", "cuda:0"), ("cpu", "cuda"), ("cuda:0", "cuda:1")]
    for a, b in pairs:
        assert (mt.device(a) == mt.device(b)) == (torch.device(a) == torch.device(b)), (a, b)
    # the departure: a device equals a string naming it (torch says False), so t.device == "cpu"
    assert mt.device("cpu") == "cpu" and "cpu" == mt.device("cpu") and mt.device("cpu") != "cuda"
    assert mt.device("cuda", 0) == "cuda" and mt.device("cpu") != "bogus"
    assert {mt.device("cpu"): 1}["cpu"] == 1


def test_module_backward_hooks_are_refused_by_name():
    for register in ("register_full_backward_hook", "register_full_backward_pre_hook", "register_backward_hook"):
        with pytest.raises(NotImplementedError, match=f"{register}: module backward hooks are not supported"):
            getattr(nn.Linear(2, 2), register)(lambda *args: None)


def test_register_module_is_add_module_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        model = lib.nn.Module()
        model.register_module("child", lib.nn.ReLU())
        assert [n for n, _ in model.named_children()] == ["child"]


def test_a_tensor_reports_torchs_device_object():
    torch = pytest.importorskip("torch")
    x = mt.ones(2)
    t = torch.ones(2)
    assert (x.is_cuda, x.is_cpu, x.get_device()) == (t.is_cuda, t.is_cpu, t.get_device())
    assert isinstance(x.device, mt.device) and repr(x.device) == repr(torch.ones(2).device)
    assert x.device == "cpu" and str(x.device) == "cpu"
    assert mt.zeros(2, device=x.device).device == "cpu"
    assert mt.ones(2).to(x.device) is not None


def test_cuda_mps_and_accelerator_queries_answer_as_torch_on_this_machine():
    torch = pytest.importorskip("torch")
    assert mt.cuda.is_available() == (mt.cuda.device_count() == 1)
    assert mt.backends.mps.is_available() is False and mt.backends.mps.is_built() is False
    assert mt.accelerator.is_available() == mt.cuda.is_available()
    if mt.cuda.is_available():
        assert mt.accelerator.current_accelerator() == mt.device("cuda") and mt.cuda.current_device() == 0
    else:
        assert mt.accelerator.current_accelerator() is None and mt.accelerator.device_count() == 0
        with pytest.raises(RuntimeError):
            mt.cuda.current_device()
    device = mt.device("cuda" if mt.cuda.is_available() else "cpu")
    model = nn.Linear(2, 2).to(device)
    assert all(p.device == device for p in model.parameters())
    assert inspect.signature(mt.accelerator.current_accelerator).parameters.keys() == \
           inspect.signature(torch.accelerator.current_accelerator).parameters.keys()
