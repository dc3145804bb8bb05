"""Cut an answer into verbatim sentence spans and read the surface signals of substance in each.

The offline grader uses these signals to tell reasoning from vocabulary: a sentence that names
a technique earns less than one that gives a number, a reason or a trade-off, a comma-separated
string of terms earns a mention at most, and text addressed to the grader earns nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*|\d+(?:[.,]\d+)?")

_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|ten|twenty|fifty|hundred|thousand|million|billion|trillion|percent|half|"
    r"dozen|daily|weekly|hourly|p\d\d)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(because|since|so that|so we|so the|which means|that means|otherwise|to avoid|in order to|the reason|"
    r"that way|this way|due to|given that|as a result|which (lets|avoids|prevents|keeps|makes|would)|"
    r"this (lets|means|avoids|ensures|prevents|keeps|makes)|if we don'?t|else we|would (otherwise|cause|"
    r"inflate|bias|hide|leak))\b",
    re.IGNORECASE,
)
_TRADEOFF = re.compile(
    r"\b(trade-?offs?|at the cost of|versus|vs\.?|instead of|downside|drawback|on the other hand|whereas|"
    r"rather than|although|the risk|the catch|cheaper|costlier|more expensive|but|however)\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"ignore (all |any |the |your )?(previous |prior |above |earlier |grading )?"
    r"(instructions|rubric|rules|prompt|criteria)"
    r"|\b(give|assign|award|rate|mark|score|grade)\s+(this|the|my|me|it|us|him|her|them)\b[^.\n]{0,40}?"
    r"\b(a 4|4/4|4 out of 4|four|full marks|maximum|top score|perfect|highest|strong hire)"
    r"|(?<![a-z])(score|grade|rating|mark|level)s?[\"']?\s*(of\s*)?[=:]\s*[\"']?[1-4](?![.\d])"
    r"|\b(grader|evaluator|grading model)\s*:"
    # Fake system turns and chat-template tokens, and JSON verdicts meant for a model to copy.
    r"|\bsystem\s*:[^\n]{0,120}\b(the candidate (has|is|was)|strong hire|grader|grading instruction|assign)"
    r"|<\|\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|>|\[/?INST\]"
    r"|\b(grading|grader|priority|system)[_ ]override\b|\b(evaluation|lenient|grading) mode\b"
    r"|\bsystem note\b|\bnew instructions\b|\blevel-?[1-4] anchors?\b|\b(do not|don't) list any gaps\b"
    r"|\"(verdict|recommendation|scores|grading_override|phase_score)\"\s*:"
    r"|\bnote to (the )?(grader|evaluator|scorer)"
    r"|\b(scoring|grading) (system|model|engine)\b"
    # Requests to whoever grades: "assign level 4", "mark every criterion as a 4".
    r"|\b(assign|give|award)\s+(a\s+)?(level|score|grade)\s+(of\s+)?[1-4]\b"
    r"|\bwho(ever)?\b[^.\n]{0,30}\b(scoring|grading|evaluating)\s+(this|the|my)\b"
    r"|\b(mark|rate|score|grade)\s+(every|each|all)\s+(the\s+)?\w+\s+as\s+(a\s+)?(strong|excellent|perfect|4)"
    r"|\b(score|grade|rating|mark)\s*(of\s*)?[=:]?\s*[1-4](/4)?\s*(on|for|across)\s+(every|each|all)\b"
    r"|</?\s*(answer|candidate|candidate_answer|system|instructions?|rubric)\s*>"
    r"|\byou are (now )?(the|a|an) (grader|evaluator|assistant|judge)"
    r"|\b(this|the) (answer|candidate|response) (is|deserves|should (get|receive|be (given|scored)))\b"
    r"[^.\n]{0,30}\b(strong hire|4|excellent|perfect|full|top)",
    re.IGNORECASE,
)
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "we",
        "i",
        "i'd",
        "we'd",
        "it",
        "is",
        "are",
        "be",
        "would",
        "will",
        "should",
        "could",
        "can",
        "this",
        "that",
        "which",
        "because",
        "so",
        "if",
        "then",
        "than",
        "when",
        "where",
        "how",
        "what",
        "why",
        "our",
        "my",
        "they",
        "them",
        "their",
        "its",
        "not",
        "no",
        "but",
        "or",
        "and",
        "as",
        "from",
        "into",
        "about",
        "each",
        "per",
        "only",
        "also",
        "more",
        "less",
        "most",
    ]
)


@dataclass(frozen=True)
class Sentence:
    """A verbatim span of the candidate's text with its substance signals."""

    text: str
    start: int
    words: int
    has_number: bool
    has_reason: bool
    has_tradeoff: bool
    list_like: bool
    injection: bool
    question: bool

    @property
    def substantive(self) -> bool:
        """Gives a number, a reason or a trade-off (a term list is judged at the answer level)."""
        return self.has_number or self.has_reason or self.has_tradeoff


