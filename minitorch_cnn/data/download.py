"""Fetching dataset files: mirrors, checksums, atomic writes, and failing fast offline.

`download_files` tries each mirror in turn for each file, streaming it into a
temporary file next to its destination while computing its MD5, and renames it
into place only when the checksum matches; a mismatch deletes the temporary
file and moves on to the next mirror.  Each connection uses a short socket
timeout, and the first error that says the network itself is unusable (no DNS,
network or host unreachable, connect timeout) stops all further attempts, so
an offline machine learns in well under a second that it has to fall back.
"""
import errno
import hashlib
import http.client
import logging
import os
import socket
import ssl
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 3.0       # seconds per socket operation (connect, each read)
_CHUNK = 1 << 20
_OFFLINE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not on disk and could not be downloaded.

    missing          the file names that were looked for
    searched         the folders that were searched
    download_errors  one line per failed download attempt (empty if none was made)
    """

    def __init__(self, message, missing=(), searched=(), download_errors=()):
        super().__init__(message)
        self.missing = list(missing)
        self.searched = [str(p) for p in searched]
        self.download_errors = list(download_errors)

    def __str__(self):
        return self.args[0]


class ChecksumError(ValueError):
    """A downloaded file's checksum differs from the published one."""


class NetworkUnavailable(OSError):
    """The network itself is unusable (no DNS, unreachable, connect timeout)."""


def md5_file(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_offline(exc):
    """True when `exc` says the network is unusable rather than that one server failed."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, (socket.gaierror, socket.timeout, TimeoutError)):
        return True
    return isinstance(reason, OSError) and reason.errno in _OFFLINE_ERRNOS


def download_url(url, dest, md5=None, timeout=DEFAULT_TIMEOUT):
    """Fetch `url` into `dest` atomically (temp file + rename), verifying `md5` when given.

    Raises NetworkUnavailable when the network is unusable, ChecksumError on a
    mismatch (no file is left behind), and urllib/OS errors for other failures.
    """
    dest = Path(dest)
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, OSError) as exc:
        if not isinstance(exc, urllib.error.HTTPError) and _is_offline(exc):
            raise NetworkUnavailable(f"{url}: {getattr(exc, 'reason', exc)}") from exc
        raise
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)     # only once a server answered: no empty folders offline
    except BaseException:
        response.close()
        raise
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with response, os.fdopen(fd, "wb") as fh:
            for block in iter(lambda: response.read(_CHUNK), b""):
                digest.update(block)
                fh.write(block)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise ChecksumError(f"{url}: MD5 {digest.hexdigest()} differs from the published {md5}")
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest


def download_files(names, mirrors, dest_dir, md5s=None, timeout=DEFAULT_TIMEOUT):
    """Download each of `names` from the first mirror that serves it with the right MD5.

    Returns (downloaded paths, error lines).  Stops at the first sign that the
    network is unusable.  `mirrors` are base URLs ending in '/'.
    """
    md5s = md5s or {}
    done, errors = [], []
    for name in names:
        for base in mirrors:
            url = base + name
            try:
                log.info("downloading %s", url)
                done.append(download_url(url, Path(dest_dir) / name, md5s.get(name), timeout))
                break
            except NetworkUnavailable as exc:
                errors.append(f"network unavailable: {exc}")
                return done, errors
            except (urllib.error.URLError, http.client.HTTPException, ChecksumError, ssl.SSLError, OSError,
                    ValueError) as exc:
                errors.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
    return done, errors
