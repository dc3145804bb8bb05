"""The follow-up choice's JSON schema, built from the options offered, and the model that reads it.

As with grading, the schema leaves the model nothing to invent: `id` is an enum of exactly the
offered unit ids and `note` of the offered notes (each with "" for the action that does not use
it), quote and question have bounded length, every key is required and no other is allowed, so a
grammar-constrained server cannot name a follow-up the knowledge base does not hold. Servers
without grammars can still get it wrong; the engine checks the reply again in code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.engines.base import FollowupRequest
from agent.llm.client import JsonSchema

QUOTE_MAX_CHARS = 200
QUESTION_MAX_CHARS = 300
# The longest reply the schema allows, at a conservative 3 characters per token, plus keys and ids.
FOLLOWUP_MAX_TOKENS = 60 + (QUOTE_MAX_CHARS + QUESTION_MAX_CHARS) // 3 + 60


class LLMFollowupPick(BaseModel):
    """The next follow-up: one offered question by id, or a probe of a claim quoted from the answer."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["pick", "probe"]
    id: str = Field(default="", description="pick: one of the offered ids; probe: empty")
    quote: str = Field(default="", description="probe: words copied exactly from the answer; pick: empty")
    question: str = Field(default="", description="probe: one question about the quoted claim; pick: empty")
    note: str = Field(default="", description="probe: the offered note it draws on; pick: empty")


def followup_schema(request: FollowupRequest) -> JsonSchema:
    """The JSON schema of a reply choosing among exactly this request's options."""
    return {
        "type": "object",
        "properties": {
            "action": {"enum": ["pick", "probe"], "description": "pick an offered question, or probe"},
            # Enums alone, no "type": some grammar converters drop an enum that comes with a type.
            "id": {"enum": [*request.ids, ""], "description": "pick: an offered id; probe: empty"},
            "quote": {
                "type": "string",
                "maxLength": QUOTE_MAX_CHARS,
                "description": "probe: the claim, copied exactly from the answer; pick: empty",
            },
            "question": {
                "type": "string",
                "maxLength": QUESTION_MAX_CHARS,
                "description": "probe: one question about the quoted claim; pick: empty",
            },
            "note": {"enum": [*request.notes, ""], "description": "probe: the note it draws on; pick: empty"},
        },
        "required": ["action", "id", "quote", "question", "note"],
        "additionalProperties": False,
    }


def render_options(request: FollowupRequest) -> str:
    """The offered follow-ups as compact text for the prompt (knowledge-base text, trusted)."""
    return "\n".join(
        f"- id: {o.id}\n  note: {o.note}\n  topic: {o.topic}\n  question: {o.question}"
        for o in request.options
    )


def render_uncovered(request: FollowupRequest) -> str:
    """The phase's criteria without solid evidence yet, one per line."""
    return "\n".join(f"- {cid}: {title}" for cid, title in request.uncovered) or "(none)"
