"""The layer rules: imports run downward only, and Ray is called in one module.

Lint enforces them (``homesec/<floor>/ruff.toml``, ruff's banned-api, run before the tests by
``scripts/test``). These tests keep lint honest: each floor's rules still fail a deliberate
violation, and the source itself obeys them, including the one file lint lets call Ray.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "homesec"
RUFF = Path(sys.executable).with_name("ruff")
FLOOR_CONFIGS = sorted(PACKAGE.glob("*/ruff.toml"))
# The only modules that import Ray: the gateway, and backfill job submission (Ray's job client).
RAY_MODULES = {"homesec/actors/ray_gateway.py", "homesec/ops/backfill_job.py"}


def banned(config: Path) -> dict[str, str]:
    rules = tomllib.loads(config.read_text())["lint"]["flake8-tidy-imports"]["banned-api"]
    return {name: rule["msg"] for name, rule in rules.items()}


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (lazy imports in functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def matches(module: str, rule: str) -> bool:
    return module == rule or module.startswith(rule + ".")


def test_every_floor_below_ops_has_its_rules():
    floors = {config.parent.name for config in FLOOR_CONFIGS}
    assert floors == {
        "contract",
        "policy",
        "models",
        "engines",
        "files",
        "store",
        "workflows",
        "actors",
        "http",
    }


@pytest.mark.parametrize("config", FLOOR_CONFIGS, ids=lambda config: config.parent.name)
def test_lint_fails_a_deliberate_violation_of_each_rule(config: Path):
    rules = banned(config)
    probe = "".join(f"import {name}\n" for name in rules)
    result = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--select", "TID251", "--stdin-filename",
         str(config.parent / "layer_probe.py"), "-"],
        input=probe,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    for name in rules:
        assert f"`{name}` is banned" in result.stdout, f"{config}: {name} not refused"


@pytest.mark.parametrize("config", FLOOR_CONFIGS, ids=lambda config: config.parent.name)
def test_the_source_obeys_its_floor(config: Path):
    rules = banned(config)
    broken = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(config.parent.rglob("*.py"))
        if str(path.relative_to(ROOT)) not in RAY_MODULES
        for module in imported_modules(path)
        for rule in rules
        if matches(module, rule)
    ]
    assert broken == []


def test_only_the_gateway_and_job_submission_import_ray():
    importing = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if any(matches(module, "ray") for module in imported_modules(path))
    }
    assert importing == RAY_MODULES


def test_the_gateway_imports_no_floor_above_actors():
    modules = imported_modules(PACKAGE / "actors" / "ray_gateway.py")
    assert not [m for m in modules if matches(m, "homesec.http") or matches(m, "homesec.ops")]


def test_settings_import_nothing_of_homesec():
    modules = imported_modules(PACKAGE / "settings.py")
    assert [module for module in modules if matches(module, "homesec")] == []


def test_every_test_folder_is_in_testpaths():
    """pytest's testpaths orders the suite; a folder missing there would silently not run."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    listed = set(options["testpaths"])
    folders = {
        f"tests/{path.name}"
        for path in (ROOT / "tests").iterdir()
        if path.is_dir() and (path.name.startswith("test_") or path.name in ("e2e", "cluster"))
    }
    files = {f"tests/{path.name}" for path in (ROOT / "tests").glob("test_*.py")}
    assert folders | files == listed


# What only homesec/store may do: a session's writes and any Redis command.
SESSION_WRITES = {"commit", "flush", "add_all", "merge"}
SESSION_NAMES = {"session", "db"}
REDIS_COMMANDS = {
    "set", "get", "delete", "ping", "publish", "pubsub", "pipeline", "eval", "evalsha", "expire",
    "incr", "hset", "hget", "hgetall", "zadd", "zrange", "zrem", "sadd", "srem", "smembers",
    "xadd", "xlen", "xrange", "xack", "xreadgroup", "xautoclaim", "xpending_range", "lpush",
    "rpush", "llen", "lrange", "scan_iter", "keys",
}  # fmt: skip


def _writes_in(path: Path) -> list[str]:
    """Session writes (``x.commit()``, ``session.add(...)``) and Redis commands on anything
    named like a Redis client (``redis``, ``self._redis``, ``services.redis``) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method, owner = node.func.attr, node.func.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"
        if method in SESSION_WRITES or (method == "add" and owner_name in SESSION_NAMES):
            found.append(f"{where} .{method}()")
        elif method in REDIS_COMMANDS and owner_name.lstrip("_") == "redis":
            found.append(f"{where} redis.{method}()")
    return found


def test_the_front_door_writes_nothing_itself():
    """Issue 19: every PostgreSQL write and every Redis command goes through homesec/store; the
    front door reads through store functions or its own read-only queries (lint bans its
    importing SQLAlchemy's insert, update and delete)."""
    found = [hit for path in sorted((PACKAGE / "http").rglob("*.py")) for hit in _writes_in(path)]
    assert found == []


def test_the_write_check_sees_a_write(tmp_path: Path):
    probe = tmp_path / "writes.py"
    probe.write_text(
        "async def f(session, services, names):\n"
        "    names.add(1)\n"  # a set's add is no write
        "    session.add(1)\n"
        "    await session.commit()\n"
        "    await services.redis.publish('c', 'm')\n"
    )
    assert [hit.split(" ", 1)[1] for hit in _writes_in(probe)] == [
        ".add()",
        ".commit()",
        "redis.publish()",
    ]
