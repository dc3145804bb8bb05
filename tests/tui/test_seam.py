"""The seam between the app and the core, read from the source (issue 14): no screen imports another
(the app owns navigation), and nothing public in tui/ is annotated `Any`."""

from __future__ import annotations

import ast

from tests.conftest import REPO

TUI = REPO / "tui"
SCREENS = TUI / "screens"
#: Modules of tui/screens that are not screens: any screen may import them.
NOT_SCREENS = frozenset({"__init__", "base"})


def _imported(tree: ast.AST) -> set[str]:
    """Every module an import statement names, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def screen_imports(source: str, own: str) -> set[str]:
    """The other screen modules that the source of screen module `own` imports."""
    screens = {f"tui.screens.{p.stem}" for p in SCREENS.glob("*.py") if p.stem not in NOT_SCREENS}
    return (_imported(ast.parse(source)) & screens) - {f"tui.screens.{own}"}


def _mentions_any(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):  # a quoted annotation
        return _mentions_any(ast.parse(annotation.value, mode="eval").body)
    return any(
        (isinstance(n, ast.Name) and n.id == "Any") or (isinstance(n, ast.Attribute) and n.attr == "Any")
        for n in ast.walk(annotation)
    )


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def any_at_the_seam(source: str) -> list[str]:
    """Public functions' parameters and returns, and public attributes, annotated with `Any`."""
    found: list[str] = []

    def function(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> None:
        where = f"{owner}{node.name}"
        if _public(node.name):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            found.extend(f"{where}({a.arg})" for a in every if _mentions_any(a.annotation))
            if _mentions_any(node.returns):
                found.append(f"{where} -> ")
        for inner in ast.walk(node):  # `self.x: Any = ...` in any method makes x an attribute
            if (
                isinstance(inner, ast.AnnAssign)
                and isinstance(inner.target, ast.Attribute)
                and isinstance(inner.target.value, ast.Name)
                and inner.target.value.id == "self"
                and _public(inner.target.attr)
                and _mentions_any(inner.annotation)
            ):
                found.append(f"{owner}{inner.target.attr}")

    def body(nodes: list[ast.stmt], owner: str) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                function(node, owner)
            elif isinstance(node, ast.ClassDef) and _public(node.name):
                body(node.body, f"{owner}{node.name}.")
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and _public(node.target.id)
                and _mentions_any(node.annotation)
            ):
                found.append(f"{owner}{node.target.id}")

    body(ast.parse(source).body, "")
    return found


def test_no_screen_imports_another_screen() -> None:
    offenders = {
        path.stem: sorted(screen_imports(path.read_text(encoding="utf-8"), path.stem))
        for path in sorted(SCREENS.glob("*.py"))
        if path.stem not in NOT_SCREENS
    }
    assert len(offenders) >= 6, "the screens moved: point SCREENS at them"
    assert not any(offenders.values()), f"screens import screens (ask the app instead): {offenders}"


def test_the_import_check_catches_a_screen_importing_another() -> None:
    source = "def f() -> None:\n    from tui.screens.feedback import FeedbackScreen\n"
    assert screen_imports(source, "interview") == {"tui.screens.feedback"}
    assert screen_imports("from tui.screens import history\n", "start") == {"tui.screens.history"}
    assert not screen_imports("from tui.screens.base import mlsd_app\n", "start")


def test_nothing_public_in_tui_is_annotated_any() -> None:
    found = {
        str(path.relative_to(REPO)): hits
        for path in sorted(TUI.rglob("*.py"))
        if (hits := any_at_the_seam(path.read_text(encoding="utf-8")))
    }
    assert not found, f"`Any` at the seam between the app and the core: {found}"


def test_the_any_check_catches_every_kind_of_public_annotation() -> None:
    source = """
from typing import Any
import typing
LIMIT: Any = 3
def load(kb: Any) -> None: ...
def make() -> "dict[str, Any]": ...
def _private(kb: Any) -> Any: ...
class Screen:
    shown: Any
    def __init__(self, interview: typing.Any, **rest: Any) -> None:
        self.interview: Any = interview
        self._cache: Any = None
    async def show(self, *, toolkit: list[Any]) -> None: ...
    def _helper(self, x: Any) -> Any: ...
"""
    assert any_at_the_seam(source) == [
        "LIMIT",
        "load(kb)",
        "make -> ",
        "Screen.shown",
        "Screen.__init__(interview)",
        "Screen.__init__(rest)",
        "Screen.interview",
        "Screen.show(toolkit)",
    ]
    assert any_at_the_seam("def f(x: object) -> Path: ...\nclass A:\n    x: int = 0\n") == []


#: The session's insides: the graph's state dict and what drives the graph. Screens use its methods.
INSIDES = frozenset({"values", "context", "transcript", "graph", "checkpointer", "config", "_values"})


def reaches_inside(source: str) -> list[str]:
    """Uses of an interview's insides (`interview.values()`, `self.interview.context`, ...)."""
    return [
        ast.unparse(node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in INSIDES
        and "interview" in ast.unparse(node.value).lower()
    ]


def test_the_app_reads_the_session_through_its_methods_only() -> None:
    found = {
        str(path.relative_to(REPO)): hits
        for path in sorted(TUI.rglob("*.py"))
        if (hits := reaches_inside(path.read_text(encoding="utf-8")))
    }
    assert not found, f"the app reaches into the session (add an Interview method): {found}"
    caught = reaches_inside("x = self.interview.values()['phase']\ny = interview.context.kb\n")
    assert sorted(caught) == ["interview.context", "self.interview.values"]
