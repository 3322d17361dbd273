"""Atomic file writes: a reader sees the old file or the complete new one, never half.

Model files and the parsed data-set cache are both written this way: into a
temporary file in the target's own folder (so the final rename never crosses a
file system), flushed to disk, given the permissions a plain ``open()`` would
give, then renamed over the target. The folder is synced too, so that the
rename itself survives a crash. On any error the temporary file is removed and
the target is left as it was; only a killed process leaves one behind, which
[`is_temporary`][fastmlp.atomic.is_temporary] recognises by its name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
"""Suffix of the temporary files; their names also start with ``.<target name>.``."""
_TEMP_PREFIX = "."


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
    OSError
        The temporary file cannot be created, written or renamed; ``path`` is unchanged.
    """
    path = Path(path)
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{_TEMP_PREFIX}{path.name}.", suffix=TEMP_SUFFIX, dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        os.chmod(tmp_name, file_mode(path))
        os.replace(tmp_name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(directory)


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
