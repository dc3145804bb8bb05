"""The interviewer as a LangGraph state machine. Assembled here and nowhere else.

start -> wait_for_candidate -> (route_input)
    grade_answer -> (route_after_grade)
        -> ask_followup | challenge_claim | give_hint | spring_curveball | advance_phase
    challenge_claim | give_hint | advance_phase -> wait_for_candidate
    finish -> END
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agent.context import InterviewContext
from agent.nodes.conversation import (
    advance_phase,
    ask_followup,
    challenge_claim,
    give_hint,
    spring_curveball,
    start,
    wait_for_candidate,
)
from agent.nodes.grading import finish, grade_answer
from agent.nodes.routing import route_after_grade, route_input
from agent.state import InterviewInput, InterviewState


def build_graph() -> StateGraph[InterviewState, InterviewContext, InterviewInput, InterviewState]:
    """The uncompiled interview graph; compile it with a checkpointer."""
    builder = StateGraph(InterviewState, context_schema=InterviewContext, input_schema=InterviewInput)
    builder.add_node("start", start)
    builder.add_node("wait_for_candidate", wait_for_candidate)
    builder.add_node("grade_answer", grade_answer)
    builder.add_node("ask_followup", ask_followup)
    builder.add_node("challenge_claim", challenge_claim)
    builder.add_node("give_hint", give_hint)
    builder.add_node("spring_curveball", spring_curveball)
    builder.add_node("advance_phase", advance_phase)
    builder.add_node("finish", finish)

    builder.add_edge(START, "start")
    builder.add_edge("start", "wait_for_candidate")
    builder.add_conditional_edges("wait_for_candidate", route_input)
    builder.add_conditional_edges("grade_answer", route_after_grade)
    for node in ("ask_followup", "challenge_claim", "give_hint", "spring_curveball"):
        builder.add_edge(node, "wait_for_candidate")
    builder.add_conditional_edges("advance_phase", _after_advance)
    builder.add_edge("finish", END)
    return builder


def _after_advance(state: InterviewState) -> str:
    """A phase change waits for the candidate, unless the interview is over."""
    return "finish" if state["phase"] == "done" else "wait_for_candidate"


def compile_graph(checkpointer: Any = None) -> Any:
    """The compiled graph with the given checkpointer (LangGraph Studio loads `graph` below)."""
    return build_graph().compile(checkpointer=checkpointer)


#: For LangGraph Studio (langgraph.json); Studio supplies its own checkpointer.
graph = compile_graph()
