"""Reaching a Dask cluster: the one way a sweep connects to a scheduler address.

[connect][fastmlp.cluster.connect] is used by every caller that turns an
address into a client (``fastmlp.sweep(client="tcp://...")`` and ``fastmlp
sweep --scheduler``). distributed's ``Client`` alone bounds the TCP connect
but not the handshake after it, so a server that accepts and stays silent
keeps it waiting for ever; it reads a stranger's first bytes (an HTTP
server's, say) as the length of a frame to allocate, exabytes; and a client
whose start failed prints a ``TimeoutError`` traceback from its ``__del__``
a minute later. So the address is checked first; then a probe resolves the
host, connects, hand-shakes and asks the server who it is, all within one
deadline (``CONNECT_TIMEOUT`` by default); and only a server that answered
as a Dask scheduler gets a ``Client``. Every failure is one
[SchedulerError][fastmlp.exceptions.SchedulerError] (a ``ConnectionError``)
naming the address; a malformed address is a ``ValueError``.

The embedded cluster's process set-up lives here too: Ctrl-C is ignored
while its workers start, and in them (``dask_setup``, Dask's preload hook).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastmlp.exceptions import SchedulerError

CONNECT_TIMEOUT = 30.0
"""Seconds to connect to a scheduler and hear its handshake, by default (Dask's own default)."""

SCHEMES = ("tcp", "tls", "ws", "wss")
"""Protocols a scheduler address may use: the ones worker processes on other hosts can reach."""

DEFAULT_PORT = 8786
"""Port of an address that gives none: the one ``dask scheduler`` listens on."""

EXAMPLE = "tcp://10.0.0.1:8786"


def check_address(address: Any) -> tuple[str, str, int]:
    """The address as ``(url, host, port)``: a scheme from ``SCHEMES``, a host and a port.

    ``HOST`` and ``HOST:PORT`` without a scheme mean ``tcp://``, as in Dask;
    the port defaults to ``DEFAULT_PORT``.

    Raises
    ------
    ValueError
        Naming the address, what is wrong with it and an example of a good one.
    """
    from distributed.comm.addressing import parse_address, parse_host_port, unparse_host_port

    def refuse(reason: str) -> ValueError:
        return ValueError(
            f"scheduler address {address!r} {reason}; give one such as {EXAMPLE} "
            f"(protocols: {', '.join(scheme + '://' for scheme in SCHEMES)})"
        )

    if not isinstance(address, str) or not address.strip():
        raise refuse("is empty or not a string")
    try:
        scheme, location = parse_address(address.strip())
    except ValueError:
        raise refuse("cannot be read") from None
    if scheme not in SCHEMES:
        raise refuse(f"uses {scheme}://, which worker processes of a sweep cannot reach "
                     "or this installation does not support")
    try:
        host, port = parse_host_port(location, default_port=DEFAULT_PORT)
    except ValueError:
        raise refuse("has no valid port") from None
    if not host or not 0 < int(port) < 65536:
        raise refuse("has no host" if not host else f"has port {port}, not in 1-65535")
    return f"{scheme}://{unparse_host_port(host, int(port))}", host, int(port)


def connect(address: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, or one clear error.

    Parameters
    ----------
    address : str
        Such as ``"tcp://10.0.0.1:8786"``; ``"10.0.0.1"`` means port 8786 over TCP.
    timeout : float, default=CONNECT_TIMEOUT
        Seconds for the whole of resolving, connecting and the handshake.

    Returns
    -------
    distributed.Client
        Not set as Dask's default client; the caller closes it.

    Raises
    ------
    ValueError
        A malformed address, or a ``timeout`` that is not a positive number.
    SchedulerError
        Nothing answered as a Dask scheduler at ``address`` within ``timeout`` s;
        the message says what happened instead.
    """
    from distributed import Client  # also loads what the probe uses, outside its deadline

    url, host, port = check_address(address)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"the connect timeout must be a number of seconds > 0; got {timeout!r}")
    _probe(url, host, port, float(timeout))
    try:
        return Client(url, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:  # the scheduler left between probe and client
        raise SchedulerError(f"cannot connect to the Dask scheduler at {url}: {error}") from None


def _probe(url: str, host: str, port: int, timeout: float) -> None:
    """Resolve, connect, hand-shake and ask for the server's identity, all within ``timeout``.

    Runs its own event loop in a thread of its own, so that it works the
    same from a script and from code already inside an event loop (Jupyter).
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["identity"] = asyncio.run(
                asyncio.wait_for(_identity(url, host, port, timeout), timeout)
            )
        except BaseException as error:  # reported by the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="fastmlp-scheduler-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)  # the loop's own deadline fires first; this is a backstop
    error = outcome.get("error")
    where = f"the Dask scheduler at {url}"
    timed_out = isinstance(error, TimeoutError | asyncio.TimeoutError) or isinstance(
        getattr(error, "__cause__", None), TimeoutError | asyncio.TimeoutError
    )
    if thread.is_alive() or timed_out:
        raise SchedulerError(
            f"no answer from {where} within {timeout:g} s: nothing there completed Dask's "
            "handshake; check the address, start a scheduler there with `dask scheduler`, "
            "or allow more time (connect_timeout; --connect-timeout on the command line)"
        )
    if isinstance(error, socket.gaierror):
        raise SchedulerError(f"cannot reach {where}: cannot resolve host {host!r} ({error})")
    if isinstance(error, OSError):
        cause = error.__cause__ or error
        raise SchedulerError(
            f"cannot reach {where}: {type(cause).__name__}: {cause}; check the address and "
            "that `dask scheduler` runs there"
        )
    if error is not None:  # garbage read as a Dask message: a frame of exabytes, and the like
        raise SchedulerError(
            f"the server at {url} does not speak Dask's protocol (its reply could not be "
            f"read: {type(error).__name__}); is it another kind of server, such as HTTP?"
        )
    identity = outcome.get("identity")
    kind = identity.get("type") if isinstance(identity, dict) else None
    if kind != "Scheduler":
        what = f"a Dask {kind}" if isinstance(kind, str) else "not a Dask scheduler"
        raise SchedulerError(
            f"the server at {url} answered, but is {what}; give the scheduler's address"
        )


async def _identity(url: str, host: str, port: int, timeout: float) -> Any:
    from distributed.comm import connect as comm_connect
    from distributed.security import Security

    # a name that does not resolve, or a port nobody listens on, fails now: Dask's
    # connect would retry both until the deadline and report only a timeout
    await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    comm = await comm_connect(
        url, timeout=0.9 * timeout, **Security().get_connection_args("client")
    )
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


# -- the embedded cluster's processes ----------------------------------------------------


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while the worker processes start; they inherit the setting.

    A terminal's Ctrl-C reaches the whole process group, and a worker still
    importing (before ``dask_setup`` runs in it) would die with a traceback.
    The workers never need the signal: the sweep stops them on Ctrl-C. The
    price: a Ctrl-C during the seconds of start-up is lost (blocking it
    instead does not reach the workers: the spawned processes start unblocked).
    """
    import signal

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread sets handlers
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def stop_workers(nannies: list) -> None:
    """Close the embedded cluster's worker processes at once (a fit cannot be interrupted)."""
    await asyncio.gather(*(nanny.close(timeout=0.5) for nanny in nannies))


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run in each worker process of the embedded cluster.

    Ctrl-C in a terminal reaches every process of the foreground group; the
    workers leave it to the sweep, which cancels its tasks and shuts them down
    (otherwise each prints a KeyboardInterrupt traceback as it dies).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
