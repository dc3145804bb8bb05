"""Recorded LLM calls: the eval suite replays them instead of calling a server.

A cassette sits under the `openai` SDK as its httpx transport, so it sees exactly the request the
engine sends. Each response is keyed by a sha256 of the request: method, path and the full JSON
body (model, messages, response format or tools, every parameter), plus the engine's prompt
versions. In replay mode a request with no recording is a miss: the call fails at once with a
message saying how to record, and the run stops with a harness error; nothing reaches the
network. In record mode requests go to the live server and only successful responses are kept.
No request headers are stored, so an API key can never end up in a cassette.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Literal

import httpx2 as httpx

Mode = Literal["replay", "record"]
FORMAT = 1


def request_key(method: str, path: str, body: bytes, prompt_versions: dict[str, str]) -> str:
    """The hash a recording is stored under."""
    try:
        payload: Any = json.loads(body or b"null")
    except json.JSONDecodeError:
        payload = body.decode("utf-8", errors="replace")
    canonical = json.dumps(
        {"method": method, "path": path, "body": payload, "prompt_versions": prompt_versions},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Cassette(httpx.BaseTransport):
    """One case's recorded responses, served (replay) or captured from a live server (record)."""

    def __init__(
        self,
        path: Path,
        mode: Mode,
        prompt_versions: dict[str, str],
        upstream: httpx.BaseTransport | None = None,
    ) -> None:
        self.path = path
        self.mode = mode
        self.prompt_versions = prompt_versions
        self.upstream = upstream
        self.entries: dict[str, dict[str, Any]] = {} if mode == "record" else _read(path)
        self.misses: list[str] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve a recording, or pass the request on and keep a successful response."""
        body = request.read()
        key = request_key(request.method, request.url.path, body, self.prompt_versions)
        if self.mode == "replay":
            with self._lock:
                entry = self.entries.get(key)
                if entry is None:
                    self.misses.append(key)
            if entry is None:
                message = f"no recording for this request ({key[:12]}) in {self.path}"
                # 400 is never retried: the run fails fast and the runner reports the miss.
                return httpx.Response(
                    400, json={"error": {"message": message, "type": "cassette_miss"}}, request=request
                )
            return httpx.Response(
                entry["status"],
                headers={"content-type": entry["content_type"]},
                content=entry["body"].encode("utf-8"),
                request=request,
            )
        if self.upstream is None:
            raise RuntimeError("a recording cassette needs an upstream transport")
        response = self.upstream.handle_request(request)
        content = response.read()
        if response.status_code == 200:  # errors are never recorded
            with self._lock:
                self.entries[key] = {
                    "status": 200,
                    "content_type": response.headers.get("content-type", "application/json"),
                    "body": content.decode("utf-8"),
                }
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    def save(self) -> None:
        """Write the recordings (record mode), sorted so a re-recording diffs cleanly."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"format": FORMAT, "entries": dict(sorted(self.entries.items()))}
        self.path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _read(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        from agent.errors import UsageError

        raise UsageError(f"{path}: unreadable cassette ({exc}); record it again with --record") from None
    entries: dict[str, dict[str, Any]] = document.get("entries", {})
    return entries
