"""A stand-in Hugging Face Hub on 127.0.0.1 for the publishing tests.

It serves the HTTP routes that huggingface_hub 2.4 and datasets 5.2 call to create a dataset
repository, commit files (regular and through the Git LFS batch API), create a branch and
load the repository back: repository info, tree listing, paths-info and file download with
Range requests. Repositories live in memory. Every commit keeps a snapshot of the files, so
a revision may be a branch name or a commit id, as ``load_dataset`` sends after resolving.

Clients must run with ``HF_HUB_DISABLE_XET=1``: the stub speaks LFS, not the Xet protocol.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

DropMode = Literal["before-apply", "after-apply"]

# Paths ending like this are committed as regular git blobs when small; everything else
# goes through LFS, roughly as the Hub's default .gitattributes and 10 MB rule decide.
_REGULAR_SUFFIXES = (".md", ".json", ".jsonl", ".txt", ".yaml", ".yml", ".gitattributes")
_REGULAR_MAX_BYTES = 10 * 1024 * 1024
_DEFAULT_GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n"
_REPO_PART = r"[^/]+/[^/]+"


def git_blob_oid(content: bytes) -> str:
    """Return the git object id of a blob, as the Hub reports it for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    """One file in a snapshot; LFS files report their pointer's oid, as git would."""

    content: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def pointer(self) -> bytes:
        return f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.content)}\n".encode()

    @property
    def oid(self) -> str:
        return git_blob_oid(self.pointer if self.lfs else self.content)

    def entry(self, path: str) -> dict:
        entry: dict = {"type": "file", "path": path, "size": len(self.content), "oid": self.oid}
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, "size": len(self.content), "pointerSize": len(self.pointer)}
        return entry


@dataclass
class CommitRecord:
    """One commit the stub applied."""

    oid: str
    branch: str
    message: str
    added: list[str]
    deleted: list[str]


@dataclass
class StubRepo:
    """A repository: branch heads, a snapshot per commit and the commit log."""

    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    snapshots: dict[str, dict[str, StoredFile]] = field(default_factory=dict)
    commits: list[CommitRecord] = field(default_factory=list)

    def snapshot(self, revision: str) -> tuple[str, dict[str, StoredFile]] | None:
        oid = self.branches.get(revision, revision)
        files = self.snapshots.get(oid)
        return None if files is None else (oid, files)


