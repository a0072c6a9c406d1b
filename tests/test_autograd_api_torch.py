"""torch.autograd's user-facing surface, held to torch 2.13: grad modes (context managers,
decorators, set_grad_enabled as a function), Tensor.register_hook / retain_grad / retains_grad /
requires_grad_, torch.autograd.Function written by a user (ctx.save_for_backward, saved_tensors,
needs_input_grad, mark_non_differentiable, set_materialize_grads, several outputs, non-Tensor
arguments, torch's errors), and torch.autograd.grad / backward.  Run in both engine modes
(MINITORCH_CNN_FAST=0 too): the user's Function and the hooks sit on the same graph either way."""
import inspect

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import autograd


def both(fn):
    """fn(lib) for lib in (minitorch_cnn, torch): (ours, theirs)."""
    torch = pytest.importorskip("torch")
    return fn(mt), fn(torch)


def values(t):
    if t is None:
        return None
    if hasattr(t, "detach") and not isinstance(t, mt.Tensor):
        return t.detach().numpy()
    return mt.backend.to_numpy(t.array)


def assert_same(ours, theirs, rtol=1e-12, atol=1e-12):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, rtol, atol)
        return
    assert (ours is None) == (theirs is None)
    if theirs is not None:
        np.testing.assert_allclose(values(ours), values(theirs), rtol=rtol, atol=atol)


def leaf(lib, values_, requires_grad=True):
    return lib.tensor(np.asarray(values_, dtype=np.float64), requires_grad=requires_grad)


# ---- grad modes ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode"])
def test_grad_mode_signatures_are_torchs(name):
    torch = pytest.importorskip("torch")
    ours, theirs = (inspect.signature(getattr(lib, name).__init__).parameters for lib in (mt, torch))
    assert [(p.name, p.default, p.kind) for p in ours.values()] == \
           [(p.name, p.default, p.kind) for p in theirs.values()]
    assert getattr(mt.autograd, name) is getattr(mt, name)
    assert getattr(mt.autograd.grad_mode, name) is getattr(mt, name)


def test_grad_modes_as_context_managers_decorators_and_functions_match_torch():
    def run(lib):
        seen = []
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad
        def bare():
            return lib.is_grad_enabled()

        @lib.no_grad()
        def called():
            return lib.is_grad_enabled()

        @lib.inference_mode
        def inference():
            return lib.is_grad_enabled(), lib.is_inference_mode_enabled()

        @lib.set_grad_enabled(False)
        def disabled():
            return lib.is_grad_enabled()

        seen += [bare(), called(), inference(), disabled(), lib.is_grad_enabled(), bare.__name__]
        with lib.no_grad():
            seen.append((x * 2).requires_grad)
            with lib.enable_grad():
                seen.append((x * 2).requires_grad)
            with lib.inference_mode(False):
                seen.append(lib.is_grad_enabled())
        with lib.inference_mode():
            seen += [lib.is_grad_enabled(), lib.is_inference_mode_enabled(), (x * 2).requires_grad]
        seen.append(lib.is_inference_mode_enabled())
        mode = lib.set_grad_enabled(False)                 # a function call: the mode changes now
        seen += [lib.is_grad_enabled(), repr(mode).split(".")[-1]]
        lib.set_grad_enabled(True)
        with lib.set_grad_enabled(False):
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
        try:
            with lib.no_grad():
                raise KeyError("inside")
        except KeyError:
            seen.append(lib.is_grad_enabled())             # restored after an exception

        def generator():
            for _ in range(2):
                yield lib.is_grad_enabled()
        seen.append(list(lib.no_grad()(generator)()))
        return seen

    ours, theirs = both(run)
    assert ours == theirs


@pytest.mark.parametrize("mode", ["yes", 1, None])
def test_set_grad_enabled_refuses_a_non_bool_with_torchs_error(mode):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):
        torch.set_grad_enabled(mode)
    with pytest.raises(TypeError, match="must be bool"):
        mt.set_grad_enabled(mode)
    assert mt.is_grad_enabled()


