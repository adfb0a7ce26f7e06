"""The cache root that the image, VLM, WordNet and decoded-image caches share."""

from __future__ import annotations

from pathlib import Path

import pytest

from lrsgro.benchmarks._embedded import EmbeddedImages
from lrsgro.resources import cache_root
from lrsgro.scoring.wordnet import nltk_data_root
from lrsgro.vlm.options import default_cache_dir as vlm_cache_dir


def test_cache_root_prefers_lrsgro_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "root"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert cache_root() == tmp_path / "root"


def test_cache_root_falls_back_to_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LRSGRO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    assert cache_root() == tmp_path / "xdg" / "lrsgro"


def test_cache_root_falls_back_to_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LRSGRO_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    assert cache_root() == tmp_path / "home" / ".cache" / "lrsgro"


@pytest.mark.parametrize("variable", ["LRSGRO_CACHE", "XDG_CACHE_HOME"])
def test_caches_live_under_cache_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str) -> None:
    monkeypatch.delenv("LRSGRO_CACHE", raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "chosen"))
    root = cache_root()

    assert root.is_relative_to(tmp_path / "chosen")
    assert vlm_cache_dir() == root / "vlm"
    assert nltk_data_root() == root / "nltk_data"
    assert EmbeddedImages([]).cache_dir == root / "decoded"
