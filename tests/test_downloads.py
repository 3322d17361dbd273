"""Mirrors that misbehave, and mirror URLs: every download is bounded in size and time,
every mirror URL is parsed with urllib.parse, and every failure reads as one short line."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from datahelp import (
    DEAD,
    IMAGES,
    TIGHT,
    assert_only_good_files,
    endless,
    files,
    listing,
    lying_length,
    raw_names,
    redirect_loop,
    scripted,  # noqa: F401 (fixture)
    set_mirrors,
    stall,
    tiny_dataset,
    trickle,
)

from fastmlp import datasets
from fastmlp.data import cache, downloads
from fastmlp.data.downloads import Mirror
from fastmlp.datasets import DatasetError


@pytest.fixture
def tight(monkeypatch: pytest.MonkeyPatch) -> downloads.DownloadLimits:
    """Download limits a test can hit within a second or two."""
    monkeypatch.setattr(downloads, "LIMITS", TIGHT)
    return TIGHT


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """Register "tiny" (mirrored in tmp_path/mirror) and return its train images file."""
    tiny_dataset(tmp_path / "mirror", monkeypatch, n_images=20, side=28)
    return (tmp_path / "mirror" / "tiny" / IMAGES).read_bytes()


# -- group 6: size cap, stall timeout and deadline ------------------------------------------

HOSTILE = {
    # name: (server behaviour given the true file, reason expected in the error)
    "endless": (lambda body: endless(), "sent more than {cap} bytes; the pinned file has {size}"),
    "endless-chunked": (lambda body: endless(chunked=True), "sent more than {cap} bytes"),
    "length-10-GB": (lambda body: lying_length(10**10, body), "announced 10000000000 bytes"),
    "length-too-small": (lambda body: lying_length(len(body) - 1, body), "announced"),
    "length-right-body-other": (
        lambda body: lying_length(len(body), bytes(len(body)), then_endless=True),
        "sha256 of the {size} bytes received differs from the pinned one",
    ),
    "length-right-body-short": (
        lambda body: lying_length(len(body), body[:100]),
        "connection broken before the end of the file",
    ),
    "trickle": (lambda body: trickle(body, 0.1), "too slow: "),
    "trickle-chunked": (lambda body: trickle(body, 0.1, chunked=True), "too slow: "),
    "stall-at-start": (lambda body: stall(body, 0), "no data for 0.5 s"),
    "stall-midway": (lambda body: stall(body, len(body) // 2), "no data for 0.5 s"),
    "redirect-loop": (lambda body: redirect_loop, "too many redirects (a redirect loop?)"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_mirror_fails_fast_and_leaves_nothing(
    case: str, images: bytes, tmp_path: Path, scripted, tight  # noqa: F811
) -> None:
    behaviour, reason = HOSTILE[case]
    server = scripted(behaviour(images))
    home = tmp_path / "cache"
    started = time.monotonic()

    with pytest.raises(DatasetError) as info:
        datasets.load_dataset("tiny", data_home=home, mirror=server.url)

    elapsed = time.monotonic() - started
    assert elapsed < tight.grace + 2 * tight.stall_timeout + 1.0
    host = server.url.removeprefix("http://")
    expected = reason.format(cap=tight.cap(len(images)), size=len(images))
    assert f"\n  {host}: {expected}" in str(info.value)
    assert len(str(info.value)) < 500
    assert listing(home / "tiny") <= {cache.LOCK_NAME}  # no partial file, no fragment


def test_a_hostile_mirror_falls_through_to_a_good_one(
    images: bytes, tmp_path: Path, scripted, tight, monkeypatch  # noqa: F811
) -> None:
    hostile = scripted(endless())
    good = scripted(files(tmp_path / "mirror"))
    set_mirrors(monkeypatch, "tiny", f"{good.url}/tiny/")
    home = tmp_path / "cache"
    datasets.load_dataset("tiny", data_home=home, mirror=hostile.url)
    assert hostile.total_requests == 4 and good.total_requests == 4
    assert_only_good_files(home / "tiny", *raw_names(datasets.DATASETS["tiny"]))


def test_the_downloaders_follow_poochs_interface(
    images: bytes, tmp_path: Path, scripted, tight  # noqa: F811
) -> None:
    import pooch

    server = scripted(files(tmp_path / "mirror"))
    (fname, known_hash), size = datasets.DATASETS["tiny"].files[0], len(images)
    for downloader, url in [
        (downloads.HTTPDownloader(size, tight), f"{server.url}/tiny/{fname}"),
        (downloads.LocalCopier(tmp_path / "mirror" / "tiny" / fname, size, tight), "unused"),
    ]:
        folder = tmp_path / type(downloader).__name__
        path = pooch.retrieve(url, known_hash, fname=fname, path=folder, downloader=downloader)
        assert Path(path).read_bytes() == images


def test_default_limits_scale_with_the_file() -> None:
    limits = downloads.DownloadLimits()
    size = datasets.DATASETS["fashion-mnist"].sizes[0]  # the largest file, 26 MB
    assert limits.cap(size) == size + 65536
    assert 1000 < limits.deadline(size) < 1800  # ~24 min: 20 kB/s plus 2 min
    assert limits.deadline(4542) == pytest.approx(120.2, abs=0.1)


def test_a_local_source_of_the_wrong_size_is_not_copied(
    images: bytes, tmp_path: Path
) -> None:
    source = tmp_path / "usb"
    source.mkdir()
    for fname, _ in datasets.DATASETS["tiny"].files:
        (source / fname).write_bytes((tmp_path / "mirror" / "tiny" / fname).read_bytes())
    (source / IMAGES).write_bytes(images + bytes(10**6))
    with pytest.raises(DatasetError) as info:
        datasets.download("tiny", source=source, data_home=tmp_path / "cache")
    assert f"{source / IMAGES} has {len(images) + 10**6} bytes; the pinned file has " \
        f"{len(images)}" in str(info.value)


# -- group 13: mirror URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://host/data", "https://host/data/mnist/f.gz"),
        ("https://host/data/", "https://host/data/mnist/f.gz"),
        ("https://host/data/?token=a%20b&x=1", "https://host/data/mnist/f.gz?token=a%20b&x=1"),
        ("https://host?token=x", "https://host/mnist/f.gz?token=x"),
        ("http://[::1]:8000/", "http://[::1]:8000/mnist/f.gz"),
        ("http://[::1]:8000", "http://[::1]:8000/mnist/f.gz"),
        ("http://[fe80::1%25eth0]:80/m#frag", "http://[fe80::1%25eth0]:80/m/mnist/f.gz"),
        ("http://user:pw@host:81/m", "http://user:pw@host:81/m/mnist/f.gz"),
        ("HTTPS://Host/m", "https://Host/m/mnist/f.gz"),
    ],
)
def test_mirror_urls_are_joined_with_urllib(base: str, expected: str) -> None:
    assert Mirror.parse(base).locate("mnist", "f.gz") == expected


@pytest.mark.parametrize(
    ("base", "label"),
    [
        ("http://[::1]:8000/x", "[::1]:8000"),
        ("https://user:secret@host/x?token=secret", "host"),
        ("http://127.0.0.1:9/", "127.0.0.1:9"),
        ("file:///srv/mirror", "/srv/mirror"),
    ],
)
def test_a_mirror_is_named_by_host_without_secrets(base: str, label: str) -> None:
    assert Mirror.parse(base).label == label


@pytest.mark.parametrize(
    ("mirror", "problem"),
    [
        ("http://::1:8000/", "an IPv6 address must be in brackets"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("http://[::1]:99999/", "Port out of range"),
        ("http://127.0.0.1:abc/", "Port could not be cast to integer"),
        ("https:///path", "no host name"),
        ("http://", "no host name"),
        ("ftp://127.0.0.1:1/mnist/", "unsupported scheme 'ftp://'"),
        ("s3://bucket/mnist", "unsupported scheme 's3://'"),
        ("localhost:8000", "no scheme; write http://localhost:8000."),
        ("127.0.0.1:8000/data", "no scheme; write http://127.0.0.1:8000/data."),
        ("[::1]:8000", "no scheme; write http://[::1]:8000."),
        ("file://127.0.0.2/srv", "a file:// URL names a local folder"),
    ],
)
def test_a_malformed_mirror_is_refused_before_any_request(
    mirror: str, problem: str, tmp_path: Path, data_server, monkeypatch
) -> None:
    set_mirrors(monkeypatch, "mnist", f"{data_server.url}/mnist/")
    for call in (datasets.load_mnist, lambda **kw: datasets.download("mnist", **kw)):
        with pytest.raises(DatasetError) as info:
            call(data_home=tmp_path, mirror=mirror)
        message = str(info.value)
        assert message.startswith(f"mirror {mirror!r} is not a valid mirror URL: {problem}")
        assert "http://[::1]:8000/" in message  # what a valid one looks like
    assert data_server.total_requests == 0
    assert not (tmp_path / "mnist").exists()


def test_a_mirror_url_with_a_query_string_reaches_the_files(
    images: bytes, tmp_path: Path, scripted  # noqa: F811
) -> None:
    server = scripted(files(tmp_path / "mirror"))
    mirror = f"{server.url}/?token=s3cret"
    (x, y), _ = datasets.load_dataset("tiny", data_home=tmp_path / "cache", mirror=mirror)
    assert server.requests[f"/tiny/{IMAGES}?token=s3cret"] == 1
    assert server.total_requests == 4 and len(x) == 20


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback (::1) on this machine")
def test_an_ipv6_mirror(images: bytes, tmp_path: Path, scripted) -> None:  # noqa: F811
    server = scripted(files(tmp_path / "mirror"), host="::1")
    assert server.url.startswith("http://[::1]:")
    (x, _), _ = datasets.load_dataset("tiny", data_home=tmp_path / "c", mirror=server.url + "/")
    assert server.total_requests == 4 and len(x) == 20
    # A failure names the host in brackets.
    with pytest.raises(DatasetError) as info:
        datasets.load_dataset("tiny", data_home=tmp_path / "d", mirror=f"{server.url}/gone/")
    assert f"\n  {server.url.removeprefix('http://')}: HTTP 404" in str(info.value)


def test_mirror_env_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.MIRROR_ENV, "ftp://127.0.0.1:1/")
    with pytest.raises(DatasetError, match="mirror 'ftp://127.0.0.1:1/' is not a valid mirror URL"):
        datasets.load_mnist(data_home=tmp_path)


def test_a_refused_connection_reads_as_such(images: bytes, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        datasets.load_dataset("tiny", data_home=tmp_path, mirror=DEAD)
    assert "\n  127.0.0.1:1: connection refused\n" in str(info.value)