def test_optimizer_steps_still_run_without_a_graph():
    """The optimizers import no_grad from minitorch_cnn.autograd: the class works as before."""
    w = mt.nn.Parameter(np.ones(3))
    (w * w).sum().backward()
    mt.optim.SGD([w], lr=0.5).step()
    np.testing.assert_array_equal(values(w), [0.0, 0.0, 0.0])
    assert w._node is None


# ---- Tensor hooks, retain_grad, requires_grad_ -----------------------------------------------
def test_tensor_hooks_match_torch_values_calls_and_order():
    """A leaf used twice (the hook sees the sum, once, and clamping it differs from clamping
    each part), a non-leaf hook scaling its gradient, retain_grad seeing the hooked gradient
    (whichever was registered first), a root's hook, a removed hook."""
    def run(lib):
        calls = []
        x = leaf(lib, [0.5, -2.0, 3.0])
        x.register_hook(lambda g: calls.append(("x", values(g).tolist())))
        x.register_hook(lambda g: g.clamp(-1.0, 1.0))
        y = x * x + 3 * x
        y.retain_grad()
        y.register_hook(lambda g: g * 10)
        z = y * 2
        z.register_hook(lambda g: calls.append(("z", values(g).tolist())))
        z.retain_grad()
        removed = z.register_hook(lambda g: g * 1000)
        removed.remove()
        loss = (z * z).sum()
        loss.register_hook(lambda g: g * 0.5)
        loss.backward()
        return calls, x.grad, y.grad, z.grad, [t.retains_grad for t in (x, y, z, loss)]

    (calls, *grads, flags), (t_calls, *t_grads, t_flags) = both(run)
    assert calls == t_calls and flags == t_flags
    assert_same(grads, t_grads)


def test_a_hook_on_a_leaf_root_sees_the_seed():
    def run(lib):
        seen = []
        w = leaf(lib, [1.0, 2.0])
        w.register_hook(lambda g: seen.append(values(g).tolist()) or g * 3)
        w.backward(lib.tensor(np.array([5.0, 7.0])))
        return seen, w.grad

    (seen, grad), (t_seen, t_grad) = both(run)
    assert seen == t_seen
    assert_same(grad, t_grad)


def test_a_handle_used_as_a_context_manager_removes_its_hook():
    x = leaf(mt, [1.0, 2.0])
    with x.register_hook(lambda g: g * 100):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [101.0, 101.0])


def test_register_hook_errors_are_torchs():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            lib.zeros(2).register_hook(lambda g: g)
        x = leaf(lib, [1.0, 2.0])
        x.register_hook(lambda g: g.reshape(1, 2))
        with pytest.raises(RuntimeError, match="has changed the size of value"):
            (x * 2).sum().backward()
        y = leaf(lib, [1.0, 2.0])
        y.register_hook(lambda g: 5)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            (y * 2).sum().backward()


def test_a_failed_backward_leaves_no_held_gradient_behind():
    """A leaf's hooked gradient waits for the end of the backward: a backward that raises must
    not hand it to the next one."""
    class Broken(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1

        @staticmethod
        def backward(ctx, g):
            raise ValueError("broken on purpose")

    x = leaf(mt, [1.0, 2.0])
    x.register_hook(lambda g: g)
    with pytest.raises(ValueError, match="on purpose"):
        (x * 2 + Broken.apply(x * 3)).sum().backward()
    assert x.grad is None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [2.0, 2.0])


def test_retain_grad_and_retains_grad_match_torch():
    def run(lib):
        x = leaf(lib, [1.0, 2.0])
        x.retain_grad()                      # a leaf: no-op, retains_grad stays False
        y = x.exp()
        before = y.retains_grad
        y.retain_grad()
        (y * y).sum().backward()
        return before, x.retains_grad, y.retains_grad, y.grad, x.grad

    (*flags, y_grad, x_grad), (*t_flags, t_y_grad, t_x_grad) = both(run)
    assert flags == t_flags
    assert_same([y_grad, x_grad], [t_y_grad, t_x_grad])


