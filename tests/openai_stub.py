"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests of real openai clients.

It speaks the chat completions protocol over loopback (``GET /v1/models``,
``POST /v1/chat/completions``) and replies to each request with the next scripted
:class:`Reply`: a text, an HTTP error status, a delay, or a dropped connection. Every request
is recorded with its headers, JSON body, text and decoded images.

    with ScriptedOpenAIServer([Reply(status=429), Reply(text='{"questions": []}')]) as server:
        client = openai.OpenAI(base_url=server.url, api_key="EMPTY")

A script is either a sequence, used in request order with its last reply repeated forever,
or a function from the recorded request to its reply, for concurrent clients whose request
order is not fixed (see :func:`by_marker`).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODEL = "stub-vlm"


@dataclass(frozen=True)
class Reply:
    """What the server does with one request.

    Attributes:
        text: the assistant message content of a 200 reply.
        status: the HTTP status; anything but 200 sends an OpenAI-style error body.
        delay_s: seconds to wait before replying (or before dropping the connection).
        drop: close the connection without any reply.
        error: the error message of a non-200 reply.
        headers: extra response headers, e.g. ``{"Retry-After": "0"}``.
        prompt_tokens, completion_tokens: the usage reported; None leaves ``usage`` out.
    """

    text: str = ""
    status: int = 200
    delay_s: float = 0.0
    drop: bool = False
    error: str = "scripted error"
    headers: Mapping[str, str] = field(default_factory=dict)
    prompt_tokens: int | None = 100
    completion_tokens: int | None = 20


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received.

    Attributes:
        method, path: the HTTP method and path.
        headers: the request headers (lower-case names).
        body: the parsed JSON body, or None.
        text: every text part of every message, joined by newlines.
        images: the bytes of every ``data:`` image URL, in message order.
        received_at: ``time.monotonic()`` when the request arrived.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    text: str
    images: list[bytes]
    received_at: float


Script = Sequence[Reply] | Callable[[RecordedRequest], Reply]


class ScriptedOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 with an OS-chosen port.

    Args:
        script: the replies to send, see the module docstring.
        models: model ids listed by ``GET /v1/models``.
    """

    def __init__(self, script: Script, *, models: Sequence[str] = (DEFAULT_MODEL,)) -> None:
        if not callable(script) and not script:
            raise ValueError("the script needs at least one reply")
        self._script = script
        self.models = tuple(models)
        self._lock = threading.Lock()
        self._next = 0
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ScriptedOpenAIServer:
        """Bind to 127.0.0.1 on a free port and serve in a background thread."""
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._http.daemon_threads = True
        # A short poll interval makes stop() return quickly; the default is 0.5 s.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="openai-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still waiting on a delay give up at once."""
        self._stopping.set()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._thread is not None:
            self._thread.join()
        self._http = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._http is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to give an openai client, ending in ``/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the chat completion requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def _record_and_choose(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            if callable(self._script):
                script_function = self._script
            else:
                index = min(self._next, len(self._script) - 1)
                self._next += 1
                return self._script[index]
        return script_function(request)


ReplyOrFunction = Reply | Callable[[RecordedRequest], Reply]


def by_marker(table: Mapping[str, Sequence[ReplyOrFunction]], default: ReplyOrFunction) -> Callable[[RecordedRequest], Reply]:
    """Return a script that picks replies by a marker string in the request text.

    The first key of ``table`` found in the request's text selects its reply list, which is
    used in order with its last entry repeated. A request that matches no key gets
    ``default``. Each entry is a reply or a function from the request to its reply.
    """
    lock = threading.Lock()
    used = {marker: 0 for marker in table}

    def choose(request: RecordedRequest) -> Reply:
        entry = default
        for marker, replies in table.items():
            if marker in request.text:
                with lock:
                    entry = replies[min(used[marker], len(replies) - 1)]
                    used[marker] += 1
                break
        return entry(request) if callable(entry) else entry

    return choose


def _handler_class(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this every keep-alive request stalls about 40 ms (Nagle plus delayed ACK).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                models = [{"id": m, "object": "model", "owned_by": "test", "created": 0} for m in server.models]
                self._send_json(200, {"object": "list", "data": models})
                return
            self._send_json(404, _error_body(f"no route GET {self.path}", 404))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send_json(404, _error_body(f"no route POST {self.path}", 404))
                return

            body = _parse_json(raw)
            request = RecordedRequest(
                method="POST",
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                text=_message_text(body),
                images=_message_images(body),
                received_at=time.monotonic(),
            )
            reply = server._record_and_choose(request)
            if reply.delay_s > 0 and server._stopping.wait(reply.delay_s):
                self.close_connection = True
                return
            if reply.drop:
                self.close_connection = True
                return

            if reply.status != 200:
                self._send_json(reply.status, _error_body(reply.error, reply.status), reply.headers)
                return
            model = body.get("model", DEFAULT_MODEL) if body else DEFAULT_MODEL
            self._send_json(200, _completion_body(model, reply), reply.headers)

        def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first, e.g. after its own timeout.
                self.close_connection = True

    return Handler


def _parse_json(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _parts(body: dict[str, Any] | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for message in (body or {}).get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append({"type": "text", "text": content})
        elif isinstance(content, list):
            parts.extend(p for p in content if isinstance(p, dict))
    return parts


def _message_text(body: dict[str, Any] | None) -> str:
    return "\n".join(p.get("text", "") for p in _parts(body) if p.get("type") == "text")


def _message_images(body: dict[str, Any] | None) -> list[bytes]:
    images = []
    for part in _parts(body):
        if part.get("type") != "image_url":
            continue
        url = (part.get("image_url") or {}).get("url", "")
        if url.startswith("data:") and ";base64," in url:
            images.append(base64.b64decode(url.split(";base64,", 1)[1]))
    return images


def _completion_body(model: str, reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": reply.text},
            }
        ],
    }
    if reply.prompt_tokens is not None or reply.completion_tokens is not None:
        prompt = reply.prompt_tokens or 0
        completion = reply.completion_tokens or 0
        body["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    return body


def _error_body(message: str, status: int) -> dict[str, Any]:
    kind = "invalid_request_error"
    if status == 429:
        kind = "rate_limit_error"
    elif status >= 500:
        kind = "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}
