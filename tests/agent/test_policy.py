"""The interview's rules on the graph: wrong claims, clarifying turns, wording, variety, covered ground."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from agent import policy
from agent.engines.base import TurnPlan
from agent.engines.offline import compose_turn, load_templates
from agent.followups import Candidate
from agent.ids import PHASE_MINUTES, PHASE_TITLES, PHASES
from agent.session import Interview, build_context

FRAUD = "payment_fraud_detection"
#: From evals/dataset/payment_fraud_detection_subtle_error_1: ROC-AUC defended as fair at 0.1%.
WRONG_CLAIM = (
    "Metric-wise I'd use ROC-AUC as the headline, since it doesn't depend on the fraud rate, which makes "
    "it a fair metric at a 0.1% positive rate. Plus precision and recall at the chosen thresholds, sliced "
    "by merchant category."
)
DECENT = (
    "I'd optimise long-term watch time per daily user, because clicks alone reward clickbait. "
    "We have about 200M daily users and 1B videos, so retrieval has to be approximate, and the feed "
    "needs to come back in under 200 ms at the 99th percentile."
)
TEMPLATES = load_templates()


def _new(toolkit: Any, home: Path, problem: str = FRAUD, **kwargs: Any) -> Interview:
    context = build_context(toolkit, auto_advance=kwargs.pop("auto_advance", False))
    return Interview.create(context, home, problem=problem, checkpointer=InMemorySaver(), **kwargs)


def _skip_to(interview: Interview, phase: str) -> None:
    while interview.values()["phase"] != phase:
        interview.send(action="skip")


def test_a_wrong_claim_is_challenged_quoting_it_once(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    _skip_to(interview, "evaluation")
    (reply,) = [t for t in interview.send(WRONG_CLAIM, seconds=30) if t["role"] == "interviewer"]
    assert reply["kind"] == "challenge"
    quote = reply["quote"].removesuffix(" ...")
    assert quote and quote in WRONG_CLAIM and f'"{reply["quote"]}"' in reply["text"]
    # the same claim again is not challenged twice: the interview moves on to a question
    (again,) = [t for t in interview.send(WRONG_CLAIM, seconds=30) if t["role"] == "interviewer"]
    assert again["kind"] != "challenge"


TWO_CLAIMS = (
    "Deep learning always beats trees on this kind of data, so I'd go straight to a two-tower model. "
    "At request time it scores all 7M listings against the anchor listing and keeps the top 10."
)


def test_two_wrong_claims_of_one_answer_are_challenged_together(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path, problem="similar_listings")
    _skip_to(interview, "model_development")
    (reply,) = [t for t in interview.send(TWO_CLAIMS, seconds=30) if t["role"] == "interviewer"]
    assert reply["kind"] == "challenge"
    assert len(reply["quotes"]) == 2 and reply["quotes"][0] == reply["quote"]
    for quote in reply["quotes"]:
        assert quote.removesuffix(" ...") in TWO_CLAIMS and f'"{quote}"' in reply["text"]
    assert any("always beats trees" in q for q in reply["quotes"])
    assert any("scores all 7M listings" in q for q in reply["quotes"])
    assert len(interview.values()["challenged"]) == 2


def test_claims_to_challenge_takes_two_new_ones_with_different_words() -> None:
    a, b, c = (policy.Claim(f"c{i}", f"flag {i}", f"quote {i}", None) for i in range(3))
    same_words = policy.Claim("c9", "flag 9", "quote 0", None)
    assert policy.claims_to_challenge([a, same_words, b, c], []) == [a, b]
    assert policy.claims_to_challenge([a, b, c], ["flag 0"]) == [b, c]
    assert policy.claims_to_challenge([a, a], []) == [a]
    assert policy.claims_to_challenge([a, b], ["flag 0", "flag 1"]) == []


def test_a_turn_of_clarifying_questions_is_answered_and_uses_no_followup(
    toolkit: Any, tmp_path: Path
) -> None:
    interview = _new(toolkit, tmp_path, auto_advance=True)
    # Short, so the stuck rule would have answered it with a hint.
    turns = interview.send("What is the latency budget?", seconds=10)
    reply = turns[-1]
    assert reply["kind"] == "followup" and "latency budget" in reply["text"]
    assert interview.values()["followups_in_phase"] == 0
    interview.send(DECENT, seconds=10)
    assert interview.values()["followups_in_phase"] == 1


def test_followup_acknowledgement_follows_the_grade() -> None:
    def ack(tone: str) -> str:
        plan = TurnPlan(
            kind="followup", phase=PHASES[0], phase_title="", problem_title="", question="Q?", tone=tone
        )
        return compose_turn(TEMPLATES, plan).split("\n\n")[0]

    assert all(ack("solid") in TEMPLATES.followup_ack["solid"] for _ in range(3))
    assert ack("weak") in TEMPLATES.followup_ack["weak"]
    assert not set(TEMPLATES.followup_ack["solid"]) & set(TEMPLATES.followup_ack["weak"])


def test_a_vague_answer_gets_a_neutral_acknowledgement(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    vague = "I think we should just make the system good and fast, and users will like it a lot overall."
    reply = interview.send(vague, seconds=20)[-1]
    assert reply["kind"] == "followup"
    assert reply["text"].split("\n\n")[0] in TEMPLATES.followup_ack["weak"]


def _transition(turns: list[Any]) -> str:
    opening = next(t for t in turns if t["kind"] == "opening")
    return str(opening["text"].split("\n\n")[0])


def test_time_to_move_on_only_when_the_time_is_up(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path, auto_advance=True)
    budget_s = PHASE_MINUTES[45][PHASES[0]] * 60
    line = _transition(interview.send(DECENT, seconds=budget_s + 1))
    assert line in [t.format(phase_title=PHASE_TITLES[PHASES[1]]) for t in TEMPLATES.transition["time"]]
    assert PHASE_TITLES[PHASES[1]] in line  # as written: "Frame it as an ML problem"


def test_running_out_of_followups_is_not_called_time(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path, auto_advance=True)
    turns: list[Any] = []
    for _ in range(8):
        turns = interview.send("We could log some things and look at them later on.", seconds=5)
        if any(t["kind"] == "opening" for t in turns):
            break
    line = _transition(turns)
    assert "Time to move on" not in line and "at time" not in line
    assert PHASE_TITLES[PHASES[1]] in line


def test_skipping_ahead_and_an_early_wrap_up_say_so(toolkit: Any, tmp_path: Path) -> None:
    interview = _new(toolkit, tmp_path)
    line = _transition(interview.send(action="skip"))
    assert line in [t.format(phase_title=PHASE_TITLES[PHASES[1]]) for t in TEMPLATES.transition["skipped"]]
    _skip_to(interview, "wrap_up")
    wrap = interview.values()["turns"][-1]
    assert wrap["kind"] == "wrap_up" and wrap["text"] in TEMPLATES.wrap_up["early"]


def test_wording_is_seeded_by_the_session(toolkit: Any, tmp_path: Path) -> None:
    def first_words(session_id: str, home: Path) -> str:
        return str(_new(toolkit, home, session_id=session_id).values()["turns"][0]["text"])

    same = {first_words("same-id", tmp_path / f"run{n}") for n in range(2)}
    assert len(same) == 1  # a replay of a session repeats it
    others = {first_words(f"session-{n}", tmp_path / "others") for n in range(6)}
    assert len(others) > 1  # new sessions of the same problem differ


def _candidate(unit: str, topic: str, relevance: float, *, specific: bool = False) -> Candidate:
    return Candidate(unit, f"{topic}?", topic, "note.md", "", relevance, specific, False)


#: Round weights, so each expectation below can be checked by hand.
WEIGHTS = policy.FollowupWeights(
    relevance=1.0, gap=0.4, gap_primary=0.1, critical=0.3, problem_specific=0.05, phase_note=0.0, repeat=0.5
)


def test_followups_skip_covered_ground_and_weigh_gaps_critical_topics_and_depth() -> None:
    candidates = [
        _candidate("a", "delayed_labels", 0.9),  # covered well already: never asked
        _candidate("b", "feature_engineering", 0.5),  # depth only: 0.5
        _candidate("c", "class_imbalance", 0.1),  # secondary topic of a light gap: 0.1 + 0.2 = 0.3
        _candidate("d", "adversarial_actors", 0.2, specific=True),  # critical, own: 0.2 + 0.3 + 0.05
        _candidate("e", "data_leakage", 0.1),  # the heaviest gap's own topic: 0.1 + 0.4 + 0.1 = 0.6
        _candidate("f", "retraining", 0.7),  # raised clearly but probed once already: 0.7 - 0.5
    ]
    probe = policy.ProbeState(
        gaps={"data_leakage": policy.Gap(1.0, True), "class_imbalance": policy.Gap(0.5, False)},
        critical=["adversarial_actors", "delayed_labels"],
        covered=["delayed_labels"],
        seed="s",
        probed=["retraining"],
    )
    ranked = policy.rank_followups(candidates, probe, k=5, weights=WEIGHTS)
    assert [c.topic for c in ranked] == [
        "data_leakage",
        "adversarial_actors",
        "feature_engineering",
        "class_imbalance",
        "retraining",
    ]
    assert [c.reason for c in ranked[:3]] == ["gap", "critical_topic", "dig_deeper"]


def test_gaps_weigh_the_uncovered_criteria_heaviest_first(kb: Any) -> None:
    real = kb.rubric_for(FRAUD, "evaluation")[:3]
    heavy, light, done = (
        c.model_copy(update={"weight": w, "topics": t})
        for c, w, t in zip(
            real,
            (4.0, 1.0, 2.0),
            (["ab_testing", "delayed_labels"], ["class_imbalance", "ab_testing"], ["calibration"]),
            strict=True,
        )
    )
    found = policy.gaps([light, done, heavy], {done.id: 3.0, light.id: 2.0})
    assert found == {
        "ab_testing": policy.Gap(1.0, True),  # the heavier criterion names it first
        "delayed_labels": policy.Gap(1.0, False),
        "class_imbalance": policy.Gap(0.25, True),
    }
    assert policy.gaps([heavy, light], {heavy.id: 3.0, light.id: 4.0}) == {}


def test_the_committed_followup_weights_were_fitted() -> None:
    weights = policy.load_followup_weights()
    assert weights.fitted.get("command") == "python -m evals.fit_followups"
    assert weights.fitted.get("split") == "dev"


def test_covered_well_needs_the_topic_raised_and_a_solid_criterion(kb: Any) -> None:
    from agent.grading.models import CriterionGrade

    criteria = kb.rubric_for(FRAUD, "data_preparation")
    first, second = criteria[0], criteria[1]
    grade = [
        CriterionGrade(id=first.id, score=3.0, rationale=""),
        CriterionGrade(id=second.id, score=2.0, rationale=""),
    ]
    raised = [first.topics[0], *[t for t in second.topics if t not in first.topics][:1]]
    assert policy.covered_well(criteria, grade, [], raised) == [first.topics[0]]
    assert policy.covered_well(criteria, grade, ["vague"], raised) == []
    assert policy.covered_before([(3, ["a"]), (7, ["b"])], latest=7) == ["a"]


def test_excerpt_is_short_and_sanitised() -> None:
    text = 'We use <b>accuracy</b> "always" {x}\n' + "word " * 30
    out = policy.excerpt(text)
    assert (
        not set(out) & set('<>{}"\n') and out.endswith(" ...") and len(out.split()) <= policy.QUOTE_WORDS + 1
    )


def test_a_claim_near_a_red_flag_is_challenged_without_capping_the_grade(toolkit: Any) -> None:
    # Close to "Ignores latency for a system that answers users in real time." (similarity about
    # 0.63) in no cued wording: above the challenge bar, below the cap's, so the interviewer asks
    # but the grade is not held.
    answer = "Everything is precomputed overnight, so latency is not something we have to think about."
    criteria = toolkit.kb.rubric_for("news_feed_ranking", "deployment_serving")
    grader = toolkit.grader
    assert grader.params.challenge < grader.params.red_flag
    features = grader.features("deployment_serving", criteria, answer, "news_feed_ranking")
    claims = policy.asserted_claims(criteria, features)
    assert [c.quote for c in claims][:1] == [answer.rstrip(".")]
    assert "latency" in claims[0].statement
    assert all(f.red_flag is None for f in features.criteria)
    grade = grader.grade("deployment_serving", criteria, answer, "news_feed_ranking")
    assert not any("red flag" in c.rationale for c in grade.criteria)


def test_a_claim_in_a_cued_wording_is_challenged_and_caps_the_grade(toolkit: Any) -> None:
    # Meaning alone puts it below the cap's bar; the rubric's cue for "higher AUC means ..." states
    # the pitfall in so many words, so it counts as stated.
    answer = "Offline I'd use AUC on a held-out set, since higher AUC means a better model."
    criteria = toolkit.kb.rubric_for("ad_click_prediction", "evaluation")
    features = toolkit.grader.features("evaluation", criteria, answer, "ad_click_prediction")
    claims = policy.asserted_claims(criteria, features)
    assert [c.quote for c in claims][:1] == ["since higher AUC means a better model"]
    assert "AUC" in claims[0].statement
    grade = toolkit.grader.grade("evaluation", criteria, answer, "ad_click_prediction")
    capped = [c for c in grade.criteria if "red flag" in c.rationale]
    assert capped and all(c.score is not None and c.score <= 2.0 for c in capped)


def test_a_rejected_red_flag_is_not_challenged(toolkit: Any) -> None:
    answer = "I would not pick the model with the higher AUC without checking calibration first."
    criteria = toolkit.kb.rubric_for("ad_click_prediction", "evaluation")
    features = toolkit.grader.features("evaluation", criteria, answer, "ad_click_prediction")
    assert policy.asserted_claims(criteria, features) == []
