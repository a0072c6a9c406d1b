"""The progress line: a bar on a terminal, a few plain lines otherwise."""
import sys
import time


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """A one-line progress bar on stderr (on a terminal), or a few plain lines otherwise, with the
    time elapsed and the time left at the current rate."""

    def __init__(self, total, label, stream=None):
        self.total, self.label = total, label
        self.stream = sys.stderr if stream is None else stream    # the current stderr, not import time's
        self.tty = self.stream.isatty()
        self.start = self.last = time.perf_counter()
        self.milestone = 0

    def due(self, done):
        """Whether update(done) would write a line now (so its numbers are worth reading)."""
        if self.tty:
            return done >= self.total or time.perf_counter() - self.last >= 0.1
        return 4 * done >= (self.milestone + 1) * self.total

    def update(self, done, loss=None):
        now = time.perf_counter()
        elapsed = now - self.start
        rate = done / max(elapsed, 1e-9)
        timing = f"{_clock(elapsed)} elapsed, {_clock((self.total - done) / max(rate, 1e-9))} left"
        tail = f"{rate:.1f} batch/s  {timing}" + ("" if loss is None else f"  loss {loss:.4f}")
        if self.tty:
            if now - self.last < 0.1 and done < self.total:
                return
            filled = int(30 * done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} {tail}")
            if done == self.total:
                self.stream.write("\n")
        elif 4 * done >= (self.milestone + 1) * self.total:
            self.milestone = 4 * done // self.total
            self.stream.write(f"{self.label} {done}/{self.total} batches  {tail}\n")
        self.stream.flush()
        self.last = now
