"""Upload a planned push to a Hugging Face Hub dataset repository.

One push is one commit. Before committing, the repository's file tree is compared with the
plan: files whose content is already there are left out, and files under ``data/`` or
``images/`` that the plan does not contain are deleted. Running the same push again after a
failure therefore finishes it without duplicates, and a push with nothing new makes no commit.

The token comes from ``HF_TOKEN`` or the login file that ``hf auth login`` writes, through
huggingface_hub itself; lrsgro never reads, stores or prints it.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lrsgro import __version__
from lrsgro.errors import InputError, ServiceError
from lrsgro.publish.plan import MANAGED_PREFIXES, PlannedFile, PushPlan

if TYPE_CHECKING:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.hf_api import RepoFile

logger = logging.getLogger(__name__)

REPO_TYPE = "dataset"
DEFAULT_REVISION = "main"
# The Hub's rule for a namespaced repository id: letters, digits, "-", "_" and ".", at
# most 96 characters per part, not starting or ending with "-" or ".".
_REPO_ID_PATTERN = re.compile(r"^(?![-.])[\w.-]{1,96}(?<![-.])/(?![-.])[\w.-]{1,96}(?<![-.])$", re.ASCII)


@dataclass(frozen=True)
class PushResult:
    """The changes one push made to a repository; ``commit`` is None when nothing changed."""

    repo_id: str
    revision: str
    url: str
    commit: str | None
    uploaded: tuple[str, ...]
    unchanged: tuple[str, ...]
    deleted: tuple[str, ...]
    uploaded_bytes: int

    @property
    def changed(self) -> bool:
        return self.commit is not None


def check_repo_id(repo_id: str) -> None:
    """Raise InputError unless ``repo_id`` has the form ORG/NAME that the Hub accepts."""
    if not _REPO_ID_PATTERN.match(repo_id) or ".." in repo_id or "--" in repo_id:
        raise InputError(
            f"invalid Hub repository id {repo_id!r}",
            fix="use ORG/NAME with letters, digits, '-', '_' or '.', for example my-org/lrsgro-dota",
        )


def push_dataset(
    plan: PushPlan,
    repo_id: str,
    *,
    revision: str = DEFAULT_REVISION,
    private: bool = False,
    endpoint: str | None = None,
) -> PushResult:
    """Create the dataset repository if needed and commit the plan's files to ``revision``.

    A missing branch is created from the default branch. ``private`` applies only when the
    repository is created; an existing repository keeps its visibility.

    Raises:
        InputError: ``repo_id`` is invalid or no Hub token is configured.
        ServiceError: the Hub rejected a request or the connection failed. Nothing already
            uploaded is lost, so running the same push again finishes it.
    """
    check_repo_id(repo_id)
    from huggingface_hub import HfApi, get_token

    if get_token() is None:
        raise InputError(
            "no Hugging Face token found",
            fix="set HF_TOKEN or run `hf auth login` with a token that can write to "
            f"{repo_id.split('/')[0]!r}",
        )

    api = HfApi(endpoint=endpoint)
    try:
        return _push(api, plan, repo_id, revision=revision, private=private)
    except _network_errors() as error:
        raise ServiceError(_failure_message(repo_id, revision, error)) from error


def _push(api: HfApi, plan: PushPlan, repo_id: str, *, revision: str, private: bool) -> PushResult:
    from huggingface_hub import CommitOperationDelete

    repo_url = api.create_repo(repo_id, repo_type=REPO_TYPE, private=private or None, exist_ok=True)
    if revision != DEFAULT_REVISION:
        api.create_branch(repo_id, repo_type=REPO_TYPE, branch=revision, exist_ok=True)

    head = api.repo_info(repo_id, repo_type=REPO_TYPE, revision=revision).sha
    remote = _remote_files(api, repo_id, revision)
    logger.info("%s@%s has %d files at commit %s", repo_id, revision, len(remote), head)

    changed: list[CommitOperationAdd] = []
    unchanged: list[str] = []
    for planned in plan.files:
        addition = _addition(planned)
        if _is_unchanged(addition, remote.get(planned.path_in_repo)):
            unchanged.append(planned.path_in_repo)
        else:
            changed.append(addition)
    planned_paths = {planned.path_in_repo for planned in plan.files}
    stale = sorted(path for path in remote if path.startswith(MANAGED_PREFIXES) and path not in planned_paths)

    result = PushResult(
        repo_id=repo_id,
        revision=revision,
        url=str(repo_url),
        commit=None,
        uploaded=tuple(op.path_in_repo for op in changed),
        unchanged=tuple(unchanged),
        deleted=tuple(stale),
        uploaded_bytes=sum(op.upload_info.size for op in changed),
    )
    if not changed and not stale:
        logger.info("%s@%s already contains every file of the push; no commit made", repo_id, revision)
        return result

    operations = [*changed, *(CommitOperationDelete(path_in_repo=path) for path in stale)]
    message = f"Upload {plan.questions} questions with lrsgro {__version__}"
    notes = []
    if plan.candidates:
        notes.append(f"{plan.candidates} not reviewed")
    if plan.rejected_excluded:
        notes.append(f"{plan.rejected_excluded} rejected left out")
    if notes:
        message += f" ({', '.join(notes)})"

    # parent_commit makes the Hub reject the commit when someone else pushed after the tree
    # was read, instead of silently mixing two versions of the dataset.
    info = api.create_commit(
        repo_id,
        operations=operations,
        commit_message=message,
        repo_type=REPO_TYPE,
        revision=revision,
        parent_commit=head,
    )
    logger.info("committed %d files and %d deletions to %s@%s as %s", len(changed), len(stale), repo_id, revision, info.oid)
    return dataclasses.replace(result, commit=info.oid)


def _remote_files(api: HfApi, repo_id: str, revision: str) -> dict[str, RepoFile]:
    from huggingface_hub.hf_api import RepoFile

    tree = api.list_repo_tree(repo_id, repo_type=REPO_TYPE, revision=revision, recursive=True)
    return {entry.path: entry for entry in tree if isinstance(entry, RepoFile)}


def _addition(planned: PlannedFile) -> CommitOperationAdd:
    from huggingface_hub import CommitOperationAdd

    source = planned.content if planned.content is not None else str(planned.local_path)
    return CommitOperationAdd(path_in_repo=planned.path_in_repo, path_or_fileobj=source)


def _is_unchanged(addition: CommitOperationAdd, remote: RepoFile | None) -> bool:
    """Compare a local file with the repository's copy by content hash, never by name."""
    from huggingface_hub.utils.sha import git_hash

    if remote is None or remote.size != addition.upload_info.size:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == addition.upload_info.sha256.hex()

    # A regular (non-LFS) file is small on the Hub, so reading it whole is fine.
    with addition.as_file() as handle:
        return git_hash(handle.read()) == remote.blob_id


def _network_errors() -> tuple[type[BaseException], ...]:
    from huggingface_hub.errors import HfHubHTTPError

    errors: list[type[BaseException]] = [HfHubHTTPError]
    # huggingface_hub 2.x sends requests with httpx2, 1.x with httpx; transport failures
    # (refused or dropped connections, timeouts) surface as that library's HTTPError.
    for module_name in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module_name).HTTPError)
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def _failure_message(repo_id: str, revision: str, error: BaseException) -> str:
    text = f"push to {repo_id}@{revision} failed: {type(error).__name__}: {error}"
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status in (401, 403):
        return text + " (check that the token in HF_TOKEN or the login file can write to this repository)"
    if status == 412:
        return text + " (the branch changed while pushing; run the push again to commit on top of it)"
    return text + " (run the same push again: files already on the Hub are not uploaded twice)"
