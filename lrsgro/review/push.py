"""Send candidate questions to Label Studio: one task per question, the proposal as a prediction.

Pushing is safe to repeat: the project's tasks are listed first and a question whose qid is
already there gets no second task. A push that stops half-way leaves the imported tasks in
place, and the next push adds only the rest.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from lrsgro.dataset import read_questions
from lrsgro.errors import ImageError, InputError
from lrsgro.records import Question
from lrsgro.resources import annotation_path
from lrsgro.review.apply import apply_verdicts
from lrsgro.review.client import LabelStudioClient
from lrsgro.review.filters import select_questions
from lrsgro.review.previews import RenderSettings, render_image_questions
from lrsgro.review.tasks import TaskData, build_task
from lrsgro.review.verdicts import ParsedExport, TaskReviews

logger = logging.getLogger(__name__)

LABEL_CONFIG = ("label_studio", "review.xml")
IMPORT_BATCH = 100
STORAGE_TITLE = "lrsgro review images"
LOCAL_FILES_URL = "/data/local-files/?d="


@dataclass(frozen=True)
class ImageServing:
    """Serving settings of the review images: their folder and how Label Studio reaches them.

    Either ``local_files_root`` is the server's ``LOCAL_FILES_DOCUMENT_ROOT`` and
    ``images_dir`` lies under it (Label Studio serves the files itself), or
    ``images_url_root`` is a URL that serves ``images_dir``.
    """

    images_dir: Path
    local_files_root: Path | None = None
    images_url_root: str | None = None

    def check(self) -> None:
        """Raise InputError when the two modes are mixed or the folder lies outside the root."""
        if (self.local_files_root is None) == (self.images_url_root is None):
            raise InputError(
                "review images need exactly one way to be served",
                fix="give --images-url-root, or --local-files-root (the server's LOCAL_FILES_DOCUMENT_ROOT)",
            )
        if self.local_files_root is not None:
            root = self.local_files_root.resolve()
            images = self.images_dir.resolve()
            if images == root or root not in images.parents:
                raise InputError(
                    f"review image folder {images} is not inside the local-files root {root}",
                    fix="pass --images-dir inside LOCAL_FILES_DOCUMENT_ROOT, or serve the images and give --images-url-root",
                )

    def url_for(self, path: Path) -> str:
        """Return the URL Label Studio loads ``path`` from."""
        if self.images_url_root is not None:
            relative = path.resolve().relative_to(self.images_dir.resolve()).as_posix()
            return self.images_url_root.rstrip("/") + "/" + urllib.parse.quote(relative)
        relative = path.resolve().relative_to(self.local_files_root.resolve()).as_posix()
        return LOCAL_FILES_URL + urllib.parse.quote(relative, safe="/")


class PushReport(BaseModel):
    """Summary of one push: the project and the tasks created or found."""

    project_id: int
    project_title: str
    project_url: str
    project_created: bool
    selected: int = Field(description="questions that matched the filters")
    created: int = Field(description="tasks imported by this push")
    already_present: int = Field(description="selected questions that already had a task")
    changed_since_push: list[str] = Field(
        default_factory=list, description="qids whose answer or ROI changed after their task was made"
    )
    duplicate_tasks: list[str] = Field(default_factory=list, description="qids with more than one task in the project")
    task_ids: dict[str, int] = Field(default_factory=dict, description="task id per selected qid")


def push_questions(
    dataset: Path,
    client: LabelStudioClient,
    *,
    project_title: str,
    filters: dict[str, frozenset[str]],
    serving: ImageServing,
    settings: RenderSettings = RenderSettings(),
    reviews_per_task: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> PushReport:
    """Create one review task per selected question that has none yet.

    ``progress`` is called after each image with the number of questions just rendered and
    the number of new questions in all.

    Raises:
        InputError: bad dataset, filters or image serving settings, or a missing project.
        ImageError: an image of the dataset is missing or unreadable.
        ServiceError: Label Studio failed or rejected the API key.
    """
    serving.check()
    dataset = Path(dataset)
    questions = select_questions(read_questions(dataset), filters)
    images_by_path = _group_by_image(dataset, questions)  # fails on a missing image before any request
    client.whoami()

    project, created_project = _ensure_project(client, project_title, reviews_per_task)
    project_id = int(project["id"])
    if serving.local_files_root is not None:
        _ensure_storage(client, project_id, serving.images_dir)

    existing = _tasks_by_qid(client.list_tasks(project_id))
    task_ids = {qid: ids[0] for qid, (ids, _) in existing.items()}
    duplicates = sorted(qid for qid, (ids, _) in existing.items() if len(ids) > 1)
    changed = sorted(
        q.qid for q in questions if q.qid in existing and _changed_since_push(q, project_id, *existing[q.qid])
    )
    new = [q for q in questions if q.qid not in existing]
    new_qids = {q.qid for q in new}
    logger.info(
        "project %d: %d selected, %d already there, %d to create",
        project_id,
        len(questions),
        len(questions) - len(new),
        len(new),
    )

    created = 0
    for image, members in images_by_path:
        image_questions = [q for q in members if q.qid in new_qids]
        if not image_questions:
            continue
        rendered = render_image_questions(image, image_questions, serving.images_dir, settings)
        tasks = []
        for question in image_questions:
            images = rendered[question.qid]
            tasks.append(
                build_task(
                    question,
                    images.frame,
                    serving.url_for(images.preview),
                    serving.url_for(images.crop),
                    images.crop_window,
                )
            )
        if progress is not None:
            progress(len(image_questions), len(new))

        for start in range(0, len(tasks), IMPORT_BATCH):
            batch = tasks[start : start + IMPORT_BATCH]
            ids = client.import_tasks(project_id, batch)
            for task, task_id in zip(batch, ids, strict=False):
                task_ids[task["data"]["qid"]] = task_id
            created += len(batch)

    return PushReport(
        project_id=project_id,
        project_title=project["title"],
        project_url=f"{client.url}/projects/{project_id}",
        project_created=created_project,
        selected=len(questions),
        created=created,
        already_present=len(questions) - len(new),
        changed_since_push=changed,
        duplicate_tasks=duplicates,
        task_ids={q.qid: task_ids[q.qid] for q in questions if q.qid in task_ids},
    )


def load_label_config() -> str:
    """Return the labeling config shipped in ``annotation/label_studio/review.xml``."""
    return annotation_path(*LABEL_CONFIG).read_text(encoding="utf-8")


def _ensure_project(client: LabelStudioClient, title: str, reviews_per_task: int) -> tuple[dict[str, Any], bool]:
    if len(title.strip()) < 3:
        raise InputError(f"project title {title!r} is shorter than 3 characters, which Label Studio rejects")
    project = client.find_project(title)
    if project is not None:
        if project.get("label_config", "").strip() != load_label_config().strip():
            logger.warning(
                "project %d has a labeling config that differs from review.xml; kept as it is", project["id"]
            )
        return project, False
    return client.create_project(title, load_label_config(), reviews_per_task), True


def _ensure_storage(client: LabelStudioClient, project_id: int, images_dir: Path) -> None:
    images_dir.mkdir(parents=True, exist_ok=True)
    path = images_dir.resolve()
    for storage in client.local_storages(project_id):
        storage_path = Path(storage.get("path", ""))
        if storage_path == path or storage_path in path.parents:
            return
    client.create_local_storage(project_id, str(path), STORAGE_TITLE)


def _tasks_by_qid(tasks: list[dict[str, Any]]) -> dict[str, tuple[list[int], TaskData]]:
    by_qid: dict[str, tuple[list[int], TaskData]] = {}
    for task in tasks:
        data = task.get("data") or {}
        if "qid" not in data:
            continue
        try:
            parsed = TaskData.model_validate(data)
        except ValidationError:
            logger.warning("task %s has a qid but no lrsgro task data; ignored", task.get("id"))
            continue
        ids, _ = by_qid.setdefault(parsed.qid, ([], parsed))
        ids.append(int(task["id"]))
    return {qid: (sorted(ids), data) for qid, (ids, data) in by_qid.items()}


def _changed_since_push(question: Question, project_id: int, task_ids: list[int], data: TaskData) -> bool:
    # Re-applying the verdicts already pulled from the task must reproduce the question. A
    # question that does not, or an unreviewed one that differs from the proposal, was rebuilt
    # after its task was made.
    reviews = TaskReviews(question.qid, data, list(task_ids))
    if apply_verdicts([question], ParsedExport(project_id, {question.qid: reviews})).changed:
        return True
    reviewed = any(e.project_id == project_id and e.task_id in task_ids for e in question.reviews)
    return not reviewed and not data.proposal_matches(question)


def _group_by_image(dataset: Path, questions: list[Question]) -> list[tuple[Path, list[Question]]]:
    groups: dict[str, list[Question]] = {}
    for question in questions:
        groups.setdefault(question.image, []).append(question)

    root = dataset.resolve()
    result = []
    for relative, members in sorted(groups.items()):
        path = (root / relative).resolve()
        if root not in path.parents:
            raise ImageError(
                f"image path {relative!r} of question {members[0].qid} leaves the dataset folder", path=root
            )
        if not path.is_file():
            raise ImageError(f"image {relative!r} of question {members[0].qid} not found", path=path)
        result.append((path, members))
    return result
