"""Tests for ``lrsgro push``: the dry run, the checks before uploading, and real uploads.

Uploads go through the real huggingface_hub client to the stand-in Hub of ``hub_stub`` on
127.0.0.1; the rows are read back with the real ``datasets.load_dataset``. Both run in a
fresh interpreter because huggingface_hub and datasets read ``HF_ENDPOINT`` at import time.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.hub_stub import HubStub
from lrsgro.card import CardInfo, read_card_info, render_card, write_card
from lrsgro.cli import cli
from lrsgro.dataset import read_image_index, read_questions, write_image_index, write_json, write_questions
from lrsgro.errors import DatasetError
from lrsgro.publish import plan_push
from lrsgro.records import ImageRecord, Question, make_qid

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_test_secret_4f9c2a7d1e"
IMAGERY_LICENSE = "CC-BY-4.0, synthetic test imagery"
LOAD_SCRIPT = """
import json, sys
import datasets
repo_id, revision = sys.argv[1], sys.argv[2]
loaded = datasets.load_dataset(repo_id, revision=revision)
print(json.dumps({split: loaded[split].to_list() for split in loaded}, sort_keys=True))
"""


@pytest.fixture
def hub() -> HubStub:
    with HubStub(token=TOKEN) as stub:
        yield stub


@pytest.fixture
def hf_home(tmp_path: Path) -> Path:
    home = tmp_path / "hf-home"
    home.mkdir()
    return home


def make_dataset(
    folder: Path,
    *,
    seed: int = 0,
    splits: tuple[str, ...] = ("test", "test", "validation"),
    candidates: int = 0,
) -> Path:
    """Write a small valid dataset folder: one image per entry of ``splits``, four questions each."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True)
    images: list[ImageRecord] = []
    questions: list[Question] = []

    for index, split in enumerate(splits):
        image_id = f"scene-{seed}-{index}"
        width, height = int(rng.integers(60, 120)), int(rng.integers(40, 90))
        path = folder / "images" / f"{image_id}.png"
        Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
        images.append(
            ImageRecord(
                image_id=image_id,
                file=f"images/{image_id}.png",
                width=width,
                height=height,
                split=split,
                sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                objects=int(rng.integers(1, 9)),
            )
        )

        common = {"image_id": image_id, "image": f"images/{image_id}.png", "image_width": width, "image_height": height, "split": split}
        left = [0.0, 0.0, width / 2, height / 2]
        right = [width / 2, height / 2, float(width), float(height)]
        questions += [
            Question(
                qid=make_qid(image_id, "count"),
                level="global",
                category="Counting",
                question="How many ships are in the image?",
                answer=str(int(rng.integers(0, 20))),
                answer_kind="integer",
                review_status="accepted",
                **common,
            ),
            Question(
                qid=make_qid(image_id, "exists-left"),
                level="region",
                category="Object existence",
                question="Is there a plane in the top-left part of the image?",
                answer="yes",
                answer_kind="yes_no",
                roi=left,
                review_status="accepted",
                **common,
            ),
            Question(
                qid=make_qid(image_id, "exists-right"),
                level="region",
                category="Object existence",
                question="Is there a plane in the bottom-right part of the image?",
                answer="no",
                answer_kind="yes_no",
                roi=right,
                review_status="edited",
                provenance="human",
                **common,
            ),
            Question(
                qid=make_qid(image_id, "color"),
                level="object",
                category="Object color / pattern",
                question="What is the colour of the largest ship in the bottom-right part of the image?",
                answer=str(rng.choice(["white", "grey", "red"])),
                answer_kind="word",
                roi=right,
                provenance="vlm",
                review_status="accepted",
                **common,
            ),
        ]

    for question in questions[:candidates]:
        question.review_status = "candidate"

    write_questions(folder, questions)
    write_image_index(folder, images)
    info = CardInfo(imagery_license=IMAGERY_LICENSE, limitations=["Answers of this fixture are random --> not real."])
    write_card(folder, questions, images, info)
    write_json(folder / "build_report.json", {"built_from": str(folder.resolve()), "questions": len(questions)})
    return folder


def mark_rejected(folder: Path, rejected: Callable[[Question], bool]) -> int:
    """Set review status 'rejected' where ``rejected`` is true, as a pull would; rewrite shards and card."""
    questions = read_questions(folder)
    updated = [q.model_copy(update={"review_status": "rejected"}) if rejected(q) else q for q in questions]
    write_questions(folder, updated)
    info = read_card_info((folder / "README.md").read_text(encoding="utf-8"))
    write_card(folder, updated, list(read_image_index(folder).values()), info)
    return sum(q.review_status == "rejected" for q in updated)


