"""The shared-data helper: a missing root skips (or fails in CI), a missing path under it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

import conftest
from conftest import shared_data


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "shared" / "data"
    monkeypatch.setattr(conftest, "SHARED_DATA", root)
    monkeypatch.delenv("FEEDD_REQUIRE_SHARED_DATA", raising=False)
    return root


def test_a_present_path_is_returned(data_root: Path) -> None:
    (data_root / "feeds" / "real_news").mkdir(parents=True)
    assert shared_data("feeds", "real_news") == data_root / "feeds" / "real_news"


def test_an_absent_root_skips(data_root: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="shared test data not found"):
        shared_data("feeds", "real_news")


def test_an_absent_root_fails_when_ci_requires_the_data(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDD_REQUIRE_SHARED_DATA", "1")
    with pytest.raises(pytest.fail.Exception, match="FEEDD_REQUIRE_SHARED_DATA=1"):
        shared_data("feeds", "real_news")


def test_a_missing_path_under_a_present_root_fails_and_names_it(data_root: Path) -> None:
    (data_root / "feeds").mkdir(parents=True)
    with pytest.raises(pytest.fail.Exception, match=r"feeds/renamed_news is missing"):
        shared_data("feeds", "renamed_news")
