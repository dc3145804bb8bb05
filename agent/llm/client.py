"""The one place that talks to the LLM server: streaming text, structured output, retries, errors.

Structured output tries the server's best format first: json_schema -> json_object with the
schema -> forced tool call. A 4xx or 5xx whose body names the response format (llama.cpp's
server answers json_schema with HTTP 500) moves to the next format at once, without spending a
retry, and the format that works is remembered per server (base URL and model) for the process.

Retries (tenacity) then apply: exponential back-off with jitter on 429, 5xx, time-outs, dropped
connections, odd replies and invalid structured output, up to `max_attempts` attempts, with the
back-off waits (not the requests) sharing a budget of `max_wait_s`, so a slow server still gets
the attempts it was promised. 400/401/403/404 are not retried. Every failure becomes one line
that says what the server did, with the number of requests actually sent, the refused formats'
included: "after 5 attempts (1 with json_schema, refused with HTTP 500; 4 with json_object)".

Everything the server sends is untrusted (agent.llm.server_text): replies are cleaned of terminal
control sequences, and error messages are cleaned and redacted before anyone prints or stores them.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import httpx2
import openai
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from agent.config import LLMSettings
from agent.errors import MlsdError
from agent.llm.server_text import StreamCleaner, clean, safe_message

ModelT = TypeVar("ModelT", bound=BaseModel)
JsonSchema = dict[str, object]
Mode = Literal["json_schema", "json_object", "tool"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "tool")
OnToken = Callable[[str], None]
#: Sent after a broken stream, with what already arrived as the assistant's message.
CONTINUE_INSTRUCTION = (
    "Your message was cut off. Continue exactly where it stopped, without repeating anything."
)
#: Words in an error body that mean "this server does not take that response format".
FORMAT_WORDS = ("response_format", "json_schema", "json schema", "json_object", "type must be one of")
#: Words in an error body that mean "this server does not take forced tool calls".
TOOL_WORDS = ("tool_choice", "tools")
#: Schema keywords some servers refuse in strict mode (OpenAI's subset has no string lengths).
LIMIT_KEYWORDS = ("maxLength", "minLength", "maxItems", "minItems")

# What each server (base URL, model) accepts, learnt once per process: the index of the first
# structured format that worked, and whether its schemas must go without length limits.
_learnt_lock = threading.Lock()
_learnt_modes: dict[tuple[str, str], int] = {}
_learnt_no_limits: set[tuple[str, str]] = set()


def forget_learnt_formats() -> None:
    """Forget what every server was found to accept: a new server on a port an earlier one used (a
    test's stub after another's) is negotiated afresh."""
    with _learnt_lock:
        _learnt_modes.clear()
        _learnt_no_limits.clear()


class LLMError(MlsdError):
    """The LLM server could not produce a usable answer; the message says what to do."""

    exit_code = 1


class OddReply(Exception):
    """The server answered, but not with a usable reply (retried); the message says what it sent."""


class InvalidOutput(OddReply):
    """The model's reply does not follow the structured-output schema or its checks (retried)."""


@dataclass
class CallUsage:
    """Token counts reported by the server for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


@dataclass
class _Attempts:
    """Requests actually sent for one call, so messages can say how many."""

    count: int = 0


@dataclass(frozen=True)
class _Refusal:
    """A structured format the server refused in this call, and the requests it took."""

    requests: int
    label: str
    status: int

    @property
    def text(self) -> str:
        """E.g. "1 with json_schema, refused with HTTP 500"."""
        return f"{self.requests} with {self.label}, refused with HTTP {self.status}"


def _error_text(exc: openai.APIStatusError) -> str:
    """Everything the server said in an error response, for matching (not for printing)."""
    return f"{exc.message} {json.dumps(exc.body, default=str) if exc.body is not None else ''}".lower()


def rejects_format(exc: BaseException) -> bool:
    """A 4xx or 5xx whose body says the server does not take this kind of structured output."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code in (401, 403, 404, 429):
        return False
    text = _error_text(exc)
    return any(word in text for word in (*FORMAT_WORDS, *TOOL_WORDS))


def _rejects_limits(exc: BaseException) -> bool:
    """A rejection that names a length keyword of the schema rather than the format itself."""
    if not isinstance(exc, openai.APIStatusError):
        return False
    text = _error_text(exc)
    return any(keyword.lower() in text for keyword in LIMIT_KEYWORDS)


