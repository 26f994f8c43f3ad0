"""A loopback HTTP server speaking enough of the Ollama API for the real `ollama` client, scripted per test.

It answers GET /api/tags, POST /api/show (with `model_info` and `capabilities`) and
POST /api/chat (one JSON object when the body says "stream": false, as the client
sends by default; NDJSON lines otherwise). Each chat call takes the next scripted
`Reply` (the last one repeats): a good answer, malformed text, a slow answer, an HTTP
error. A chat or show for a model it does not have gets Ollama's 404. Every request
body is recorded, so a test can read the prompt exactly as the client sent it.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TEXT_MODEL = "llama3.2:latest"
VISION_MODEL = "llava:latest"
STAMP = "2025-01-01T00:00:00Z"


@dataclass
class Reply:
    """One scripted chat answer: the assistant's content, or an HTTP error, after an optional delay."""

    content: str = ""
    status: int = 200
    error: str = ""
    delay: float = 0.0


def answer(verdicts: dict[str, tuple[str, str, float] | dict]) -> Reply:
    """A well-formed answer: {criterion: (verdict, comment, confidence)} in the schema's shape."""
    body = {name: v if isinstance(v, dict) else {"comment": v[1], "verdict": v[0], "confidence": v[2]}
            for name, v in verdicts.items()}
    return Reply(content=json.dumps(body))


def malformed(text: str = 'Sure! Here is my verdict: {"reasoning quality": "pass"') -> Reply:
    return Reply(content=text)


def slow(seconds: float, then: Reply | None = None) -> Reply:
    then = then or Reply(content="{}")
    return Reply(content=then.content, status=then.status, error=then.error, delay=seconds)


def http_error(status: int = 500, message: str = "llama runner process has terminated") -> Reply:
    return Reply(status=status, error=message)


@dataclass
class Received:
    method: str
    path: str
    body: dict[str, Any] = field(default_factory=dict)


def full_name(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


class FakeOllama:
    """Start with `.start()` (or the `fake_ollama` fixture); `.url` is its host; `.script(...)` the chat replies."""

    def __init__(self, models: dict[str, list[str] | None] | None = None):
        # model name -> capabilities (None: an older host that lists none; vision shows in model_info)
        self.models = dict(models if models is not None else {
            TEXT_MODEL: ["completion"], VISION_MODEL: ["completion", "vision"]})
        self.requests: list[Received] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- scripting and inspection ------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> FakeOllama:
        with self._lock:
            self._replies = list(replies)
        return self

    def next_reply(self) -> Reply:
        with self._lock:
            if not self._replies:
                return http_error(500, "the fake has no reply scripted")
            return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    @property
    def chats(self) -> list[dict]:
        """The bodies of every /api/chat request, in order."""
        return [r.body for r in self.received("/api/chat")]

    def has(self, name: str) -> str | None:
        wanted = full_name(name)
        return next((m for m in self.models if full_name(m) == wanted), None)

    # -- life ----------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOllama:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-ollama",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()          # wakes slow replies
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeOllama
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body leave at once, not 40 ms apart

    def log_message(self, *args) -> None:   # quiet test output
        pass

    def do_GET(self) -> None:
        self._record({})
        if self.path == "/api/tags":
            self._json(200, {"models": [_listed(name) for name in self.owner.models]})
        elif self.path == "/api/version":
            self._json(200, {"version": "0.6.0"})
        else:
            self._json(404, {"error": "404 page not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._record({"_raw": raw.decode(errors="replace")})
            return self._json(400, {"error": "invalid JSON body"})
        self._record(body)
        if self.path == "/api/show":
            self._show(body)
        elif self.path == "/api/chat":
            self._chat(body)
        else:
            self._json(404, {"error": "404 page not found"})

    def _show(self, body: dict) -> None:
        name = self.owner.has(body.get("model") or body.get("name") or "")
        if name is None:
            return self._json(404, {"error": f"model '{body.get('model')}' not found"})
        capabilities = self.owner.models[name]
        vision = capabilities is None and "vision" in name or bool(capabilities and "vision" in capabilities)
        info = {"general.architecture": "llama", "general.parameter_count": 3_212_749_888,
                "llama.context_length": 131072}
        if vision:
            info["mllama.vision.block_count"] = 32
        shown = {"modelfile": f"FROM {name}", "parameters": "", "template": "{{ .Prompt }}",
                 "details": _details(vision), "model_info": info, "modified_at": STAMP}
        if capabilities is not None:
            shown["capabilities"] = capabilities
        self._json(200, shown)

    def _chat(self, body: dict) -> None:
        model = body.get("model", "")
        if self.owner.has(model) is None:
            return self._json(404, {"error": f'model "{model}" not found, try pulling it first'})
        reply = self.owner.next_reply()
        if reply.delay and self.owner._stopping.wait(reply.delay):
            return
        if reply.status != 200:
            return self._json(reply.status, {"error": reply.error or "error"})
        message = {"role": "assistant", "content": reply.content}
        done = {"model": model, "created_at": STAMP, "done": True, "done_reason": "stop",
                "total_duration": 1_000_000, "eval_count": 10}
        if body.get("stream", True):   # Ollama streams unless told not to
            lines = [{"model": model, "created_at": STAMP, "message": message, "done": False},
                     {**done, "message": {"role": "assistant", "content": ""}}]
            return self._send(200, b"".join(json.dumps(line).encode() + b"\n" for line in lines),
                              "application/x-ndjson")
        self._json(200, {**done, "message": message})

    def _record(self, body: dict) -> None:
        with self.owner._lock:
            self.owner.requests.append(Received(self.command, self.path, body))

    def _json(self, status: int, body: dict) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, data: bytes, media_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):   # the client gave up (its timeout)
            pass


def _details(vision: bool) -> dict:
    return {"parent_model": "", "format": "gguf", "family": "mllama" if vision else "llama",
            "families": ["mllama"] if vision else ["llama"], "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M"}


def _listed(name: str) -> dict:
    return {"name": name, "model": name, "modified_at": STAMP, "size": 2_019_393_189,
            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
            "details": _details("vision" in (name or ""))}


def refused_url() -> str:
    """A loopback address where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def fake_ollama():
    """A running FakeOllama with a text model (llama3.2) and a vision model (llava); stopped after the test."""
    with FakeOllama() as fake:
        yield fake
