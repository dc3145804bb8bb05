"""A damaged file is renamed beside itself with its companions, and never overwrites an earlier one."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.damaged import set_aside

pytestmark = pytest.mark.real


def test_a_file_and_its_companions_move_together(tmp_path: Path) -> None:
    db = tmp_path / "checkpoints.sqlite"
    for suffix, body in (("", "main"), ("-wal", "log"), ("-shm", "index")):
        (tmp_path / f"checkpoints.sqlite{suffix}").write_text(body)
    aside = set_aside(db, companions=("-wal", "-shm"))
    assert not db.exists() and aside.name.startswith("checkpoints.damaged-") and aside.suffix == ".sqlite"
    assert aside.read_text() == "main"
    assert Path(f"{aside}-wal").read_text() == "log" and Path(f"{aside}-shm").read_text() == "index"


def test_two_damaged_files_in_the_same_second_are_both_kept(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    moved = []
    for body in ("first", "second", "third"):
        settings.write_text(body)
        moved.append(set_aside(settings))
    assert len(set(moved)) == 3
    assert sorted(p.read_text() for p in moved) == ["first", "second", "third"]
    assert all(p.name.startswith("settings.damaged-") and p.suffix == ".json" for p in moved)
