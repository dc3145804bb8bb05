"""The one place that talks to the LLM server: streaming text, structured output, retries, errors.

Retries (tenacity): exponential back-off with jitter on 429, 5xx, time-outs, dropped connections and
invalid structured output, within a bounded number of attempts and total wait. 400/401/403/404 are
not retried: they become one-line errors that say what to check. Structured output tries the
server's best format first and remembers a rejected one: json_schema -> json_object -> forced tool call.
"""

from __future__ import annotations

import contextlib
import json
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
    stop_after_delay,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from agent.config import LLMSettings
from agent.errors import MlsdError

ModelT = TypeVar("ModelT", bound=BaseModel)
Mode = Literal["json_schema", "json_object", "tool"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "tool")
OnToken = Callable[[str], None]
#: Sent after a broken stream, with what already arrived as the assistant's message.
CONTINUE_INSTRUCTION = (
    "Your message was cut off. Continue exactly where it stopped, without repeating anything."
)


class LLMError(MlsdError):
    """The LLM server could not produce a usable answer; the message says what to do."""

    exit_code = 1


class InvalidOutput(Exception):
    """The server answered, but not with valid structured output (retried)."""


@dataclass
class CallUsage:
    """Token counts reported by the server for one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, InvalidOutput | openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _explain(exc: BaseException, settings: LLMSettings) -> str:
    """One line that says what went wrong and what to do about it."""
    server = settings.base_url or "the OpenAI API"
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
        attempts = settings.max_attempts
        return f"{server} kept rate-limiting (429) after {attempts} attempts: wait a minute and retry"
    if isinstance(exc, openai.APITimeoutError):
        return (
            f"{server} did not answer within {settings.timeout_s:.0f} s "
            f"after {settings.max_attempts} attempts: check the server, or raise MLSD_LLM_TIMEOUT"
        )
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot reach {server}: check OPENAI_BASE_URL and that the server is running"
    if isinstance(exc, openai.APIStatusError):
        return f"{server} failed with HTTP {exc.status_code} after {settings.max_attempts} attempts"
    if isinstance(exc, InvalidOutput):
        return (
            f"model {settings.model!r} kept returning invalid structured output ({exc}); try a stronger model"
        )
    return f"the LLM call failed: {exc}"


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return str(message)[:200]
    return str(exc)[:200]


def _rejects_format(exc: BaseException) -> bool:
    """A 400 that says the server does not support this kind of structured output."""
    if not isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return False
    text = _server_message(exc).lower()
    return any(w in text for w in ("response_format", "json_schema", "json schema", "tool", "not supported"))


class _RetryAfter(wait_base):
    """Exponential back-off with jitter, but never shorter than a 429's Retry-After (capped at 20 s)."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        wait = float(self.fallback(retry_state))
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, openai.RateLimitError):
            with contextlib.suppress(ValueError):  # an HTTP-date Retry-After falls back to back-off
                wait = max(wait, min(float(exc.response.headers.get("retry-after", 0)), 20.0))
        return wait


