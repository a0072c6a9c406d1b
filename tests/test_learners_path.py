"""What a learner reads first stays small: the autograd engine, the Tensor and the textbook
reference ops (issue 15 keeps them under 1,500 lines in all while the fast paths grow)."""
import os

import minitorch_cnn

PACKAGE = os.path.dirname(minitorch_cnn.__file__)
LEARNERS_PATH = ["autograd.py", "tensor.py", "reference.py"]


def test_the_learners_path_is_under_1500_lines():
    lines = {}
    for name in LEARNERS_PATH:
        with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
            lines[name] = len(f.read().splitlines())
    assert sum(lines.values()) < 1500, lines
    assert all(n > 100 for n in lines.values()), lines   # the files are really there and whole
