"""The house rules, checked rather than commented: the import contracts in pyproject.toml
(lint-imports: the layers, the web view among them beside the pipeline), extraction workers that
stay light when actually imported, a web view that only reads the state, modules small enough to
read in one sitting, and stages that meet only at each other's front door (`from feedd.state import
State`, never `from feedd.state.database import Database`). Each check is also shown failing on
code that breaks it."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "daemon" / "feedd"
MAX_LINES = 400
#: Kept out of every extraction worker: the dedup index, Redis and the scheduler.
WORKER_FORBIDDEN = ("datasketch", "redis", "apscheduler", "pydantic", "cssselect")


def lint_imports(
    config: Path, cwd: Path = ROOT, path: Path = ROOT / "daemon"
) -> subprocess.CompletedProcess[str]:
    """lint-imports on `config`, analysing the package under `path` (the checkout, not an
    installed copy)."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", "--no-logo", str(config)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(path)},
        timeout=300,
    )


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def reaching_into(source: str, module: str, known: set[str], is_package: bool = False) -> list[str]:
    """The imports in `source` (the text of `module`, one of the `known` modules) that reach into
    another subpackage's modules instead of importing the subpackage itself; any import counts, in
    a function or under TYPE_CHECKING too. Returned as "line: imported module"."""
    packages = {
        name for name in known if name.count(".") == 1 and any(k.startswith(name + ".") for k in known)
    }
    own = next((p for p in packages if module == p or module.startswith(p + ".")), None)
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # `from feedd.state import store` reaches into the module as surely as its dotted name.
            names = [target] + [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
        else:
            continue
        for name in names:
            package = next((p for p in packages if name.startswith(p + ".")), None)
            if package is not None and package != own:
                found.append(f"{node.lineno}: {name}")
    return found


def test_import_contracts_hold() -> None:
    """The layers, the light extraction workers and the absence of cycles, as pyproject.toml
    declares them."""
    result = lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_contracts_fail_when_broken(tmp_path: Path) -> None:
    """The same contract types, written so that today's code breaks them: each one is reported."""
    config = tmp_path / "broken.toml"
    config.write_text(
        """
[tool.importlinter]
root_package = "feedd"
include_external_packages = true
exclude_type_checking_imports = true

[[tool.importlinter.contracts]]
name = "errors above config"
type = "layers"
containers = ["feedd"]
layers = ["errors", "config"]

[[tool.importlinter.contracts]]
name = "the shared index without redis"
type = "forbidden"
source_modules = ["feedd.dedup.shared"]
forbidden_modules = ["redis"]
"""
    )
    result = lint_imports(config)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 2 broken." in result.stdout
    assert "feedd.config is not allowed to import feedd.errors" in result.stdout
    assert "feedd.dedup.shared is not allowed to import redis" in result.stdout


def test_the_cycle_contract_fails_on_a_cycle(tmp_path: Path) -> None:
    """Our no-cycles contract, pointed at a package of two rooms that import each other."""
    package = tmp_path / "src" / "house"
    for room, imports in {"kitchen": "house.hall", "hall": "house.kitchen"}.items():
        (package / room).mkdir(parents=True)
        (package / room / "__init__.py").write_text(f"import {imports}\n")
    (package / "__init__.py").write_text("")
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    ours = {**next(c for c in contracts if c["id"] == "no-cycles"), "ancestors": ["house"]}
    config = tmp_path / "cycles.toml"
    # JSON strings and lists of strings are TOML too.
    config.write_text(
        '[tool.importlinter]\nroot_package = "house"\n\n[[tool.importlinter.contracts]]\n'
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in ours.items())
    )
    result = lint_imports(config, cwd=tmp_path, path=tmp_path / "src")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No cycles are allowed in house." in result.stdout


