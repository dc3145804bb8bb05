"""`mlsd grade`, `mlsd followups` and `mlsd interview`: the interviewer without the terminal app."""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from agent.cli.inputs import read_answer, read_answer_script
from agent.cli.output import print_json, settings_from_args, stderr
from agent.engines.registry import add_backend_option, make_engine, resolve_backend
from agent.errors import MlsdError, UsageError, storage_message
from agent.grading.scale import score_text
from agent.ids import LENGTHS, LEVELS, PHASES
from agent.report import report_with_titles
from agent.report_model import CriterionView, ShownReport, to_json


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add `grade`, `followups` and `interview` to the parser."""
    engine = argparse.ArgumentParser(add_help=False)
    group = engine.add_argument_group("engine")
    add_backend_option(group)
    group.add_argument("--model", help="the LLM engine's model (env MLSD_MODEL)")

    grade = commands.add_parser(
        "grade", help="grade one answer against the phase rubric", parents=[common, engine]
    )
    _problem_phase(grade)
    grade.add_argument("--answer-file", required=True, help="the answer (- for standard input)")
    grade.add_argument("--json", action="store_true", help="print the grade as JSON")
    grade.set_defaults(handler=run_grade)

    followups = commands.add_parser(
        "followups", help="the follow-ups an interviewer would ask after an answer", parents=[common, engine]
    )
    _problem_phase(followups)
    followups.add_argument("--answer-file", required=True, help="the answer (- for standard input)")
    followups.add_argument("-k", type=int, default=3, help="number of follow-ups (default 3)")
    followups.add_argument("--json", action="store_true", help="print the follow-ups as JSON")
    followups.set_defaults(handler=run_followups)

    interview = commands.add_parser(
        "interview", help="run a whole interview from scripted answers", parents=[common, engine]
    )
    interview.add_argument("--problem", required=True, help="problem id")
    interview.add_argument("--answers", required=True, help="YAML file: phase ids mapped to lists of answers")
    interview.add_argument("--level", choices=LEVELS, default="senior", help="target level (default senior)")
    interview.add_argument("--length", type=int, choices=LENGTHS, default=45, help="minutes (default 45)")
    interview.add_argument(
        "--session-id", help="use this session id; if it exists (e.g. after a crash), continue that session"
    )
    interview.add_argument("--json", action="store_true", help="print the turns and the report as JSON")
    interview.set_defaults(handler=run_interview)


def _problem_phase(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--problem", required=True, help="problem id")
    parser.add_argument("--phase", required=True, help="phase id")


def _check_ids(kb: Any, problem: str, phase: str | None = None) -> None:
    if problem not in kb.problems:
        raise UsageError(f"unknown problem {problem!r} (expected one of: {', '.join(sorted(kb.problems))})")
    if phase is not None and phase not in PHASES:
        raise UsageError(f"unknown phase {phase!r} (expected one of: {', '.join(PHASES)})")


def _toolkit(args: argparse.Namespace) -> Any:
    from agent.session import load_toolkit

    return load_toolkit(settings_from_args(args))


def run_grade(args: argparse.Namespace) -> int:
    """Grade one answer and print the per-criterion scores with evidence quotes."""
    answer = read_answer(args.answer_file)
    toolkit = _toolkit(args)
    _check_ids(toolkit.kb, args.problem, args.phase)
    engine = make_engine(resolve_backend(args.backend), toolkit, model=args.model)
    criteria = toolkit.kb.rubric_for(args.problem, args.phase)
    grade = engine.grade_answer(args.problem, args.phase, criteria, answer)
    weights = {c.id: c.weight for c in criteria}
    titles = {c.id: c.title for c in criteria}
    score = round(grade.score(weights), 2)
    shown = [CriterionView.of(c, titles[c.id], weights[c.id]) for c in grade.criteria]
    if args.json:
        print_json(
            {
                "problem": args.problem,
                "phase": args.phase,
                "score": score,
                "criteria": [to_json(c) for c in shown],
                "backend": grade.engine,
                "flags": grade.flags,
            }
        )
        return 0
    print(f"{args.problem} / {args.phase}: {score:.2f} of 4 (graded by {grade.engine})")
    for c in shown:
        level = "insufficient evidence" if c.insufficient_evidence else f"{c.score:.0f}/4"
        print(f"\n  {c.title} [{c.id}, weight {c.weight or 0.0:.2f}]: {level}")
        print(f"    {c.rationale}")
        for quote in c.evidence:
            print(f'    > "{quote}"')
    if grade.flags:
        print(f"\n  flags: {', '.join(grade.flags)}")
    return 0


def run_followups(args: argparse.Namespace) -> int:
    """Print the follow-ups an interviewer would ask next, best first."""
    from agent import policy
    from agent.followups import FollowUpSelector, TopicMatcher

    answer = read_answer(args.answer_file)
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    toolkit = _toolkit(args)
    _check_ids(toolkit.kb, args.problem, args.phase)
    criteria = toolkit.kb.rubric_for(args.problem, args.phase)
    # Gaps come from the offline grade: deterministic and free, whichever engine phrases the questions.
    grade = toolkit.grader.grade(args.phase, criteria, answer, args.problem)
    sentences, vectors = toolkit.grader.sentence_vectors(answer)
    seen = TopicMatcher(toolkit.index, toolkit.kb).seen(sentences, vectors)
    # The same rule as the interview's, as if this answer were the interview's first.
    probe = policy.ProbeState(
        gaps=policy.gaps(criteria, policy.coverage(criteria, [grade], args.phase)),
        critical=toolkit.kb.problem_note(args.problem).critical_topics,
        covered=policy.covered_well(criteria, grade.criteria, grade.flags, seen),
        seed="",
    )
    choices = policy.choose_followups(
        FollowUpSelector(toolkit.index, toolkit.kb),
        problem=args.problem,
        phase=args.phase,
        answer_vectors=vectors,
        probe=probe,
        answers=[answer],
        k=args.k,
    )
    if args.json:
        print_json({"followups": [c.as_json() for c in choices]})
        return 0
    for n, choice in enumerate(choices, 1):
        print(f"{n}. {choice.question}")
        print(f"   topic {choice.topic} | {choice.reason.replace('_', ' ')} | {choice.source}")
    return 0


def run_interview(args: argparse.Namespace) -> int:
    """Run a whole interview from a script of answers and print the transcript and the report."""
    from agent.session import Interview, build_context
    from agent.transcript import check_session_id, transcript_path

    if args.session_id is not None:
        check_session_id(args.session_id)  # before the minutes a first index build can take
    script = read_answer_script(args.answers)
    settings = settings_from_args(args)
    toolkit = _toolkit(args)
    _check_ids(toolkit.kb, args.problem)
    backend = resolve_backend(args.backend)
    engine = make_engine(backend, toolkit, model=args.model)
    context = build_context(toolkit, engine, auto_advance=False)
    settings.ensure_home()
    model = getattr(engine, "model", None)
    existing = args.session_id and transcript_path(settings.home, args.session_id).is_file()
    if existing:  # after a crash: continue the same session from where the script stood
        interview = Interview.resume(context, settings.home, args.session_id)
        if interview.values()["problem"] != args.problem:
            raise UsageError(
                f"session {args.session_id!r} is an interview on {interview.values()['problem']!r}, "
                f"not {args.problem!r}"
            )
    else:
        interview = Interview.create(
            context,
            settings.home,
            problem=args.problem,
            level=args.level,
            length=args.length,
            session_id=args.session_id,
            model=model,
            scripted=True,
        )
    if interview.notice:
        stderr().print(f"[yellow]warning:[/] {interview.notice}")
    try:
        interview.play(script)
    except (OSError, sqlite3.Error) as exc:  # a full disk mid-interview: what was saved stays saved
        message = storage_message(exc)
        if message is None:
            raise
        raise MlsdError(
            f"{message}; session {interview.session_id!r} is saved up to its last answer: run the same "
            f"command with --session-id {interview.session_id} to go on"
        ) from None
    values = interview.values()
    stored = interview.report
    if stored is None:  # play() returns only once the interview is finished
        raise MlsdError(f"session {interview.session_id!r} ended without a report")
    report = report_with_titles(stored, toolkit.kb, args.problem)
    turns = [
        {
            "role": t["role"],
            "phase": t["phase"],
            "text": t["text"],
            "kind": t["kind"],
            "engine": t.get("engine"),
        }
        for t in values["turns"]
    ]
    if args.json:
        print_json(
            {
                "session_id": interview.session_id,
                "transcript_path": str(interview.transcript_path),
                "turns": turns,
                "report": to_json(report),
            }
        )
        return 0
    for t in turns:
        if t["kind"] in ("skip", "end"):
            continue
        who = "Interviewer" if t["role"] == "interviewer" else "You"
        print(f"[{t['phase']}] {who}: {t['text']}\n")
    _print_report(report)
    stderr().print(f"Transcript: {interview.transcript_path}")
    return 0


def _print_report(report: ShownReport) -> None:
    print(
        f"Overall: {score_text(report.score)} of 4 -> {report.verdict} "
        f"(level {report.level}, graded by {report.backend})"
    )
    for phase in report.phases:
        print(
            f"  {phase.title:<40} {score_text(phase.score):>12}   "
            f"{phase.minutes:4.1f} of {phase.budget_minutes:.0f} min"
        )
    if report.strengths:
        print("Strengths:")
        for s in report.strengths:
            print(f"  + {s.title} ({s.phase})")
    if report.gaps:
        print("Gaps:")
        for g in report.gaps:
            print(f"  - {g.title} ({g.phase}): solid looks like: {g.what_solid_looks_like}")
    if report.study:
        print("Missed critical topics, notes to study:")
        for note in report.study:
            print(f"  * {note.title}: {note.note}")
