"""Every bundled note and rubric is valid, complete and cross-checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.content.check import check_file
from agent.content.loader import KnowledgeBase, split_sections
from agent.content.units import build_units
from agent.ids import PHASES, REQUIRED_PROBLEMS, TOPICS

from ..conftest import REPO

CONTENT_FILES = sorted(
    [*(REPO / "knowledge").glob("*/*.md"), *(REPO / "rubrics").glob("*/*.yaml")],
    key=lambda p: p.as_posix(),
)


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_each_file_is_valid_on_its_own(path: Path) -> None:
    assert check_file(path)


def test_every_phase_topic_and_required_problem_has_a_note(kb: KnowledgeBase) -> None:
    assert list(kb.phases) == sorted(PHASES) or set(kb.phases) == set(PHASES)
    assert set(kb.topics) == set(TOPICS)
    assert set(REQUIRED_PROBLEMS) <= set(kb.problems)
    assert set(kb.rubrics) == set(PHASES)


def test_every_topic_has_at_least_four_followups_tagged_with_phases(kb: KnowledgeBase) -> None:
    for topic in TOPICS:
        followups = kb.topic_note(topic).followups
        assert len(followups) >= 4, topic
        assert all(f.phases for f in followups)


def test_every_topic_is_probed_in_some_problem_or_phase(kb: KnowledgeBase) -> None:
    """Each topic is critical for some problem or is linked from a rubric criterion."""
    linked = {t for p in kb.problems for t in kb.problem_note(p).critical_topics}
    linked |= {t for r in kb.rubrics.values() for c in r.criteria for t in c.topics}
    assert set(TOPICS) - linked == set()


def test_problems_have_a_curveball_and_a_design_for_every_phase(kb: KnowledgeBase) -> None:
    for problem in kb.problems:
        note = kb.problem_note(problem)
        assert set(note.strong_design) == set(PHASES)
        assert note.curveball.change and note.curveball.topics
        assert len(note.followups) >= 3


@pytest.mark.parametrize("phase", PHASES)
def test_rubric_criteria_are_complete(kb: KnowledgeBase, phase: str) -> None:
    rubric = kb.rubrics[phase]
    assert 3 <= len(rubric.criteria) <= 6
    assert abs(sum(c.weight for c in rubric.criteria) - 1) < 0.01
    for criterion in rubric.criteria:
        assert sorted(criterion.levels) == [1, 2, 3, 4]
        assert len(set(criterion.evidence)) == len(criterion.evidence) >= 3


@pytest.mark.parametrize("problem", REQUIRED_PROBLEMS)
def test_overlays_renormalise_weights(kb: KnowledgeBase, problem: str) -> None:
    for phase in PHASES:
        criteria = kb.rubric_for(problem, phase)
        assert abs(sum(c.weight for c in criteria) - 1) < 1e-9
        assert len({c.id for c in criteria}) == len(criteria)


def test_seed_overlays_add_their_problem_specific_criteria(kb: KnowledgeBase) -> None:
    for problem in ("ad_click_prediction", "payment_fraud_detection"):
        assert problem in kb.overlays, problem
        base = {c.id for phase in PHASES for c in kb.rubrics[phase].criteria}
        overlaid = {c.id for phase in PHASES for c in kb.rubric_for(problem, phase)}
        assert overlaid - base, f"{problem} overlay adds no criterion"


def test_every_followup_is_a_retrievable_unit_with_metadata(kb: KnowledgeBase) -> None:
    units = build_units(kb)
    followups = [u for u in units if u.kind == "followup"]
    expected = sum(len(n.meta.followups) for g in (kb.phases, kb.topics, kb.problems) for n in g.values())
    assert len(followups) == expected
    assert all(u.topic in TOPICS and u.phases and u.source.endswith(".md") for u in followups)
    assert len({u.id for u in units}) == len(units)


def test_sections_are_split_by_level_two_headings() -> None:
    body = "intro\n## One\nfirst\n\n### sub\nmore\n## Two\nsecond"
    assert split_sections(body) == {"One": "first\n\n### sub\nmore", "Two": "second"}
