"""A built wheel (not only an editable install) carries the knowledge, rubrics and tokenizer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("mlsd_interviewer-*.whl")
    return built


def test_wheel_contains_the_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for relative in [
        *(p.relative_to(REPO).as_posix() for p in (REPO / "knowledge").rglob("*.md")),
        *(p.relative_to(REPO).as_posix() for p in (REPO / "rubrics").rglob("*.yaml")),
    ]:
        assert f"agent/_bundled/{relative}" in names
    assert "agent/search/data/all-MiniLM-L6-v2.tokenizer.json" in names
    assert "agent/search/data/bundled_vectors.npz" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_installed_wheel_finds_its_bundled_content(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    # The installed copy shadows the source checkout: PYTHONPATH comes before site-packages.
    env = {**os.environ, "PYTHONPATH": str(target), "MLSD_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "kb", "check", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["knowledge_dir"] == str(target / "agent" / "_bundled" / "knowledge")
    assert summary["topics"] == 29

    # A first build from the installed wheel takes every vector from the shipped file.
    build = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "kb", "build", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    stats = json.loads(build.stdout)
    assert stats["embedded"] == stats["total"] > 800 and stats["computed"] == 0
