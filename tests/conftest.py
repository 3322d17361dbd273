"""Shared fixtures: synthetic problems, quiet short fits, and the real data sets
served without network.

The original MNIST and Fashion-MNIST files live in ``../shared/data`` next to the
repository (override with ``FASTMLP_TEST_DATA``). They are served on a loopback
HTTP server so tests run the real download, checksum and cache path end to end.
Without them, tests that need data are skipped, unless ``FASTMLP_TEST_NETWORK=1``
lets ``mirror_env``, ``mnist`` and ``fashion_mnist`` use the real upstream mirrors.
"""

from __future__ import annotations

import os

# scikit-learn's check_array_api_input runs only when SciPy's array API support is
# switched on before SciPy is first imported, which is now.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from fastmlp import datasets

DATA_DIR = Path(
    os.environ.get("FASTMLP_TEST_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
NETWORK = os.environ.get("FASTMLP_TEST_NETWORK") == "1"


# -- synthetic problems and short fits ---------------------------------------------------


def _blobs(n=90, n_features=5, n_classes=3, seed=0, spread=0.3):
    """Well separated Gaussian blobs: (X float64, y int class index)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 3.0, (n_classes, n_features))
    y = np.arange(n) % n_classes
    X = centers[y] + rng.normal(0.0, spread, (n, n_features))
    return X, y


def _linear_classes(n=240, n_features=8, n_classes=3, seed=0):
    """A learnable multiclass problem: (X standard normal, y = argmax of a random linear map)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    y = np.argmax(X @ rng.standard_normal((n_features, n_classes)), axis=1)
    return X, y


@pytest.fixture(scope="session")
def blobs() -> Callable[..., tuple]:
    """Factory ``blobs(n=90, n_features=5, n_classes=3, seed=0, spread=0.3)``: well
    separated Gaussian blobs, ``(X float64, y int)``, easy for any model."""
    return _blobs


@pytest.fixture(scope="session")
def linear_classes() -> Callable[..., tuple]:
    """Factory ``linear_classes(n=240, n_features=8, n_classes=3, seed=0)``: standard
    normal X labelled by the argmax of a random linear map, ``(X float64, y int)``."""
    return _linear_classes


@pytest.fixture
def quiet_convergence() -> Iterator[None]:
    """Silence the max_iter ConvergenceWarning (fastmlp's and scikit-learn's): short
    fits end at max_iter by design, and the warning is noise there."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer: Maximum iterations")
        yield


# -- the real data sets on a loopback mirror -------------------------------------------------


class LoopbackServer:
    """Serve a folder on 127.0.0.1, counting requests and failing chosen paths.

    ``requests`` counts GET requests per URL path; ``fail`` maps a URL path to the
    HTTP status it should answer with instead of the file.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: Counter[str] = Counter()
        self.fail: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests[path] += 1
                    status = server.fail.get(path)
                if status is None:
                    super().do_GET()
                else:
                    self.send_error(status)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown() at teardown from costing 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.fail.clear()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _have_data() -> bool:
    return (DATA_DIR / "mnist").is_dir()


def _require_data() -> None:
    if not _have_data():
        pytest.skip(
            f"real MNIST files not found at {DATA_DIR}; set FASTMLP_TEST_DATA or run "
            "with network opt-in FASTMLP_TEST_NETWORK=1"
        )


def _loopback_url(request: pytest.FixtureRequest) -> str | None:
    """URL of the loopback mirror, or None to use the upstream mirrors (network opt-in)."""
    if NETWORK and not _have_data():
        return None
    return request.getfixturevalue("_session_server").url


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding ``mnist/`` and ``fashion-mnist/`` raw files (skips if absent)."""
    _require_data()
    return DATA_DIR


@pytest.fixture(scope="session")
def _session_server(data_dir: Path) -> Iterator[LoopbackServer]:
    server = LoopbackServer(data_dir)
    yield server
    server.close()


@pytest.fixture
def data_server(_session_server: LoopbackServer) -> Iterator[LoopbackServer]:
    """The loopback server for the real data, with counts and failures reset per test."""
    _session_server.reset()
    yield _session_server
    _session_server.reset()


@pytest.fixture
def serve_dir() -> Iterator[Callable[[Path], LoopbackServer]]:
    """Factory: serve any folder on its own loopback server until the test ends."""
    servers: list[LoopbackServer] = []

    def start(root: Path) -> LoopbackServer:
        servers.append(LoopbackServer(root))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def mirror_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Path:
    """Point ``FASTMLP_MIRROR`` at the loopback server and ``FASTMLP_DATA_DIR`` at a
    fresh folder, which is returned."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(cache))
    url = _loopback_url(request)
    if url is None:
        monkeypatch.delenv(datasets.MIRROR_ENV, raising=False)
    else:
        request.getfixturevalue("data_server")  # fresh request counts for this test
        monkeypatch.setenv(datasets.MIRROR_ENV, url)
    return cache


def _load_session(
    load: Callable[..., tuple],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple:
    data = load(data_home=tmp_path_factory.mktemp("fastmlp-data"), mirror=_loopback_url(request))
    # Shared by every test of the session: a test that writes into them must copy.
    for split in data:
        for array in split:
            array.flags.writeable = False
    return data


@pytest.fixture(scope="session")
def mnist(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """``((x_train, y_train), (x_test, y_test))`` of MNIST, loaded once per session, read-only."""
    return _load_session(datasets.load_mnist, request, tmp_path_factory)


@pytest.fixture(scope="session")
def fashion_mnist(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple:
    """``((x_train, y_train), (x_test, y_test))`` of Fashion-MNIST, once per session, read-only."""
    return _load_session(datasets.load_fashion_mnist, request, tmp_path_factory)