class HubStub:
    """An in-memory Hub served from a background thread.

    Args:
        token: the token write requests and private reads must carry as ``Bearer``.

    Set :attr:`drop_commits` to a list of modes to make the next commit requests fail: the
    stub reads the request, applies it or not (``after-apply`` / ``before-apply``) and
    closes the socket without sending a response.
    """

    def __init__(self, token: str = "hf_stub_token") -> None:
        self.token = token
        self.repos: dict[tuple[str, str], StubRepo] = {}
        self.blobs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []
        self.drop_commits: list[DropMode] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the Hub stub is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HubStub:
        handler = type("BoundHubHandler", (_HubHandler,), {"stub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="hub-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> HubStub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def repo(self, repo_id: str, repo_type: str = "dataset") -> StubRepo:
        return self.repos[(repo_type, repo_id)]

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "dataset") -> dict[str, bytes]:
        """Return the content of every file of a repository at a branch or commit."""
        found = self.repo(repo_id, repo_type).snapshot(revision)
        if found is None:
            raise KeyError(f"revision {revision!r} not found in {repo_id}")
        return {path: stored.content for path, stored in found[1].items()}

    def create_repo(self, repo_type: str, repo_id: str, private: bool) -> StubRepo:
        repo = StubRepo(repo_type=repo_type, repo_id=repo_id, private=private)
        initial = {".gitattributes": StoredFile(_DEFAULT_GITATTRIBUTES, lfs=False)}
        oid = _commit_oid(repo_id, "initial commit")
        repo.snapshots[oid] = initial
        repo.branches["main"] = oid
        repo.commits.append(CommitRecord(oid, "main", "initial commit", [".gitattributes"], []))
        self.repos[(repo_type, repo_id)] = repo
        return repo


class _HubHandler(BaseHTTPRequestHandler):
    stub: HubStub
    protocol_version = "HTTP/1.1"
    # Without this, keep-alive requests stall on Nagle's algorithm plus delayed ACKs.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    # -- dispatch -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(
            [
                (r"/api/whoami-v2", self._whoami),
                (rf"/api/(model|dataset|space)s/({_REPO_PART})(?:/revision/([^/]+))?/?", self._repo_info),
                (rf"/api/(model|dataset|space)s/({_REPO_PART})/tree/([^/]+)(?:/(.*))?", self._tree),
                (rf"/(?:(dataset|space)s/)?({_REPO_PART})/resolve/([^/]+)/(.+)", self._resolve),
            ]
        )

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        self._dispatch(
            [
                (r"/api/repos/create", self._create_repo),
                (r"/api/validate-yaml", self._validate_yaml),
                (rf"/api/(model|dataset|space)s/({_REPO_PART})/preupload/([^/]+)", self._preupload),
                (rf"/api/(model|dataset|space)s/({_REPO_PART})/paths-info/([^/]+)", self._paths_info),
                (rf"/api/(model|dataset|space)s/({_REPO_PART})/commit/([^/]+)", self._commit),
                (rf"/api/(model|dataset|space)s/({_REPO_PART})/branch/([^/]+)", self._create_branch),
                (rf"/(?:(dataset|space)s/)?({_REPO_PART})\.git/info/lfs/objects/batch", self._lfs_batch),
            ]
        )

    def do_PUT(self) -> None:
        self._dispatch([(r"/lfs-upload/([0-9a-f]{64})", self._lfs_upload)])

    def _dispatch(self, routes: list[tuple[str, object]]) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(parsed.query)
        self.body = self._read_body()
        with self.stub.lock:
            self.stub.requests.append((self.command, parsed.path))

        for pattern, handler in routes:
            match = re.fullmatch(pattern, parsed.path)
            if match:
                groups = [urllib.parse.unquote(g) if g is not None else None for g in match.groups()]
                handler(*groups)
                return
        self._send_json(404, {"error": f"Hub stub has no route for {self.command} {parsed.path}"})

    # -- read routes ----------------------------------------------------------------------

    def _whoami(self) -> None:
        if not self._authorized():
            return self._send_json(401, {"error": "Invalid credentials in Authorization header"})
        self._send_json(200, {"type": "user", "name": "tester", "orgs": [], "auth": {"type": "access_token"}})

    def _repo_info(self, kind: str, repo_id: str, revision: str | None) -> None:
        repo = self._readable_repo(kind, repo_id)
        if repo is None:
            return
        found = repo.snapshot(revision or "main")
        if found is None:
            return self._send_not_found("RevisionNotFound", f"Invalid rev id: {revision}")

        oid, files = found
        self._send_json(
            200,
            {
                "id": repo_id,
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "author": repo_id.split("/")[0],
                "sha": oid,
                "private": repo.private,
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "createdAt": "2026-01-01T00:00:00.000Z",
                "lastModified": "2026-01-01T00:00:00.000Z",
                "siblings": [{"rfilename": path} for path in sorted(files)],
            },
        )

    def _tree(self, kind: str, repo_id: str, revision: str, folder: str | None) -> None:
        repo = self._readable_repo(kind, repo_id)
        if repo is None:
            return
        found = repo.snapshot(revision)
        if found is None:
            return self._send_not_found("RevisionNotFound", f"Invalid rev id: {revision}")

        folder = (folder or "").strip("/")
        files = found[1]
        if folder and not any(path.startswith(folder + "/") for path in files):
            # datasets globs data files through this route and needs exactly this error.
            return self._send_not_found("EntryNotFound", f"{folder} does not exist on {revision}")
        recursive = self.query.get("recursive", ["false"])[0].lower() in ("1", "true")
        self._send_json(200, _tree_entries(files, folder, recursive))

    def _paths_info(self, kind: str, repo_id: str, revision: str) -> None:
        repo = self._readable_repo(kind, repo_id)
        if repo is None:
            return
        found = repo.snapshot(revision)
        if found is None:
            return self._send_not_found("RevisionNotFound", f"Invalid rev id: {revision}")

        if self.body.startswith(b"{"):
            paths = json.loads(self.body).get("paths", [])
        else:
            paths = urllib.parse.parse_qs(self.body.decode()).get("paths", [])
        files = found[1]
        entries = []
        for path in (p.strip("/") for p in paths):
            if path in files:
                entries.append(files[path].entry(path))
            elif path == "" or any(name.startswith(path + "/") for name in files):
                entries.append({"type": "directory", "path": path, "oid": git_blob_oid(path.encode())})
        self._send_json(200, entries)

    def _resolve(self, kind: str | None, repo_id: str, revision: str, path: str) -> None:
        repo = self._readable_repo(kind or "model", repo_id)
        if repo is None:
            return
        found = repo.snapshot(revision)
        if found is None:
            return self._send_not_found("RevisionNotFound", f"Invalid rev id: {revision}")

        oid, files = found
        stored = files.get(path)
        if stored is None:
            return self._send_not_found("EntryNotFound", f"{path} does not exist on {revision}")

        etag = stored.sha256 if stored.lfs else stored.oid
        headers = {"X-Repo-Commit": oid, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
        content = stored.content
        byte_range = self.headers.get("Range")
        if byte_range and self.command == "GET":
            start_text, _, end_text = byte_range.removeprefix("bytes=").partition("-")
            start = int(start_text)
            end = min(int(end_text) if end_text else len(content) - 1, len(content) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(content)}"
            return self._send(206, content[start : end + 1], "application/octet-stream", headers)
        self._send(200, content, "application/octet-stream", headers)

    # -- write routes ---------------------------------------------------------------------

    def _create_repo(self) -> None:
        if not self._authorized():
            return self._send_json(401, {"error": "Invalid credentials in Authorization header"})

        request = json.loads(self.body or b"{}")
        repo_type = request.get("type") or "model"
        name = request["name"]
        repo_id = f"{request['organization']}/{name}" if request.get("organization") else name
        if "/" not in repo_id:
            repo_id = f"tester/{repo_id}"
        with self.stub.lock:
            if (repo_type, repo_id) in self.stub.repos:
                return self._send_json(409, {"error": "You already created this repo", "url": self._repo_url(repo_type, repo_id)})
            self.stub.create_repo(repo_type, repo_id, private=request.get("visibility") == "private")
        self._send_json(200, {"url": self._repo_url(repo_type, repo_id), "name": repo_id})

    def _validate_yaml(self) -> None:
        self._send_json(200, {"errors": [], "warnings": []})

    def _create_branch(self, kind: str, repo_id: str, branch: str) -> None:
        repo = self._writable_repo(kind, repo_id)
        if repo is None:
            return
        start = json.loads(self.body or b"{}").get("startingPoint") or "main"
        with self.stub.lock:
            if branch in repo.branches:
                return self._send_json(409, {"error": f"Reference refs/heads/{branch} already exists"})
            found = repo.snapshot(start)
            if found is None:
                return self._send_not_found("RevisionNotFound", f"Invalid rev id: {start}")
            repo.branches[branch] = found[0]
        self._send_json(200, {})

    def _preupload(self, kind: str, repo_id: str, revision: str) -> None:
        repo = self._writable_repo(kind, repo_id)
        if repo is None:
            return
        found = repo.snapshot(revision)
        files = found[1] if found else {}

        answers = []
        for item in json.loads(self.body)["files"]:
            path, size = item["path"], item["size"]
            regular = path.endswith(_REGULAR_SUFFIXES) and size <= _REGULAR_MAX_BYTES
            answer = {"path": path, "uploadMode": "regular" if regular else "lfs", "shouldIgnore": False}
            stored = files.get(path)
            if stored is not None:
                # The remote oid lets the client skip files that did not change.
                answer["oid"] = stored.sha256 if stored.lfs else stored.oid
            answers.append(answer)
        self._send_json(200, {"files": answers})

    def _lfs_batch(self, kind: str | None, repo_id: str) -> None:
        repo = self._writable_repo(kind or "model", repo_id)
        if repo is None:
            return
        host = self.headers["Host"]
        objects = []
        for item in json.loads(self.body)["objects"]:
            answer = {"oid": item["oid"], "size": item["size"], "authenticated": True}
            with self.stub.lock:
                known = item["oid"] in self.stub.blobs
            if not known:
                answer["actions"] = {"upload": {"href": f"http://{host}/lfs-upload/{item['oid']}"}}
            objects.append(answer)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects}).encode(), "application/vnd.git-lfs+json")

    def _lfs_upload(self, oid: str) -> None:
        if hashlib.sha256(self.body).hexdigest() != oid:
            return self._send_json(400, {"error": "sha256 of the body does not match the object id"})
        with self.stub.lock:
            self.stub.blobs[oid] = self.body
        self._send(200, b"", "text/plain")

    def _commit(self, kind: str, repo_id: str, revision: str) -> None:
        repo = self._writable_repo(kind, repo_id)
        if repo is None:
            return

        lines = [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        with self.stub.lock:
            drop = self.stub.drop_commits.pop(0) if self.stub.drop_commits else None
            if drop == "before-apply":
                return self._drop_connection()

            if revision not in repo.branches:
                return self._send_not_found("RevisionNotFound", f"Invalid rev id: {revision}")
            head = repo.branches[revision]
            parent = header.get("parentCommit")
            if parent and parent != head:
                return self._send_json(412, {"error": f"A commit has happened since {parent}. Please refresh and try again."})

            files = dict(repo.snapshots[head])
            added, deleted = [], []
            for line in lines:
                value = line["value"]
                if line["key"] == "file":
                    content = value["content"]
                    data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                    files[value["path"]] = StoredFile(data, lfs=False)
                    added.append(value["path"])
                elif line["key"] == "lfsFile":
                    if value["oid"] not in self.stub.blobs:
                        return self._send_json(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                    files[value["path"]] = StoredFile(self.stub.blobs[value["oid"]], lfs=True)
                    added.append(value["path"])
                elif line["key"] == "deletedFile":
                    if files.pop(value["path"], None) is None:
                        return self._send_not_found("EntryNotFound", f"A file with this name doesn't exist: {value['path']}")
                    deleted.append(value["path"])
                elif line["key"] == "deletedFolder":
                    prefix = value["path"].rstrip("/") + "/"
                    for path in [p for p in files if p.startswith(prefix)]:
                        del files[path]
                        deleted.append(path)

            oid = _commit_oid(head, self.body)
            repo.snapshots[oid] = files
            repo.branches[revision] = oid
            repo.commits.append(CommitRecord(oid, revision, header.get("summary", ""), added, deleted))

        if drop == "after-apply":
            return self._drop_connection()
        self._send_json(
            200,
            {"commitUrl": f"{self._repo_url(kind, repo_id)}/commit/{oid}", "commitOid": oid, "pullRequestUrl": None},
        )

    # -- helpers --------------------------------------------------------------------------

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.stub.token}"

    def _readable_repo(self, kind: str, repo_id: str) -> StubRepo | None:
        repo = self.stub.repos.get((kind, repo_id))
        # Like the Hub, a private repository is reported missing to anyone without the token.
        if repo is None or (repo.private and not self._authorized()):
            self._send_not_found("RepoNotFound", "Repository not found")
            return None
        return repo

    def _writable_repo(self, kind: str, repo_id: str) -> StubRepo | None:
        if not self._authorized():
            self._send_json(401, {"error": "Invalid credentials in Authorization header"})
            return None
        return self._readable_repo(kind, repo_id)

    def _repo_url(self, kind: str, repo_id: str) -> str:
        prefix = "" if kind == "model" else f"{kind}s/"
        return f"http://{self.headers['Host']}/{prefix}{repo_id}"

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _drop_connection(self) -> None:
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _send_not_found(self, code: str, message: str) -> None:
        self._send_json(404, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def _send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _tree_entries(files: dict[str, StoredFile], folder: str, recursive: bool) -> list[dict]:
    prefix = f"{folder}/" if folder else ""
    folders: set[str] = set()
    entries: list[dict] = []
    for path in sorted(files):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        if len(parts) > 1 and not recursive:
            folders.add(prefix + parts[0])
            continue
        for depth in range(1, len(parts)):
            folders.add(prefix + "/".join(parts[:depth]))
        entries.append(files[path].entry(path))

    directories = [{"type": "directory", "path": name, "oid": git_blob_oid(name.encode())} for name in sorted(folders)]
    return directories + entries


def _commit_oid(*parts: str | bytes) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()
