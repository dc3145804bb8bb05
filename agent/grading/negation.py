"""Does a sentence assert a red flag's pitfall or name it to reject it? Scope-aware negation, pure Python.

The embedding match says a sentence is *about* a pitfall; this module says which way it points. It
locates the pitfall in the sentence by word overlap with the red flag (crude stems; words of the red
flag's head count double against words of its context: in "uses batch-only predictions for a decision
that needs real-time context" the pitfall is the batch, not the real time), then asks whether something
that reverses meaning has that spot in its scope:

* **Plain negations** reach the rest of their clause (clauses end at commas and hard breaks): "no X",
  "without X", "avoid X" reach rightwards; "not", "never" and "n't" deny a predicate, so they also
  reach back to its subject ("declined transactions never get a label"), but no further back than an
  "and"/"or" or a relative pronoun ("pairs who aren't connected"). A negation counts only when a word
  of the pitfall lies in its reach, so "we can't afford a big model, so we'll report accuracy" still
  asserts "reports accuracy", and the negation of the red flag's own qualifier ("... without
  considering hashing", whose words are not pitfall words) is not the pitfall's: "I'd one-hot encode
  the ids, no need for hashing" asserts. A negation that reaches only the red flag's circumstances
  agrees with them when they are negated too ("treats pairs who are not connected as negatives").
* **Condemnations** ("is a mistake", "would be misleading", "the trap is", "only works if", "is too
  easy", "has to stay out of") reverse their clause, and a clause-initial gerund subject with commas
  in it ("covering the feed, search and email is a trap"). Bad consequences ("fails", "would leak",
  ", which inflates", "if we did X, we'd miss ...") reverse their clause, the clause a "which" comments
  on, or the condition they follow. Set-ups answered by a "but" ("a common approach is X, but ...", "X
  sounds nice, but ...") reverse what precedes the "but".
* **Contrasts** reverse their complement when it holds a word of the pitfall: "rather than X", "instead
  of X", "as opposed to X", ", not X" ("report accuracy rather than PR-AUC" still asserts "reports
  accuracy"); a clause with a bare "instead" reverses what came before it.
* **Additions** ("also", "as well", "on top of" ...) reject a red flag about doing *only* one thing.
* **Keeping** ("stays", "we keep", "remains") rejects a red flag about taking something away ("replaces
  BM25 entirely", "drops items with few interactions") when it names the same thing and the sentence
  neither takes anything away nor negates anything.

A clause's polarity is the parity of the plain negations that count in it, plus one if a condemnation,
contrast or addition covers it. A red flag stated positively ("reports accuracy ...") is rejected when
a covered clause about it is odd, or when the clause matching it best is odd (a plain negation in a
clause that matches less well is taken as innocent: "nobody has time to review models, so each
retrain ships automatically"). It is also rejected, when it has a qualifier ("... without looking at
recall", "with no validation"), by a clause that names the missing practice with nothing negating it
("retrieval is judged by recall at 1000"), unless the sentence defers ("sort it out later", "straight
away"). A red flag stated as an absence ("has no fallback", "never asks", "ignores latency") is
rejected when a condemnation or contrast covers a clause about it ("ignoring peaks would be a
mistake", "instead of training on a mix of old and new policy definitions"), or when no clause about
it is negated or deferred ("for now", "straight on the logs"): then the sentence states the good
practice ("we fall back to the rules engine"); for "never asks ..." it must also ask. When the
sentence shares no word with the red flag every negation counts; when it shares one word only, every
condemnation and set-up covers all of it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[,;:()\u2013\u2014?!]|(?<=\s)--?(?=\s)")


def _words(text: str) -> frozenset[str]:
    """A set of words written as one string."""
    return frozenset(text.split())


_STOP = _words(
    "a an the to of for in on at by with we i i'd we'd we'll i'll it it's is are was were be been being "
    "would will should could can may might must this that these those which who whom whose because so if "
    "then than when where how what why our my you your they them their its not no but or and as from into "
    "about each per only also more less most very just any all every some one two way ways use uses used "
    "using make makes get gets take takes have has had having do does did go goes there here such like "
    "looks look whether until after before while thing things something anything everything lot much "
    "many even still yet out up over under first new"
)

# Plain negations: their reach is the rest of their clause (and the subject, after an auxiliary).
_NEGATORS = _words(
    "not never no without none nothing neither nor cannot nobody nowhere avoid avoids avoiding avoided "
    "refuse refuses skip skips skipping ignore ignores ignoring ignored neglect neglects neglecting "
    "lack lacks lacking forget forgets forgetting overlook overlooks overlooking omit omits omitting "
    "exclude excludes excluded excluding"
)
_AUX = _words("is are was were be am do does did would will should could can may might must has have had")

# Hard breaks end a condemnation's reach; commas only end a plain negation's.
_HARD_WORDS = _words("so because since but whereas while although though yet however otherwise")
_HARD_AFTER_COMMA = frozenset(["which", "given"])  # ", which would leak ..." but not "know which users"
_HARD_PUNCT = frozenset(";:()\u2013\u2014-")

# Words that judge a choice wrong. Most judge wherever they stand; the ones an ML answer also uses as
# plain description ("naive Bayes", "dangerous content", "insufficient funds", "the model makes
# mistakes") judge only as a predicate or a noun phrase: "is naive", "would be dangerous", "a mistake".
_CONDEMN = re.compile(
    r"\b(?:misleading|meaningless|useless|pointless|worthless|flawed|short-?sighted|unaffordable|"
    r"infeasible|unrealistic|non-?starter|anti-?pattern|wishful thinking|a recipe for|bad (?:idea|practice)|"
    r"it would be naive|naively|"
    r"(?:is|are|was|were|be|'s|seems|sounds|looks|feels)\s+(?:\w+\s+){0,2}?(?:wrong|naive|dangerous|"
    r"premature|impossible|cheating|insufficient|reckless|mistaken|(?:a |an )?(?:wild |gross |huge )?"
    r"(?:under|over)estimate|(?:far |way |much |simply |just )?too \w+)|"
    r"(?:a|the|an|common|classic|big|real|obvious|typical)\s+(?:mistake|trap|pitfall|error)|"
    r"(?:not|never|no) (?:a |an )?(?:justification|reason|plan|strategy|answer|solution|substitute|"
    r"guarantee|argument|excuse)|makes? (?:little|no) sense|doesn't make sense|"
    r"(?:not|isn't|aren't|wasn't|never) (?:nearly |quite )?(?:enough|sufficient)|"
    r"(?:is|are|be|'s|gets?) asking for|(?:falls?|fell|falling) (?:apart|over|flat)|"
    r"only (?:works?|makes sense|holds?|helps?|is (?:valid|fine|ok|okay|safe|reasonable|true))|"
    r"(?:is|are|'s)\s+(?:only|just|merely)\s+(?:a|an|one)\s+(?:secondary|sanity|partial|rough|weak)\b|"
    r"(?:stay|stays|keep|kept|leave|left)\s+(?:\w+\s+)?out\b|"
    r"beware|watch out for|be careful|fools?|tells? (?:you|us) nothing)\b"
)
# Bad consequences: they condemn their own clause's subject ("relying on ids fails for new videos"), the
# clause they comment on (", which would inflate ...") or the condition they follow ("if we only scored
# in batch, we'd miss ...").
_CONSEQUENCE = re.compile(
    r"\b(?:(?:would|will|could|can|might|may|'d|which|that)\s+(?:\w+ly\s+)?(?:hide|mask|inflate|leak|"
    r"bias|mislead|overstate|understate|break|fail|blow|miss|crash|overfit|skew|poison|corrupt|explode)s?|"
    r"fails|breaks|leaks|hides|masks|misses|inflates|misleads|overstates|understates)\b"
)
# Neglect in so many words, which agrees with a red flag about an absence ("we'll sort out serving
# later", "train straight on the logs").
_DISMISS = re.compile(
    r"\b(?:(?:sort|figure|work|deal|worry|think|care|handle|fix|add|revisit|tackle)\b[^,.;]{0,30}\blater|"
    r"for now|we'll see|straight (?:away|on|onto|into|from|to)|as is|good enough|out of the box)\b"
)
_SETUP = re.compile(
    r"\b(?:a |the )?(?:common|obvious|naive|easy|usual|standard|simple|tempting|first|natural|classic)\s+"
    r"(?:approach|answer|option|choice|way|move|instinct|thing|idea|reflex|default)|\btempting\b|"
    r"\b(?:sounds|looks|seems)\s+(?:\w+\s+)?(?:nice|good|great|fine|reasonable|appealing|attractive|"
    r"simple|easy|natural)|\b(?:we|you|one|people|teams)\s+(?:could|might|may|often|sometimes|usually)\b|"
    r"\bat first (?:glance|sight)|\bon paper\b"
)
_SETUP_TURN = frozenset(["but", "however", "yet"])
_CONTRAST = re.compile(r"\b(?:rather than|instead of|as opposed to|in place of)\b|,\s*not\b(?! only| just)")
_INSTEAD = re.compile(r"\binstead\b(?! of)")
_ADDITIVE = re.compile(
    r"\b(?:also|as well|in addition|on top of|alongside|not just|not only|beyond|plus|besides)\b|"
    r"\btoo\s*(?:[,.;!?]|$)"
)
_INQUIRY = re.compile(
    r"\?|\b(?:ask|asks|asked|asking|find out|want to know|need to know|clarify|confirm|check with|"
    r"question|wonder)\b"
)
# Where a red flag's pitfall ends and its context starts, and where its qualifier (the missing good
# practice: "without a baseline", "with no stated scope") starts.
# A pitfall of taking something away ("replaces BM25 entirely", "drops items with few interactions")
# is rejected by a sentence that keeps the same thing ("BM25 stays, since dense vectors blur rare
# tokens"), unless the sentence also takes something away or negates anything.
_REMOVAL = re.compile(
    r"\b(?:replac|drop|remov|abandon|discard|ditch|delet|retir|scrap|throw\w* away|switch\w* off|"
    r"turn\w* off)\w*"
)
_KEEP = re.compile(
    r"\b(?:stay|stays|stayed|keep|keeps|kept|remain|remains|remained|retain|retains|retained|"
    r"still (?:runs?|serves?|used|there|in place))\b(?!\s+(?:\w+\s+)?out\b)"
)
_QUALIFIER = re.compile(r"\b(?:without|with no|with zero|and never|and ignores?|and forgets?)\b")
_CONTEXT = re.compile(r"\b(?:that|which|who|where|whose|when|while|until|if|such as|for example|including)\b")
_EXCLUSIVE = re.compile(r"\b(?:only|alone|entirely|solely|purely|exclusively)\b")
_ASK = re.compile(r"\bask(?:s|ing)?\b")

_CLAUSE_NEGATORS = _words("not never cannot")
_RELATIVE = _words("who that which whose where")

_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


def _stem(word: str) -> str:
    """A crude stem: possessive and one inflectional suffix off ("labelled" -> "label")."""
    word = word.removesuffix("'s")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            if suffix in ("ed", "ing") and stem[-1] == stem[-2] and stem[-1] not in "aeiousz":
                stem = stem[:-1]  # "logged" -> "log", "labelled" -> "label"
            return stem
    return word


def _same(a: str, b: str) -> bool:
    """Stems match when equal or when one starts the other and is at least four letters long."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 4 and long_.startswith(short)