class LLMClient:
    """Chat Completions calls with retries, format fallback and usage accounting."""

    def __init__(self, settings: LLMSettings, client: openai.OpenAI | None = None) -> None:
        self.settings = settings
        # The SDK's own retries are off: tenacity does them, with our bounds and our logging.
        self.client = client or openai.OpenAI(
            api_key=settings.api_key, base_url=settings.base_url, timeout=settings.timeout_s, max_retries=0
        )
        self.mode_index = 0  # the structured-output format the server accepts, once known
        self.retries = 0

    def _create(self, **kwargs: Any) -> Any:
        # Untyped on purpose: the SDK's overloads cannot follow kwargs assembled per format.
        create: Any = self.client.chat.completions.create
        return create(**kwargs)

    def _retrying(self) -> Retrying:
        def count(state: RetryCallState) -> None:
            self.retries += 1

        return Retrying(
            stop=stop_after_attempt(self.settings.max_attempts) | stop_after_delay(self.settings.max_wait_s),
            wait=_RetryAfter(
                wait_exponential(multiplier=self.settings.backoff_s, max=8.0)
                + wait_random(0, self.settings.backoff_s)
            ),
            retry=retry_if_exception(_retryable),
            before_sleep=count,
            reraise=True,
        )

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return self._retrying()(fn)
        except (openai.OpenAIError, InvalidOutput) as exc:
            raise LLMError(_explain(exc, self.settings)) from None

    # ------------------------------------------------------------------ text

    def stream_text(
        self, messages: list[dict[str, str]], on_token: OnToken | None = None
    ) -> tuple[str, CallUsage]:
        """Stream a reply, passing each piece to `on_token`; returns the whole text and the usage."""

        # Shared across attempts: a stream that breaks keeps what arrived, and the retry asks the
        # model to continue from there, so the candidate never sees the message start over.
        pieces: list[str] = []
        usage = CallUsage()

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
            stream = self._create(
                model=self.settings.model,
                messages=sent,
                stream=True,
                stream_options={"include_usage": True},
                temperature=0.4,
            )
            try:
                for chunk in stream:
                    if chunk.usage is not None:
                        part = _usage(chunk.usage)
                        usage = CallUsage(
                            usage.prompt_tokens + part.prompt_tokens,
                            usage.completion_tokens + part.completion_tokens,
                            usage.cached_tokens + part.cached_tokens,
                        )
                    for choice in chunk.choices:
                        finished = finished or choice.finish_reason is not None
                        piece = choice.delta.content or ""
                        if piece:
                            pieces.append(piece)
                            if on_token is not None:
                                on_token(piece)
            except httpx2.HTTPError as exc:  # the SDK's transport (openai >= 3 uses httpx2)
                raise InvalidOutput(
                    f"the stream broke after {len(pieces)} pieces ({type(exc).__name__})"
                ) from None
            if not finished:
                raise InvalidOutput(f"the stream ended early after {len(pieces)} pieces")
            text = "".join(pieces).strip()
            if not text:
                raise InvalidOutput("empty reply")
            return text, usage

        result: tuple[str, CallUsage] = self._call(attempt)
        return result

    # ------------------------------------------------------------------ structured

    def structured(
        self,
        messages: list[dict[str, str]],
        schema: type[ModelT],
        check: Callable[[ModelT], None] | None = None,
    ) -> tuple[ModelT, CallUsage]:
        """A reply parsed into `schema` and validated (plus `check`), in the best format the server takes."""
        while True:
            mode = MODES[self.mode_index]
            try:
                result: tuple[ModelT, CallUsage] = self._retrying()(
                    self._structured_once, messages, schema, mode, check
                )
                return result
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if _rejects_format(exc) and self.mode_index + 1 < len(MODES):
                    self.mode_index += 1  # remembered: later calls start from the format that works
                    continue
                raise LLMError(_explain(exc, self.settings)) from None
            except (openai.OpenAIError, InvalidOutput) as exc:
                raise LLMError(_explain(exc, self.settings)) from None

    def _structured_once(
        self,
        messages: list[dict[str, str]],
        schema: type[ModelT],
        mode: Mode,
        check: Callable[[ModelT], None] | None,
    ) -> tuple[ModelT, CallUsage]:
        json_schema = schema.model_json_schema()
        kwargs: dict[str, Any] = {"model": self.settings.model, "temperature": 0.0}
        if mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": True},
            }
            sent = messages
        elif mode == "json_object":
            # llama.cpp's server reads a schema in json_object; others ignore it, so the prompt has it too.
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
        usage = _usage(response.usage) if response.usage else CallUsage()
        if not response.choices:
            raise InvalidOutput("no choices in the reply")
        message = response.choices[0].message
        if mode == "tool":
            calls = message.tool_calls or []
            call: Any = calls[0] if calls else None
            raw = call.function.arguments if call is not None and hasattr(call, "function") else None
        else:
            raw = message.content
        if not raw:
            raise InvalidOutput("empty reply")
        try:
            parsed = schema.model_validate(json.loads(_strip_fences(raw)))
        except json.JSONDecodeError as exc:
            raise InvalidOutput(f"not JSON: {exc.msg}") from None
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
        """The structured-output format in use."""
        return MODES[self.mode_index]


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


def _with_schema_instruction(messages: list[dict[str, str]], schema: dict[str, Any]) -> list[dict[str, str]]:
    note = "\n\nReply with one JSON object that follows this JSON schema exactly:\n" + json.dumps(schema)
    return [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + note}]
