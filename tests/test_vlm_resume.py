"""A drafting run killed with SIGKILL mid-run resumes from the cache: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lrsgro.vlm import VlmConfig, draft_questions
from lrsgro.vlm.cache import ResponseCache
from tests.openai_stub import Reply, ScriptedOpenAIServer
from tests.vlm_support import object_target, reply_text_for, write_geotiff

pytestmark = [pytest.mark.server, pytest.mark.slow]

WIDTH, HEIGHT = 2000, 1500
TARGETS = 10
KILL_AFTER = 3

# The child drafts the same targets as the parent and prints one line per finished target.
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from lrsgro.vlm import VlmConfig, draft_questions
    from tests.vlm_support import object_target

    endpoint, image, cache = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    targets = [object_target(image, i, {width}, {height}) for i in range({count})]
    config = VlmConfig(endpoint=endpoint, model="stub-vlm", cache_dir=cache, concurrency=2)

    def show(event):
        print(event.outcome, event.target_id, flush=True)

    draft_questions(targets, config, on_progress=show)
    print("finished", flush=True)
    """
).format(width=WIDTH, height=HEIGHT, count=TARGETS)


def settled_request_count(server: ScriptedOpenAIServer) -> int:
    """Return the request count once it stops changing, so that a request the child sent just
    before it died is counted as the child's even if the server records it late."""
    count = len(server.requests)
    stable = 0
    # Three quiet half-seconds in a row: on a loaded machine the server thread can record a
    # request from the dead child well after the kill.
    while stable < 3:
        time.sleep(0.5)
        now = len(server.requests)
        stable = stable + 1 if now == count else 0
        count = now
    return count


def slow_reply(request) -> Reply:
    return Reply(text=reply_text_for(request), delay_s=0.3)


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    image = write_geotiff(tmp_path / "harbour.tif", WIDTH, HEIGHT, seed=3)
    cache = tmp_path / "cache"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    repo_root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": str(repo_root)}
    environment.pop("OPENAI_API_KEY", None)

    with ScriptedOpenAIServer(slow_reply) as server:
        child = subprocess.Popen(
            [sys.executable, str(script), server.url, str(image), str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=repo_root,
        )
        finished_before_kill = []
        try:
            for line in child.stdout:
                finished_before_kill.append(line.split())
                if len(finished_before_kill) == KILL_AFTER:
                    break
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=60)
            child.stdout.close()
            stderr = child.stderr.read()
            child.stderr.close()
        sent_by_child = settled_request_count(server)

        cached_after_kill = ResponseCache(cache).entries()
        targets = [object_target(image, i, WIDTH, HEIGHT) for i in range(TARGETS)]
        config = VlmConfig(endpoint=server.url, model="stub-vlm", cache_dir=cache, concurrency=2)
        resumed = draft_questions(targets, config)
        sent_total = len(server.requests)

    assert child.returncode == -signal.SIGKILL, stderr
    assert [event[0] for event in finished_before_kill] == ["drafted"] * KILL_AFTER
    assert KILL_AFTER <= len(cached_after_kill) < TARGETS
    assert sent_by_child < TARGETS

    report = resumed.report
    assert report.cache_hits == len(cached_after_kill)
    assert report.requests == TARGETS - len(cached_after_kill)
    assert sent_total - sent_by_child == report.requests
    assert report.failed == []
    assert report.skipped == []

    # Every target drafted exactly once: one cache entry and two questions per target.
    entries = ResponseCache(cache).entries()
    assert len(entries) == TARGETS
    hashes = [json.loads(p.read_text())["request_hash"] for p in entries]
    assert len(set(hashes)) == TARGETS
    assert sorted(resumed.per_target) == sorted(t.target_id for t in targets)
    assert all(len(qids) == 2 for qids in resumed.per_target.values())
    qids = [q.qid for q in resumed.questions]
    assert len(qids) == len(set(qids)) == 2 * TARGETS
