"""The import graph of shop/: no cycles, and dependencies that point one way (docs/architecture.md).

Every import counts, the ones inside functions too: a function-level import is how a cycle hides.
"""
import ast
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parent.parent / "shop"
# Features from the bottom up: a feature's core may use those below it, never those above.
FEATURES = ("accounts", "catalog", "cart", "orders", "payments", "checkout", "operations", "dashboard", "emulator")
# A request, task or command comes in here; these may call any feature's services.
BOUNDARIES = ("views", "cli", "tasks", "forms", "__main__")


def module_name(path: Path) -> str:
    parts = path.relative_to(SHOP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the shop modules it imports (`from shop.a import b` is shop.a.b when b is a module)."""
    modules = {module_name(path): path for path in SHOP.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    imported.add(child if child in modules else node.module)
        graph[name] = {other for other in imported if other in modules and other != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FEATURES else None


def is_boundary(module: str) -> bool:
    """The app factory, a feature's package (it registers the feature), and request/task/command entries."""
    package = feature_of(module) is not None and module.count(".") == 1
    return module in ("shop", "shop.health") or package or module.rsplit(".", 1)[-1] in BOUNDARIES


def wrong_way(graph: dict[str, set[str]]) -> list[str]:
    """Imports against the direction: a core module using a boundary, or a feature above its own."""
    wrong = []
    for module, imported in sorted(graph.items()):
        if is_boundary(module):
            continue
        feature = feature_of(module)
        rank = FEATURES.index(feature) if feature else -1  # shared modules sit below every feature
        for other in sorted(imported):
            other_feature = feature_of(other)
            if is_boundary(other) or (other_feature and other_feature != feature
                                      and FEATURES.index(other_feature) > rank):
                wrong.append(f"{module} -> {other}")
    return wrong


def test_the_shop_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_dependencies_point_one_way():
    assert wrong_way(import_graph()) == []


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set(), "c": {"b"}}, []),
])
def test_a_cycle_is_found_however_it_is_hidden(graph, expected):
    assert cycles(graph) == expected


def test_an_import_against_the_direction_is_found():
    graph = {"shop.orders.lifecycle": {"shop.payments.states", "shop.catalog.models"},
             "shop.payments.applying": {"shop.orders.lifecycle", "shop.payments.views"},
             "shop.orders.views": {"shop.payments.instructions"}, "shop.caching": {"shop.orders.models"}}
    assert wrong_way(graph) == ["shop.caching -> shop.orders.models",
                                "shop.orders.lifecycle -> shop.payments.states",
                                "shop.payments.applying -> shop.payments.views"]


def test_the_old_cycle_would_have_been_found():
    # services -> intake -> (inside a function) tasks -> reconciliation -> services, as it was.
    old = {"shop.payments.services": {"shop.payments.intake"}, "shop.payments.intake": {"shop.payments.tasks"},
           "shop.payments.tasks": {"shop.payments.reconciliation"},
           "shop.payments.reconciliation": {"shop.payments.services"}}
    assert cycles(old) == [sorted(old)]
