"""What the Python scanners share: one parsed file, its parent links, and name resolution.

`SourceTree.resolve` follows `name = value` (in the enclosing function, then the module) so that a
scanner sees through the local variables agent code is written with.
"""

from __future__ import annotations

import ast
from pathlib import Path

from switchboard.doctor.inventory import Reference

DYNAMIC_AGENT = "*"
"""Stands for an agent name computed at run time."""


class SourceTree:
    """A parsed Python file with the helpers every scanner needs."""

    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.path = path
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.calls = sorted(
            (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
            key=lambda call: (call.lineno, call.col_offset),
        )

    def describe(self, room: ast.expr | None, call: ast.AST) -> str:
        """The expression, with the value it was assigned when it is a local name."""
        resolved = self.resolve(room, call)
        if isinstance(room, ast.Name) and resolved is not room:
            return f"{room.id} = {text(resolved)}"
        return text(room)

    def agent_names(self, node: ast.AST) -> list[str]:
        """Agent names of RoomAgentDispatch(...) calls under `node` (`*` when not literal)."""
        names: list[str] = []
        for child in ast.walk(node):
            if isinstance(child, ast.Call) and callee(child) == "RoomAgentDispatch":
                names.append(agent_literal(keyword(child, "agent_name")) or DYNAMIC_AGENT)
            elif isinstance(child, ast.Call) and callee(child) == "RoomConfiguration":
                agents = keyword(child, "agents")
                if agents is not None and not has_call(agents, "RoomAgentDispatch"):
                    names.append(DYNAMIC_AGENT)
        if not names and isinstance(node, ast.expr) and not is_empty_literal(node):
            names.append(DYNAMIC_AGENT)
        return names

    def request(self, call: ast.Call, request_type: str) -> ast.Call | None:
        """The request object passed to an API call, following one local assignment."""
        argument: ast.expr | None = call.args[0] if call.args else None
        if argument is None and call.keywords:
            argument = call.keywords[0].value
        resolved = self.resolve(argument, call) if argument is not None else None
        if isinstance(resolved, ast.Call) and callee(resolved) == request_type:
            return resolved
        return None

    def resolve(self, node: ast.expr | None, at: ast.AST, depth: int = 3) -> ast.expr | None:
        """Follow `name = value` in the enclosing scope (then the module) a few times."""
        if not isinstance(node, ast.Name) or depth == 0:
            return node
        for scope in (self.scope(at), self.tree):
            for child in ast.walk(scope):
                if isinstance(child, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == node.id
                    for target in child.targets
                ):
                    return self.resolve(child.value, child, depth - 1)
                if (
                    isinstance(child, ast.AnnAssign)
                    and isinstance(child.target, ast.Name)
                    and child.target.id == node.id
                    and child.value is not None
                ):
                    return self.resolve(child.value, child, depth - 1)
        return node

    def scope(self, node: ast.AST) -> ast.AST:
        current: ast.AST | None = node
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parents.get(current)
        return self.tree

    def reference(self, name: str, node: ast.AST) -> Reference:
        return Reference(name=name, source=self.where(node))

    def where(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 1)}"


def callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def literal_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def literal_int(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return int(node.value)
    return None


def agent_literal(node: ast.expr | None) -> str | None:
    """The literal agent name, "" when absent, None when computed at run time."""
    if node is None:
        return ""
    return literal_str(node)


def has_call(node: ast.AST, name: str) -> bool:
    return any(isinstance(child, ast.Call) and callee(child) == name for child in ast.walk(node))


def is_empty_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.List | ast.Tuple) and not node.elts


def text(node: ast.AST | None) -> str:
    return ast.unparse(node) if node is not None else ""
