"""The scripted OpenAI-compatible server itself, driven by the real openai client."""

from __future__ import annotations

import base64

import openai
import pytest

from tests.openai_stub import Reply, ScriptedOpenAIServer, by_marker

pytestmark = pytest.mark.server


def client_for(server: ScriptedOpenAIServer, **options) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="EMPTY", max_retries=0, **options)


def ask(client: openai.OpenAI, text: str, image: bytes | None = None):
    content: list[dict] = [{"type": "text", "text": text}]
    if image is not None:
        url = "data:image/jpeg;base64," + base64.b64encode(image).decode()
        content.insert(0, {"type": "image_url", "image_url": {"url": url}})
    return client.chat.completions.create(model="stub-vlm", messages=[{"role": "user", "content": content}])


def test_sequence_script_repeats_last_reply() -> None:
    with ScriptedOpenAIServer([Reply(text="first"), Reply(text="second")]) as server:
        client = client_for(server)
        answers = [ask(client, f"q{i}").choices[0].message.content for i in range(4)]
        recorded = server.requests

    assert answers == ["first", "second", "second", "second"]
    assert [r.text for r in recorded] == ["q0", "q1", "q2", "q3"]


def test_requests_record_images_headers_and_usage() -> None:
    with ScriptedOpenAIServer([Reply(text="ok", prompt_tokens=321, completion_tokens=9)]) as server:
        response = ask(client_for(server), "what is this?", image=b"\xff\xd8fake-jpeg")
        (request,) = server.requests

    assert request.images == [b"\xff\xd8fake-jpeg"]
    assert request.headers["authorization"] == "Bearer EMPTY"
    assert request.body["model"] == "stub-vlm"
    assert response.usage.prompt_tokens == 321
    assert response.usage.completion_tokens == 9


def test_reply_without_usage() -> None:
    with ScriptedOpenAIServer([Reply(text="ok", prompt_tokens=None, completion_tokens=None)]) as server:
        response = ask(client_for(server), "hello")

    assert response.usage is None


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(status=429, error="slow down"), openai.RateLimitError),
        (Reply(status=500), openai.InternalServerError),
        (Reply(status=401), openai.AuthenticationError),
        (Reply(drop=True), openai.APIConnectionError),
    ],
)
def test_scripted_failures_reach_client_as_errors(reply: Reply, error: type[Exception]) -> None:
    with ScriptedOpenAIServer([reply]) as server:
        with pytest.raises(error):
            ask(client_for(server), "hello")


def test_delay_longer_than_timeout_times_out() -> None:
    with ScriptedOpenAIServer([Reply(text="late", delay_s=30)]) as server:
        with pytest.raises(openai.APITimeoutError):
            ask(client_for(server, timeout=0.5), "hello")


def test_by_marker_keeps_a_queue_per_marker() -> None:
    script = by_marker({"alpha": [Reply(text="a1"), Reply(text="a2")]}, default=lambda r: Reply(text=r.text.upper()))
    with ScriptedOpenAIServer(script) as server:
        client = client_for(server)
        answers = [ask(client, text).choices[0].message.content for text in ("alpha", "beta", "alpha", "alpha")]

    assert answers == ["a1", "BETA", "a2", "a2"]


def test_models_endpoint_lists_models() -> None:
    with ScriptedOpenAIServer([Reply(text="x")], models=("m1", "m2")) as server:
        ids = [m.id for m in client_for(server).models.list()]

    assert ids == ["m1", "m2"]
