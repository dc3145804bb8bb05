"""`mlsd eval`: the dataset, the metrics, the gate against the committed baseline, the LLM cassettes
and `mlsd eval add`, driven through the real command line.

The suite runs share one MLSD_HOME (index and embedding cache built once per test session).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from scipy.stats import spearmanr

from agent.config import Settings
from agent.ids import PHASES
from agent.llm.stub_server import StubLLMServer
from evals.dataset import DATASET_DIR, load_dataset
from evals.metrics import hit_at_k, pairwise_order, quadratic_weighted_kappa, spearman
from evals.runner import CASSETTES_DIR

REPO = Path(__file__).resolve().parents[2]
SEEDS = {"video_recommendation", "ad_click_prediction", "payment_fraud_detection"}


def mlsd(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `mlsd` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "--home", str(home), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def llm_eval(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mlsd eval` on the LLM engine with the stub model's cassettes."""
    return mlsd(home, "eval", "--backend", "openai", "--model", "stub-model", *args, env=env)


@pytest.fixture(scope="module")
def home(bundled_settings: Settings, index: Any) -> Path:
    """The session's home, whose index is already built."""
    return bundled_settings.home


# ---------------------------------------------------------------------------------------- dataset


def test_the_dataset_covers_what_the_gate_needs() -> None:
    cases = load_dataset()
    assert len(cases) >= 30
    problems = {c.problem for c in cases}
    assert len(problems) >= 6 and problems >= SEEDS
    profiles = {c.labels.profile for c in cases}
    for kind in ("strong", "solid", "weak", "poor", "mixed"):
        assert kind in profiles
    for kind in ("keyword_stuffing", "long_vague", "off_topic", "injection", "hint_seeker"):
        assert kind in profiles
    assert {c.labels.split for c in cases} == {"dev", "test"}
    assert all(c.labels.labelled and len(c.labels.probes) >= 2 for c in cases)
    # Every phase is answered somewhere, and every level 1-4 appears among the labels.
    assert all(any(p in c.answers for c in cases) for p in PHASES)
    assert {s for c in cases for s in c.labels.phases.values()} == {1, 2, 3, 4}
    assert any(
        c.inputs and any(i.action == "hint" or "hint" in i.text.lower() for i in c.inputs) for c in cases
    )


def test_a_bad_labels_file_names_its_path_and_field(tmp_path: Path, home: Path) -> None:
    shutil.copytree(DATASET_DIR / "visual_search_solid", tmp_path / "ds" / "visual_search_solid")
    labels = tmp_path / "ds" / "visual_search_solid" / "labels.yaml"
    data = yaml.safe_load(labels.read_text())
    data["phases"]["evaluation"] = 7
    labels.write_text(yaml.safe_dump(data))
    result = mlsd(home, "eval", "--backend", "offline", "--dataset", str(tmp_path / "ds"))
    assert result.returncode == 2
    assert str(labels) in result.stderr and "phases" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------- metrics


