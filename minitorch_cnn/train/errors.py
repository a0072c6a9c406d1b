"""What stops a run, and how the CLI says so."""


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