def test_requires_grad_underscore_matches_torch():
    torch = pytest.importorskip("torch")
    assert inspect.signature(mt.Tensor.requires_grad_).parameters.keys() == {"self", "requires_grad"}
    for lib in (mt, torch):
        x = lib.ones(2).requires_grad_()
        assert x.requires_grad and x.requires_grad_(False) is x and not x.requires_grad
        assert lib.ones(2).requires_grad_(requires_grad=True).requires_grad
        with pytest.raises(RuntimeError, match="only .*floating point"):
            lib.ones(2, dtype=lib.int64).requires_grad_()
        with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
            (lib.ones(2, requires_grad=True) * 2).requires_grad_(False)


# ---- torch.autograd.Function ----------------------------------------------------------------
def make_functions(lib):
    """The same user Functions for either library (torch's tutorials write them so)."""
    class ScaledExp(lib.autograd.Function):
        """y = exp(x) * k; dy/dx = y * k... saved: the output, k as a ctx attribute."""
        @staticmethod
        def forward(ctx, x, k):
            y = x.exp() * k
            ctx.save_for_backward(y)
            ctx.k = k
            ctx.record = (ctx.needs_input_grad, lib.is_grad_enabled())
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y, None

    class MulAdd(lib.autograd.Function):
        """(a * b + c, a - b): two outputs, three Tensor inputs."""
        @staticmethod
        def forward(ctx, a, b, c):
            ctx.save_for_backward(a, b)
            return a * b + c, a - b

        @staticmethod
        def backward(ctx, grad_sum, grad_diff):
            a, b = ctx.saved_tensors
            grad_a = grad_sum * b + grad_diff
            grad_b = grad_sum * a - grad_diff
            return grad_a, grad_b, grad_sum if ctx.needs_input_grad[2] else None

    class SortedWithIndex(lib.autograd.Function):
        """A differentiable output, an integer output marked non-differentiable, a plain number."""
        @staticmethod
        def forward(ctx, x):
            index = x.argmax()
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(x)
            return x * 2, index, 3

        @staticmethod
        def backward(ctx, grad, grad_index, grad_number):
            ctx.seen = (grad_index is not None and float(grad_index.sum()), grad_number)
            return grad * 2

    class Lazy(lib.autograd.Function):
        """set_materialize_grads(False): an unused output's gradient arrives as None."""
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            ctx.seen = (grad_a is None, grad_b is None)
            grad = 0
            if grad_a is not None:
                grad = grad + grad_a * 2
            if grad_b is not None:
                grad = grad + grad_b * 3
            return grad

    class Identity(lib.autograd.Function):
        """forward returns its input: the output is still a new tensor."""
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    return ScaledExp, MulAdd, SortedWithIndex, Lazy, Identity


def test_a_user_function_matches_torch_values_gradients_and_ctx():
    def run(lib):
        ScaledExp, *_ = make_functions(lib)
        x = leaf(lib, [0.1, -0.4, 1.3])
        y = ScaledExp.apply(x, 2.5)
        node = y.grad_fn
        (y * y).sum().backward()
        name = node.__name__ if isinstance(node, type) else type(node).__name__
        return y, x.grad, y.requires_grad, y.is_leaf, name.replace("Backward", ""), node

    (y, g, *facts, _), (t_y, t_g, *t_facts, _) = both(run)
    assert_same([y, g], [t_y, t_g])
    assert facts == t_facts == [True, False, "ScaledExp"]


