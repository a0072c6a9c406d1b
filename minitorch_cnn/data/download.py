"""Fetching dataset files: mirrors, MD5 checks, atomic writes, failing fast offline.

Each file is tried on each mirror in turn, streamed into a temporary file beside
its destination while its MD5 is computed, and renamed into place only when the
MD5 matches.  Connections use a short socket timeout, and the first error saying
the network itself is unusable (no DNS, network or host unreachable, connect
timeout) stops all attempts: an offline machine learns it within a second or so.
"""
import errno
import hashlib
import http.client
import logging
import socket
import urllib.request
from pathlib import Path

from ..serialization import atomic_write

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 3.0       # seconds per socket operation (connect, each read)
_OFFLINE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not on disk and could not be downloaded: `missing` file names,
    `searched` folders, `download_errors` (one line per failed attempt, empty if none was made)."""

    def __init__(self, message, missing=(), searched=(), download_errors=()):
        super().__init__(message)
        self.missing, self.searched = list(missing), [str(p) for p in searched]
        self.download_errors = list(download_errors)

    def __str__(self):
        return self.args[0]


class ChecksumError(ValueError):
    """A downloaded file's MD5 differs from the published one."""


class _Offline(OSError):
    """The network itself is unusable: no point trying another mirror."""


def download_url(url, dest, md5=None, timeout=DEFAULT_TIMEOUT):
    """Fetch `url` into `dest` atomically, checking `md5` when given; returns dest as a Path.

    ChecksumError on a mismatch (nothing is left behind); urllib/OS errors otherwise.
    """
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except OSError as exc:                                  # URLError is one
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (socket.gaierror, TimeoutError)) or getattr(reason, "errno", None) in _OFFLINE_ERRNOS:
            raise _Offline(f"{url}: {reason}") from exc
        raise

    def stream(file):
        digest = hashlib.md5(usedforsecurity=False)
        for block in iter(lambda: response.read(1 << 20), b""):
            digest.update(block)
            file.write(block)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise ChecksumError(f"{url}: MD5 {digest.hexdigest()} differs from the published {md5}")

    try:    # the folder is made only once a server answered: none is left behind offline
        return Path(atomic_write(dest, stream))
    finally:
        response.close()


def download_files(names, mirrors, folder, md5s=None, timeout=DEFAULT_TIMEOUT):
    """Download each of `names` into `folder` from the first of `mirrors` (base URLs ending in '/')
    that serves it with the right MD5; returns one line per failed attempt."""
    errors = []
    for name in names:
        for base in mirrors:
            try:
                log.info("downloading %s", base + name)
                download_url(base + name, Path(folder) / name, (md5s or {}).get(name), timeout)
                break
            except _Offline as exc:
                return errors + [f"network unavailable: {exc}"]
            except (OSError, ValueError, http.client.HTTPException) as exc:   # URLError, ChecksumError, ...
                errors.append(f"{base + name}: {getattr(exc, 'reason', None) or exc}")
    return errors
