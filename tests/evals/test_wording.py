"""The eval dataset is written the way candidates talk: no rubric wording, no length ladder."""

from __future__ import annotations

from pathlib import Path

from agent.content.loader import load_knowledge_base
from agent.ids import PHASES
from evals.dataset import load_dataset
from evals.wording import COPY_WORDS, copied_runs, rubric_texts, wording_report

REPO = Path(__file__).resolve().parents[2]


def test_no_case_copies_rubric_wording() -> None:
    report = wording_report(load_dataset(), rubric_texts(REPO / "rubrics"))
    for label, (answers, words, run) in report.by_label.items():
        print(f"label {label}: {answers} answers, {words:.0f} words on average, longest rubric run {run}")
    assert not report.copies, f"answers sharing {COPY_WORDS}+ words with a rubric: {report.copies}"


def test_the_check_catches_a_copied_sentence() -> None:
    case = load_dataset(only=["payment_fraud_detection_concise_1"])[0]
    rubric = "With positives at a fraction of a percent, accuracy is meaningless, so I would use PR AUC."
    assert not wording_report([case], [rubric]).copies
    copied = [*rubric_texts(REPO / "rubrics"), case.answers["evaluation"][0]]
    assert wording_report([case], copied).copies


def test_strong_answers_are_not_the_longest() -> None:
    by_label = wording_report(load_dataset(), []).by_label
    strong, weak = by_label[4][1], (by_label[1][1] + by_label[2][1]) / 2
    assert strong <= 2.5 * weak, f"label-4 answers average {strong:.0f} words against {weak:.0f} for 1-2"


def test_model_answers_are_in_their_own_words() -> None:
    """The notes' model answers are shown as what a strong answer sounds like: no rubric wording."""
    kb = load_knowledge_base(REPO / "knowledge", REPO / "rubrics")
    references = rubric_texts(REPO / "rubrics")
    copies = {
        (problem, phase): runs
        for problem in kb.problems
        for phase in PHASES
        if (runs := copied_runs(kb.problem_note(problem).model_answers[phase], references))
    }
    assert not copies, f"model answers sharing {COPY_WORDS}+ words with a rubric: {copies}"