def _is_list_like(text: str, words: list[str]) -> bool:
    """A run of comma-separated terms with little connecting language: how keyword stuffing reads."""
    items = [i for i in re.split(r"[,;/|]|\band\b|\n", text) if i.strip()]
    if len(items) < 4:
        return False
    item_words = sorted(len(_WORD.findall(i)) for i in items)
    median = item_words[len(item_words) // 2]
    function_share = sum(w.lower() in _FUNCTION_WORDS for w in words) / max(len(words), 1)
    return median <= 3 and function_share < 0.2


_BULLET = re.compile(r"\s*([-*•]|\d+[.)])\s+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+")


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of paragraphs and list items: wrapped lines join, bullets and blank lines separate."""
    blocks: list[tuple[int, int]] = []
    position = 0
    joinable = False  # may the next line continue the current block?
    for line in text.splitlines(keepends=True):
        start, position = position, position + len(line)
        body = line.strip()
        if not body:
            joinable = False
            continue
        bullet = _BULLET.match(line)
        end = start + len(line.rstrip())
        if joinable and not bullet:
            blocks[-1] = (blocks[-1][0], end)
        else:
            blocks.append((start + (bullet.end() if bullet else len(line) - len(line.lstrip())), end))
        joinable = not bullet and not body.endswith((".", "!", "?", ":", ";"))
    return blocks


def split_sentences(text: str) -> list[Sentence]:
    """The answer's sentences (and list items) as exact substrings of `text`, with their signals."""
    sentences = []
    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end]
        cursor = 0
        for match in [*_SENTENCE_BREAK.finditer(block), None]:
            piece_end = match.start() if match else len(block)
            piece = block[cursor:piece_end]
            offset = block_start + cursor
            cursor = match.end() if match else len(block)
            stripped = piece.strip()
            words = _WORD.findall(stripped)
            if not words:
                continue
            sentences.append(
                Sentence(
                    text=stripped,
                    start=offset + piece.index(stripped),
                    words=len(words),
                    has_number=bool(_NUMBER.search(stripped)),
                    has_reason=bool(_REASON.search(stripped)),
                    has_tradeoff=bool(_TRADEOFF.search(stripped)),
                    list_like=_is_list_like(stripped, words),
                    injection=bool(_INJECTION.search(stripped)),
                    question=stripped.endswith("?"),
                )
            )
    return sentences


def word_count(text: str) -> int:
    """Words in a text, as the grader counts them."""
    return len(_WORD.findall(text))


_CLAUSE_BREAK = re.compile(
    r"(?<=[,:;)])\s+|\s+(?=\b(?:because|so that|so|which|but|then|since|while|whereas)\b)|\s+-{1,2}\s+"
)


def clause_spans(sentence: str, min_words: int = 4) -> list[tuple[int, int]]:
    """Where the sentence's clauses worth matching on their own lie (dense sentences carry several
    ideas), as (start, end) character offsets; a short clause is joined to the one after it."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for cut in _CLAUSE_BREAK.finditer(sentence):
        bounds.append((start, cut.start()))
        start = cut.end()
    bounds.append((start, len(sentence)))
    merged: list[tuple[int, int]] = []
    for begin, end in bounds:
        if not sentence[begin:end].strip():
            continue
        if merged and len(_WORD.findall(sentence[merged[-1][0] : merged[-1][1]])) < min_words:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((begin, end))
    if len(merged) < 2:
        return []
    return [(b, e) for b, e in merged if len(_WORD.findall(sentence[b:e])) >= min_words]


def clauses(sentence: str, min_words: int = 4) -> list[str]:
    """The text of the sentence's clauses worth matching on their own."""
    return [sentence[b:e] for b, e in clause_spans(sentence, min_words)]
