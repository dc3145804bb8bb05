"""Opening the knowledge base and its index together, the way every command needs them."""

from __future__ import annotations

from pathlib import Path

from agent.config import Settings
from agent.content.loader import KnowledgeBase, load_knowledge_base
from agent.content.units import build_units
from agent.search.embedding import Embedder
from agent.search.index import BuildStats, KnowledgeIndex, Progress


def load_kb(settings: Settings) -> KnowledgeBase:
    """Load and cross-check the notes and rubrics the settings point at."""
    return load_knowledge_base(settings.knowledge_dir, settings.rubrics_dir)


def ready_index(
    settings: Settings,
    kb: KnowledgeBase,
    *,
    embedder: Embedder | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> tuple[KnowledgeIndex, BuildStats]:
    """The index of `kb`, built or refreshed first if the notes or the model changed."""
    settings.ensure_home()
    embedder = embedder or Embedder(disk_cache=embedding_cache(settings))
    index = KnowledgeIndex(settings.index_dir, embedder)
    return index, _prepare(index, kb, force=force, progress=progress)


def index_later(settings: Settings, kb: KnowledgeBase, embedder: Embedder) -> KnowledgeIndex:
    """The index of `kb`, returned at once: a build it needs is left for `start_preparing()` or the
    first search."""
    settings.ensure_home()
    index = KnowledgeIndex(settings.index_dir, embedder)
    units = build_units(kb)
    if index.is_fresh(units):
        index.build(units)  # returns at the manifest check, and keeps the units to repair damage with
    else:
        index.prepare_later(lambda progress: _prepare(index, kb, progress=progress))
    return index


def _prepare(
    index: KnowledgeIndex, kb: KnowledgeBase, *, force: bool = False, progress: Progress | None = None
) -> BuildStats:
    stats = index.build(build_units(kb), force=force, progress=progress)
    if not stats.skipped and index.embedder.disk is not None:
        # Into the disk cache, so no interview turn waits for them (the shipped vectors of the
        # bundled content make this a no-op).
        index.embedder.embed(fixed_statements(kb))
    return stats


def embedding_cache(settings: Settings) -> Path:
    """Where embeddings are remembered across runs (rubric statements, replayed eval answers)."""
    return settings.home / "cache" / "embeddings.sqlite"


def fixed_statements(kb: KnowledgeBase) -> list[str]:
    """Every text the offline grader compares answers with: rubric evidence signals and red flags for
    every problem and phase, the problems' strong-design statements, and their clarifications (every
    wording of the question, and the answer)."""
    from agent.grading.offline import GradingReference
    from agent.ids import PHASES

    reference = GradingReference.from_kb(kb)
    texts: dict[str, None] = {}
    for problem in kb.problems:
        for phase in PHASES:
            for criterion in kb.rubric_for(problem, phase):
                texts.update(
                    dict.fromkeys([*criterion.evidence, *criterion.problem_evidence, *criterion.red_flags])
                )
            texts.update(dict.fromkeys(reference.design(problem, phase)))
        clarifications = kb.problem_note(problem).clarifications
        texts.update(dict.fromkeys(t for c in clarifications for t in (c.question, *c.asked_as, c.answer)))
    return list(texts)
