"""A broken content file stops `mlsd kb check` with exit 2 and one line naming the file and field."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from agent.cli.main import main

from ..conftest import REPO


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the bundled knowledge and rubrics."""
    shutil.copytree(REPO / "knowledge", tmp_path / "knowledge")
    shutil.copytree(REPO / "rubrics", tmp_path / "rubrics")
    return tmp_path


def _edit(relative: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        new = change(path.read_text(encoding="utf-8"))
        assert new != path.read_text(encoding="utf-8"), "the mutation did not change the file"
        path.write_text(new, encoding="utf-8")

    return apply


def _sub(pattern: str, replacement: str) -> Callable[[str], str]:
    return lambda text: re.sub(pattern, replacement, text, count=1, flags=re.MULTILINE)


def _write(relative: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: (root / relative).write_bytes(data)


def _first_question(root: Path, relative: str) -> str:
    front = (root / relative).read_text(encoding="utf-8").split("---")[1]
    question: str = yaml.safe_load(front)["followups"][0]["question"]
    return question


def _duplicate_question(root: Path) -> None:
    source = _first_question(root, "knowledge/topics/cold_start.md")
    target = _first_question(root, "knowledge/topics/calibration.md")
    path = root / "knowledge/topics/calibration.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(target, source.replace('"', "'"), 1), encoding="utf-8")


COLD = "knowledge/topics/cold_start.md"
EVAL = "rubrics/phases/evaluation.yaml"

# (case, how the file is broken, the file named in the message, text the message must contain)
CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    (
        "bad phase id",
        _edit(COLD, _sub(r"^phases: \[\w+", "phases: [modeling")),
        COLD,
        "phases.0: 'modeling' is not a phase id",
    ),
    (
        "unknown field",
        _edit(COLD, _sub(r"^kind: topic$", "kind: topic\nsumary: typo")),
        COLD,
        "sumary: unknown field",
    ),
    (
        "missing section",
        _edit(COLD, _sub(r"^## Typical mistakes$", "## Mistakes")),
        COLD,
        "body: missing or empty section '## Typical mistakes'",
    ),
    ("broken YAML", _edit(COLD, _sub(r"^title: .*$", "title: [unclosed")), COLD, "invalid YAML at line"),
    (
        "unknown problem",
        _edit(COLD, _sub(r"^problems: \[\w+", "problems: [video_recomendation")),
        COLD,
        "problems: unknown problem 'video_recomendation'",
    ),
    (
        "no front matter",
        _write(COLD, b"# Cold start\n\nNo front matter here.\n"),
        COLD,
        "missing YAML front matter",
    ),
    ("invalid UTF-8", _write(COLD, b"---\nkind: topic\ntitle: \xff\xfe\n---\n"), COLD, "not valid UTF-8"),
    (
        "bad topic id",
        _edit(
            "knowledge/problems/video_recommendation.md",
            _sub(r"^critical_topics: \[\w+", "critical_topics: [coldstart"),
        ),
        "knowledge/problems/video_recommendation.md",
        "critical_topics.0: 'coldstart' is not a topic id",
    ),
    (
        "id mismatch",
        lambda r: shutil.copy(r / COLD, r / "knowledge/topics/cold_start_v2.md"),
        "knowledge/topics/cold_start_v2.md",
        "id: 'cold_start' does not match the file name",
    ),
    (
        "missing topic note",
        lambda r: (r / "knowledge/topics/calibration.md").unlink(),
        "knowledge/topics",
        "missing topic file(s) for: calibration",
    ),
    (
        "duplicate question",
        _duplicate_question,
        COLD,  # notes load in name order, so calibration's copy is seen first
        "followups.0.question: the same question is already in topics/calibration.md",
    ),
    (
        "weights do not add up",
        _edit(EVAL, _sub(r"weight: [0-9.]+", "weight: 0.95")),
        EVAL,
        "criterion weights must add up to 1.0",
    ),
    (
        "bad criterion id",
        _edit(EVAL, _sub(r"- id: \w+", "- id: Offline Metrics")),
        EVAL,
        "criteria.0.id: 'Offline Metrics' is not a valid id",
    ),
    (
        "missing level anchor",
        _edit(EVAL, _sub(r"^(\s+)4: ", r"\g<1>5: ")),
        EVAL,
        "levels must have exactly the anchors 1, 2, 3 and 4",
    ),
    (
        "claim cue for a red flag the criterion lacks",
        _edit(EVAL, _sub(r"^      Reports accuracy on a dataset", "      Reports precision on a dataset")),
        EVAL,
        "claim_cues: 'Reports precision on a dataset with a 0.1 percent positive rate.' is not one of",
    ),
    (
        "claim cue that is not a valid expression",
        _edit(EVAL, _sub(r"^(      - )\\b\(measure", r"\g<1>\\b((measure")),
        EVAL,
        "is not a valid expression",
    ),
    (
        "overlay re-weights an unknown criterion",
        _write(
            "rubrics/problems/visual_search.yaml",
            b"problem: visual_search\nphases:\n  evaluation:\n    reweight:\n      no_such_criterion: 0.5\n",
        ),
        "rubrics/problems/visual_search.yaml",
        "phases.evaluation.reweight.no_such_criterion: no such criterion in the evaluation rubric",
    ),
    (
        "overlay gives evidence for an unknown criterion",
        _write(
            "rubrics/problems/visual_search.yaml",
            b"problem: visual_search\nphases:\n  evaluation:\n    evidence:\n      no_such_criterion:\n"
            b"        - Recall at 10 on real phone photos matched to their products by hand.\n",
        ),
        "rubrics/problems/visual_search.yaml",
        "phases.evaluation.evidence.no_such_criterion: no such criterion in the evaluation rubric",
    ),
    (
        "phase rubric sets the overlays' problem evidence",
        _edit(EVAL, _sub(r"^(    red_flags:)", "    problem_evidence: [Recall at 10.]\n\\g<1>")),
        EVAL,
        "criteria.0.problem_evidence: set by problem overlays",
    ),
    (
        "overlay gives an empty evidence list",
        _write(
            "rubrics/problems/visual_search.yaml",
            b"problem: visual_search\nphases:\n  evaluation:\n    evidence:\n      offline_metrics: []\n",
        ),
        "rubrics/problems/visual_search.yaml",
        "every criterion listed needs at least one statement",
    ),
    (
        "overlay for an unknown problem",
        _write(
            "rubrics/problems/music_streaming.yaml",
            b"problem: music_streaming\nphases:\n  evaluation:\n    reweight:\n      offline_metrics: 0.5\n",
        ),
        "rubrics/problems/music_streaming.yaml",
        "problem: unknown problem 'music_streaming'",
    ),
]


@pytest.mark.parametrize(("case", "breaks", "where", "expected"), CASES, ids=[c[0] for c in CASES])
def test_broken_file_is_reported_with_path_and_field(
    content: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    breaks: Callable[[Path], None],
    where: str,
    expected: str,
) -> None:
    breaks(content)
    code = main(
        ["kb", "check", "--knowledge", str(content / "knowledge"), "--rubrics", str(content / "rubrics")]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("mlsd: error: ")
    assert str(content / where) in lines[0], lines[0]
    assert expected in lines[0]


@pytest.mark.real
def test_a_real_process_reports_a_broken_file_without_a_traceback(content: Path) -> None:
    _edit(COLD, _sub(r"^phases: \[\w+", "phases: [modeling"))(content)
    result = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "kb", "check", "--knowledge", str(content / "knowledge")],
        capture_output=True,
        text=True,
        cwd=content,
        env={"PATH": "/usr/bin:/bin", "MLSD_HOME": str(content / "home")},
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"mlsd: error: {content / COLD}: phases.0: 'modeling' is not a phase id "
        "(expected one of: clarify_requirements, frame_problem, data_preparation, model_development, "
        "evaluation, deployment_serving, monitoring)"
    )


def test_a_missing_knowledge_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["kb", "check", "--knowledge", str(tmp_path / "nowhere")])
    assert code == 2
    assert "knowledge folder" in capsys.readouterr().err
