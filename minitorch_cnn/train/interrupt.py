"""Ctrl-C, SIGTERM and SIGHUP while training: finish the batch, save, exit with 128 + the signal's
number (a second signal aborts at once, writing nothing).

The handlers never touch a stream: a handler runs between two bytecodes of the main thread, which
may be in the middle of writing to that very stream (Python then raises "reentrant call inside
BufferedWriter").  The first signal only sets a flag; the training loop notices it after the
current batch and says which signal stopped the run (announce()).  A second signal raises Abort,
an exception and no I/O: an atomic write it interrupts removes its temporary file, so the last
checkpoint stays as it was.
"""
import signal
import sys

# what stops a run: Ctrl-C, a scheduler's or `kill`'s SIGTERM, a closed terminal's SIGHUP (POSIX only)
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_WHY = {"SIGINT": "Ctrl-C (SIGINT)", "SIGTERM": "SIGTERM", "SIGHUP": "SIGHUP (the terminal closed)"}


def signal_name(signum):
    """'SIGTERM' for signal.SIGTERM; 'signal N' for a number Python does not name."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(signum):
    """A process stopped by signal N exits with 128 + N, as the shell reports it (130 for Ctrl-C)."""
    return 128 + int(signum)


class Abort(KeyboardInterrupt):
    """A stop signal that cannot wait for the end of the batch: a second one while training, or any
    before training began.  main() says str(self) and exits with 128 + signum."""

    def __init__(self, signum, message):
        super().__init__(message)
        self.signum = signum


class CtrlC:
    """SIGINT, SIGTERM and SIGHUP while training (a context manager restoring the previous handlers):
    the first signal sets `requested` (and `signum`), so that train_epoch stops after the current
    batch and the run saves; a second one raises Abort at once.  With at_once=True (around what
    comes before training, where there is nothing to save) the first signal raises Abort already."""

    def __init__(self, at_once=False):
        self.at_once = at_once
        self.requested = False
        self.signum = None
        self.announced = False
        self.previous_handlers = {}

    def __enter__(self):
        for signum in STOP_SIGNALS:
            self.previous_handlers[signum] = signal.signal(signum, self.handle)
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous_handlers.items():
            signal.signal(signum, handler)
        self.previous_handlers = {}

    def handle(self, signum, frame):
        """The handler: a flag, or Abort; never any I/O (see the module's docstring)."""
        if self.at_once:
            raise Abort(signum, f"stopped by {signal_name(signum)} before training began; nothing was saved")
        if self.requested:
            raise Abort(signum, f"aborted by a second {signal_name(signum)}: nothing was saved, the last "
                                f"checkpoint (if any) is left as it was")
        self.signum = signum
        self.requested = True

    @property
    def status(self):
        """The exit status of a run this signal stopped: 128 + its number (130 for Ctrl-C)."""
        return exit_status(self.signum if self.signum is not None else signal.SIGINT)

    def announce(self, next_step="finishing this batch, then saving a checkpoint", abortable=True):
        """Say, once and from the main loop, which signal stopped the run and `next_step` (and, while
        something is still to be saved, that a second signal aborts)."""
        if not self.requested or self.announced:
            return
        self.announced = True
        stream = sys.stderr
        if stream is None:          # stderr closed (2>&-): print would write to stdout instead
            return
        name = signal_name(self.signum)
        again = "Ctrl-C again" if name == "SIGINT" else "a second signal"
        fresh_line = "\n" if stream.isatty() else ""        # after the progress bar
        tail = f" ({again} aborts without saving)" if abortable else ""
        print(f"{fresh_line}interrupted by {_WHY.get(name, name)}: {next_step}{tail}", file=stream)