def reject_validation_split(question: Question) -> bool:
    """Pick the Counting question of the first test image and every question of the validation image."""
    return question.split == "validation" or (question.image_id == "scene-0-0" and question.category == "Counting")


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def lrsgro_env(hub_url: str, hf_home: Path, token: str | None = TOKEN) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        HF_ENDPOINT=hub_url,
        HF_HOME=str(hf_home),
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_DATASETS_DISABLE_PROGRESS_BARS="1",
        # rich wraps messages at 80 columns when not writing to a terminal.
        COLUMNS="500",
    )
    if token is not None:
        env["HF_TOKEN"] = token
    return env


def run_push(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "lrsgro", "push", *args]
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def load_rows(repo_id: str, revision: str, env: dict[str, str]) -> dict[str, list[dict]]:
    command = [sys.executable, "-c", LOAD_SCRIPT, repo_id, revision]
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def local_rows(folder: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for shard in sorted((folder / "data").glob("*.parquet")):
        rows.setdefault(shard.name.split("-")[0], []).extend(pq.read_table(shard).to_pylist())
    # A JSON round trip gives both sides the same types (lists, floats, None).
    return json.loads(json.dumps(rows, sort_keys=True))


def expected_repo_files(folder: Path) -> dict[str, bytes]:
    """Return what the repository must hold after a push of a fully reviewed dataset."""
    files = {"README.md": (folder / "README.md").read_bytes()}
    for path in [*(folder / "data").glob("*.parquet"), *(folder / "images").iterdir()]:
        files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def data_commits(hub: HubStub, repo_id: str) -> list:
    return [commit for commit in hub.repo(repo_id).commits if commit.message != "initial commit"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- dry run and checks before uploading ----------------------------------------------------


def test_dry_run_lists_files_offline(tmp_path: Path, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    unreachable = f"http://127.0.0.1:{closed_port()}"
    env = lrsgro_env(unreachable, hf_home, token=None)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test", "--dry-run", "--endpoint", unreachable], env)

    assert result.returncode == 0, result.stderr
    listed = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            listed[parts[1]] = int(parts[0])
    expected = {path: len(content) for path, content in expected_repo_files(folder).items()}
    assert listed == expected
    assert "build_report.json" not in result.stdout
    assert f"{sum(expected.values())} bytes in total" in result.stdout


def test_dry_run_rejects_candidates(tmp_path: Path, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds", candidates=3)
    env = lrsgro_env(f"http://127.0.0.1:{closed_port()}", hf_home)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test", "--dry-run"], env)

    assert result.returncode == 2
    assert "3 of 12 questions" in result.stderr
    assert "--allow-unreviewed" in result.stderr
    assert "review them with `lrsgro review push/pull`" in result.stderr
    # Rebuilding would discard the verdicts already pulled.
    assert "rebuild" not in result.stderr


def test_dry_run_leaves_out_rejected(tmp_path: Path, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    assert mark_rejected(folder, reject_validation_split) == 5
    before = folder_bytes(folder)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = lrsgro_env(f"http://127.0.0.1:{closed_port()}", hf_home, token=None) | {"TMPDIR": str(temp)}

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test", "--dry-run"], env)

    assert result.returncode == 0, result.stderr
    listed = {parts[1]: int(parts[0]) for parts in map(str.split, result.stdout.splitlines()) if len(parts) == 2 and parts[0].isdigit()}
    assert "5 rejected questions left out, 7 published" in result.stdout
    assert "--include-rejected" in result.stdout
    # The validation split holds only rejected questions, so its shard is not uploaded.
    assert [path for path in listed if path.startswith("data/")] == ["data/test-00000-of-00001.parquet"]
    assert listed["data/test-00000-of-00001.parquet"] != len(before["data/test-00000-of-00001.parquet"])
    # Images whose questions were all rejected are left out too, with their index records.
    kept_images = {f"images/{Path(r.file).name}" for r in read_image_index(folder).values() if r.split != "validation"}
    assert {path for path in listed if path.startswith("images/") and path != "images/index.jsonl"} == kept_images
    assert len(kept_images) < len({p for p in before if p.startswith("images/") and p != "images/index.jsonl"})
    assert folder_bytes(folder) == before
    assert list(temp.iterdir()) == []


def test_plan_validates_published_questions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_dataset(tmp_path / "ds")
    # A question of a type outside the taxonomy fails validation, but once rejected it is not published.
    template = read_questions(folder)[0]
    odd = template.model_copy(update={"qid": make_qid("odd"), "category": "Not a type", "review_status": "rejected"})
    write_questions(folder, [*read_questions(folder), odd])
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    with plan_push(folder) as plan:
        staged = [f.local_path for f in plan.files if f.path_in_repo.startswith("data/")]
        assert plan.rejected_excluded == 1
        assert plan.questions == 12
        assert all(path.is_relative_to(temp) for path in staged)
        assert sorted(q.qid for path in staged for q in (Question.from_row(r) for r in pq.read_table(path).to_pylist())) == sorted(
            q.qid for q in read_questions(folder) if q.review_status != "rejected"
        )
    assert list(temp.iterdir()) == []
    assert (folder / "images" / "scene-0-0.png").is_file()

    with pytest.raises(DatasetError, match="outside the 17 LRS-GRO types"):
        plan_push(folder, include_rejected=True)


def test_plan_invalid_published_set_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_dataset(tmp_path / "ds")
    mark_rejected(folder, lambda q: q.category == "Counting")
    questions = read_questions(folder)
    questions[0] = questions[0].model_copy(update={"split": "validation"})
    write_questions(folder, questions)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    with pytest.raises(DatasetError, match="dataset without its 3 rejected questions fails validation"):
        plan_push(folder)
    assert list(temp.iterdir()) == []


def test_plan_all_rejected_fails(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    mark_rejected(folder, lambda q: True)

    with pytest.raises(DatasetError, match="all 12 questions are in review status 'rejected'"):
        plan_push(folder)


def test_push_help_says_what_is_uploaded() -> None:
    result = CliRunner().invoke(cli, ["push", "--help"], terminal_width=200)

    text = " ".join(result.output.split())  # help text is wrapped at 100 columns

    assert result.exit_code == 0, result.output
    for expected in ("Parquet shards", "image store", "dataset card", "build_report.json", "'rejected'", "--include-rejected", "HF_TOKEN", "hf auth login"):
        assert expected in text, expected


def test_allow_unreviewed_marks_card(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "ds", candidates=2)
    local_card = (folder / "README.md").read_text(encoding="utf-8")

    plan = plan_push(folder, allow_unreviewed=True)

    card = next(f for f in plan.files if f.path_in_repo == "README.md").content.decode("utf-8")
    assert plan.candidates == 2
    assert "Not fully reviewed" in card
    assert "Not fully reviewed" not in local_card
    assert IMAGERY_LICENSE in card
    assert (folder / "README.md").read_text(encoding="utf-8") == local_card


def test_push_rejects_invalid_dataset(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    shard = folder / "data" / "test-00000-of-00001.parquet"
    rows = pq.read_table(shard).to_pylist()
    rows[0]["split"] = "validation"
    write_questions(folder, [Question.from_row(row) for row in rows])

    with pytest.raises(DatasetError, match="fails validation"):
        plan_push(folder)


def test_push_rejects_image_outside_store(tmp_path: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    index = folder / "images" / "index.jsonl"
    records = [json.loads(line) for line in index.read_text().splitlines()]
    outside = tmp_path / "outside.png"
    outside.write_bytes((folder / records[0]["file"]).read_bytes())
    records[0]["file"] = "../outside.png"
    index.write_text("".join(json.dumps(record) + "\n" for record in records))

    with pytest.raises(DatasetError, match="outside the image store"):
        plan_push(folder)


def test_card_info_survives_rendering() -> None:
    info = CardInfo(
        imagery_license="CC-BY-SA-4.0 --> share alike",
        limitations=["first", "second with <!-- markup -->"],
        review_agreement={"region/Counting": 0.875},
    )

    parsed = read_card_info(render_card([], [], info))

    assert parsed == info


def test_push_rejects_bad_repo_id(tmp_path: Path, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(f"http://127.0.0.1:{closed_port()}", hf_home)

    for repo_id in ["no-namespace", "org/name/extra", "org/-bad", "org/a..b"]:
        result = run_push([str(folder), "--repo-id", repo_id, "--dry-run"], env)
        assert result.returncode == 2, repo_id
        assert "invalid Hub repository id" in result.stderr, repo_id


# -- uploads to the stand-in Hub ------------------------------------------------------------


def test_push_round_trip(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(hub.url, hf_home)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 0, result.stderr
    stored = hub.files("org/lrsgro-test")
    expected = expected_repo_files(folder)
    assert set(stored) == set(expected) | {".gitattributes"}
    for path, content in expected.items():
        assert stored[path] == content, path
    assert load_rows("org/lrsgro-test", "main", env) == local_rows(folder)
    assert TOKEN not in result.stdout + result.stderr


def test_second_push_makes_no_commit(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(hub.url, hf_home)
    assert run_push([str(folder), "--repo-id", "org/lrsgro-test"], env).returncode == 0
    head = hub.repo("org/lrsgro-test").branches["main"]

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 0, result.stderr
    assert "nothing to commit" in result.stdout
    assert hub.repo("org/lrsgro-test").branches["main"] == head
    assert len(data_commits(hub, "org/lrsgro-test")) == 1


@pytest.mark.parametrize("mode", ["before-apply", "after-apply"])
def test_dropped_commit_then_retry(tmp_path: Path, hub: HubStub, hf_home: Path, mode: str) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(hub.url, hf_home)
    hub.drop_commits = [mode]

    failed = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)
    retried = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert failed.returncode == 2
    assert "run the same push again" in failed.stderr
    assert TOKEN not in failed.stdout + failed.stderr
    assert retried.returncode == 0, retried.stderr
    stored = hub.files("org/lrsgro-test")
    assert set(stored) == set(expected_repo_files(folder)) | {".gitattributes"}
    assert len(data_commits(hub, "org/lrsgro-test")) == 1
    uploads = [path for method, path in hub.requests if method == "PUT"]
    assert len(uploads) == len(set(uploads))
    assert load_rows("org/lrsgro-test", "main", env) == local_rows(folder)


def test_push_deletes_stale_files(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    first = make_dataset(tmp_path / "first", seed=1, splits=("test", "test", "validation"))
    second = make_dataset(tmp_path / "second", seed=2, splits=("test", "validation"))
    env = lrsgro_env(hub.url, hf_home)
    assert run_push([str(first), "--repo-id", "org/lrsgro-test"], env).returncode == 0

    result = run_push([str(second), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 0, result.stderr
    stored = hub.files("org/lrsgro-test")
    assert set(stored) == set(expected_repo_files(second)) | {".gitattributes"}
    assert not any(path.startswith("images/scene-1-") for path in stored)
    assert load_rows("org/lrsgro-test", "main", env) == local_rows(second)


def test_push_leaves_out_rejected(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    mark_rejected(folder, reject_validation_split)
    before = folder_bytes(folder)
    env = lrsgro_env(hub.url, hf_home)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)
    again = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 0, result.stderr
    expected = {split: [row for row in rows if row["review_status"] != "rejected"] for split, rows in local_rows(folder).items()}
    assert load_rows("org/lrsgro-test", "main", env) == {"test": expected["test"]}
    assert expected["validation"] == []
    assert "5 rejected questions left out, 7 published" in result.stdout
    card = hub.files("org/lrsgro-test")["README.md"].decode("utf-8")
    assert read_card_info(card).rejected_excluded == 5
    assert "5 rejected questions left out" in card
    assert "| rejected |" not in card
    [commit] = data_commits(hub, "org/lrsgro-test")
    assert "5 rejected left out" in commit.message
    assert folder_bytes(folder) == before
    # The filtered shards come out byte-identical, so pushing again changes nothing.
    assert again.returncode == 0, again.stderr
    assert "nothing to commit" in again.stdout


def test_push_include_rejected(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    mark_rejected(folder, reject_validation_split)
    env = lrsgro_env(hub.url, hf_home)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test", "--include-rejected"], env)

    assert result.returncode == 0, result.stderr
    assert "left out" not in result.stdout
    assert load_rows("org/lrsgro-test", "main", env) == local_rows(folder)
    card = hub.files("org/lrsgro-test")["README.md"].decode("utf-8")
    assert "Contains 5 rejected questions" in card
    assert "| rejected | 5 |" in card


def test_push_to_private_branch(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(hub.url, hf_home)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test", "--revision", "v1", "--private"], env)

    assert result.returncode == 0, result.stderr
    assert hub.repo("org/lrsgro-test").private
    assert set(hub.files("org/lrsgro-test", "main")) == {".gitattributes"}
    assert set(hub.files("org/lrsgro-test", "v1")) == set(expected_repo_files(folder)) | {".gitattributes"}
    assert load_rows("org/lrsgro-test", "v1", env) == local_rows(folder)


def test_push_without_token_fails(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(hub.url, hf_home, token=None)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 2
    assert "no Hugging Face token found" in result.stderr
    assert hub.repos == {}


def test_push_reads_login_file(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    (hf_home / "token").write_text(TOKEN)
    env = lrsgro_env(hub.url, hf_home, token=None)

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 0, result.stderr
    assert "README.md" in hub.files("org/lrsgro-test")
    assert TOKEN not in result.stdout + result.stderr


def test_push_with_wrong_token_fails(tmp_path: Path, hub: HubStub, hf_home: Path) -> None:
    folder = make_dataset(tmp_path / "ds")
    env = lrsgro_env(hub.url, hf_home, token="hf_wrong_token_77")

    result = run_push([str(folder), "--repo-id", "org/lrsgro-test"], env)

    assert result.returncode == 2
    assert "can write to this repository" in result.stderr
    assert "hf_wrong_token_77" not in result.stdout + result.stderr