def test_ctx_records_needs_input_grad_and_forward_runs_without_a_graph():
    torch = pytest.importorskip("torch")
    records = []
    for lib in (mt, torch):
        ScaledExp, *_ = make_functions(lib)

        class Spy(ScaledExp):
            @staticmethod
            def forward(ctx, x, k):
                out = ScaledExp.forward(ctx, x, k)
                records.append(ctx.record)
                return out

        Spy.apply(leaf(lib, [1.0]), 2.0)
        Spy.apply(leaf(lib, [1.0], requires_grad=False), 2.0)
    assert records[:2] == records[2:] == [((True, False), False), ((False, False), False)]


def test_gradcheck_of_user_functions():
    ScaledExp, MulAdd, SortedWithIndex, Lazy, Identity = make_functions(mt)
    rng = np.random.default_rng(0)
    a, b, c = (mt.tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(3))
    assert mt.gradcheck(lambda t: ScaledExp.apply(t, 1.7), [a])
    assert mt.gradcheck(lambda p, q, r: MulAdd.apply(p, q, r)[0] * 2 + MulAdd.apply(p, q, r)[1], [a, b, c])
    assert mt.gradcheck(lambda t: SortedWithIndex.apply(t)[0], [a])
    assert mt.gradcheck(lambda t: Lazy.apply(t)[1], [a])


def test_several_outputs_non_differentiable_outputs_and_materialized_grads_match_torch():
    def run(lib):
        _, MulAdd, SortedWithIndex, Lazy, Identity = make_functions(lib)
        a, b, c = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, -1.0]), leaf(lib, [0.5, 0.5])
        total, diff = MulAdd.apply(a, b, c)
        (total.sum() * 2 + (diff * diff).sum()).backward()
        only_total = MulAdd.apply(a, b, c)[0]          # diff unused: its gradient is zeros
        only_total.sum().backward()
        x = leaf(lib, [1.0, 5.0, 2.0])
        doubled, index, number = SortedWithIndex.apply(x)
        doubled.sum().backward()
        flags = [doubled.requires_grad, index.requires_grad, number, doubled.grad_fn is not None]
        lazy_x = leaf(lib, [1.0, 2.0])
        first, second = Lazy.apply(lazy_x)
        first.sum().backward()
        seen_lazy = first.grad_fn     # (its ctx recorded what arrived)
        identity_x = leaf(lib, [1.0, 2.0])
        out = Identity.apply(identity_x)
        (out * 1).sum().backward()
        return ([a.grad, b.grad, c.grad, x.grad, lazy_x.grad, identity_x.grad],
                flags, out is identity_x, seen_lazy)

    (grads, flags, same, _), (t_grads, t_flags, t_same, _) = both(run)
    assert_same(grads, t_grads)
    assert flags == t_flags and same == t_same is False


def test_what_backward_received_matches_torch():
    """The non-differentiable output's gradient is materialised as zeros, a number output's is
    None; without materialising, an unused output's gradient is None."""
    torch = pytest.importorskip("torch")
    seen = []
    for lib in (mt, torch):
        _, _, SortedWithIndex, Lazy, _ = make_functions(lib)
        doubled, _, _ = SortedWithIndex.apply(leaf(lib, [1.0, 5.0]))
        doubled.sum().backward()
        first, _ = Lazy.apply(leaf(lib, [1.0]))
        first.sum().backward()
        seen.append((ctx_of(doubled).seen, ctx_of(first).seen))
    assert seen[0] == seen[1] == ((0.0, None), (False, True))


def ctx_of(output):
    """The ctx a Function's backward ran with: torch's grad_fn is the ctx; ours is the node the
    output hangs on (several outputs: the node behind its selecting node)."""
    if not isinstance(output, mt.Tensor):
        return output.grad_fn
    node = output._node
    return node.input_nodes[0] if hasattr(node, "output_index") else node


