"""Fixtures shared by the whole suite: sample data, isolated caches, small scenes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_caches(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the image cache and the Hugging Face cache of the tests out of the home folder."""
    root = tmp_path_factory.mktemp("caches")
    os.environ.setdefault("LRSGRO_CACHE", str(root / "lrsgro"))
    os.environ.setdefault("HF_HOME", str(root / "hf"))
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real sample files (DOTA, NAIP, label formats); skip when they are not present."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample data not found at {SHARED_DATA}; these tests need the shared data folder")
    return SHARED_DATA
