"""Atomic file writes: a reader sees the old file or the complete new one, never half.

Model files, the sweep table, plots and the parsed data-set cache are all
written this way: into a temporary file in the target's own folder (so the
final rename never crosses a file system), flushed to disk, given the
permissions a plain ``open()`` would give, then renamed over the target. The
folder is synced too, so that the rename itself survives a crash. On any error
the temporary file is removed and the target is left as it was; only a killed
process leaves one behind, which [`is_temporary`][fastmlp.atomic.is_temporary]
recognises by its name.

Only a regular file is ever replaced. A target that exists as anything else (a
folder, FIFO, device, socket) is refused with a
[SpecialFileError][fastmlp.exceptions.SpecialFileError] and left untouched, and
so is a **symbolic link**: renaming over it would silently replace the link and
leave its target holding the old content, and writing through it would let a
planted link redirect the write. Save to the link's target itself instead. The
target is never opened, so a FIFO cannot block the writer.

The temporary name is kept within the folder's name length limit (``NAME_MAX``,
255 bytes on most file systems) however long the target's name; errors name
the target, not the temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from fastmlp.exceptions import SpecialFileError

TEMP_SUFFIX = ".tmp"
"""Suffix of the temporary files; their names also start with ``.<target name>.``."""
_TEMP_PREFIX = "."
_RANDOM = 8  # characters tempfile puts between prefix and suffix
_NAME_MAX = 255  # POSIX file systems' usual limit, when the folder does not say

_KINDS = {
    stat.S_ISDIR: "a folder",
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
    stat.S_ISSOCK: "a socket",
    stat.S_ISLNK: "a symbolic link",
}


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only once the block ends without error.

    Parameters
    ----------
    path : str or os.PathLike
        The target; its folder must exist. An existing file keeps its permissions;
        a new one gets ``0o666`` minus the process umask.

    Yields
    ------
    BinaryIO
        The temporary file to write to.

    Raises
    ------
    SpecialFileError
        ``path`` exists and is not a regular file (a symbolic link, folder,
        FIFO, device or socket); it is left untouched.
    OSError
        The temporary file cannot be created, written or renamed (the error
        names ``path``); ``path`` is unchanged.
    """
    path = Path(path)
    directory = path.parent
    mode = check_target(path)
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=_temporary_prefix(path), suffix=TEMP_SUFFIX, dir=directory
        )
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        os.chmod(tmp_name, mode)
        check_target(path)  # again: it may have changed while the content was written
        os.replace(tmp_name, path)
    except BaseException as error:
        if tmp_name is not None:
            with suppress(OSError):
                os.unlink(tmp_name)
        if isinstance(error, OSError) and not isinstance(error, SpecialFileError):
            raise _naming_target(error, path, tmp_name) from None
        raise
    fsync_directory(directory)


def check_target(path: str | os.PathLike[str]) -> int:
    """Check that [`atomic_write`][fastmlp.atomic.atomic_write] may replace ``path``.

    The target must be missing or a regular file (not a symbolic link), and
    its name within the folder's name length limit. Nothing is opened.

    Returns
    -------
    int
        The permissions the new file gets: the existing file's, else those of
        a new file ([`new_file_mode`][fastmlp.atomic.new_file_mode]).

    Raises
    ------
    SpecialFileError
        The target exists and is not a regular file.
    OSError
        ``ENAMETOOLONG``: the name is longer than the folder allows.
    """
    path = Path(path)
    limit = name_max(path.parent)
    if len(os.fsencode(path.name)) > limit:
        raise OSError(
            errno.ENAMETOOLONG,
            f"File name too long ({len(os.fsencode(path.name))} bytes; at most {limit})",
            os.fspath(path),
        )
    try:
        found = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return new_file_mode()
    if stat.S_ISREG(found.st_mode):
        return found.st_mode & 0o777
    kind = file_kind(found.st_mode)
    advice = (
        "save to the file it points to instead, or remove the link"
        if stat.S_ISLNK(found.st_mode) else "name a regular file instead"
    )
    raise SpecialFileError(
        f"{path} exists and is {kind}, which fastmlp never replaces; {advice}"
    )


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` is, for messages: "a folder", "a FIFO (named pipe)", ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((kind for test, kind in _KINDS.items() if test(mode)), "not a regular file")


def name_max(directory: str | os.PathLike[str]) -> int:
    """The longest file name, in bytes, that ``directory`` accepts (255 if it does not say)."""
    with suppress(OSError, ValueError, AttributeError):
        return os.pathconf(directory, "PC_NAME_MAX")
    return _NAME_MAX


def _temporary_prefix(path: Path) -> str:
    """``.<target name>.``, the name cut so the temporary name fits the folder's limit."""
    room = name_max(path.parent) - len(_TEMP_PREFIX) - 1 - _RANDOM - len(TEMP_SUFFIX)
    name = os.fsencode(path.name)[:max(room, 0)]
    # cut on a character boundary: drop a partial UTF-8 sequence (surrogates keep the rest)
    text = name.decode("utf-8", "ignore") if len(name) < len(os.fsencode(path.name)) \
        else path.name
    return f"{_TEMP_PREFIX}{text}."


def _naming_target(error: OSError, path: Path, tmp_name: str | None) -> OSError:
    """``error`` as the same kind of OSError naming ``path`` instead of the temporary file."""
    if error.errno is None or error.filename not in (None, tmp_name, os.fspath(path.parent)):
        return error
    renamed = type(error)(error.errno, error.strerror, os.fspath(path))
    renamed.__traceback__ = error.__traceback__
    return renamed


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file's of [`atomic_write`][fastmlp.atomic.atomic_write]."""
    return name.startswith(_TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def file_mode(path: Path) -> int:
    """The existing file's permissions, else those of a new file (``new_file_mode``)."""
    with suppress(OSError):
        return path.stat().st_mode & 0o777
    return new_file_mode()


def new_file_mode() -> int:
    """The permissions ``open()`` gives a new file: ``0o666`` minus the process umask."""
    return 0o666 & ~_umask()


def _umask() -> int:
    # Linux: read the umask without changing it (os.umask is not thread-safe)
    with suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_directory(directory: Path) -> None:
    """Persist a rename inside ``directory`` (POSIX); not possible or needed on Windows."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