def test_kwargs_bind_to_forward_parameters_as_torch():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale=1.0, shift=0.0):
                ctx.scale = scale
                return x * scale + shift

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.scale, None, None

        x = leaf(lib, [1.0, 2.0])
        y = Scale.apply(x, scale=3.0)
        y.sum().backward()
        return y, x.grad

    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_setup_context_style_matches_torch():
    def run(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                (x,) = inputs
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        x = leaf(lib, [1.0, -2.0])
        Cube.apply(x).sum().backward()
        return x.grad

    ours, theirs = both(run)
    assert_same(ours, theirs)


@pytest.mark.parametrize("case", ["too few", "extra non-None", "grad for a number", "wrong shape"])
def test_wrong_gradients_from_backward_raise_torchs_errors(case):
    torch = pytest.importorskip("torch")
    messages = {
        "too few": r"function BadBackward returned an incorrect number of gradients \(expected 2, got 1\)",
        "extra non-None": r"function BadBackward returned an incorrect number of gradients \(expected 2, got 3\)",
        "grad for a number": r"function BadBackward returned a gradient different than None at position 2, "
                             r"but the corresponding forward input was not a Variable",
        "wrong shape": r"Function BadBackward returned an invalid gradient at index 0 - got \[2\] "
                       r"but expected shape compatible with \[3\]",
    }
    for lib in (mt, torch):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, grad):
                return {"too few": (grad,), "extra non-None": (grad, None, grad),
                        "grad for a number": (grad, grad), "wrong shape": (grad[:2], None)}[case]

        with pytest.raises(RuntimeError, match=messages[case]):
            Bad.apply(leaf(lib, [1.0, 2.0, 3.0]), 2.0).sum().backward()


