"""Running the real `mlsd` in a child process, the ways the reliability tests need: as an ordinary
user (root ignores file permissions), and inside a private mount namespace (for a small, full disk)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MLSD = [sys.executable, "-m", "agent.cli.main"]


def _namespaces_available() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "-m", "true"], capture_output=True).returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _namespaces_available() and not os.environ.get("CI"),
    reason="needs unshare -n -m (root); CI always runs it",
)


def as_ordinary_user() -> list[str]:
    """A command prefix under which file permissions apply: none for a normal user; for root, the
    capabilities that let it read and write any file dropped (setpriv). Skips the test if neither."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, where chmod does not stop reads or writes, and setpriv is missing")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def run(
    *argv: str, home: Path | None = None, prefix: list[str] | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`mlsd ARGV` in a child process (with `--home HOME` first when given); never raises on failure."""
    command = [*(prefix or []), *MLSD, *(["--home", str(home)] if home else []), *argv]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=600
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one-line error a failed command printed on stderr (failing the test if it printed more)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("mlsd: error: "), result.stderr[-3000:]
    return lines[0]
