"""A data set's folder in the cache: verified parsed copies, a lock, no leftovers.

Beside each raw file ``<stem>.gz`` the parsed array is kept as
``<stem>.<raw key>.<digest>.npy``. The raw key is a digest of the raw file's
pinned hash, size and modification time, so replacing or touching the raw file
retires its parsed copy. The digest (xxh3-128 of the array's dtype, shape and
bytes, recorded when the copy is written) is checked on every load, so a
parsed copy that was edited, truncated or swapped is never served: the caller
parses the raw file again, whose hash is pinned. The digest guards against
damage and stray edits, not forgery (it is recorded beside the file), so it
need not be cryptographic: xxh3 is over ten times faster than sha256, which
keeps the check to a small fraction of a warm load.

Writers hold the folder's lock (``.lock``, a `filelock.FileLock`), so two
processes filling one cache take turns, and any temporary file found while
holding it is a leftover of a killed process, safe to remove.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from fastmlp.atomic import atomic_write, file_kind, file_mode, is_temporary
from fastmlp.data import npyfile
from fastmlp.exceptions import DamagedFileError, LockTimeout, SpecialFileError

__all__ = [
    "LOCK_NAME",
    "LockTimeout",
    "leftovers",
    "load_parsed",
    "lock",
    "remove_leftovers",
    "save_parsed",
]

LOCK_NAME = ".lock"
"""File name of a cache folder's lock."""

_log = logging.getLogger(__name__)


# <stem>.<16 hex raw key>[.<32 hex digest>].npy; the digest-less form is the
# format of earlier versions, never served.
_PARSED = re.compile(r"(?P<stem>[^.]+)\.(?P<key>[0-9a-f]{16})(?:\.(?P<digest>[0-9a-f]{32}))?\.npy")
# pooch's temporary download files (tempfile's "tmp" + 8 characters), left by
# versions that downloaded through pooch.retrieve.
_POOCH_TEMPORARY = re.compile(r"tmp[a-z0-9_]{8}")


def raw_key(known_hash: str, stat: os.stat_result) -> str:
    """Key of a raw file: its pinned hash, size and modification time."""
    key = f"{known_hash}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


def array_digest(array: np.ndarray) -> str:
    """xxh3-128 of a C-contiguous array's dtype, shape and bytes, as 32 hex digits."""
    import xxhash

    digest = xxhash.xxh3_128(f"{array.dtype.str}{array.shape}".encode())
    digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    return digest.hexdigest()


def listing(directory: Path) -> list[str]:
    """The names in ``directory``; empty if it does not exist (yet)."""
    try:
        return os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []


def load_parsed(
    directory: Path, names: Sequence[str], raw_name: str, known_hash: str
) -> np.ndarray | None:
    """The parsed copy of ``raw_name`` if it exists and its digest checks out, else None.

    ``names`` is the listing of ``directory``. None also when the raw file is
    missing; never raises for a damaged or unreadable copy.
    """
    try:
        stat = (directory / raw_name).stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    prefix = f"{_stem(raw_name)}.{raw_key(known_hash, stat)}."
    for name in names:
        match = _PARSED.fullmatch(name)
        if name.startswith(prefix) and match and match["digest"]:
            array = _read_checked(directory / name, match["digest"])
            if array is not None:
                return array
    return None


def _read_checked(path: Path, digest: str) -> np.ndarray | None:
    """Read a ``.npy`` into a new writable array, or None if it is not the one recorded.

    The header is checked against the file's size before anything is allocated;
    any damage (an unreadable header of any kind, a FIFO or folder in the
    file's place) is None too, so the caller parses the raw file again.
    """
    try:
        with npyfile.open_regular(path) as file:
            header = npyfile.read_header(file)
            if header.fortran_order or header.dtype.hasobject:
                return None
            nbytes = header.nbytes
            if os.fstat(file.fileno()).st_size != header.offset + nbytes:
                return None
            array = np.empty(header.shape, dtype=header.dtype)
            if file.readinto(memoryview(array.reshape(-1).view(np.uint8))) != nbytes:
                return None
    except (OSError, DamagedFileError, ValueError, EOFError, MemoryError):
        return None
    return array if array_digest(array) == digest else None


