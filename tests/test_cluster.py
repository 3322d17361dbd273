"""fastmlp.cluster.connect: a scheduler address gives a client or one clear error, in bounded time.

The servers are threads on 127.0.0.1 that accept and then stay silent, answer
as an HTTP server would, or send garbage; each test uses a short connect
timeout, so that a bound that does not hold fails the test rather than
hanging it.
"""

from __future__ import annotations

import gc
import inspect
import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("distributed", reason="the sweep needs dask[distributed] (the dask extra)")

import fastmlp  # noqa: E402
from fastmlp import cli, cluster, sweeps  # noqa: E402
from fastmlp.exceptions import SchedulerError  # noqa: E402

TIMEOUT = 1.0  # the connect timeout the tests set
SLACK = 10.0  # seconds a failure may take beyond it (thread start, loop shutdown, a busy CPU)

REPLIES = {
    "silent": None,
    "http": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "garbage": b"\xff" * 64,
}


@pytest.fixture(params=list(REPLIES))
def stranger(request) -> Iterator[str]:
    """The address of a loopback server that accepts and never speaks Dask."""
    reply = REPLIES[request.param]
    server = socket.create_server(("127.0.0.1", 0))
    connections: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # the server socket was closed: the test is over
                return
            connections.append(connection)
            if reply is not None:
                connection.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in connections:
        connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_that_is_not_a_dask_scheduler_fails_in_bounded_time(stranger):
    started = time.monotonic()
    with pytest.raises(SchedulerError, match=rf"{stranger}\b") as caught:
        cluster.connect(stranger, timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + SLACK
    message = str(caught.value)
    assert "\n" not in message and ("no answer" in message or "protocol" in message)
    assert isinstance(caught.value, ConnectionError)  # an OSError, as before


def test_a_refused_port_fails_in_bounded_time_and_says_so():
    address = f"tcp://127.0.0.1:{_free_port()}"
    started = time.monotonic()
    with pytest.raises(SchedulerError, match=rf"^cannot reach the Dask scheduler at {address}: "
                                             r".*ConnectionRefused"):
        cluster.connect(address, timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + SLACK


@pytest.mark.parametrize("address, reason", [
    ("tcp://", "has no host"),
    ("inproc://x", "uses inproc://"),
    ("ucx://10.0.0.1:8786", "uses ucx://"),
    ("tcp://10.0.0.1:0", "has port 0"),
    ("tcp://10.0.0.1:http", "has no valid port"),
    ("", "is empty"),
])
def test_a_malformed_address_is_refused_before_any_connection(address, reason):
    with pytest.raises(ValueError, match=rf"^scheduler address '{address}' {reason}.*"
                                         r"give one such as tcp://10\.0\.0\.1:8786"):
        cluster.connect(address, timeout=TIMEOUT)


def test_a_host_that_does_not_resolve_fails_at_once():
    started = time.monotonic()
    with pytest.raises(SchedulerError, match=r"tcp://no-such-host\.invalid:8786: cannot resolve"):
        cluster.connect("no-such-host.invalid", timeout=10 * TIMEOUT)
    assert time.monotonic() - started < 10 * TIMEOUT


def test_the_default_bound_is_30_seconds_everywhere():
    assert cluster.CONNECT_TIMEOUT == 30.0
    assert inspect.signature(cluster.connect).parameters["timeout"].default == 30.0
    assert inspect.signature(sweeps.sweep).parameters["connect_timeout"].default == 30.0
    args = cli.build_parser().parse_args(["sweep", "--grid", "alpha=0"])
    assert args.connect_timeout == 30.0


def test_the_sweep_function_uses_the_bounded_connect(stranger, mnist):
    (x_train, y_train), _ = mnist
    sweeps.check_points({"alpha": [0.0]})  # loads the estimator's kernels outside the measure
    started = time.monotonic()
    with pytest.raises(SchedulerError, match=stranger):
        fastmlp.sweep({"alpha": [0.0]}, x_train[:600], y_train[:600], client=stranger,
                      connect_timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + SLACK


def test_cli_prints_one_line_naming_the_address_and_nothing_later(stranger, monkeypatch,
                                                                  capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("the data was loaded before the scheduler answered")

    monkeypatch.setattr("fastmlp.datasets.load_dataset", no_work)
    started = time.monotonic()
    code = cli.main(["sweep", "--grid", "alpha=0", "--scheduler", stranger,
                     "--connect-timeout", str(TIMEOUT)])
    assert time.monotonic() - started < TIMEOUT + SLACK
    gc.collect()  # a half-made Client would complain from __del__ here
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith("fastmlp: error: --scheduler: ") and stranger in err
    assert "leave out --scheduler" in err


@pytest.mark.parametrize("address", ["nonsense.invalid", "tcp://", "inproc://x",
                                     "ucx://10.0.0.1:8786"])
def test_cli_bad_addresses_give_one_line_at_once(address, capsys):
    started = time.monotonic()
    code = cli.main(["sweep", "--grid", "alpha=0", "--scheduler", address,
                     "--connect-timeout", "20"])
    gc.collect()
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("fastmlp: error: --scheduler: ")


def test_cli_refuses_a_connect_timeout_that_is_not_positive(capsys):
    assert cli.main(["sweep", "--grid", "alpha=0", "--connect-timeout", "0"]) == 1
    assert "--connect-timeout must be > 0 seconds" in capsys.readouterr().err