def _retryable(exc: BaseException) -> bool:
    if rejects_format(exc):
        return False  # handled by moving to the next format, not by asking again
    if isinstance(exc, OddReply | openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _plural(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


#: How messages name the formats (and a format sent again without the schema's length limits).
_FORMAT_LABELS: dict[Mode, str] = {
    "json_schema": "json_schema",
    "json_object": "json_object",
    "tool": "tool call",
}


def _format_label(mode: Mode, limits: bool) -> str:
    return _FORMAT_LABELS[mode] if limits else f"{_FORMAT_LABELS[mode]} without length limits"


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        message = body.get("message") or (error.get("message") if isinstance(error, dict) else error)
        if message:
            return str(message)[:300]
    return str(exc)[:300]


def _connection_message(exc: openai.APIConnectionError, server: str) -> str:
    cause = exc.__cause__
    if isinstance(cause, httpx2.ConnectError | httpx2.ConnectTimeout) or cause is None:
        return f"cannot reach {server}: check OPENAI_BASE_URL and that the server is running"
    return f"{server} closed the connection in the middle of its reply ({type(cause).__name__})"


def explain(exc: BaseException, settings: LLMSettings, attempts: int, how: str = "") -> str:
    """One line: what went wrong, after how many attempts (`how`: in which formats), what to do."""
    server = settings.base_url or "the OpenAI API"
    tries = f"{_plural(attempts)} ({how})" if how else _plural(attempts)
    counted = f"({_plural(attempts)}: {how})" if how else f"({_plural(attempts)})"
    if isinstance(exc, openai.AuthenticationError):
        return f"{server} rejected the API key (401): check OPENAI_API_KEY"
    if isinstance(exc, openai.PermissionDeniedError):
        return f"{server} refused access (403): check that the key may use model {settings.model!r}"
    if isinstance(exc, openai.NotFoundError):
        return (
            f"{server} does not know model {settings.model!r} or the path (404): "
            "check --model / MLSD_MODEL and that OPENAI_BASE_URL ends in /v1"
        )
    if isinstance(exc, openai.BadRequestError):
        return f"{server} rejected the request (400): {_server_message(exc)}"
    if isinstance(exc, openai.RateLimitError):
        return f"{server} kept rate-limiting (429) after {tries}: wait a minute and retry"
    if isinstance(exc, openai.APITimeoutError):
        made = f"{_plural(attempts)} made ({how})" if how else f"{_plural(attempts)} made"
        return (
            f"{server} did not answer within {settings.timeout_s:g} s, {made}: "
            "check the server, or raise MLSD_LLM_TIMEOUT"
        )
    if isinstance(exc, openai.APIConnectionError):
        return f"{_connection_message(exc, server)} {counted}"
    if isinstance(exc, openai.APIStatusError):
        return f"{server} failed with HTTP {exc.status_code} after {tries}: {_server_message(exc)}"
    if isinstance(exc, InvalidOutput):
        return (
            f"model {settings.model!r} returned invalid structured output ({exc}) after {tries}; "
            "try a stronger model"
        )
    if isinstance(exc, OddReply):
        return f"{server} {exc} {counted}"
    return f"the LLM call failed after {tries}: {exc}"


class _Backoff(wait_base):
    """Exponential back-off with jitter, at least a 429's Retry-After (capped at 20 s), and never
    more than what is left of the call's back-off budget."""

    def __init__(self, settings: LLMSettings) -> None:
        self.budget = settings.max_wait_s
        self.fallback = wait_exponential(multiplier=settings.backoff_s, max=8.0) + wait_random(
            0, settings.backoff_s
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        wait = float(self.fallback(retry_state))
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, openai.RateLimitError):
            with contextlib.suppress(ValueError):  # an HTTP-date Retry-After falls back to back-off
                wait = max(wait, min(float(exc.response.headers.get("retry-after", 0)), 20.0))
        return max(0.0, min(wait, self.budget - retry_state.idle_for))


class LLMClient:
    """Chat Completions calls with retries, format negotiation and usage accounting."""

    def __init__(
        self,
        settings: LLMSettings,
        client: openai.OpenAI | None = None,
        *,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self.settings = settings
        # The SDK's own retries are off: tenacity does them, with our bounds and our messages.
        # `http_client` carries a transport of the caller's (the eval suite's cassettes).
        self.client = client or openai.OpenAI(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.timeout_s,
            max_retries=0,
            http_client=http_client,
        )
        self.server_key = (settings.base_url or "https://api.openai.com/v1", settings.model)
        self.retries = 0
        #: What negotiation learnt in this client's calls, e.g. "json_schema -> json_object (HTTP 500)".
        self.fallbacks: list[str] = []

    # ------------------------------------------------------------------ plumbing

    def _create(self, **kwargs: Any) -> Any:
        # Untyped on purpose: the SDK's overloads cannot follow kwargs assembled per format.
        create: Any = self.client.chat.completions.create
        try:
            return create(**kwargs)
        except json.JSONDecodeError as exc:  # the SDK parses the body itself and lets this through
            if not exc.doc.strip():
                raise OddReply("answered HTTP 200 with an empty body") from None
            raise OddReply(f"sent a body that is cut off or not JSON ({len(exc.doc)} bytes)") from None

    def _retrying(self, attempts: _Attempts) -> Retrying:
        def count(state: RetryCallState) -> None:
            self.retries += 1

        def before(state: RetryCallState) -> None:
            attempts.count = state.attempt_number

        return Retrying(
            stop=stop_after_attempt(self.settings.max_attempts),
            wait=_Backoff(self.settings),
            retry=retry_if_exception(_retryable),
            before=before,
            before_sleep=count,
            reraise=True,
        )

    def _fail(
        self, exc: BaseException, attempts: _Attempts, refused: list[_Refusal] | None = None, label: str = ""
    ) -> LLMError:
        """The one-line error for `exc`, counting every request sent: the refused formats' too."""
        made = max(attempts.count, 1)
        how = ""
        if refused:
            how = "; ".join([*(r.text for r in refused), f"{made} with {label}"])
            made += sum(r.requests for r in refused)
        message = explain(exc, self.settings, made, how)
        return LLMError(safe_message(message, self.settings.api_key))

    # ------------------------------------------------------------------ text

    def stream_text(
        self,
        messages: list[dict[str, str]],
        on_token: OnToken | None = None,
        *,
        max_tokens: int | None = None,
    ) -> tuple[str, CallUsage]:
        """Stream a reply, passing each cleaned piece to `on_token`; returns the whole text and usage."""

        # Shared across attempts: a stream that breaks keeps what arrived, and the retry asks the
        # model to continue from there, so the candidate never sees the message start over.
        pieces: list[str] = []
        usage = CallUsage()

        def show(piece: str) -> None:
            if piece:
                pieces.append(piece)
                if on_token is not None:
                    on_token(piece)

        def attempt() -> tuple[str, CallUsage]:
            nonlocal usage
            sent = messages
            if pieces:
                sent = [
                    *messages,
                    {"role": "assistant", "content": "".join(pieces)},
                    {"role": "user", "content": CONTINUE_INSTRUCTION},
                ]
            finished = False
            cleaner = StreamCleaner()
            extra = {"max_tokens": max_tokens} if max_tokens is not None else {}
            stream = self._create(
                model=self.settings.model,
                messages=sent,
                stream=True,
                stream_options={"include_usage": True},
                temperature=0.4,
                **extra,
            )
            if not isinstance(stream, openai.Stream):
                raise OddReply("answered a streaming request with something other than an event stream")
            try:
                for chunk in stream:
                    if getattr(chunk, "usage", None) is not None:
                        part = _usage(chunk.usage)
                        usage = CallUsage(
                            usage.prompt_tokens + part.prompt_tokens,
                            usage.completion_tokens + part.completion_tokens,
                            usage.cached_tokens + part.cached_tokens,
                        )
                    for choice in getattr(chunk, "choices", None) or []:
                        finished = finished or getattr(choice, "finish_reason", None) is not None
                        delta = getattr(choice, "delta", None)
                        show(cleaner.feed(str(getattr(delta, "content", None) or "")))
            except httpx2.HTTPError as exc:  # the SDK's transport (openai >= 3 uses httpx2)
                show(cleaner.finish())
                raise OddReply(
                    f"broke the stream after {len(pieces)} pieces ({type(exc).__name__})"
                ) from None
            except json.JSONDecodeError:
                show(cleaner.finish())
                raise OddReply(f"sent a stream event that is not JSON after {len(pieces)} pieces") from None
            show(cleaner.finish())
            if not finished:
                raise OddReply(f"ended the stream without a finish_reason after {len(pieces)} pieces")
            text = "".join(pieces).strip()
            if not text:
                raise OddReply("streamed an empty reply")
            return text, usage

        attempts = _Attempts()
        try:
            result: tuple[str, CallUsage] = self._retrying(attempts)(attempt)
        except (openai.OpenAIError, OddReply) as exc:
            raise self._fail(exc, attempts) from None
        return result

    # ------------------------------------------------------------------ structured

    def structured(
        self,
        messages: list[dict[str, str]],
        schema: type[ModelT],
        check: Callable[[ModelT], None] | None = None,
        *,
        json_schema: JsonSchema | None = None,
        max_tokens: int | None = None,
    ) -> tuple[ModelT, CallUsage]:
        """A reply parsed into `schema` and checked, in the best format the server takes.

        `json_schema` is what the server is asked to follow (default: the model's own schema);
        the reply is validated by `schema` and `check` whatever the server did with it.
        """
        wanted = json_schema if json_schema is not None else schema.model_json_schema()
        refused: list[_Refusal] = []  # formats refused in this call: their requests count too
        while True:
            mode = self.mode
            sent_schema = without_limits(wanted) if self.server_key in _learnt_no_limits else wanted
            label = _format_label(mode, sent_schema is wanted)
            attempts = _Attempts()
            try:
                result: tuple[ModelT, CallUsage] = self._retrying(attempts)(
                    self._structured_once, messages, schema, sent_schema, mode, check, max_tokens
                )
                return result
            except openai.APIStatusError as exc:
                if not rejects_format(exc) and not _rejects_limits(exc):
                    raise self._fail(exc, attempts, refused, label) from None
                self._negotiate(exc, mode, sent_schema is wanted)
                refused.append(_Refusal(max(attempts.count, 1), label, exc.status_code))
            except (openai.OpenAIError, OddReply) as exc:
                raise self._fail(exc, attempts, refused, label) from None

    def _negotiate(self, exc: openai.APIStatusError, mode: Mode, had_limits: bool) -> None:
        """Learn from a rejection what to send next, or give up with one line."""
        status = f"HTTP {exc.status_code}"
        with _learnt_lock:
            if _rejects_limits(exc) and had_limits:
                _learnt_no_limits.add(self.server_key)
                self.fallbacks.append(f"{mode} without length limits ({status})")
                return
            index = MODES.index(mode)
            if index + 1 < len(MODES):
                _learnt_modes[self.server_key] = index + 1
                self.fallbacks.append(f"{mode} -> {MODES[index + 1]} ({status})")
                return
        message = (
            f"{self.settings.base_url or 'the OpenAI API'} accepts none of the structured-output formats "
            f"(json_schema, json_object, tool call); last answer {status}: {_server_message(exc)}"
        )
        raise LLMError(safe_message(message, self.settings.api_key))

    def _structured_once(
        self,
        messages: list[dict[str, str]],
        schema: type[ModelT],
        json_schema: JsonSchema,
        mode: Mode,
        check: Callable[[ModelT], None] | None,
        max_tokens: int | None,
    ) -> tuple[ModelT, CallUsage]:
        kwargs: dict[str, Any] = {"model": self.settings.model, "temperature": 0.0}
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": True},
            }
            sent = messages
        elif mode == "json_object":
            # llama.cpp's servers turn a schema in json_object into a grammar; others ignore it, so
            # the prompt carries it too.
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
            sent = _with_schema_instruction(messages, json_schema)
        else:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": "submit",
                        "description": schema.__doc__ or "",
                        "parameters": json_schema,
                    },
                }
            ]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": "submit"}}
            sent = messages
        response = self._create(messages=sent, **kwargs)
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list):
            raise OddReply("answered with something that is not a chat completion")
        usage = _usage(response.usage) if getattr(response, "usage", None) else CallUsage()
        if not choices:
            raise OddReply("answered with no choices")
        choice = choices[0]
        message = getattr(choice, "message", None)
        if mode == "tool":
            calls = getattr(message, "tool_calls", None) or []
            call: Any = calls[0] if calls else None
            raw = call.function.arguments if call is not None and hasattr(call, "function") else None
        else:
            raw = getattr(message, "content", None)
        if not raw:
            raise OddReply("answered with an empty message")
        try:
            # strict=False: grammar-constrained servers (llama.cpp) let a model write a raw newline or
            # tab inside a JSON string; the text is cleaned of control sequences right after anyway.
            data = _cleaned(json.loads(_strip_fences(raw), strict=False))
        except json.JSONDecodeError as exc:
            if getattr(choice, "finish_reason", None) == "length":
                raise InvalidOutput(f"the reply reached max_tokens ({max_tokens}) before its end") from None
            raise InvalidOutput(f"not JSON: {exc.msg}") from None
        try:
            parsed = schema.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidOutput(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        if check is not None:
            try:
                check(parsed)
            except ValueError as exc:
                raise InvalidOutput(str(exc)) from None
        return parsed, usage

    @property
    def mode(self) -> Mode:
        """The structured-output format this server takes, as far as this process knows."""
        with _learnt_lock:
            return MODES[_learnt_modes.get(self.server_key, 0)]


def without_limits(schema: JsonSchema) -> JsonSchema:
    """`schema` with the length keywords removed everywhere, for servers whose subset lacks them."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {str(k): strip(v) for k, v in value.items() if k not in LIMIT_KEYWORDS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped = strip(schema)
    assert isinstance(stripped, dict)
    return stripped


def _cleaned(value: object) -> object:
    """Parsed JSON with every string cleaned of terminal control sequences."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def _usage(usage: Any) -> CallUsage:
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", 0) if details is not None else 0
    return CallUsage(
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_tokens=int(cached or 0),
    )


def _strip_fences(raw: str) -> str:
    text = raw.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def _with_schema_instruction(messages: list[dict[str, str]], schema: JsonSchema) -> list[dict[str, str]]:
    note = "\n\nReply with one JSON object that follows this JSON schema exactly:\n" + json.dumps(schema)
    return [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + note}]
