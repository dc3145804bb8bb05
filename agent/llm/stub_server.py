"""A small OpenAI-compatible Chat Completions server on 127.0.0.1, for tests, benchmarks and demos.

It streams (server-sent events over chunked HTTP/1.1), answers structured-output requests in all three
formats (json_schema, json_object with a schema, forced tool call) and can be told to behave like a
difficult server: reject a format as llama.cpp does (HTTP 500) or length keywords as OpenAI's
strict mode does, answer 429/5xx, stall, drop the connection mid-stream, send an empty or cut-off
body, a stream event that is not JSON or a stream with no finish_reason, terminal escape sequences,
malformed JSON or a score out of bounds, or echo the API key in an error message. Its "model" is
deterministic: it grades by quoting the answer's first sentence, obeys text addressed to the grader
(and reports it), phrases interviewer turns by repeating the question, and chooses the first
offered follow-up (or, when scripted, another one, a probe of the answer's first sentence, or a
choice no check should accept).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ANSWER = re.compile(r"<candidate_answer>\s*(.*?)\s*</candidate_answer>", re.DOTALL)
# At the start of a line: the instructions mention "<question>" in passing, the block starts a line.
_QUESTION = re.compile(r"^<question>\s*(.*?)\s*</question>", re.DOTALL | re.MULTILINE)
_CRITERION_ID = re.compile(r"^- id: ([a-z0-9_]+)", re.MULTILINE)
# What the stub model takes as addressed to it: wider than the offline detector on purpose, so tests
# can show that a paraphrase the detector misses is still capped through the model's report.
_GULLIBLE = re.compile(
    r"give (it|this answer|me) a 4|score 4|score=4|ignore the rubric|\b(grader|grading|marker|marking|"
    r"evaluator|assessor|whoever (is )?(reads|reading|grades|marks|scores))\b",
    re.IGNORECASE,
)
FORMATS = ("json_schema", "json_object", "tools")
#: The follow-up prompt's options (agent/llm/prompts/followup.yaml, agent.llm.followup_schema).
_OPTIONS = re.compile(r"^- id: (\S+)\n  note: (\S+)$", re.MULTILINE)
_FOLLOWUP_PROMPT = "Offered follow-ups, best first:"
#: How the stub chooses a follow-up: the first or second offered id, a probe of the answer's first
#: sentence, or a choice the engine must reject (an id or note not offered, words not in the answer).
PROBE_QUESTION = "What makes you confident of that for this problem?"
PICKS = ("first", "second", "probe", "invented-id", "invented-note", "non-verbatim", "empty-question")
#: What llama.cpp's server says when asked for json_schema (with HTTP 500).
LLAMA_CPP_REJECTION = 'response_format type must be one of "text" or "json_object", but got: json_schema'
#: Ways to answer that no well-behaved server uses.
_ODD_BODIES = ("empty-body", "half-json", "cut-body", "not-a-completion")
ODD_REPLIES = ("empty-body", "half-json", "cut-body", "bad-event", "no-finish-reason", "not-a-completion")


@dataclass
class Fault:
    """One scripted misbehaviour, used by the next request."""

    status: int | None = None  # answer with this HTTP error status
    retry_after: float | None = None  # with a Retry-After header
    delay_s: float = 0.0  # wait before answering
    drop_after_chunks: int | None = None  # streaming: close the connection after this many chunks
    content: str | None = None  # structured calls: reply with this raw content instead
    text: str | None = None  # text calls (streamed or not): reply with this text instead
    pieces: tuple[str, ...] | None = None  # streamed calls: send exactly these pieces
    score: int | None = None  # structured calls: give every criterion this score (e.g. 0)
    message: str | None = None  # with `status`: the error message
    echo_key: bool = False  # with `status`: the message quotes the request's API key, as some proxies do
    odd: str | None = None  # one of ODD_REPLIES


@dataclass
class StubState:
    """What the server has been told and what it has seen."""

    faults: deque[Fault] = field(default_factory=deque)
    rejects: set[str] = field(default_factory=set)  # structured formats answered with `reject_status`
    reject_status: int = 400  # 500 is what llama.cpp's server answers for json_schema
    rejects_limits: bool = False  # refuse maxLength/maxItems in json_schema, as OpenAI's strict mode
    delay_s: float = 0.0  # added to every request
    requests: list[dict[str, Any]] = field(default_factory=list)
    seen_prefixes: set[str] = field(default_factory=set)
    picks: deque[str] = field(default_factory=deque)  # follow-up choices to make, one of PICKS each
    lock: threading.Lock = field(default_factory=threading.Lock)


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def grade_reply(messages: list[dict[str, Any]], score: int | None = None) -> dict[str, Any]:
    """The stub model's grade: one entry per rubric id, quoting the answer's first sentence.

    Like a gullible model it obeys text addressed to the grader (every score 4), but it reports
    that text in `addressed_to_grader`, as the grading schema asks.
    """
    prompt = str(messages[-1].get("content", "")) if messages else ""
    answer_match = _ANSWER.search(prompt)
    answer = answer_match.group(1) if answer_match else ""
    sentences = re.split(r"(?<=[.!?])\s+", answer.strip()) if answer.strip() else []
    first = sentences[0] if sentences else ""
    addressed = [s for s in sentences if _GULLIBLE.search(s)]
    words = len(answer.split())
    if score is None:
        # A crude, deterministic stand-in for judgement: longer answers score higher.
        score = 4 if addressed else 1 + (words >= 25) + (words >= 60) + (words >= 120)
    return {
        "addressed_to_grader": " ".join(addressed),
        "criteria": {
            cid: {
                "score": score if first else None,
                "evidence": [first] if first else [],
                "rationale": f"The answer addresses {cid.replace('_', ' ')} with {words} words.",
            }
            for cid in _CRITERION_ID.findall(prompt)
        },
    }


def followup_reply(messages: list[dict[str, Any]], how: str = "first") -> dict[str, str]:
    """The stub model's follow-up choice, made `how` (one of PICKS) among the prompt's options."""
    prompt = str(messages[-1].get("content", "")) if messages else ""
    options = _OPTIONS.findall(prompt)
    answer_match = _ANSWER.search(prompt)
    answer = answer_match.group(1) if answer_match else ""
    first = re.split(r"(?<=[.!?])\s+", answer.strip())[0] if answer.strip() else ""
    ids = [unit for unit, _ in options] or [""]
    notes = [note for _, note in options] or [""]
    blank = {"action": "pick", "id": "", "quote": "", "question": "", "note": ""}
    if how == "second":
        return {**blank, "id": ids[min(1, len(ids) - 1)]}
    if how == "invented-id":
        return {**blank, "id": "topics/made_up.md#followup-9"}
    if how in ("probe", "invented-note", "non-verbatim", "empty-question"):
        return {
            **blank,
            "action": "probe",
            "quote": "a claim the candidate never made" if how == "non-verbatim" else first,
            "question": ""
            if how == "empty-question"
            else "What makes you confident of that for this problem?",
            "note": "topics/made_up.md" if how == "invented-note" else notes[0],
        }
    return {**blank, "id": ids[0]}


def interviewer_reply(messages: list[dict[str, Any]]) -> str:
    """The stub model's interviewer turn: a short lead-in and the question it was given.

    Asked to continue a cut-off message, it returns the rest of what it would have said.
    """
    if (
        len(messages) >= 3
        and messages[-2].get("role") == "assistant"
        and "cut off" in str(messages[-1].get("content"))
    ):
        whole = interviewer_reply(messages[:-2])
        partial = str(messages[-2].get("content", ""))
        return whole[len(partial) :] if whole.startswith(partial) else whole
    prompt = str(messages[-1].get("content", ""))
    match = _QUESTION.search(prompt)
    question = match.group(1).strip() if match else ""
    if not question or question == "(none)":
        return "Thanks, that is all from me. Your feedback report is ready."
    return f"Thanks. {question}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        state = self.server.state
        with state.lock:
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append({"path": self.path, "headers": headers, "body": body})
            fault = state.faults.popleft() if state.faults else Fault()
            delay = state.delay_s + fault.delay_s
        if delay:
            time.sleep(delay)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._error(404, f"no route {self.path}")
        if fault.status is not None:
            said = fault.message or "injected failure"
            if fault.echo_key:
                said += f" (API key: {headers.get('authorization', '').removeprefix('Bearer ')})"
            return self._error(fault.status, said, fault.retry_after)
        if body.get("model") == "missing-model":
            return self._error(404, "The model `missing-model` does not exist")
        structured = self._format(body)
        if structured in state.rejects:
            if state.reject_status >= 500 and structured == "json_schema":
                return self._error(state.reject_status, LLAMA_CPP_REJECTION)
            return self._error(
                state.reject_status,
                f"Unsupported response_format: '{structured}' is not supported by this server",
            )
        if structured == "json_schema" and state.rejects_limits and "maxLength" in json.dumps(body):
            return self._error(
                400,
                "Invalid schema for response_format 'LLMGrade': In context=('properties', 'rationale'), "
                "'maxLength' is not permitted.",
            )
        usage = self._usage(body)
        if fault.odd in ("empty-body", "half-json", "cut-body", "not-a-completion") and not body.get(
            "stream"
        ):
            return self._odd_body(fault.odd, body, usage)
        if body.get("stream"):
            return self._stream(body, usage, fault)
        if structured is None:
            text = fault.text if fault.text is not None else interviewer_reply(body["messages"])
            return self._json(self._completion(body, {"role": "assistant", "content": text}, usage))
        content = fault.content if fault.content is not None else self._structured(body, fault)
        if structured == "tools":
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "submit", "arguments": content}}
                ],
            }
        else:
            message = {"role": "assistant", "content": content}
        self._json(self._completion(body, message, usage))

    # ------------------------------------------------------------------ helpers

    def _structured(self, body: dict[str, Any], fault: Fault) -> str:
        """The stub model's structured reply: a follow-up choice for that prompt, else a grade."""
        messages = body["messages"]
        if messages and _FOLLOWUP_PROMPT in str(messages[-1].get("content", "")):
            state = self.server.state
            with state.lock:
                how = state.picks.popleft() if state.picks else "first"
            return json.dumps(followup_reply(messages, how))
        return json.dumps(grade_reply(messages, fault.score))

    @staticmethod
    def _format(body: dict[str, Any]) -> str | None:
        if body.get("tools"):
            return "tools"
        response_format = body.get("response_format") or {}
        return response_format.get("type") if response_format.get("type") in FORMATS else None

    def _usage(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages", [])
        prompt = "".join(str(m.get("content", "")) for m in messages)
        system = str(messages[0].get("content", "")) if messages else ""
        state = self.server.state
        with state.lock:
            cached = _tokens(system) if system in state.seen_prefixes else 0
            state.seen_prefixes.add(system)
        return {"prompt_tokens": _tokens(prompt), "cached": cached}

    @staticmethod
    def _completion(body: dict[str, Any], message: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
        completion = _tokens(json.dumps(message))
        return {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage["prompt_tokens"],
                "completion_tokens": completion,
                "total_tokens": usage["prompt_tokens"] + completion,
                "prompt_tokens_details": {"cached_tokens": usage["cached"]},
            },
        }

    def _json(
        self, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _odd_body(self, odd: str, body: dict[str, Any], usage: dict[str, Any]) -> None:
        """A 200 with an empty body, half a JSON document, a body cut off by a closed connection,
        or JSON that is no chat completion."""
        whole = json.dumps(
            self._completion(
                body, {"role": "assistant", "content": interviewer_reply(body["messages"])}, usage
            )
        ).encode()
        data = {"empty-body": b"", "not-a-completion": b'{"status": "ok"}'}.get(odd, whole[: len(whole) // 2])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        # cut-body promises the whole document, sends half and hangs up.
        self.send_header("Content-Length", str(len(whole) if odd == "cut-body" else len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        if odd == "cut-body":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    def _error(self, status: int, message: str, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        self._json({"error": {"message": message, "type": "stub_error", "code": status}}, status, headers)

    def _stream(self, body: dict[str, Any], usage: dict[str, Any], fault: Fault) -> None:
        text = fault.text if fault.text is not None else interviewer_reply(body["messages"])
        pieces = re.findall(r"\s*\S+\s*", text) if text[:1].isspace() else re.findall(r"\S+\s*", text)
        if fault.pieces is not None:
            pieces, text = list(fault.pieces), "".join(fault.pieces)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(event: dict[str, Any] | str) -> None:
            data = f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        base = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model"),
        }
        for i, piece in enumerate(pieces):
            if fault.drop_after_chunks is not None and i >= fault.drop_after_chunks:
                self.connection.shutdown(socket.SHUT_RDWR)  # the body never completes
                self.close_connection = True
                return
            if fault.odd == "bad-event" and i == 1:
                send("{this is not json")
            send(
                {
                    **base,
                    "choices": [
                        {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
                    ],
                }
            )
        if fault.odd != "no-finish-reason":
            send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            completion = _tokens(text)
            send(
                {
                    **base,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": usage["prompt_tokens"],
                        "completion_tokens": completion,
                        "total_tokens": usage["prompt_tokens"] + completion,
                        "prompt_tokens_details": {"cached_tokens": usage["cached"]},
                    },
                }
            )
        send("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: StubState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (time-outs, dropped streams) are expected here: stay quiet."""


class StubLLMServer:
    """Run the stub server in a background thread: `with StubLLMServer() as server: server.base_url`."""

    def __init__(self, *, delay_s: float = 0.0, rejects: set[str] | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = StubState(delay_s=delay_s, rejects=set(rejects or ()))
        # A short poll: stopping waits for the next poll, and the tests start and stop one per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="stub-llm", daemon=True
        )

    @property
    def state(self) -> StubState:
        """Faults, rejected formats and the requests seen."""
        return self._server.state

    @property
    def base_url(self) -> str:
        """The `/v1` URL to give the OpenAI client."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(self, *faults: Fault) -> None:
        """Make the next requests misbehave, one fault per request, in order."""
        with self.state.lock:
            self.state.faults.extend(faults)

    def script_picks(self, *picks: str) -> None:
        """Make the next follow-up choices, in order, each one of PICKS (then: the first offered id)."""
        unknown = sorted(set(picks) - set(PICKS))
        if unknown:
            raise ValueError(f"unknown picks {unknown}; choose from {PICKS}")
        with self.state.lock:
            self.state.picks.extend(picks)

    def start(self) -> StubLLMServer:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m agent.llm.stub_server [--port N] [--delay S]`: serve until Ctrl+C.

    Used to record the eval suite's LLM cassettes and to try the LLM engine with no model at hand.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m agent.llm.stub_server", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each reply")
    args = parser.parse_args(argv)
    server = _Server(("127.0.0.1", args.port), _Handler)
    server.state = StubState(delay_s=args.delay, rejects=set())
    print(f"stub OpenAI-compatible server on http://127.0.0.1:{args.port}/v1 (Ctrl+C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