# Verbs of a qualifier that say nothing about which practice is missing ("without checking ...").
_GENERIC = frozenset(
    _stem(w)
    for w in _words(
        "checking looking considering fixing naming defining investigating asking stated comment "
        "mention mentions knowing saying thinking sense weighting single"
    )
)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text[0].isalnum()


def _tokens(text: str) -> list[_Token]:
    normal = text.lower().replace("\u2019", "'")
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(normal)]


def _content(tokens: list[_Token]) -> list[str]:
    return [_stem(t.text) for t in tokens if t.word and t.text not in _STOP and not t.text.isdigit()]


def content_stems(text: str) -> list[str]:
    """The stems of a text's content words (stop words and numbers left out), in order."""
    return _content(_tokens(text))


@dataclass(frozen=True)
class _Flag:
    head: tuple[str, ...]  # stems of the pitfall itself ("uses batch-only predictions for a decision")
    context: tuple[str, ...]  # stems of its circumstances ("that needs real-time context")
    negative: bool  # the pitfall is an absence: "has no fallback", "never asks", "ignores latency"
    exclusive: bool  # the pitfall is doing only one thing: "monitors only CPU"
    removal: bool  # the pitfall is taking something away: "replaces BM25 entirely"
    inquiry: bool  # the missing good practice is asking: "never asks ..."
    context_negated: bool  # its circumstances hold a negation: "pairs who are not connected"
    practice: tuple[str, ...]  # stems of the missing good practice: "without looking at recall"


