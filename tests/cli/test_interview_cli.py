"""`mlsd grade`, `mlsd followups` and `mlsd interview` as docs/interfaces.md describes them, both engines."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.cli.main import main
from agent.config import LLMSettings, Settings
from agent.grading.scale import VERDICTS
from agent.ids import PHASES
from agent.llm.stub_server import StubLLMServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = ["video_recommendation", "ad_click_prediction", "payment_fraud_detection"]
ANSWER = (
    "I'd use a time-based split: train on weeks 1-8 and test on week 9, because a random split leaks "
    "future behaviour. Fraud is 0.1% of transactions, so I'd report precision at 80% recall rather than "
    "accuracy, and weight errors by amount since a missed $5,000 fraud costs more than a declined $5 sale."
)


@pytest.fixture
def home(bundled_settings: Settings, toolkit: Any) -> str:
    """The session's home, whose index is already built."""
    return str(bundled_settings.home)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def answer_file(tmp_path: Path, text: str | bytes, name: str = "answer.txt") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def test_grade_json_has_spec_shape(home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "grade",
        "--problem",
        "payment_fraud_detection",
        "--phase",
        "evaluation",
        "--answer-file",
        answer_file(tmp_path, ANSWER),
        "--json",
        "--home",
        home,
    )
    assert code == 0
    grade = json.loads(out)
    assert grade["problem"] == "payment_fraud_detection" and grade["phase"] == "evaluation"
    assert grade["backend"] == "offline" and 1 <= grade["score"] <= 4
    assert len(grade["criteria"]) >= 4
    for criterion in grade["criteria"]:
        assert isinstance(criterion["id"], str) and isinstance(criterion["rationale"], str)
        assert isinstance(criterion["score"], float) and 1 <= criterion["score"] <= 4
        assert all(quote in ANSWER for quote in criterion["evidence"])
    assert any(c["score"] >= 3 for c in grade["criteria"])


def test_grade_reads_standard_input(
    home: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ANSWER.encode())))
    code, out, _ = run(
        capsys,
        "grade",
        "--problem",
        "payment_fraud_detection",
        "--phase",
        "evaluation",
        "--answer-file",
        "-",
        "--home",
        home,
    )
    assert code == 0 and out.startswith("payment_fraud_detection / evaluation:") and '> "' in out


@pytest.mark.parametrize(
    ("problem", "phase", "text", "expected"),
    [
        (
            "video_recommendation",
            "model_development",
            "Two stages: a two-tower retrieval model trained on watch history pulls 1,000 candidates "
            "from an ANN index, then a multi-task ranker predicts click and watch time, and we blend "
            "the heads into one score. I'd train daily on the last 30 days of logs.",
            # The funnel is named; what the ranker learns from (its negatives, its objective) is
            # not, and that uncovered criterion's topics come first (issue 12's order).
            ("negative_sampling", "negative"),
        ),
        (
            "ad_click_prediction",
            "model_development",
            "We have 10 billion impressions a day, so I'd keep only 5% of the non-clicks to make "
            "training affordable, and train a logistic regression on hashed feature crosses, then move "
            "to a deep cross network once the pipeline works.",
            ("calibration", "calibrat"),
        ),
    ],
    ids=["recommender-silent-on-its-negatives", "ads-downsampled"],
)
def test_followups_probe_what_the_answer_skipped(
    home: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    problem: str,
    phase: str,
    text: str,
    expected: tuple[str, str],
) -> None:
    code, out, _ = run(
        capsys,
        "followups",
        "--problem",
        problem,
        "--phase",
        phase,
        "--answer-file",
        answer_file(tmp_path, text),
        "-k",
        "3",
        "--json",
        "--home",
        home,
    )
    assert code == 0
    followups = json.loads(out)["followups"]
    assert len(followups) == 3
    for f in followups:
        assert set(f) >= {"question", "topic", "source"} and f["question"].endswith("?")
        assert f["source"].endswith(".md")
    assert len({f["topic"] for f in followups}) == 3
    # The skipped topic is probed: by a question of that topic, or one whose point is that topic.
    topic, words = expected
    assert any(f["topic"] == topic or words in (f["question"] + f["look_for"]).lower() for f in followups), (
        followups
    )


