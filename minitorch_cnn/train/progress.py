"""The progress line: a bar on a terminal, a few plain lines otherwise; and the CLI's output
streams, which a reader that went away cannot break (GuardedStream, guarded_streams)."""
import os
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
        self.tty = self.stream is not None and self.stream.isatty()
        self.start = self.last = time.perf_counter()
        self.milestone = 0

    def due(self, done):
        """Whether update(done) would write a line now (so its numbers are worth reading)."""
        if self.tty:
            return done >= self.total or time.perf_counter() - self.last >= 0.1
        return 4 * done >= (self.milestone + 1) * self.total

    def update(self, done, loss=None):
        if self.stream is None:         # stderr closed (2>&-) outside the CLI's guarded_streams
            return
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


# The exit status of a run that finished and saved but could not write all its output (see main()):
# 141 (128 + SIGPIPE, what the shell reports for a writer whose reader left, as in `| head`) when a
# reader closed its pipe, else 3 (a full disk, a closed stream, an I/O error).
BROKEN_PIPE_STATUS = 141
OUTPUT_LOST_STATUS = 3


class GuardedStream:
    """sys.stdout or sys.stderr for the length of a run: a write or flush that fails (the reader of
    a pipe left: BrokenPipeError; a full disk: ENOSPC; a closed or bad descriptor) never reaches
    the training.  From the first failure on, the stream drops what it is given, and its file
    descriptor is pointed at os.devnull, so that Python's final flush at exit (of what is still
    buffered) neither fails nor prints "Exception ignored ... BrokenPipeError".  A stream that was
    closed before the run began (None, as Python makes sys.stderr under `2>&-`) drops everything.
    `lost` tells whether anything was dropped; `line_buffered` flushes after every line."""

    def __init__(self, stream, name, line_buffered=False):
        self.stream, self.name, self.line_buffered = stream, name, line_buffered
        self.failure = "closed" if stream is None else None     # why output is dropped, or None
        self.broken_pipe = False
        self.lost = False
        self.on_failure = None          # called once with this stream when it first fails

    def write(self, text):
        if self.failure is None:
            try:
                written = self.stream.write(text)
                if self.line_buffered and "\n" in text:
                    self.stream.flush()
                return written
            except (OSError, ValueError) as exc:        # ValueError: the file object was closed
                self._fail(exc)
        self.lost = self.lost or bool(text)
        return len(text)

    def flush(self):
        if self.failure is not None:
            return
        try:
            self.stream.flush()
        except (OSError, ValueError) as exc:
            self._fail(exc)         # a failed flush had something to write
            self.lost = True

    def isatty(self):
        if self.failure is not None:
            return False
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def __getattr__(self, name):    # encoding, fileno, buffer...: the stream's own
        if self.__dict__.get("stream") is None:
            raise AttributeError(name)
        return getattr(self.stream, name)

    def _fail(self, exc):
        self.failure = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        self.broken_pipe = isinstance(exc, BrokenPipeError)
        try:
            fd = self.stream.fileno()
        except (OSError, ValueError, AttributeError):    # not a real file (a test's capture)
            fd = None
        if fd is not None:
            _point_at_devnull(fd)
        if self.on_failure is not None:
            self.on_failure(self)


def _point_at_devnull(fd):
    """Make file descriptor `fd` write to os.devnull (whatever it was, even closed)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)


class guarded_streams:
    """Around a run (a context manager): sys.stdout and sys.stderr become GuardedStreams (stdout
    line-buffered, so `| head`, `| tee` see each line as it is printed); the originals come back at
    the end.  A standard descriptor closed before the run began (`2>&-`) is pointed at os.devnull,
    so that no file the run opens (a checkpoint) can become descriptor 2 and take stray writes.
    The first failure of stdout is said once on stderr.  status(s) is the exit status to return."""

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            if stream is None and _is_closed(fd):
                _point_at_devnull(fd)
        self.stdout = GuardedStream(sys.stdout, "stdout", line_buffered=True)
        self.stderr = GuardedStream(sys.stderr, "stderr")
        self.stdout.on_failure = self._say_stdout_failed
        sys.stdout, sys.stderr = self.stdout, self.stderr
        return self

    def __exit__(self, *exc_info):
        self.stdout.flush()
        self.stderr.flush()
        sys.stdout, sys.stderr = self.saved

    def _say_stdout_failed(self, stream):
        print(f"warning: cannot write to stdout ({stream.failure}): training goes on and saves its "
              f"checkpoints, but prints nothing more there", file=self.stderr)

    def status(self, status):
        """`status`, or, for a run that ended well (0) but dropped output, 141 after a broken pipe
        or 3 after any other failure to write."""
        self.stdout.flush()
        self.stderr.flush()
        lost = [stream for stream in (self.stdout, self.stderr) if stream.lost]
        if status != 0 or not lost:
            return status
        return BROKEN_PIPE_STATUS if any(stream.broken_pipe for stream in lost) else OUTPUT_LOST_STATUS


def _is_closed(fd):
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False