@lru_cache(maxsize=1024)
def _flag(red_flag: str) -> _Flag:
    text = red_flag.lower().replace("\u2019", "'")
    qualifier = _QUALIFIER.search(text)
    core = text[: qualifier.start()] if qualifier else text
    # "Ignores that ..." : a "that" right after the verb opens its object, not a relative clause.
    cut = next((m for m in _CONTEXT.finditer(core) if len(_tokens(core[: m.start()])) > 1), None)
    head_text = core[: cut.start()] if cut else core
    head_tokens = _tokens(head_text)
    negations = sum(t.text in _NEGATORS or t.text.endswith("n't") for t in head_tokens)
    return _Flag(
        head=tuple(_content(head_tokens)),
        context=tuple(_content(_tokens(core[cut.start() :])) if cut else ()),
        negative=negations % 2 == 1,
        exclusive=bool(_EXCLUSIVE.search(head_text)),
        removal=negations % 2 == 0 and bool(_REMOVAL.search(head_text)),
        inquiry=negations % 2 == 1 and bool(_ASK.search(head_text)),
        context_negated=cut is not None
        and sum(_is_negator(t) for t in _tokens(core[cut.start() :])) % 2 == 1,
        practice=_practice(text[qualifier.end() :]) if qualifier else (),
    )