def _interview(
    capsys: pytest.CaptureFixture[str], home: str, problem: str, kind: str, *extra: str
) -> dict[str, Any]:
    code, out, err = run(
        capsys,
        "interview",
        "--problem",
        problem,
        "--answers",
        str(FIXTURES / "interviews" / f"{problem}_{kind}.yaml"),
        "--json",
        "--home",
        home,
        *extra,
    )
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def _check_spec_shape(document: dict[str, Any], backend: str) -> None:
    assert set(document) >= {"session_id", "transcript_path", "turns", "report"}
    assert Path(document["transcript_path"]).is_file()
    assert all(
        t["role"] in ("interviewer", "candidate") and isinstance(t["text"], str) for t in document["turns"]
    )
    report = document["report"]
    assert report["verdict"] in VERDICTS and 1 <= report["score"] <= 4
    assert [p["phase"] for p in report["phases"]] == list(PHASES)
    for phase in report["phases"]:
        assert isinstance(phase["minutes"], float) and 1 <= phase["score"] <= 4
        assert all(set(c) >= {"id", "score", "evidence", "rationale"} for c in phase["criteria"])
    assert isinstance(report["missed_topics"], list) and report["backend"] == backend


@pytest.mark.parametrize("problem", SEEDS)
def test_offline_interview_separates_strong_from_weak(
    home: str, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    strong = _interview(capsys, home, problem, "strong", "--backend", "offline")
    weak = _interview(capsys, home, problem, "weak", "--backend", "offline")
    for document in (strong, weak):
        _check_spec_shape(document, "offline")
    gap = strong["report"]["score"] - weak["report"]["score"]
    print(f"{problem}: strong {strong['report']['score']} weak {weak['report']['score']}")
    assert gap >= 1.0
    assert VERDICTS.index(strong["report"]["verdict"]) >= VERDICTS.index(weak["report"]["verdict"]) + 2
    assert len(weak["report"]["missed_topics"]) > len(strong["report"]["missed_topics"])


@pytest.mark.parametrize("problem", SEEDS)
def test_llm_interview_end_to_end_against_a_local_server(
    home: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, problem: str
) -> None:
    with StubLLMServer(rejects={"json_schema"}) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-4242")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        strong = _interview(capsys, home, problem, "strong", "--model", "stub-model")
        weak = _interview(capsys, home, problem, "weak", "--model", "stub-model")
        assert all(
            r["headers"].get("authorization") == "Bearer sk-test-SECRET-4242" for r in server.state.requests
        )
    for document in (strong, weak):
        _check_spec_shape(document, "openai:stub-model")
        assert all(
            t["engine"] == "openai:stub-model" for t in document["turns"] if t["role"] == "interviewer"
        )
        transcript = Path(document["transcript_path"]).read_text(encoding="utf-8")
        assert "SECRET" not in transcript and '"prompt_versions": {"interviewer": "' in transcript
    assert strong["report"]["usage"]["calls"] > 10 and strong["report"]["usage"]["prompt_tokens"] > 0
    assert strong["report"]["score"] - weak["report"]["score"] >= 1.0


def test_transcript_is_readable_json_lines(home: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = _interview(capsys, home, "payment_fraud_detection", "weak", "--backend", "offline")
    events = [
        json.loads(line)
        for line in Path(document["transcript_path"]).read_text(encoding="utf-8").splitlines()
    ]
    assert events[0]["event"] == "session" and events[0]["problem"] == "payment_fraud_detection"
    assert events[0]["engine"] == "offline" and events[-1]["event"] == "report"
    turns = [e for e in events if e["event"] == "turn"]
    assert len(turns) == len(document["turns"]) and all("phase" in t and "at_s" in t for t in turns)
    assert sum(e["event"] == "phase" for e in events) == len(PHASES)
    assert (Path(document["transcript_path"]).stat().st_mode & 0o777) == 0o600


BAD_INPUTS: list[tuple[str, bytes | None, list[str], str]] = [
    ("missing file", None, [], "no such file"),
    ("empty", b"", [], "the answer is empty"),
    ("whitespace only", b"  \n\t \n", [], "the answer is empty"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00", [], "binary data, not text"),
    ("invalid UTF-8", b"caf\xe9 au lait", [], "not valid UTF-8 text"),
    (
        "2 MB paste",
        b"word " * 400_000,
        [],
        "the answer is too long (2,000,000 characters; the limit is 20,000)",
    ),
    ("unknown problem", b"an answer", ["--problem", "music_streaming"], "unknown problem 'music_streaming'"),
    ("unknown phase", b"an answer", ["--phase", "modeling"], "unknown phase 'modeling'"),
]


@pytest.mark.parametrize(
    ("case", "content", "override", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_to_grade_is_one_line_and_exit_2(
    home: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    content: bytes | None,
    override: list[str],
    message: str,
) -> None:
    path = answer_file(tmp_path, content) if content is not None else str(tmp_path / "missing.txt")
    argv = {"--problem": "video_recommendation", "--phase": "evaluation"}
    for flag, value in zip(override[::2], override[1::2], strict=True):
        argv[flag] = value
    code, out, err = run(
        capsys,
        "grade",
        *[x for kv in argv.items() for x in kv],
        "--answer-file",
        path,
        "--json",
        "--home",
        home,
    )
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


SCRIPT_ERRORS = [
    ("broken YAML", "clarify_requirements:\n  - [unclosed\n", "invalid YAML at line"),
    ("unknown phase", "modeling:\n  - an answer\n", "unknown phase 'modeling'"),
    ("answer not text", "evaluation:\n  - {metric: auc}\n", "evaluation.0: an answer must be text"),
    ("empty answer", "evaluation:\n  - '   '\n", "evaluation.0: the answer is empty"),
    ("not a mapping", "- just\n- a list\n", "expected a mapping of phase ids"),
    ("nested too deeply", "clarify_requirements: " + "[" * 5000 + "]" * 5000, "is nested too deeply"),
    (
        "a phase twice",  # plain YAML keeps the last one and drops the first one's answers
        "clarify_requirements:\n  - Who are the users?\nevaluation:\n  - AUC.\n"
        "clarify_requirements:\n  - How many queries per second?\n",
        "line 5: 'clarify_requirements' appears twice (lines 1 and 5)",
    ),
]


@pytest.mark.parametrize(("case", "script", "message"), SCRIPT_ERRORS, ids=[s[0] for s in SCRIPT_ERRORS])
def test_bad_answer_scripts_are_one_line_and_exit_2(
    home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, script: str, message: str
) -> None:
    path = answer_file(tmp_path, script, "script.yaml")
    code, out, err = run(
        capsys, "interview", "--problem", "video_recommendation", "--answers", path, "--home", home
    )
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_openai_backend_without_a_key_says_what_to_set(
    home: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "grade",
        "--problem",
        "video_recommendation",
        "--phase",
        "evaluation",
        "--backend",
        "openai",
        "--answer-file",
        answer_file(tmp_path, ANSWER),
        "--home",
        home,
    )
    assert code == 2 and out == "" and "needs OPENAI_API_KEY" in err and "--backend offline" in err


@pytest.mark.parametrize("command", ["grade", "interview"])
@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf", "soon"])
def test_a_timeout_that_is_no_time_is_refused_naming_the_variable(
    home: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    timeout: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # never reached
    monkeypatch.setenv("MLSD_LLM_TIMEOUT", timeout)
    inputs = (
        ["--phase", "evaluation", "--answer-file", answer_file(tmp_path, ANSWER)]
        if command == "grade"
        else ["--answers", answer_file(tmp_path, f"evaluation:\n  - {json.dumps(ANSWER)}\n", "script.yaml")]
    )
    code, out, err = run(
        capsys, command, "--problem", "video_recommendation", *inputs, "--backend", "openai", "--home", home
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"MLSD_LLM_TIMEOUT must be a number of seconds above 0, such as 60 or 2.5, not '{timeout}'" in err


def test_a_timeout_in_seconds_is_taken() -> None:
    env = {"OPENAI_API_KEY": "sk-test", "MLSD_LLM_TIMEOUT": " 2.5 "}
    assert LLMSettings.from_env(env).timeout_s == 2.5
    assert LLMSettings.from_env({"OPENAI_API_KEY": "sk-test"}).timeout_s == 60.0
