"""How the suite finds the real data sets, and how it reports their absence."""

from pathlib import Path
from types import SimpleNamespace

import conftest
import pytest


def test_mirror_setting_is_used_when_test_setting_is_not():
    assert conftest.data_source({"FASTMLP_MIRROR": "/srv/m"}) == ("/srv/m", "FASTMLP_MIRROR")
    both = {"FASTMLP_MIRROR": "/srv/m", "FASTMLP_TEST_DATA": "/srv/t"}
    assert conftest.data_source(both) == ("/srv/t", "FASTMLP_TEST_DATA")
    assert conftest.data_source({}) == (str(conftest.DEFAULT_DATA_DIR), None)


def test_skip_reason_names_the_setting_to_set():
    reason = conftest.missing_data_reason("/nowhere", "FASTMLP_MIRROR")
    assert "/nowhere (FASTMLP_MIRROR)" in reason
    assert "set FASTMLP_MIRROR to a folder or URL holding mnist/" in reason
    assert "FASTMLP_TEST_DATA" in reason


def test_skips_are_counted_once_per_reason():
    reports = [SimpleNamespace(longrepr=("conftest.py", 9, "Skipped: no data"))] * 48
    reports.append(SimpleNamespace(longrepr=("test_x.py", 3, "Skipped: needs fork")))
    assert conftest.skip_counts(reports) == {"no data": 48, "needs fork": 1}


def test_missing_data_fails_when_required(monkeypatch):
    monkeypatch.setattr(conftest, "_have_data", lambda: False)
    monkeypatch.setattr(conftest, "REQUIRE_DATA", True)
    with pytest.raises(pytest.fail.Exception, match="must run here"):
        conftest._require_data()
    monkeypatch.setattr(conftest, "REQUIRE_DATA", False)
    with pytest.raises(pytest.skip.Exception, match="FASTMLP_MIRROR"):
        conftest._require_data()


def test_a_mirror_url_is_fetched_into_a_folder(data_dir, serve_dir, tmp_path):
    server = serve_dir(data_dir)
    root = conftest._fetch_mirror(server.url, tmp_path)
    names = sorted(p.name for p in (root / "mnist").iterdir())
    assert names == sorted(name for name, _ in conftest.datasets.DATASETS["mnist"].files)
    assert (root / "mnist" / names[0]).read_bytes() == (data_dir / "mnist" / names[0]).read_bytes()
    assert isinstance(root, Path)
