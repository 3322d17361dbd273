"""Helpers of the data-layer tests: a tiny registered data set, cache listings, scripted
loopback servers (hostile or slow mirrors) and running code in another process.

Every server binds a loopback address only, and every response loop ends by itself
within ``MAX_SECONDS`` or ``MAX_BYTES``, whatever the client does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from fastmlp import datasets
from fastmlp.data import cache, downloads
from fastmlp.datasets import DatasetSpec

MNIST_FILES = [fname for fname, _ in datasets.DATASETS["mnist"].files]
LABELS = "train-labels-idx1-ubyte.gz"
IMAGES = "train-images-idx3-ubyte.gz"
DEAD = "http://127.0.0.1:1"  # nothing listens on port 1: connection refused at once
GOOD_LABELS = bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2])
MAX_SECONDS = 8.0
MAX_BYTES = 64 << 20

TIGHT = downloads.DownloadLimits(
    size_margin=1024, connect_timeout=2.0, stall_timeout=0.5, min_rate=1e9, grace=1.0,
    lock_wait=5.0,
)
"""Limits small enough for a test to hit them within a second or two."""


def set_mirrors(monkeypatch: pytest.MonkeyPatch, name: str, *urls: str) -> None:
    monkeypatch.setitem(datasets.DATASETS, name, replace(datasets.DATASETS[name], mirrors=urls))


def listing(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def flat(data) -> list[np.ndarray]:
    (x_train, y_train), (x_test, y_test) = data
    return [x_train, y_train, x_test, y_test]


def assert_only_good_files(directory: Path, *raw: str) -> None:
    """The cache holds exactly ``raw``, at most one parsed .npy of each, and the lock:
    no temporary, orphan or bad files."""
    names = listing(directory) - {cache.LOCK_NAME}
    assert {n for n in names if not n.endswith(".npy")} == set(raw)
    stems = [n.split(".", 1)[0] for n in names if n.endswith(".npy")]
    assert set(stems) <= {r.removesuffix(".gz") for r in raw}
    assert len(stems) == len(set(stems))


def raw_names(spec: DatasetSpec) -> list[str]:
    return [fname for fname, _ in spec.files]


def tiny_contents(labels: bytes | None = None, n_images: int = 2, side: int = 2) -> dict:
    """The four files of a tiny data set: ``n_images`` images ``side`` x ``side``, train
    labels ``labels`` (by default 1, 2, ... as IDX bytes)."""
    if labels is None:
        labels = bytes([0, 0, 8, 1, 0, 0, 0, n_images])
        labels += bytes((i + 1) % 10 for i in range(n_images))
    # random, so that gzip cannot shrink them much
    pixels = np.random.default_rng(0).bytes(n_images * side * side)
    images = bytes([0, 0, 8, 3, 0, 0, 0, n_images, 0, 0, 0, side, 0, 0, 0, side]) + pixels
    return {
        IMAGES: gzip.compress(images, mtime=0),
        LABELS: labels,
        "t10k-images-idx3-ubyte.gz": gzip.compress(images, mtime=0),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(
            bytes([0, 0, 8, 1, 0, 0, 0, n_images]) + bytes(n_images), mtime=0
        ),
    }


def tiny_spec(contents: dict) -> DatasetSpec:
    files = tuple((f, f"sha256:{hashlib.sha256(d).hexdigest()}") for f, d in contents.items())
    return DatasetSpec("tiny", (), files, tuple(len(d) for d in contents.values()))


def tiny_dataset(
    root: Path,
    monkeypatch: pytest.MonkeyPatch,
    labels: bytes | None = None,
    n_images: int = 2,
    side: int = 2,
) -> DatasetSpec:
    """Register a data set "tiny" served from ``root/tiny`` whose train labels are ``labels``."""
    contents = tiny_contents(labels, n_images, side)
    (root / "tiny").mkdir(parents=True)
    for fname, data in contents.items():
        (root / "tiny" / fname).write_bytes(data)
    spec = tiny_spec(contents)
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    return spec


# -- scripted loopback servers ---------------------------------------------------------


class ScriptedServer:
    """HTTP on a loopback address; every GET runs ``respond(handler)``.

    ``requests`` counts GET requests by their full target (path and query).
    """

    def __init__(self, respond: Callable[[BaseHTTPRequestHandler], None], host="127.0.0.1"):
        self.requests: Counter[str] = Counter()
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with lock:
                    server.requests[self.path] += 1
                self.close_connection = True
                try:
                    respond(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, format: str, *args: object) -> None:
                pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        httpd_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self._httpd = httpd_class((host, 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.bytes_sent = 0  # by the endless responders
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def bytes_sent(self) -> int:
        """Bytes the endless responders managed to send (into the socket's buffers)."""
        return self._httpd.bytes_sent

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _headers(h: BaseHTTPRequestHandler, length: int | None = None, chunked=False) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    if length is not None:
        h.send_header("Content-Length", str(length))
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.flush()


def _write_for_a_while(h: BaseHTTPRequestHandler, piece: bytes, chunked: bool) -> None:
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < MAX_SECONDS and sent < MAX_BYTES:
        h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        sent += len(piece)
        h.server.bytes_sent += len(piece)


def endless(chunked: bool = False) -> Callable:
    """A mirror that streams zeros without end (within the test bounds)."""

    def respond(h):
        _headers(h, chunked=chunked)
        _write_for_a_while(h, bytes(1 << 16), chunked)

    return respond


def lying_length(declared: int, body: bytes, then_endless: bool = False) -> Callable:
    """A mirror announcing ``declared`` bytes, sending ``body`` (and maybe more)."""

    def respond(h):
        _headers(h, declared)
        h.wfile.write(body)
        if then_endless:
            _write_for_a_while(h, bytes(1 << 16), False)

    return respond


def trickle(body: bytes, interval: float, chunked: bool = False) -> Callable:
    """A mirror sending ``body`` one byte every ``interval`` seconds, with its true length."""

    def respond(h):
        _headers(h, None if chunked else len(body), chunked=chunked)
        started = time.monotonic()
        for byte in body:
            if time.monotonic() - started > MAX_SECONDS:
                return
            h.wfile.write(b"1\r\n%c\r\n" % byte if chunked else bytes([byte]))
            h.wfile.flush()
            time.sleep(interval)

    return respond


def stall(body: bytes, sent: int) -> Callable:
    """A mirror sending the headers and ``sent`` bytes of ``body``, then nothing."""

    def respond(h):
        _headers(h, len(body))
        h.wfile.write(body[:sent])
        h.wfile.flush()
        time.sleep(MAX_SECONDS / 2)

    return respond


def redirect_loop(h: BaseHTTPRequestHandler) -> None:
    h.send_response(302)
    h.send_header("Location", h.path)
    h.send_header("Content-Length", "0")
    h.send_header("Connection", "close")
    h.end_headers()


def files(root: Path, delay: float = 0.0) -> Callable:
    """A well-behaved mirror serving the folder ``root``, each response after ``delay`` s."""

    def respond(h):
        time.sleep(delay)
        path = root / h.path.split("?", 1)[0].lstrip("/")
        if not path.is_file():
            h.send_error(404)
            return
        data = path.read_bytes()
        _headers(h, len(data))
        h.wfile.write(data)

    return respond


@pytest.fixture
def scripted():
    """Factory: start a [`ScriptedServer`] that is closed when the test ends."""
    servers: list[ScriptedServer] = []

    def start(respond, host="127.0.0.1") -> ScriptedServer:
        servers.append(ScriptedServer(respond, host))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


# -- other processes ---------------------------------------------------------------------


def child_code(spec: DatasetSpec, body: str) -> str:
    """Python code that registers ``spec`` as a data set, then runs ``body``."""
    return (
        "import json, sys\n"
        "from fastmlp import datasets\n"
        f"spec = json.loads({json.dumps(json.dumps([spec.name, spec.files, spec.sizes]))})\n"
        "datasets.DATASETS[spec[0]] = datasets.DatasetSpec(spec[0], (), "
        "tuple(map(tuple, spec[1])), tuple(spec[2]))\n" + body
    )


def python(code: str, **kwargs) -> subprocess.Popen:
    """Start ``python -c code`` with this interpreter, output captured."""
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, **kwargs,
    )


def as_another_user() -> list[str]:
    """Command prefix that runs a program without the privilege of reading or writing
    other users' files: nothing for a normal user; for root, dropping the capabilities
    that bypass file permissions (with util-linux's setpriv). Skips when impossible."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop the file-permission bypass")
    return [setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
