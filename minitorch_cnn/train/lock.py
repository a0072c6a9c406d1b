"""One writer per run folder: an advisory lock on `<folder>/.lock`, held for the whole run.

The lock is fcntl.flock on the lock file, so the operating system releases it when the process
ends in any way (kill -9 included): a lock is never stale.  The file holds the holder's PID as
text, for the message a second run gets.  A run that ends normally removes the file (and the
folder, when the run created it and left nothing else in it).  A taker checks, after its flock
succeeds, that the path still names the file it locked, so a holder removing the file as it
releases never lets two runs hold the lock at once.

POSIX only: where fcntl is missing (Windows) no lock is taken and a run folder is not guarded
against a second writer (docs/usage.md says so)."""
import errno
import os
import time

try:
    import fcntl
except ImportError:         # Windows: no flock; runs go unguarded (documented)
    fcntl = None

LOCK_NAME = ".lock"
CHECKPOINT_NAME = "checkpoint.npz"
_held = []                  # the locks the CLI took in this process, released by release_held()


class FolderBusy(Exception):
    """The folder's lock is held by another open file: another run writes there."""

    def __init__(self, folder, pid):
        super().__init__(folder, pid)
        self.folder, self.pid = folder, pid


class RunLock:
    """A held lock on one run folder; release() (or the process's end) lets it go."""

    def __init__(self, folder, fd, created):
        self.folder, self.fd, self.created = folder, fd, created     # fd None: no fcntl, nothing locked
        self.path = os.path.join(folder, LOCK_NAME)
        self.held = True

    def release(self):
        """Remove the lock file while still holding the lock, then let the lock go; remove the
        folder too when this run created it and it holds nothing else."""
        if not self.held:
            return
        self.held = False
        if self.fd is not None:
            try:
                if _same_file(self.fd, self.path):
                    os.unlink(self.path)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None
        if self.created:
            try:
                os.rmdir(self.folder)       # only when empty
            except OSError:
                pass

    def __del__(self):
        if getattr(self, "fd", None) is not None:
            os.close(self.fd)


def _same_file(fd, path):
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _holder_pid(fd):
    """The PID text in a held lock file; the holder writes it just after its flock succeeds, so an
    empty file is read again for a moment.  -> an int, or None when it cannot be told."""
    for _ in range(50):
        try:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            return None
        if text:
            return int(text) if text.isdigit() else None
        time.sleep(0.01)
    return None


def try_lock(folder):
    """Create `folder` if needed and take its lock without waiting; -> a RunLock.
    Raises FolderBusy when another run holds it, OSError when the folder or file cannot be made."""
    created = False
    for _ in range(100):        # another try only when a holder removed the folder or file meanwhile
        if not os.path.isdir(folder):
            try:
                os.makedirs(folder)
                created = True
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise
        if fcntl is None:
            return RunLock(folder, None, created)
        path = os.path.join(folder, LOCK_NAME)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except FileNotFoundError:       # the folder went away (a holder removed it as it ended)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
            pid = _holder_pid(fd)
            os.close(fd)
            raise FolderBusy(folder, pid) from None
        if not _same_file(fd, path):    # locked a file its holder removed as it ended: take the new one
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return RunLock(folder, fd, created)
    raise OSError(errno.EAGAIN, "its lock file kept being replaced", folder)


def busy_message(busy, flag):
    who = f"PID {busy.pid}" if busy.pid is not None else "PID unknown"
    return (f"{flag} {busy.folder} is in use by a run that is still running ({who}, holding "
            f"{os.path.join(busy.folder, LOCK_NAME)}): wait for it to end, or choose another --out")


def lock_run_folder(folder):
    """The CLI's lock on an explicit output folder; held until release_held().
    Raises FolderBusy or OSError as try_lock does."""
    lock = try_lock(folder)
    _held.append(lock)
    return lock


def lock_free_run_folder(base):
    """runs/<model>, or the first of runs/<model>-2, -3, ... that holds no checkpoint and is not
    in use by another run, locked as it is chosen: two runs started together get two folders.
    -> the folder.  Raises OSError (with .filename the folder) when a folder cannot be made."""
    folder, n = base, 1
    while True:
        if not os.path.exists(os.path.join(folder, CHECKPOINT_NAME)):
            try:
                lock = try_lock(folder)
            except FolderBusy:
                lock = None
            if lock is not None:
                if not os.path.exists(os.path.join(folder, CHECKPOINT_NAME)):  # a run may have ended there
                    _held.append(lock)
                    return folder
                lock.release()
        n += 1
        folder = f"{base}-{n}"


def release_held():
    """Let go of every lock the CLI took in this process (main() does, as it returns)."""
    while _held:
        _held.pop().release()