def test_a_broadcast_gradient_is_summed_back_to_the_input_shape_as_torch():
    def run(lib):
        class Spread(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.sum()

            @staticmethod
            def backward(ctx, grad):
                return grad * lib.tensor(np.arange(12.0).reshape(2, 2, 3))   # x is (2, 1, 3)

        x = lib.tensor(np.ones((2, 1, 3)), requires_grad=True)
        Spread.apply(x).backward()
        return x.grad

    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_extra_none_gradients_are_dropped_as_torch():
    class Many(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    x = leaf(mt, [1.0, 2.0])
    Many.apply(x).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [2.0, 2.0])


def test_freed_saved_tensors_and_in_place_changes_are_refused_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        ScaledExp, *_ = make_functions(lib)
        y = ScaledExp.apply(leaf(lib, [1.0]), 2.0)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.sum().backward()

        class Saves(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * x

        x = leaf(lib, [1.0, 2.0]) * 1
        out = Saves.apply(x)
        with lib.no_grad():
            x.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation|modified by an in-place operation"):
            out.sum().backward()


def test_no_backward_defined_and_no_graph_cases_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

        with pytest.raises(NotImplementedError, match="You must implement either the backward or vjp"):
            NoBackward.apply(leaf(lib, [1.0])).sum().backward()
        ScaledExp, *_ = make_functions(lib)
        with lib.no_grad():
            assert not ScaledExp.apply(leaf(lib, [1.0]), 2.0).requires_grad
        plain = ScaledExp.apply(leaf(lib, [1.0], requires_grad=False), 2.0)
        assert not plain.requires_grad and plain.grad_fn is None


def test_save_for_backward_takes_tensors_only():
    class SavesANumber(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x

    with pytest.raises(TypeError, match="save_for_backward can only save variables"):
        SavesANumber.apply(leaf(mt, [1.0, 2.0]))


def test_mt_function_is_still_the_engines_array_function():
    """mt.Function is the core's (forward on raw arrays); mt.autograd.Function is torch's."""
    from minitorch_cnn.core.autograd import Function as CoreFunction
    assert mt.Function is CoreFunction and mt.autograd.Function is not CoreFunction

    class Square(mt.Function):
        @staticmethod
        def forward(ctx, a):
            assert isinstance(a, np.ndarray)
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved
            return (2 * a * g,)

    x = leaf(mt, [3.0])
    Square.apply(x).backward()
    np.testing.assert_array_equal(values(x.grad), [6.0])


def test_once_differentiable_and_function_ctx_names_exist_as_torch():
    torch = pytest.importorskip("torch")
    assert hasattr(torch.autograd.function, "once_differentiable")
    assert mt.autograd.function.once_differentiable(len) is len
    assert issubclass(mt.autograd.function.FunctionCtx, object)
    assert mt.autograd.function.Function is mt.autograd.Function


# ---- autograd.grad and autograd.backward ----------------------------------------------------
def test_grad_and_backward_signatures_are_torchs():
    torch = pytest.importorskip("torch")
    for name in ("grad", "backward"):
        ours = inspect.signature(getattr(mt.autograd, name))
        theirs = inspect.signature(getattr(torch.autograd, name))
        assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
               [(p.name, p.default, p.kind) for p in theirs.parameters.values()]


def test_autograd_grad_matches_torch_and_leaves_every_grad_alone():
    def run(lib):
        a, b = leaf(lib, [1.0, -2.0]), leaf(lib, [0.5, 3.0])
        a.grad = lib.tensor(np.array([100.0, 100.0]))        # must survive
        y = a * b
        y.retain_grad()
        first = lib.autograd.grad((y * y).sum(), [a, y], retain_graph=True)
        seeded = lib.autograd.grad(y, a, grad_outputs=lib.tensor(np.array([2.0, 3.0])), retain_graph=True)
        two = lib.autograd.grad([y.sum(), (y * y).sum()], [a, b])
        unused = lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
        zeros = lib.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)
        named = lib.autograd.grad((a * 3).sum(), {"a": a})
        return [*first, *seeded, *two, unused[0], zeros[1], named["a"], a.grad], unused[1], b.grad, y.grad

    (grads, unused, b_grad, y_grad), (t_grads, t_unused, t_b_grad, t_y_grad) = both(run)
    assert_same(grads, t_grads)
    assert unused is t_unused is None and b_grad is t_b_grad is None
    assert_same(y_grad, t_y_grad)       # (torch adds to a retained tensor's .grad even in grad())


def test_autograd_grad_runs_hooks_where_torch_does():
    """A leaf input's gradient comes after its hooks; a non-leaf input's is caught before its
    own hooks (which still shape what flows on), as torch does."""
    def run(lib):
        x = leaf(lib, [0.5, 2.0])
        x.register_hook(lambda g: g.clamp(-1, 1))
        y = x * 2
        y.register_hook(lambda g: g * 10)
        return lib.autograd.grad((x ** 3).sum(), [x]) + lib.autograd.grad((y ** 2).sum(), [x, y])

    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_autograd_grad_errors_are_torchs():
    torch = pytest.importorskip("torch")
    for lib in (mt, torch):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [1.0, 2.0])
        with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
            lib.autograd.grad((a * 2).sum(), [a, b])
        with pytest.raises(RuntimeError, match="does not require grad"):
            lib.autograd.grad((a * 2).sum(), lib.ones(2))
        with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
            lib.autograd.grad(lib.ones(2).sum(), a)
        with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
            lib.autograd.grad(a * 2, a)
        loss = (a * a).sum()
        lib.autograd.grad(loss, a)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            lib.autograd.grad(loss, a)


def test_create_graph_is_refused_by_name():
    a = leaf(mt, [1.0])
    with pytest.raises(NotImplementedError, match="create_graph=True.*double backward"):
        mt.autograd.grad((a * a).sum(), a, create_graph=True)


def test_autograd_backward_matches_torch():
    def run(lib):
        a, b = leaf(lib, [1.0, 2.0]), leaf(lib, [3.0, 4.0])
        lib.autograd.backward([(a * 2).sum(), (b * a).sum()])
        first = [a.grad.clone(), b.grad.clone()]
        a.grad = b.grad = None
        lib.autograd.backward(a * b, grad_tensors=lib.tensor(np.array([1.0, 10.0])), inputs=[a])
        return first + [a.grad], b.grad

    (grads, b_grad), (t_grads, t_b_grad) = both(run)
    assert_same(grads, t_grads)
    assert b_grad is t_b_grad is None