def _practice(qualifier: str) -> tuple[str, ...]:
    """The head words of a missing practice: its first content word and any coordinated with it."""
    heads: list[str] = []
    want, previous = True, ""
    for t in _tokens(qualifier):
        if t.text in ("or", "and"):
            want = bool(heads) and previous == heads[-1]  # "embeddings or hashing", not "users or items"
        elif t.text in ("by", "per") and heads and previous == heads[-1]:
            want = True  # "no breakdown by segment": the segment names the practice too
        elif t.word and t.text not in _STOP and _stem(t.text) not in _GENERIC:
            if want:
                heads.append(_stem(t.text))
                want = False
            previous = _stem(t.text)
    return tuple(heads)


def _is_negator(token: _Token) -> bool:
    return token.text in _NEGATORS or token.text.endswith("n't")


def _breaks(tokens: list[_Token], hard_only: bool) -> list[int]:
    """Token indices where a new clause starts (the break word or mark belongs to the new clause)."""
    cuts = [0]
    for i, t in enumerate(tokens):
        if i == 0:
            continue
        after_comma = tokens[i - 1].text == "," and t.text in _HARD_AFTER_COMMA
        if t.text in _HARD_PUNCT or t.text in _HARD_WORDS or after_comma or (not hard_only and t.text == ","):
            cuts.append(i)
    return cuts


def _spans(tokens: list[_Token], hard_only: bool) -> list[tuple[int, int]]:
    """Clauses as [start, end) token ranges; a piece of fewer than three words joins the next one."""
    cuts = [*_breaks(tokens, hard_only), len(tokens)]
    spans: list[tuple[int, int]] = []
    pending = None
    for a, b in itertools.pairwise(cuts):
        start = a if pending is None else pending
        if sum(t.word for t in tokens[a:b]) < 3 and b < len(tokens):
            pending = start
            continue
        pending = None
        spans.append((start, b))
    if pending is not None:
        spans.append((pending, len(tokens)))
    return [s for s in spans if s[0] < s[1]]


