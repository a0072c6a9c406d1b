"""Draw LeNet-5's recorded graph: docs/graph_lenet5.dot and docs/graph_lenet5.png.

One forward pass of LeNet-5 (minitorch_cnn/models/lenet5.py) and its cross-entropy
loss on a batch of the bundled digits record the graph that `loss.backward()` walks;
`mt.to_dot` prints it as Graphviz DOT text, with the parameters named as the model
names them (conv1.weight, fc3.bias, ...), and Graphviz's `dot` draws the PNG.

    apt-get install graphviz        # Debian/Ubuntu: gives `dot`
    python tools/draw_graph.py      # from the repository root

Without `dot` the .dot file is still written, and the script says how to render it.
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))      # run from a checkout, installed or not

import minitorch_cnn as mt  # noqa: E402
from minitorch_cnn.data import BundledDigits, DataLoader  # noqa: E402
from minitorch_cnn.nn import functional as F  # noqa: E402


def lenet5_loss_graph(batch_size):
    """(loss, names): LeNet-5's loss on the first `batch_size` bundled test digits, and names for
    its leaves (the model's parameters, the images, the labels)."""
    mt.manual_seed(0)
    model = mt.models.LeNet5()
    images, labels = next(iter(DataLoader(BundledDigits(train=False), batch_size=batch_size)))
    loss = F.cross_entropy(model(images), labels)
    names = dict(model.named_parameters())
    names.update(images=images, labels=labels)
    return loss, names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "graph_lenet5"),
                        help="output path without extension (default docs/graph_lenet5)")
    parser.add_argument("--batch-size", type=int, default=8, help="digits in the batch (default 8)")
    parser.add_argument("--rankdir", default="TB", choices=mt.graph.RANKDIRS,
                        help="Graphviz direction (default TB: top to bottom)")
    args = parser.parse_args(argv)

    loss, names = lenet5_loss_graph(args.batch_size)
    dot_path, png_path = Path(args.out + ".dot"), Path(args.out + ".png")
    dot_path.write_text(mt.to_dot(loss, params=names, rankdir=args.rankdir))
    print(f"wrote {dot_path}")
    dot = shutil.which("dot")
    if dot is None:
        print(f"Graphviz's `dot` is not on PATH (apt-get install graphviz); render it later with\n"
              f"    dot -Tpng {dot_path} -o {png_path}", file=sys.stderr)
        return 1
    subprocess.run([dot, "-Tpng", "-Gdpi=110", str(dot_path), "-o", str(png_path)], check=True)
    print(f"wrote {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
