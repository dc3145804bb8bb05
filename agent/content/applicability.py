"""When a follow-up or curveball can be asked: problem kinds, presupposed design elements, kind vocabulary.

Three small closed vocabularies, kept in code so that content files can only refer to them:

- ``PROBLEM_KINDS``: what sort of system a problem is. A problem note lists its kinds; a follow-up lists the
  kinds it fits and is asked only on problems that share one of them.
- ``ELEMENTS``: design elements a question may take for granted ("your user embeddings ..."). Each has
  trigger patterns; a question that presupposes an element is asked only once an answer mentioned it.
- ``KIND_VOCABULARY``: words that only make sense for one kind of problem ("chargeback", "auction").
  Nothing shown on a problem (follow-up, curveball, hint) may use another kind's vocabulary.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

#: Problem kinds, id -> what it means. Every problem is `ranking` or `classification` (or both).
PROBLEM_KINDS: dict[str, str] = {
    "ranking": "orders many candidate items per request out of a large corpus",
    "recommendation": "personalised ranking with no explicit query: the user's history is the query",
    "search": "ranking driven by an explicit query (text or image)",
    "ads": "paid items ranked through an auction; advertisers, bids and budgets",
    "classification": "one decision per event or item (allow, block, review); no candidate set to rank",
    "fraud": "decisions on payments, with chargebacks, issuers and merchants",
    "moderation": "user content classified against a policy, with human review and appeals",
}

#: Design elements a question can presuppose, id -> trigger patterns (regex, matched after a word start).
ELEMENTS: dict[str, tuple[str, ...]] = {
    "candidate_generation": (
        r"candidate (generat|source|retriev|set)",
        r"retriev",
        r"two tower",
        r"shortlist",
        r"recall stage",
    ),
    "multi_stage_funnel": (
        r"(multi|two|three) stage",
        r"funnel",
        r"(light|heavy|first|second|final) (stage|ranker)",
        r"pre ?rank",
        r"re ?rank",
        r"cascade",
    ),
    "embeddings": (r"embedding", r"embed\b", r"vector representation", r"two tower", r"encoder"),
    "ann_index": (
        r"ann\b",
        r"approximate nearest",
        r"nearest neighbou?r",
        r"hnsw",
        r"faiss",
        r"scann",
        r"vector (index|database|db|store|search)",
    ),
    "deep_model": (
        r"neural",
        r"deep",
        r"dnn",
        r"transformer",
        r"bert",
        r"mlp",
        r"cnn",
        r"gru",
        r"lstm",
        r"sequence model",
    ),
    "streaming_features": (
        r"stream",
        r"kafka",
        r"flink",
        r"(real time|near real time|online) (feature|aggregat|counter)",
        r"velocity",
    ),
    "batch_precompute": (
        r"precomput",
        r"pre comput",
        r"nightly",
        r"(daily|offline) batch",
        r"batch (job|scor)",
    ),
    "human_review": (
        r"human",
        r"review (queue|team)",
        r"manual review",
        r"reviewer",
        r"moderator",
        r"rater",
        r"annotat",
        r"label(l)?er",
    ),
    "multi_task": (r"multi ?task", r"(multiple|several|separate) heads", r"multi head"),
    "exploration": (r"explor", r"bandit", r"epsilon", r"thompson", r"randomi[sz]ed (slice|traffic|bucket)"),
}

#: Words specific to one kind of problem, as regexes matched after a word start.
KIND_VOCABULARY: dict[str, tuple[str, ...]] = {
    "ranking": (r"candidate generat", r"ranker", r"re ?rank", r"funnel", r"retrieval stage", r"ranked list"),
    "recommendation": (r"home feed", r"news feed", r"watch time", r"recommender", r"user item"),
    "search": (
        r"search (query|queries|result|box)",
        r"query understanding",
        r"typed quer(y|ies)",
        r"searcher",
    ),
    "ads": (r"ads\b", r"advertis", r"auction", r"bid(s|ding|der)?\b", r"pctr", r"budget pacing", r"campaign"),
    "classification": (r"false decline", r"approve or decline"),
    "fraud": (r"chargeback", r"cardholder", r"card (testing|network|issuer)", r"issuer", r"merchant"),
    "moderation": (r"moderat", r"policy violat", r"hate speech", r"takedown", r"harmful content"),
}


def _normalise(text: str) -> str:
    return " " + re.sub(r"[-_/\s]+", " ", text.lower()) + " "


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?<![a-z0-9])(?:{p})" for p in patterns))


_ELEMENT_PATTERNS = {element: _compile(patterns) for element, patterns in ELEMENTS.items()}
_KIND_PATTERNS = {kind: _compile(patterns) for kind, patterns in KIND_VOCABULARY.items()}
_YOUR = re.compile(r"(?<![a-z0-9])your ((?:[a-z0-9']+ ){0,2}[a-z0-9']+)")


def mentioned_elements(texts: Iterable[str]) -> set[str]:
    """The design elements that any of the texts mentions."""
    found: set[str] = set()
    for text in texts:
        found |= _elements_in(text)
    return found


@functools.lru_cache(maxsize=256)
def _elements_in(text: str) -> frozenset[str]:
    # Cached per answer: every turn asks about all of the interview's answers so far.
    normalised = _normalise(text)
    return frozenset(e for e, pattern in _ELEMENT_PATTERNS.items() if pattern.search(normalised))


def fits(kinds: Iterable[str], problem_kinds: Iterable[str]) -> bool:
    """A question for these kinds fits a problem of these kinds when they share at least one."""
    return bool(set(kinds) & set(problem_kinds))


def applicable(
    kinds: Iterable[str], presupposes: Iterable[str], problem_kinds: Iterable[str], mentioned: set[str]
) -> bool:
    """A question may be asked: it fits the problem's kind and every element it presupposes was mentioned."""
    return fits(kinds, problem_kinds) and set(presupposes) <= mentioned


def foreign_terms(text: str, problem_kinds: Iterable[str]) -> list[str]:
    """The words in `text` that belong to a problem kind other than `problem_kinds`."""
    own = set(problem_kinds)
    normalised = _normalise(text)
    found: list[str] = []
    for kind, pattern in _KIND_PATTERNS.items():
        if kind not in own:
            found += [f"{m.group(0).strip()!r} ({kind})" for m in pattern.finditer(normalised)]
    return found


def unmarked_presuppositions(text: str, presupposes: Iterable[str]) -> list[str]:
    """Elements a question takes for granted ("your user embeddings") without presupposing them."""
    declared = set(presupposes)
    missing: list[str] = []
    for match in _YOUR.finditer(_normalise(text)):
        for element, pattern in _ELEMENT_PATTERNS.items():
            if element not in declared and element not in missing and pattern.search(" " + match.group(1)):
                missing.append(element)
    return missing