def test_metrics_agree_with_their_definitions() -> None:
    assert quadratic_weighted_kappa([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert quadratic_weighted_kappa([1, 2, 3, 4], [4, 3, 2, 1]) < -0.9
    rng = random.Random(7)
    human = [rng.randint(1, 4) for _ in range(60)]
    engine = [h + rng.uniform(-1.2, 1.2) for h in human]
    assert spearman(human, engine) == pytest.approx(spearmanr(human, engine).statistic, abs=1e-9)
    assert pairwise_order([1, 2, 3], [1.0, 1.0, 3.0]) == pytest.approx((0.5 + 1 + 1) / 3)
    assert hit_at_k([(["cold_start"], ["calibration", "cold_start"])], 1) == 0.0
    assert hit_at_k([(["cold_start"], ["calibration", "cold_start"])], 2) == 1.0


# ---------------------------------------------------------------------------------------- the gate


def test_the_offline_suite_matches_its_committed_baseline(home: Path, tmp_path: Path) -> None:
    junit, page = tmp_path / "eval.xml", tmp_path / "eval.html"
    result = mlsd(home, "eval", "--backend", "offline", "--json", "--junit", str(junit), "--html", str(page))
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads(result.stdout)
    assert run["gate"]["passed"] and run["gate"]["compared_metrics"]
    assert len(run["cases"]) >= 30
    metrics = run["metrics"]
    assert metrics["evidence_validity"] == 1.0 and metrics["phase_flow"] == 1.0
    assert metrics["adversarial_by_profile"]["injection"] <= 2.0
    assert metrics["test"]["within_one"] >= 0.85 and metrics["test"]["spearman"] >= 0.6
    # The clarification matcher is measured and gated in the same run.
    assert metrics["clarifications"]["test"]["questions"] >= 130
    assert metrics["clarifications"]["test"]["accuracy"] >= 0.85
    # Replays are deterministic: the same scores as the committed baseline, case by case.
    baseline = json.loads((REPO / "evals" / "baseline" / "offline.json").read_text())
    for case in run["cases"]:
        assert case["scores"] == baseline["cases"][case["case"]]["scores"], case["case"]
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and len(suite.findall("testcase")) == len(run["cases"]) + 1
    assert "<svg" in page.read_text() and "confusion" in page.read_text()
    assert "Clarifying questions answered right: dev" in page.read_text()


FILLER = "This is placeholder text that says nothing in particular about the system at all."


def _fill(node: Any) -> Any:
    """Every sentence of a rubric replaced by the same filler; ids, weights and topics kept, claim
    cues (keyed by the red flags' own words) dropped."""
    if isinstance(node, dict):
        return {
            k: (v if k in ("id", "phase", "problem", "weight", "topics") else _fill(v))
            for k, v in node.items()
            if k != "claim_cues"
        }
    if isinstance(node, list):
        return [_fill(v) for v in node]
    return FILLER if isinstance(node, str) else node


def test_a_rubric_made_meaningless_is_caught_with_exit_3(home: Path, tmp_path: Path) -> None:
    filler = tmp_path / "rubrics"
    shutil.copytree(REPO / "rubrics", filler)
    for path in filler.rglob("*.yaml"):
        path.write_text(yaml.safe_dump(_fill(yaml.safe_load(path.read_text()))))
    result = mlsd(home, "eval", "--backend", "offline", "--rubrics", str(filler), "--json")
    assert result.returncode == 3, result.stderr[-2000:]
    gate = json.loads(result.stdout)["gate"]
    failed = {e["metric"] for e in gate["regressions"] if e["kind"] == "metric"}
    assert len(failed) >= 3 and any(m.startswith("test.") for m in failed), failed
    assert any(e["kind"] == "case" for e in gate["regressions"])


# ---------------------------------------------------------------------------------------- LLM cassettes


def test_the_llm_engine_replays_from_cassettes_with_no_server(home: Path) -> None:
    result = llm_eval(home, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads(result.stdout)
    assert run["gate"]["passed"] and run["mode"] == "replay"
    assert run["metrics"]["usage"]["prompt_tokens"] > 0
    assert run["metrics"]["adversarial_by_profile"]["injection"] <= 2.0  # the engine caps what a model obeys
    assert all(
        engine.startswith("openai:")
        for c in run["cases"]
        for engine in c["graded_by"].values()
        if engine != "none"
    )


def test_a_request_with_no_recording_fails_loudly(home: Path, tmp_path: Path) -> None:
    case = "visual_search_solid"
    cassette = CASSETTES_DIR / "openai-stub-model" / f"{case}.json"
    document = json.loads(cassette.read_text())
    first = sorted(document["entries"])[0]
    del document["entries"][first]
    copy = tmp_path / "cassettes" / "openai-stub-model" / f"{case}.json"
    copy.parent.mkdir(parents=True)
    copy.write_text(json.dumps(document))
    result = llm_eval(
        home,
        "--case",
        case,
        "--cassettes",
        str(tmp_path / "cassettes"),
    )
    assert result.returncode == 1
    assert "no recording" in result.stderr and "--record" in result.stderr
    assert "Traceback" not in result.stderr


def test_recording_keeps_successes_only_and_never_the_key(home: Path, tmp_path: Path) -> None:
    from agent.llm.stub_server import Fault

    case = "visual_search_poor"
    with StubLLMServer() as server:
        server.enqueue(Fault(status=503))  # retried by the engine; the error is not recorded
        result = llm_eval(
            home,
            "--record",
            "--case",
            case,
            "--cassettes",
            str(tmp_path / "cassettes"),
            env={"OPENAI_API_KEY": "sk-secret-never-recorded", "OPENAI_BASE_URL": server.base_url},
        )
    assert result.returncode == 0, result.stderr[-2000:]
    recorded = (tmp_path / "cassettes" / "openai-stub-model" / f"{case}.json").read_text()
    assert "sk-secret-never-recorded" not in recorded and "authorization" not in recorded.lower()
    entries = json.loads(recorded)["entries"]
    assert entries and all(e["status"] == 200 for e in entries.values())
    # The fresh recording replays with no server and gives the committed scores.
    replay = llm_eval(
        home,
        "--case",
        case,
        "--cassettes",
        str(tmp_path / "cassettes"),
        "--json",
    )
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert json.loads(replay.stdout)["gate"]["passed"]


# ---------------------------------------------------------------------------------------- eval add


def test_a_saved_session_joins_the_dataset_and_replays_to_the_same_grades(home: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    source = yaml.safe_load((DATASET_DIR / "visual_search_poor" / "labels.yaml").read_text())
    assert source["profile"] == "poor"
    script = load_dataset(DATASET_DIR, ["visual_search_poor"])[0].answers
    answers.write_text(yaml.safe_dump(script))
    interview = mlsd(
        home,
        "interview",
        "--backend",
        "offline",
        "--problem",
        "visual_search",
        "--answers",
        str(answers),
        "--json",
    )
    assert interview.returncode == 0, interview.stderr[-2000:]
    recorded = json.loads(interview.stdout)
    dataset = tmp_path / "dataset"
    added = mlsd(
        home,
        "eval",
        "add",
        recorded["session_id"],
        "--name",
        "my_session",
        "--dataset",
        str(dataset),
        "--json",
    )
    assert added.returncode == 0, added.stderr
    folder = dataset / "my_session"
    labels = yaml.safe_load((folder / "labels.yaml").read_text())
    assert labels["phases"] == dict.fromkeys(PHASES) and labels["split"] == "dev"
    header = json.loads((folder / "transcript.jsonl").read_text().splitlines()[0])
    assert header["event"] == "session" and "knowledge_dir" not in header
    again = mlsd(
        home, "eval", "add", recorded["session_id"], "--name", "my_session", "--dataset", str(dataset)
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    run = mlsd(
        home,
        "eval",
        "--backend",
        "offline",
        "--dataset",
        str(dataset),
        "--baseline-dir",
        str(tmp_path / "b"),
        "--json",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    document = json.loads(run.stdout)
    assert document["gate"] is None and document["metrics"]["all"]["n"] == 0  # unlabelled: not in agreement
    replayed = document["cases"][0]["scores"]
    original = {p["phase"]: round(p["score"], 3) for p in recorded["report"]["phases"] if p["assessed"]}
    assert replayed == original
