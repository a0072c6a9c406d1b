"""Ctrl-C while training: finish the batch, save, exit (a second Ctrl-C aborts at once)."""
import signal
import sys


class CtrlC:
    """SIGINT while training (a context manager): the first Ctrl-C sets `requested`, so that
    train_epoch stops after the current batch; a second one aborts at once."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous_handler = signal.signal(signal.SIGINT, self.handle)
        return self

    def __exit__(self, *exc_info):
        signal.signal(signal.SIGINT, self.previous_handler)

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupt: finishing this batch, then saving a checkpoint (Ctrl-C again to abort)",
              file=sys.stderr)
