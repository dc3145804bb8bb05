"""Prompt files: YAML templates validated by a strict schema, each with a version hash.

The hash of a prompt file's bytes is recorded in every transcript, so a grade can always be traced
to the exact prompt that produced it. Candidate text is escaped so it cannot close its delimiters.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from agent.content.loader import validate_model
from agent.errors import ContentError

PROMPTS_DIR = Path(__file__).with_name("prompts")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_DELIMITER = re.compile(r"<\s*(/?)\s*(candidate_answer|question|facts)\s*>", re.IGNORECASE)


class Prompt(BaseModel):
    """A prompt template file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    variables: list[str] = Field(min_length=1)
    system: str
    user: str
    instructions: dict[str, str] = Field(default_factory=dict)
    version: str = Field(default="", description="set by the loader: sha256 of the file, 12 hex digits")

    def render(self, **values: str) -> list[dict[str, str]]:
        """Chat messages with the variables filled in; a missing or unknown variable is an error."""
        missing = sorted(set(self.variables) - set(values))
        unknown = sorted(set(values) - set(self.variables))
        if missing or unknown:
            raise ValueError(
                f"prompt {self.name!r}: missing variables {missing}, unknown variables {unknown}"
            )
        user = _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.user)
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def untrusted(text: str | None) -> str:
    """Candidate text made safe to put between delimiters: it cannot open or close one."""
    if not text:
        return "(nothing)"
    return _DELIMITER.sub(lambda m: f"[{m.group(1)}{m.group(2)}]", text)


@cache
def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> Prompt:
    """Load `<name>.yaml`, check that its placeholders match its variables, and stamp its version."""
    path = folder / f"{name}.yaml"
    raw = path.read_bytes()
    prompt = validate_model(Prompt, yaml.safe_load(raw.decode("utf-8")), path)
    used = set(_PLACEHOLDER.findall(prompt.user))
    if used != set(prompt.variables):
        raise ContentError(
            path, "variables", f"the template uses {sorted(used)}, declared {sorted(prompt.variables)}"
        )
    return prompt.model_copy(update={"version": hashlib.sha256(raw).hexdigest()[:12]})
