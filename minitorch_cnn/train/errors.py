"""What stops a run, and how the CLI says so."""
import os
import sys


class UsageError(Exception):
    """A bad argument or input: reported as one line, no traceback."""


class Stop(Exception):
    """Training must stop: a non-finite loss, or Ctrl-C."""


class Agreed(Exception):
    """Every rank stops with this exit status; what went wrong has been said already."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


# The library's messages speak Python; on the command line the same advice is a flag.
_FLAG_WORDS = {"use BundledDigits() for an offline MNIST subset": "pass --dataset bundled-digits for the "
                                                                  "offline MNIST subset",
               "download=False, so nothing was downloaded": "nothing was downloaded",
               "use device='cpu'": "use --device cpu",
               "device 'cuda'": "--device cuda"}


def _in_flags(message):
    for python, flag in _FLAG_WORDS.items():
        message = message.replace(python, flag)
    return message


def _stopped(what, checkpoint_path, args):
    """Say why training stopped and which checkpoint is the last good one; exit status 1."""
    last = checkpoint_path if os.path.exists(checkpoint_path) else "none (nothing finite was saved)"
    print(f"error: {what}; training stopped. The last good checkpoint: {last}; try a smaller --lr "
          f"(now {args.lr}).", file=sys.stderr)
    return 1
