"""The tests' own layout (issue 19): what several test modules share lives in tests/support/.

- No module imports from a test module (``test_*.py``) or from a conftest.py: a test module is
  collected for its tests, not kept stable for importers, and a conftest's plain helpers are
  helpers in the wrong place (fixtures reach their tests without an import).
- A package's own helper module (tests/e2e/faults.py) serves that package only; a helper that
  another package needs belongs in tests/support/.
- One waiting helper (tests/support/waiting.py): no module outside tests/support defines a
  function named like a poll helper.
- One settings factory (tests/support/settings.py): no module outside tests/support builds
  ``Settings(...)`` itself. tests/test_settings/ may: it tests ``Settings`` and its loader
  themselves, and the factory is built on what it tests.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SUPPORT = "tests/support/"
SETTINGS_TESTS = "tests/test_settings/"
# Names that say "poll until it holds": eventually, wait_for, wait_until, _wait, poll_until ...
POLL_HELPER = re.compile(r"_*(eventually|wait|wait_for|wait_until|poll|poll_for|poll_until|until)")


def _module_of(relative: str) -> str:
    return relative.removesuffix(".py").replace("/", ".")


def _imports(tree: ast.AST, module: str) -> list[tuple[int, list[str]]]:
    """Every import in ``tree``, at any depth (lazy ones in functions too), relative ones
    resolved: its line, and the modules it may name (``from tests.x import test_y`` names the
    package tests.x or its module tests.x.test_y)."""
    found = []
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, [alias.name]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, [base] + [f"{base}.{a.name}" for a in node.names]))
    return found


def _is_test_module(parts: list[str]) -> bool:
    """tests.test_http.test_events, or a module right under tests/ (tests.test_layers); not a
    test package (tests.test_http)."""
    if len(parts) >= 3:
        return parts[2].startswith("test_")
    return len(parts) == 2 and (TESTS / f"{parts[1]}.py").is_file()


def _import_problem(importer_package: str, imported: str) -> str | None:
    parts = imported.split(".")
    if parts[0] != "tests":
        return None
    if _is_test_module(parts):
        return f"imports from the test module {'.'.join(parts[:3])}"
    if len(parts) >= 3 and parts[2] == "conftest":
        return f"imports from {'.'.join(parts[:3])}: move its helpers to tests/support"
    if len(parts) >= 3 and parts[1] != "support" and ".".join(parts[:2]) != importer_package:
        return f"imports {'.'.join(parts[:3])}, another package's helper: move it to tests/support"
    return None


def _builds_settings(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    called = node.func
    return (isinstance(called, ast.Name) and called.id == "Settings") or (
        isinstance(called, ast.Attribute) and called.attr == "Settings"
    )


def layout_problems(relative: str, source: str) -> list[str]:
    """What in the module at ``relative`` (its path in the repository, such as
    ``tests/test_http/test_logs.py``) breaks the layout, one line each, naming the file."""
    tree = ast.parse(source, relative)
    module = _module_of(relative)
    package = module.rsplit(".", 1)[0]
    problems = []
    for line, candidates in _imports(tree, module):
        for imported in candidates:
            problem = _import_problem(package, imported)
            if problem:
                problems.append(f"{relative}:{line} {problem}")
                break  # one line per import
    if relative.startswith(SUPPORT):
        return problems
    for node in ast.walk(tree):
        is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if is_function and POLL_HELPER.fullmatch(node.name):
            problems.append(
                f"{relative}:{node.lineno} defines the poll helper {node.name}(): "
                "use tests/support/waiting.py"
            )
        if not relative.startswith(SETTINGS_TESTS) and _builds_settings(node):
            problems.append(
                f"{relative}:{node.lineno} builds Settings(...): use tests/support/settings.py"
            )
    return problems


def test_the_tests_keep_their_layout():
    problems = [
        problem
        for path in sorted(TESTS.rglob("*.py"))
        for problem in layout_problems(str(path.relative_to(ROOT)), path.read_text())
    ]
    assert not problems, "\n".join(problems)


def test_an_import_from_another_test_module_is_refused():
    source = "from tests.test_http.test_events import walk\n"
    assert layout_problems("tests/test_http/test_logs.py", source) == [
        "tests/test_http/test_logs.py:1 imports from the test module tests.test_http.test_events"
    ]
    for other in (
        "import tests.test_policy.test_actor_plan\n",
        "from tests.test_actors import test_analyst\n",
        "from .test_events import walk\n",
    ):
        assert layout_problems("tests/test_http/test_logs.py", other), other
    # tests/support itself may not import a test module either.
    assert layout_problems("tests/support/rows.py", "from tests.test_http.test_events import x\n")


def test_an_import_from_a_conftest_or_another_packages_helper_is_refused():
    assert layout_problems(
        "tests/test_alerts/test_api.py", "from tests.test_alerts.conftest import alert_settings\n"
    ) == [
        "tests/test_alerts/test_api.py:1 imports from tests.test_alerts.conftest: "
        "move its helpers to tests/support"
    ]
    assert layout_problems(
        "tests/test_ops/test_status.py", "from tests.e2e.faults import write_images\n"
    ) == [
        "tests/test_ops/test_status.py:1 imports tests.e2e.faults, another package's helper: "
        "move it to tests/support"
    ]


def test_a_package_may_import_its_own_helper_and_anyone_tests_support():
    source = (
        "from tests.e2e.faults import write_images\n"
        "from tests.support.waiting import eventually\n"
        "import tests.support.settings\n"
    )
    assert layout_problems("tests/e2e/test_poison.py", source) == []


def test_a_poll_helper_outside_tests_support_is_refused():
    for name in ("eventually", "wait_for", "wait_until", "_wait", "poll_until", "_eventually"):
        source = f"async def {name}(check, timeout):\n    return await check()\n"
        assert layout_problems("tests/test_x/test_y.py", source) == [
            f"tests/test_x/test_y.py:1 defines the poll helper {name}(): "
            "use tests/support/waiting.py"
        ]
    nested = "def test_a():\n    def wait_until(c):\n        return c()\n"
    assert layout_problems("tests/test_x/test_y.py", nested)
    assert layout_problems("tests/support/waiting.py", "def eventually(check):\n    pass\n") == []
    # A name that merely starts like one is not a poll helper.
    assert layout_problems("tests/test_x/test_y.py", "def waiting_uploads():\n    pass\n") == []


def test_building_settings_outside_the_factory_is_refused():
    for call in ("Settings(data_dir=d)", "settings_module.Settings(data_dir=d)"):
        assert layout_problems("tests/test_policy/test_x.py", f"s = {call}\n") == [
            "tests/test_policy/test_x.py:1 builds Settings(...): use tests/support/settings.py"
        ]
    assert layout_problems("tests/test_settings/test_x.py", "s = Settings(data_dir=d)\n") == []
    assert layout_problems("tests/support/settings.py", "s = Settings(data_dir=d)\n") == []
