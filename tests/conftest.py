"""Shared fixtures: the bundled profile, fresh SQLite stores, and a store holding the 2025 example returns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from carestats.ingest import ingest_paths
from carestats.profile import Profile
from carestats.store import Store
from tests.workbooks import EXAMPLES, SHARED


def pytest_sessionstart(session: pytest.Session) -> None:
    """One clear line instead of a hundred FileNotFoundErrors when the county's data is not beside the clone."""
    if not (SHARED / "returns" / "2025-expected.json").is_file():
        pytest.exit(
            f"the tests read the county's expected figures from {SHARED}: clone carestats beside the shared/ "
            "folder (as CI does) or set CARESTATS_SHARED to it",
            returncode=2,
        )


@pytest.fixture(scope="session")
def profile() -> Profile:
    return Profile.load()


@pytest.fixture
def store(tmp_path: Path):
    s = Store.open(tmp_path / "test.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def example_db(tmp_path_factory: pytest.TempPathFactory, profile: Profile) -> Path:
    """A store with the 13 example returns ingested once; tests get a copy via ``example_store``."""
    path = tmp_path_factory.mktemp("example") / "2025.db"
    with Store.open(path) as s:
        results = ingest_paths(s, profile, [EXAMPLES])
        assert all(r.ok for r in results), [r.message for r in results if not r.ok]
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def example_store(example_db: Path, tmp_path: Path):
    path = tmp_path / "2025.db"
    shutil.copy(example_db, path)
    s = Store.open(path)
    yield s
    s.close()
