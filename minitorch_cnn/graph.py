"""to_dot: the graph recorded behind a tensor, as Graphviz DOT text.

Every op that records itself (autograd.py's `Function.apply`) leaves a `Context`
on its output: the op (`ctx.function`), its input tensors (`ctx.inputs`) and the
node each input came from (`ctx.input_nodes`, None for a leaf).  Following
`input_nodes` back from a tensor visits the whole graph that `backward()` will
walk; this module prints it.  Graphviz draws the text (`dot -Tpng`); nothing here
needs it installed.  tools/draw_graph.py draws LeNet-5's graph into docs/.
"""
from collections.abc import Mapping

from .autograd import post_order
from .nn.module import Module
from .tensor import Tensor

RANKDIRS = ("TB", "LR", "BT", "RL")

# One look per kind of node: the ops, the leaves that get a gradient (parameters),
# the leaves that get none (the data), and the tensor the graph was drawn for.
_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
    "root": 'shape=box, style="rounded,filled", fillcolor="#fde3c3"',
    "leaf_with_grad": 'shape=box, style=filled, fillcolor="#cfe2f3"',
    "leaf": 'shape=box, style=filled, fillcolor="#eeeeee"',
}


def to_dot(tensor, params=None, *, rankdir="TB"):
    """The graph recorded behind `tensor` as Graphviz DOT text (a str).

    One node per recorded op, labelled with the op (its Function's name: Conv2d,
    AvgPool2d, Linear, Tanh, CrossEntropy, ...) and the shape of its output; one
    node per leaf, labelled with its name in `params` ("conv1.weight"), or "input"
    when it has none, and its shape.  A dtype other than float32 follows the shape.
    Edges point the way data flows: input -> op -> output.  A tensor reached by
    several paths is one node with several outgoing edges; an op that reads the
    same tensor twice (x * x) gets two edges from it.  Leaves that require grad are
    blue, other leaves grey, the op that made `tensor` orange.  The same graph always
    gives the same text.  Edges between ops weigh more, so Graphviz draws the chain of
    activations straight and the leaves beside it.

    tensor    a Tensor; a leaf, or a tensor with no graph (requires_grad False),
              gives a graph of one node
    params    names for leaves: a Module (its named parameters and buffers) or a
              dict name -> Tensor, e.g. dict(model.named_parameters()); any leaf
              can be named this way (the images, the labels)
    rankdir   Graphviz's direction: "TB" (top to bottom), "LR", "BT" or "RL"

    Render it with Graphviz: `dot -Tpng graph.dot -o graph.png`.

    >>> import minitorch_cnn as mt
    >>> w = mt.tensor([[1.0, 2.0]], requires_grad=True)
    >>> x = mt.tensor([[3.0], [4.0]])
    >>> print(mt.to_dot((w @ x).relu(), params={"w": w}))
    digraph autograd {
      rankdir=TB;
      node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.08,0.03"];
      edge [arrowsize=0.6];
      n0 [label="w\\n(1, 2)", shape=box, style=filled, fillcolor="#cfe2f3"];
      n1 [label="input\\n(2, 1)", shape=box, style=filled, fillcolor="#eeeeee"];
      n2 [label="MatMul\\n(1, 1)", shape=box, style="rounded,filled", fillcolor="#ffffff"];
      n3 [label="ReLU\\n(1, 1)", shape=box, style="rounded,filled", fillcolor="#fde3c3"];
      n0 -> n2;
      n1 -> n2;
      n2 -> n3 [weight=4];
    }
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    if not isinstance(rankdir, str) or rankdir not in RANKDIRS:
        raise ValueError(f"to_dot: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    names = _leaf_names(params)

    root = tensor if tensor._node is None else tensor._node
    # The shape and dtype of each op's output: a Context does not keep its output (that would
    # keep every activation alive), but each consumer holds it among its inputs.
    outputs = {id(root): (tensor.shape, tensor.dtype)}
    order = _data_flow_order(root, outputs)
    number = {id(item): i for i, item in enumerate(order)}

    lines = ["digraph autograd {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=10, height=0.3, margin="0.08,0.03"];',
             "  edge [arrowsize=0.6];"]
    for i, item in enumerate(order):
        if isinstance(item, Tensor):
            title, (shape, dtype) = names.get(id(item), "input"), (item.shape, item.dtype)
            kind = "leaf_with_grad" if item.requires_grad else "leaf"
        else:
            title, (shape, dtype) = item.function.__name__.lstrip("_"), outputs[id(item)]
            kind = "root" if item is root else "op"
        lines.append(f"  n{i} [label={_label(title, shape, dtype)}, {_STYLE[kind]}];")
    for i, item in enumerate(order):
        if not isinstance(item, Tensor):
            # Heavier edges between ops keep the chain of activations straight, the leaves beside it.
            lines.extend(f"  n{number[id(source)]} -> n{i}"
                         f"{';' if isinstance(source, Tensor) else ' [weight=4];'}" for source in _sources(item))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _leaf_names(params):
    """{id(tensor): name} from a Module or a dict name -> Tensor; the first name of a tensor wins."""
    if params is None:
        return {}
    if isinstance(params, Module):
        items = list(params.named_parameters()) + list(params.named_buffers())
    elif isinstance(params, Mapping):
        items = list(params.items())
    else:
        raise TypeError(f"to_dot: expected params to be a Module or a dict of name -> Tensor, "
                        f"got {type(params).__name__}")
    names = {}
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"to_dot: expected params' names to be str, got {type(name).__name__}")
        if not isinstance(value, Tensor):
            raise TypeError(f"to_dot: expected params[{name!r}] to be a Tensor, got {type(value).__name__}")
        names.setdefault(id(value), name)
    return names


def _sources(ctx):
    """What each tensor input of a recorded op came from: its node, or the leaf Tensor itself."""
    for t, node in zip(ctx.inputs, ctx.input_nodes):
        if t is not None:
            yield t if node is None else node


def _data_flow_order(root, outputs):
    """Every node behind `root` (Contexts and leaf Tensors), each after all of its inputs.

    Inputs are visited in argument order, so the order (and the text) depends on the graph
    only.  Fills `outputs` with each op's output (shape, dtype), read from its consumers.
    """
    order = post_order(root, lambda item: [] if isinstance(item, Tensor) else list(_sources(item))[::-1])
    for item in order:
        if not isinstance(item, Tensor):
            for t, node in zip(item.inputs, item.input_nodes):
                if node is not None:
                    outputs.setdefault(id(node), (t.shape, t.dtype))
    return order


def _label(title, shape, dtype):
    """A quoted DOT label: the title, then the shape (and the dtype unless float32) below it."""
    detail = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    if dtype != "float32":
        detail += f" {dtype}"
    return '"' + "\\n".join(_escape(part) for part in (title, detail)) + '"'


def _escape(text):
    """Text safe inside a DOT double-quoted string (backslashes, quotes and line breaks escaped)."""
    return (text.replace("\\", "\\\\").replace('"', '\\"')
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))
