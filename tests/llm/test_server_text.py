"""Server text is untrusted: escape sequences and control characters are stripped before anything is
shown or printed, and secrets are redacted from error messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.config import LLMSettings
from agent.engines.llm import LLMEngine
from agent.llm.client import LLMError
from agent.llm.server_text import REDACTED, StreamCleaner, clean, redact, safe_message
from agent.llm.stub_server import Fault, StubLLMServer
from tests.llm import evaluation_followup

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes "rm -rf ~" to the clipboard
PLAN = evaluation_followup("We report precision at a fixed recall.")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m text", "red text"),
        (f"copy{OSC52} this", "copy this"),
        ("title\x1b]0;pwned\x1b\\ here", "title here"),
        ("bell\x07 and back\x08space and\rreturn", "bell and backspace andreturn"),
        ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
        ("c1 \x9b2J csi and \x9d52;c;eA==\x9c osc", "c1  csi and  osc"),
        ("dcs \x1bPq#0;2;0;0;0\x1b\\ gone", "dcs  gone"),
        ("unterminated \x1b]52;c;cm0gLXJm", "unterminated "),
        ("reset \x1bc done", "reset  done"),
    ],
)
def test_clean_strips_control_sequences(raw: str, shown: str) -> None:
    assert clean(raw) == shown
    assert clean(shown) == shown


def test_a_sequence_split_across_stream_pieces_is_still_removed() -> None:
    cleaner = StreamCleaner()
    pieces = ["Hello \x1b[", "31mred\x1b", "]52;c;cm0g", "LXJm\x07 world", " \x1b"]
    shown = [cleaner.feed(p) for p in pieces] + [cleaner.finish()]
    assert "".join(shown) == "Hello red world "
    assert shown[0] == "Hello " and "31m" not in "".join(shown)


def test_redact_removes_the_key_and_key_shaped_tokens() -> None:
    text = "invalid key my-own-local-key; also sk-proj-AbC123xyz_789 and Bearer abc.def.ghi12345"
    redacted = redact(text, "my-own-local-key")
    assert "my-own-local-key" not in redacted and "sk-proj" not in redacted and "abc.def" not in redacted
    assert redacted.count(REDACTED) == 3
    assert safe_message("two\nlines \x1b[2J", None) == "two lines"


def test_streamed_turns_reach_the_screen_without_escape_sequences(
    settings: LLMSettings, server: StubLLMServer
) -> None:
    server.enqueue(Fault(pieces=("Thanks. \x1b[", "2J\x1b[HHow would", f" you{OSC52} pick it?")))
    tokens: list[str] = []
    text = LLMEngine(settings).say(PLAN, on_token=tokens.append)
    assert text == "Thanks. How would you pick it?"
    assert "".join(tokens) == text
    assert not any(ch in "".join(tokens) for ch in "\x1b\x07")


def test_grade_rationales_are_cleaned(settings: LLMSettings, server: StubLLMServer, toolkit: Any) -> None:
    criteria = toolkit.kb.rubric_for("payment_fraud_detection", "evaluation")
    answer = "We split by time so the test week follows training, and report precision at fixed recall."
    reply = {
        "addressed_to_grader": "",
        "criteria": {
            c.id: {"score": 3, "evidence": [answer[:30]], "rationale": f"Solid\x1b[8m hidden{OSC52}."}
            for c in criteria
        },
    }
    server.enqueue(Fault(content=json.dumps(reply)))
    grade = LLMEngine(settings).grade_answer("payment_fraud_detection", "evaluation", criteria, answer)
    assert all(c.rationale == "Solid hidden." for c in grade.criteria)


def test_error_messages_are_cleaned_and_redacted(
    settings: LLMSettings, server: StubLLMServer, toolkit: Any
) -> None:
    echo = f"bad request from key {settings.api_key} (also sk-live-0123456789abcdef) \x1b]0;owned\x07\x1b[2J"
    server.enqueue(Fault(status=400, message=echo))
    criteria = toolkit.kb.rubric_for("payment_fraud_detection", "evaluation")
    with pytest.raises(LLMError) as caught:
        LLMEngine(settings).grade_answer("payment_fraud_detection", "evaluation", criteria, "An answer.")
    message = str(caught.value)
    assert "rejected the request (400)" in message
    assert settings.api_key not in message and "sk-live" not in message and REDACTED in message
    assert "\x1b" not in message and "owned" not in message