def save_parsed(
    directory: Path, raw_name: str, known_hash: str, stat: os.stat_result, array: np.ndarray
) -> str | None:
    """Save the parsed copy of ``raw_name`` (whose stat was ``stat`` when parsed).

    Other parsed copies of the same raw file are removed first. Hold the lock.
    Returns the file name, or None when it could not be written: the copy only
    saves time, the raw file suffices.
    """
    stem = _stem(raw_name)
    name = f"{stem}.{raw_key(known_hash, stat)}.{array_digest(array)}.npy"
    with suppress(OSError):
        for old in listing(directory):
            match = _PARSED.fullmatch(old)
            if match and match["stem"] == stem and old != name:
                (directory / old).unlink(missing_ok=True)
        with atomic_write(directory / name) as file:
            np.save(file, array, allow_pickle=False)
        return name
    return None


def leftovers(directory: Path, names: Sequence[str], raw_files: Sequence[tuple[str, str]]):
    """What killed or earlier processes left among ``names`` (the listing of ``directory``).

    That is: temporary files of interrupted writes and downloads, and parsed
    copies no raw file in ``raw_files`` (``(name, known_hash)`` pairs) would use.
    """
    current = set()
    for raw_name, known_hash in raw_files:
        with suppress(OSError):
            current.add(f"{_stem(raw_name)}.{raw_key(known_hash, (directory / raw_name).stat())}")
    found = []
    for name in names:
        parsed = _PARSED.fullmatch(name)
        if parsed:
            if not parsed["digest"] or f"{parsed['stem']}.{parsed['key']}" not in current:
                found.append(name)
        elif is_temporary(name) or _POOCH_TEMPORARY.fullmatch(name):
            found.append(name)
    return found


def remove_leftovers(directory: Path, raw_files: Sequence[tuple[str, str]]) -> list[str]:
    """Remove the [`leftovers`][fastmlp.data.cache.leftovers] in ``directory``. Hold the lock:
    then no temporary file there can be another process's work in progress.

    Returns
    -------
    list of str
        The names removed.
    """
    removed = []
    for name in leftovers(directory, listing(directory), raw_files):
        with suppress(OSError):  # best effort: gone already, or a read-only folder
            (directory / name).unlink()
            removed.append(name)
    if removed:
        _log.info("removed leftovers from %s: %s", directory, ", ".join(sorted(removed)))
    return removed


@contextmanager
def lock(directory: Path, wait: float, blocking: bool = True) -> Iterator[bool]:
    """Hold ``directory``'s lock, creating the folder if needed.

    Yields True while the lock is held, or False, holding nothing, when the
    folder or its lock file cannot be created or opened (a read-only cache, or
    one of another user), or when ``blocking`` is false and another process holds it.

    Raises
    ------
    LockTimeout
        Another process held the lock for ``wait`` seconds.
    SpecialFileError
        The lock file is a symbolic link, folder or other non-regular file
        (when ``blocking``; otherwise False is yielded): a planted link is
        never followed.
    """
    held = _acquire(directory / LOCK_NAME, wait, blocking)
    try:
        yield held is not None
    finally:
        if held is not None:
            held.release()


def _acquire(path: Path, wait: float, blocking: bool):
    # Imported here: filelock takes ~70 ms to import and warm loads never need it.
    from filelock import FileLock, Timeout

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _check_lock_file(path)
        # An explicit mode: filelock versions before 3.13 create the lock 0644
        # whatever the umask, which would lock out a group sharing the cache.
        file_lock = FileLock(path, mode=file_mode(path))
        try:
            file_lock.acquire(timeout=min(wait, 0.5) if blocking else 0)
        except Timeout:
            if not blocking:
                return None
            _log.warning("waiting for another process filling %s (lock %s)", path.parent, path)
            file_lock.acquire(timeout=wait)
    except Timeout:
        raise LockTimeout(f"another process has held {path} for {wait:g} s") from None
    except SpecialFileError:
        if blocking:
            raise
        return None
    except OSError:
        return None
    return file_lock


def _check_lock_file(path: Path) -> None:
    """Refuse a lock that is not a regular file: opening a planted link would follow it
    and truncate its target."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise SpecialFileError(f"the cache lock {path} is {file_kind(mode)}, not a regular file")


def _stem(raw_name: str) -> str:
    return raw_name.removesuffix(".gz")