def _where(spans: list[tuple[int, int]], index: int) -> tuple[int, int]:
    return next(s for s in spans if s[0] <= index < s[1])


def _token_at(tokens: list[_Token], char: int) -> int:
    """Index of the first token that ends after a character offset."""
    return next((i for i, t in enumerate(tokens) if t.end > char), len(tokens) - 1)


def rejects(sentence: str, red_flag: str) -> bool:
    """True when the sentence names the red flag's pitfall in order to reject it (see the module doc)."""
    flag = _flag(red_flag)
    text = sentence.lower().replace("\u2019", "'")
    tokens = _tokens(text)
    if not tokens:
        return False
    weights: dict[int, int] = {}  # token index -> weight of the red-flag word it matches
    matched: dict[int, str] = {}
    for i, t in enumerate(tokens):
        if not t.word or t.text in _STOP:
            continue
        stem = _stem(t.text)
        for terms, weight in ((flag.head, 2), (flag.context, 1)):
            hit = next((term for term in terms if _same(stem, term)), None)
            if hit is not None:
                weights[i], matched[i] = weight, hit
                break
    if (
        flag.removal
        and 2 in weights.values()  # the sentence names what the red flag takes away
        and _KEEP.search(text)
        and not _REMOVAL.search(text)
        and not any(_is_negator(t) for t in tokens)
    ):
        return True
    clauses = _spans(tokens, hard_only=False)
    segments = _spans(tokens, hard_only=True)
    unlocated = not weights
    weak = len(set(matched.values())) < 2  # too little overlap to say where the pitfall is

    def score(lo: int, hi: int) -> int:
        seen: dict[str, int] = {}
        for i in range(lo, hi):
            if i in weights:
                seen[matched[i]] = max(seen.get(matched[i], 0), weights[i])
        return sum(seen.values())

    def evidence(lo: int, hi: int) -> bool:
        return unlocated or any(lo <= i < hi for i in weights)

    # Condemnations, set-ups and contrasts: token ranges they reverse, and the characters they use (so
    # that the "not" in "not a plan" is not counted again as a plain negation).
    covers: list[tuple[int, int]] = []
    masked: set[int] = set()

    def mask(m: re.Match[str]) -> None:
        masked.update(i for i, t in enumerate(tokens) if t.start < m.end() and t.end > m.start())

    evaluative: list[tuple[int, int]] = []  # the part of `covers` that judges rather than chooses
    for m in _CONDEMN.finditer(text):
        mask(m)
        at = _token_at(tokens, m.start())
        lo, hi = _where(clauses, at)
        segment = _where(segments, at)[0]
        if tokens[segment].text.endswith("ing"):  # a gerund subject may hold a list: "covering X, Y and Z"
            lo = segment
        if tokens[lo].text == "which" and lo > 0:  # "..., which is misleading" condemns what precedes
            lo = _where(segments, lo - 1)[0]
        if evidence(lo, hi) or weak:
            evaluative.append((0, len(tokens)) if weak else (lo, hi))
    for m in _CONSEQUENCE.finditer(text):
        mask(m)
        lo, hi = _where(clauses, _token_at(tokens, m.start()))
        counterfactual = m.group().startswith(("would", "'d", "could", "might"))
        after_if = lo > 0 and tokens[_where(clauses, lo - 1)[0]].text == "if"
        if lo > 0 and (tokens[lo].text == "which" or (counterfactual and after_if)):
            lo = _where(clauses, lo - 1)[0]
        if evidence(lo, hi) or weak:
            evaluative.append((0, len(tokens)) if weak else (lo, hi))
    for m in _SETUP.finditer(text):
        start = _token_at(tokens, m.start())
        turn = next((i for i in range(start, len(tokens)) if tokens[i].text in _SETUP_TURN), None)
        begin = _where(segments, start)[0]
        if turn is not None and (evidence(begin, turn) or weak):
            mask(m)
            evaluative.append((0, len(tokens)) if weak else (begin, turn))
    for m in _CONTRAST.finditer(text):
        mask(m)
        lo = _token_at(tokens, m.end())
        hi = _where(clauses, lo)[1] if lo < len(tokens) else lo
        if score(lo, hi) > 0 or unlocated:
            covers.append((lo, hi))
    for m in _INSTEAD.finditer(text):
        mask(m)
        lo = _where(clauses, _token_at(tokens, m.start()))[0]
        if lo > 0 and (evidence(0, lo) or weak):
            covers.append((0, lo))
    if flag.exclusive:
        for m in _ADDITIVE.finditer(text):
            mask(m)
            covers.append((0, len(tokens)))

    covers += evaluative
    dismissals = [_token_at(tokens, m.start()) for m in _DISMISS.finditer(text)] if flag.negative else []

    def negations(lo: int, hi: int) -> int:
        """Plain negations in the clause whose reach holds a word of the pitfall."""
        count = 0
        for i in range(lo, hi):
            if i in masked or not _is_negator(tokens[i]):
                continue
            start = i + 1  # "no X", "without X", "avoid X": the negation reaches what follows
            if tokens[i].text in _CLAUSE_NEGATORS or tokens[i].text.endswith("n't"):
                # "X never gets Y", "X isn't Z": it denies the predicate of its subject, back to the
                # start of its clause, of its coordinated part ("... and not Y") or of its relative
                # clause ("pairs who aren't connected").
                start = max([lo] + [j + 1 for j in range(lo, i) if tokens[j].text in ("and", "or")])
                start = max([start] + [j for j in range(start, i) if tokens[j].text in _RELATIVE])
            reach = [j for j in range(start, hi) if j != i]
            if unlocated or any(weights.get(j) == 2 for j in reach):
                count += 1
            elif any(j in weights for j in reach) and not flag.context_negated:
                count += 1  # a negation of the circumstances the red flag itself negates agrees with it
        return count

    located = [c for c in clauses if evidence(*c)] or [(0, len(tokens))]

    def covered(c: tuple[int, int], by: list[tuple[int, int]]) -> bool:
        return any(a < c[1] and c[0] < b and evidence(max(a, c[0]), min(b, c[1])) for a, b in by)

    polarity = {c: (negations(*c) + covered(c, covers)) % 2 for c in located}
    if flag.negative:
        # Judging or contrasting the area of an absence condemns the neglect ("ignoring peaks would be
        # a mistake", "instead of training on a mix of old and new definitions"); otherwise a clause that
        # denies or defers the good practice agrees with the red flag, and a sentence with none states it.
        if any(covered(c, covers) for c in located):
            return True
        if any(polarity.values()) or any(c[0] <= i < c[1] for c in located for i in dismissals):
            return False
        return not flag.inquiry or bool(_INQUIRY.search(text))
    best = max(score(*c) for c in located)
    if any(polarity[c] and (covered(c, covers) or score(*c) == best) for c in located):
        return True
    return _states_practice(tokens, clauses, flag.practice, masked, covers) and not _DISMISS.search(text)


def _states_practice(
    tokens: list[_Token],
    clauses: list[tuple[int, int]],
    practice: tuple[str, ...],
    masked: set[int],
    covers: list[tuple[int, int]],
) -> bool:
    """Does a clause name the good practice the red flag says is missing, with nothing negating it?"""
    for lo, hi in clauses:
        names = any(
            tokens[i].word
            and tokens[i].text not in _STOP
            and any(_same(_stem(tokens[i].text), w) for w in practice)
            for i in range(lo, hi)
        )
        negated = any(i not in masked and _is_negator(tokens[i]) for i in range(lo, hi))
        if names and not negated and not any(a < hi and lo < b for a, b in covers):
            return True
    return False