def test_extraction_workers_stay_light() -> None:
    """What a worker process imports, at run time (the contract sees only the import statements)."""
    worker_modules = ("feedd.pipeline.worker", "feedd.extract.extractor", "feedd.dedup")
    probe = (
        f"import sys\nfor name in {worker_modules}: __import__(name)\n"
        f"print(sorted(m for m in {WORKER_FORBIDDEN} if m in sys.modules))"
    )
    assert _run(probe) == "[]"
    # The probe sees them where they are imported.
    seen = _run(probe.replace("feedd.pipeline.worker", "feedd.dedup.shared"))
    assert seen == "['datasketch', 'pydantic', 'redis']"


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "daemon")},
        check=True,
    )
    return result.stdout.strip()


def state_opened_for_writing(source: str) -> list[int]:
    """The lines of `source` that make a State without read_only=True."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "State"
        ):
            read_only = next((k.value for k in node.keywords if k.arg == "read_only"), None)
            if not (isinstance(read_only, ast.Constant) and read_only.value is True):
                found.append(node.lineno)
    return found


def test_the_web_view_only_opens_the_state_read_only() -> None:
    """The web view runs beside the daemon that writes the state: it never takes the lock or
    writes (`State(..., read_only=True)`: SQLite mode=ro, no lock, no recovery)."""
    found = {
        name: lines
        for name, path in modules().items()
        if name.startswith("feedd.web")
        and (lines := state_opened_for_writing(path.read_text(encoding="utf-8")))
    }
    assert not found
    assert any(name.startswith("feedd.web.") for name in modules())
    # The check sees a writer where there is one.
    assert state_opened_for_writing("State(a, b, c)\nState(a, b, c, read_only=False)\n") == [1, 2]
    assert state_opened_for_writing("state.State(a, b, c, read_only=True)\n") == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, "\n".join(f"{name}: {lines} lines" for name, lines in long.items())


def test_code_outside_a_subpackage_imports_the_subpackage_itself() -> None:
    known = modules()
    found = {}
    for name, path in known.items():
        source = path.read_text(encoding="utf-8")
        if hits := reaching_into(source, name, set(known), is_package=path.name == "__init__.py"):
            found[name] = hits
    assert not found, "\n".join(f"{name}:{hit}" for name, hits in found.items() for hit in hits)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("feedd.cli.app", "from feedd.state.store import Store\n", ["1: feedd.state.store"]),
        ("feedd.cli.app", "import feedd.state.store\n", ["1: feedd.state.store"]),
        ("feedd.cli.app", "from feedd.state import store\n", ["1: feedd.state.store"]),
        (
            "feedd.pipeline.session",
            "if TYPE_CHECKING:\n    from feedd.dedup.near import Thresholds\n",
            ["2: feedd.dedup.near"],
        ),
        (
            "feedd.service.daemon",
            "def later():\n    from feedd.pipeline.worker import Pool\n",
            ["2: feedd.pipeline.worker"],
        ),
        ("feedd.cli.app", "from ..state.store import Store\n", ["1: feedd.state.store"]),
        # The front door, a sibling, and modules that are no subpackage are all fine.
        ("feedd.cli.app", "from feedd.state import Store\nimport feedd.state\n", []),
        ("feedd.state.store", "from feedd.state.records import Feed\nfrom .records import Feed\n", []),
        ("feedd.cli.app", "from feedd.errors import StateError\nfrom feedd import __version__\n", []),
    ],
)
def test_the_import_rule_catches_reaching_in(module: str, source: str, expected: list[str]) -> None:
    known = {
        "feedd",
        "feedd.errors",
        "feedd.cli",
        "feedd.cli.app",
        "feedd.pipeline",
        "feedd.pipeline.session",
    }
    known |= {
        "feedd.pipeline.worker",
        "feedd.service",
        "feedd.service.daemon",
        "feedd.dedup",
        "feedd.dedup.near",
    }
    known |= {"feedd.state", "feedd.state.store", "feedd.state.records"}
    assert reaching_into(source, module, known) == expected
