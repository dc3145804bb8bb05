"""Opening the knowledge base and its index together, the way every command needs them."""

from __future__ import annotations

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
    index = KnowledgeIndex(settings.index_dir, embedder or Embedder())
    stats = index.build(build_units(kb), force=force, progress=progress)
    return index, stats
