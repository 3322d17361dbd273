"""Fetch one pinned file from one mirror, bounded in size and time and hashed as it streams.

A mirror is a base URL (``http://``, ``https://``, ``file://``) or a local folder;
[`Mirror`][fastmlp.data.downloads.Mirror] parses and checks it once, and builds file
URLs with `urllib.parse`, so IPv6 hosts (``http://[::1]:8000/``) and query
strings (``https://host/path?token=x``) survive. The downloaders are pooch
downloaders (callables ``(url, output_file, pooch)`` handed to ``pooch.retrieve``,
which streams into a temporary file, checks the pinned hash and moves the file
into place): one streams over HTTP with requests, one copies a local file. Every
byte passes through a [`CappedWriter`][fastmlp.data.downloads.CappedWriter], which
stops a source that sends more than the pinned size allows, so nothing larger
ever reaches the disk. A download must also keep up with
[`DownloadLimits`][fastmlp.data.downloads.DownloadLimits]: no pause longer than the
stall timeout, and the whole file within its deadline.

Failures raise [`DownloadError`][fastmlp.exceptions.DownloadError] with a short
reason; [`describe`][fastmlp.data.downloads.describe] turns any other exception of a
download into one.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit, urlunsplit

from fastmlp.exceptions import DatasetError, DownloadError

__all__ = [
    "LIMITS",
    "DownloadError",
    "DownloadLimits",
    "HTTPDownloader",
    "LocalCopier",
    "PinnedDownloader",
    "Mirror",
    "CappedWriter",
    "describe",
]

_CHUNK = 1 << 16


@dataclass(frozen=True)
class DownloadLimits:
    """How much, and how long, a download may take.

    Attributes
    ----------
    size_margin : int
        Bytes a source may send beyond the pinned size before it is cut off.
    connect_timeout : float
        Seconds to wait for a mirror to accept the connection.
    stall_timeout : float
        Longest pause in seconds between two pieces of data.
    min_rate : float
        Average bytes per second the deadline allows for: a file of ``size`` bytes
        must arrive within ``grace + size / min_rate`` seconds.
    grace : float
        Seconds added to every file's deadline (connection set-up, slow starts).
    lock_wait : float
        Seconds to wait for another process filling the same cache folder.
    """

    size_margin: int = 1 << 16
    connect_timeout: float = 15.0
    stall_timeout: float = 30.0
    min_rate: float = 20_000.0
    grace: float = 120.0
    lock_wait: float = 3600.0

    def cap(self, size: int) -> int:
        """Most bytes accepted for a file pinned at ``size`` bytes."""
        return size + self.size_margin

    def deadline(self, size: int) -> float:
        """Seconds a file of ``size`` bytes may take to download."""
        return self.grace + size / self.min_rate


LIMITS = DownloadLimits()
"""The limits every download uses; replace it (``downloads.LIMITS = ...``) to change them."""


class CappedWriter:
    """Write through to ``file``, refusing more than ``cap`` bytes and advancing a progress bar.

    Parameters
    ----------
    file : BinaryIO
        Where the bytes go (pooch's temporary download file).
    size : int
        The pinned size of the file, for messages.
    cap : int
        Most bytes accepted; one more raises [`DownloadError`][fastmlp.exceptions.DownloadError].
    progress : tqdm or None
        A progress bar to advance, if any.
    """

    def __init__(self, file: BinaryIO, size: int, cap: int, progress=None) -> None:
        self._file = file
        self._size = size
        self._cap = cap
        self._progress = progress
        self.written = 0

    def write(self, data: bytes) -> int:
        if self.written + len(data) > self._cap:
            raise DownloadError(
                f"sent more than {self._cap} bytes; the pinned file has {self._size}"
            )
        self._file.write(data)
        self.written += len(data)
        if self._progress is not None:
            self._progress.update(len(data))
        return len(data)


class PinnedDownloader:
    """What both downloaders share: the pinned size, the limits, a progress bar.

    A pooch downloader: called as ``downloader(url, output_file, pooch)``, with
    ``output_file`` a binary file or a path, as pooch passes it.

    Parameters
    ----------
    size : int
        The pinned size of the file in bytes.
    limits : DownloadLimits
        Size margin, timeouts and deadline.
    progress : tqdm or None
        A progress bar to advance, if any.
    """

    def __init__(self, size: int, limits: DownloadLimits, progress=None) -> None:
        self.size = size
        self.limits = limits
        self.progress = progress
        self.received = 0  # bytes written by the last call, for messages

    @contextmanager
    def _capped(self, output_file: BinaryIO | str | os.PathLike[str]) -> Iterator[CappedWriter]:
        """A capped writer to ``output_file``; counts what was written in ``received``."""
        cap = self.limits.cap(self.size)
        if hasattr(output_file, "write"):
            writer = CappedWriter(output_file, self.size, cap, self.progress)
            yield writer
        else:
            with open(output_file, "wb") as file:
                writer = CappedWriter(file, self.size, cap, self.progress)
                yield writer
        self.received = writer.written


class HTTPDownloader(PinnedDownloader):
    """Streams one file over HTTP(S) with requests, within the limits.

    Asks for the bytes as stored (no content decoding: the pinned hash is that of
    the stored file), refuses a response whose ``Content-Length`` is not the pinned
    size before reading its body, and reads with ``read1`` so that a trickling
    server is caught by the deadline however small its pieces. The size cap
    itself is [`CappedWriter`][fastmlp.data.downloads.CappedWriter]'s. Parameters as
    for [`PinnedDownloader`][fastmlp.data.downloads.PinnedDownloader].
    """

    def __call__(self, url: str, output_file: BinaryIO | str, pooch: object = None) -> None:
        """Stream ``url`` into ``output_file`` (a binary file, or a path as pooch passes)."""
        with self._capped(output_file) as output:
            self._stream(url, output)

    def _stream(self, url: str, output_file: BinaryIO) -> None:
        # Imported here: requests takes ~0.15 s to import and warm loads never need it.
        import requests
        import urllib3

        from fastmlp import __version__

        limits = self.limits
        started = time.monotonic()
        deadline = limits.deadline(self.size)
        headers = {"Accept-Encoding": "identity", "User-Agent": f"fastmlp/{__version__}"}
        timeout = (limits.connect_timeout, limits.stall_timeout)
        with requests.get(url, stream=True, timeout=timeout, headers=headers) as response:
            response.raise_for_status()
            announced = response.headers.get("Content-Length")
            if announced is not None and announced.strip() != str(self.size):
                raise DownloadError(
                    f"announced {announced.strip()[:20]} bytes; the pinned file has {self.size}"
                )
            received = 0
            try:
                while chunk := response.raw.read1(_CHUNK, decode_content=False):
                    output_file.write(chunk)
                    received += len(chunk)
                    elapsed = time.monotonic() - started
                    if elapsed > deadline:
                        raise DownloadError(
                            f"too slow: {received} of {self.size} bytes in {elapsed:.0f} s "
                            f"(deadline {deadline:.0f} s)"
                        )
            except urllib3.exceptions.HTTPError as exc:
                raise DownloadError(describe(exc, limits)) from exc


class LocalCopier(PinnedDownloader):
    """Copies a local file, refusing one of the wrong size.

    Parameters
    ----------
    source : Path
        The file to copy.
    size, limits, progress
        As for [`PinnedDownloader`][fastmlp.data.downloads.PinnedDownloader].
    """

    def __init__(self, source: Path, size: int, limits: DownloadLimits, progress=None) -> None:
        super().__init__(size, limits, progress)
        self.source = source

    def __call__(self, url: str, output_file: BinaryIO | str, pooch: object = None) -> None:
        """Copy the source into ``output_file`` (a binary file, or a path as pooch passes)."""
        with open(self.source, "rb") as file:
            found = os.fstat(file.fileno()).st_size
            if found != self.size:
                raise DownloadError(
                    f"{self.source} has {found} bytes; the pinned file has {self.size}"
                )
            with self._capped(output_file) as output:
                while chunk := file.read(_CHUNK):
                    output.write(chunk)


@dataclass(frozen=True)
class Mirror:
    """A checked mirror: a base URL or a local folder, and how to name it in messages.

    Attributes
    ----------
    base : str
        The mirror as given.
    label : str
        ``host[:port]`` of a URL (no credentials, path or query), or the folder.
    folder : Path or None
        The local folder, for ``file://`` URLs and paths; None for HTTP(S).
    """

    base: str
    label: str
    folder: Path | None

    @classmethod
    def parse(cls, mirror: str | os.PathLike[str]) -> Mirror:
        """Check ``mirror`` and return it parsed.

        Raises
        ------
        DatasetError
            If it is not an ``http(s)://`` or ``file://`` URL with what these need,
            nor a folder path; the message says what is wrong.
        """
        text = os.fspath(mirror)
        if not isinstance(mirror, str):
            return cls(text, text, Path(text))
        netloc = text.partition("://")[2].split("/", 1)[0].rpartition("@")[2]
        if netloc.count(":") > 1 and not netloc.startswith("["):
            raise _bad_mirror(text, "an IPv6 address must be in brackets, as in http://[::1]:8000/")
        try:
            parts = urlsplit(text)
            port = parts.port  # raises ValueError for a port out of range or not a number
        except ValueError as exc:
            raise _bad_mirror(text, str(exc)) from None
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            if not parts.hostname:
                raise _bad_mirror(text, "no host name")
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            return cls(text, host if port is None else f"{host}:{port}", None)
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise _bad_mirror(text, "a file:// URL names a local folder: file:///path")
            # Imported here: urllib.request drags in http.client and email (~40 ms).
            from urllib.request import url2pathname

            folder = Path(url2pathname(parts.path))
            return cls(text, str(folder), folder)
        # No scheme, or a one-letter one (a Windows drive letter): a folder.
        if len(scheme) <= 1 and not _looks_like_host(text):
            folder = Path(text).expanduser()
            return cls(text, str(folder), folder)
        if _looks_like_host(text):
            raise _bad_mirror(text, f"no scheme; write http://{text}")
        raise _bad_mirror(text, f"unsupported scheme {parts.scheme + '://'!r}")

    def locate(self, *names: str) -> str:
        """The URL (or path) of ``names`` below the mirror, e.g. ``locate("mnist", file)``."""
        if self.folder is not None:
            return str(self.folder.joinpath(*names))
        parts = urlsplit(self.base)
        path = parts.path.rstrip("/") + "".join(f"/{quote(name)}" for name in names)
        # The query (an access token, say) stays; a fragment is never sent anyway.
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def downloader(self, url: str, size: int, limits: DownloadLimits, progress=None):
        """The pooch downloader for ``url`` (a result of
        [`locate`][fastmlp.data.downloads.Mirror.locate]), advancing ``progress`` if given."""
        if self.folder is not None:
            return LocalCopier(Path(url), size, limits, progress)
        return HTTPDownloader(size, limits, progress)


def _looks_like_host(text: str) -> bool:
    # "localhost:8000", "127.0.0.1:8000/x", "[::1]:8000": a host and port, no scheme.
    head = text.split("/", 1)[0]
    host, sep, port = head.rpartition(":")
    return bool(sep and host and port.isdigit() and not Path(text).expanduser().exists())


def _bad_mirror(text: str, problem: str) -> DatasetError:
    return DatasetError(
        f"mirror {text!r} is not a valid mirror URL: {problem}. A mirror is an http:// or "
        "https:// URL (an IPv6 host in brackets: http://[::1]:8000/), a file:/// URL or "
        "a local folder"
    )


def describe(exc: BaseException, limits: DownloadLimits = LIMITS) -> str:
    """A short reason for a failed download: an HTTP status, or what broke the connection."""
    if isinstance(exc, DownloadError):
        return str(exc)
    import requests
    import urllib3

    if isinstance(exc, requests.TooManyRedirects):
        return "too many redirects (a redirect loop?)"
    response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} {response.reason or ''}".rstrip()

    errors = urllib3.exceptions
    causes = _causes(exc)
    # Most specific first: urllib3's NewConnectionError is also a ConnectTimeoutError.
    def connect_timeout(c: BaseException) -> bool:
        # urllib3's NewConnectionError (refused, unreachable, ...) is a ConnectTimeoutError too.
        return isinstance(c, (requests.ConnectTimeout, errors.ConnectTimeoutError, TimeoutError)) \
            and not isinstance(c, errors.NewConnectionError)

    rules = [
        ((errors.NameResolutionError, socket.gaierror), "host name not found (no network?)"),
        (ConnectionRefusedError, "connection refused"),
        ((requests.ReadTimeout, errors.ReadTimeoutError),
         f"no data for {limits.stall_timeout:g} s"),
        (connect_timeout, f"no answer within {limits.connect_timeout:g} s"),
        ((requests.exceptions.SSLError, errors.SSLError),
         "TLS/SSL error (certificate or protocol)"),
        ((errors.ProtocolError, requests.exceptions.ChunkedEncodingError),
         "connection broken before the end of the file"),
        (requests.exceptions.InvalidURL, "invalid URL"),
    ]
    for kinds, reason in rules:
        match = kinds if callable(kinds) and not isinstance(kinds, type) else (
            lambda c, kinds=kinds: isinstance(c, kinds))
        if any(match(c) for c in causes):
            return reason
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
    first_line = str(exc).splitlines()[0][:120] if str(exc) else ""
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: causes, contexts and the exceptions in its arguments."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 16:
        cause = todo.pop(0)
        if any(cause is s for s in seen):
            continue
        seen.append(cause)
        wrapped = [cause.__cause__, cause.__context__, getattr(cause, "reason", None), *cause.args]
        todo.extend(w for w in wrapped if isinstance(w, BaseException))
    return seen
