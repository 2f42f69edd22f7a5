"""What the shipped systemd units promise (no link-local or metadata addresses, bounded memory, the
real time, private files, basic-auth files handed over as credentials, exposure <= 2.0), what
pyproject.toml declares (every library feedd imports; no major release that would break it; no
lxml_html_clean with a known advisory), and that the wheel carries the web view's templates and
static files."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from feedd.config import load_config

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted((ROOT / "systemd").glob("*.service"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _settings(unit: Path) -> dict[str, list[str]]:
    """Each key's values, in order (a key may be given several times)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def _memory(value: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


def test_there_are_the_three_services() -> None:
    assert [unit.name for unit in SERVICES] == ["feedd-once.service", "feedd.service", "feedd@.service"]


@pytest.mark.parametrize("unit", SERVICES, ids=lambda unit: unit.name)
def test_units_refuse_link_local_and_metadata_addresses(unit: Path) -> None:
    denied = " ".join(_settings(unit)["IPAddressDeny"]).split()
    for address in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"):
        assert address in denied
    # Never the whole Internet, nor loopback (a local Redis, the metrics scrape).
    assert "any" not in denied and "localhost" not in denied and "127.0.0.0/8" not in denied


@pytest.mark.parametrize("unit", SERVICES, ids=lambda unit: unit.name)
def test_units_bound_memory_wait_for_the_clock_and_keep_files_private(unit: Path) -> None:
    settings = _settings(unit)
    high, top = _memory(settings["MemoryHigh"][-1]), _memory(settings["MemoryMax"][-1])
    # Room for the main process (~250 MB at 10,000 feeds) and a few extraction workers.
    assert 768 << 20 <= high < top <= 4 << 30
    after = " ".join(settings["After"]).split()
    assert "time-sync.target" in after and "network-online.target" in after
    # time-sync.target is passive: ordered after, never pulled in.
    assert "time-sync.target" not in " ".join(settings.get("Wants", []) + settings.get("Requires", []))
    assert settings["UMask"] == ["0077"]


@pytest.mark.parametrize("unit", SERVICES, ids=lambda unit: unit.name)
def test_basic_auth_files_come_as_credentials_named_as_the_config_reads_them(
    unit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(unit)
    (credential,) = settings["LoadCredential"]
    name, _, folder = credential.partition(":")
    # The folder sits in the configuration directory under the credential's own name, so that a
    # feed's file = "NAME/x" is the same file inside the unit and out of it.
    assert settings["ConfigurationDirectory"] == ["feedd"] and folder == f"/etc/feedd/{name}"
    # A default of the same name makes the folder optional (a missing one would fail the start).
    assert any(value.partition(":")[0] == name for value in settings["SetCredential"])

    # Systemd's part, as systemd.exec(5) says it: each file of the folder becomes the credential
    # NAME_file in $CREDENTIALS_DIRECTORY, readable by the service's user only.
    etc = tmp_path / "etc-feedd"
    (etc / name).mkdir(parents=True)
    (etc / name / "dw").write_text("reader:s3cret\n")
    (etc / name / "dw").chmod(0o600)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    for file in (etc / name).rglob("*"):
        loaded = "_".join((name, *file.relative_to(etc / name).parts))
        shutil.copyfile(file, credentials / loaded)
    config = etc / "feedd.toml"
    config.write_text(f'[[feeds]]\nurl = "https://example.org/feed"\nbasic_auth = {{ file = "{name}/dw" }}\n')
    (etc / name / "dw").write_text("reader:not-this-one\n")  # the copy is what the unit reads
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    assert load_config(config).credentials["https://example.org/feed"].password == "s3cret"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_verify_and_expose_at_most_2_0(tmp_path: Path) -> None:
    # As .ci/run does: verify wants ExecStart to exist, and a template is verified as an instance.
    feedd = Path(sys.executable).with_name("feedd")
    for unit in [*SERVICES, *(ROOT / "systemd").glob("*.timer")]:
        text = unit.read_text(encoding="utf-8").replace("/usr/local/bin/feedd", str(feedd))
        (tmp_path / unit.name.replace("@.", "@ci.")).write_text(text)
    verified = subprocess.run(
        ["systemd-analyze", "verify", *sorted(map(str, tmp_path.iterdir()))], capture_output=True, text=True
    )
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    for unit in SERVICES:
        security = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(unit)],
            capture_output=True,
            text=True,
        )
        assert security.returncode == 0, security.stdout[-300:]
        assert "Invalid syntax" not in security.stderr, security.stderr


def _imported_libraries() -> set[str]:
    """The top-level modules outside the standard library that feedd imports."""
    found = set()
    for source in (ROOT / "daemon" / "feedd").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "feedd"}


def _declared() -> dict[str, Requirement]:
    # The base install and the extras feedd's own code uses (redis: the shared index).
    texts = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["redis"]]
    requirements = (Requirement(text) for text in texts)
    return {canonicalize_name(requirement.name): requirement for requirement in requirements}


def test_every_library_feedd_imports_is_declared() -> None:
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    declared = _declared()
    missing = {
        module: distributions.get(module)
        for module in _imported_libraries()
        if not any(canonicalize_name(name) in declared for name in distributions.get(module, [module]))
    }
    assert missing == {}


@pytest.mark.parametrize(
    "name",
    ["typer", "rich", "redis", "charset-normalizer", "numpy", "lxml", "starlette", "jinja2", "uvicorn"],
)
def test_the_next_major_release_is_not_allowed(name: str) -> None:
    from importlib.metadata import version

    installed = Version(version(name))
    specifier = _declared()[canonicalize_name(name)].specifier
    assert specifier.contains(installed)
    assert not specifier.contains(Version(f"{installed.major + 1}.0"))


def test_lxml_html_clean_without_a_known_advisory() -> None:
    specifier = _declared()["lxml-html-clean"].specifier
    # CVE-2026-28348 and CVE-2026-28350 fixed in 0.4.4, the xlink:href XSS in 0.4.5.
    assert not any(specifier.contains(Version(old)) for old in ("0.4.0", "0.4.3", "0.4.4"))
    assert specifier.contains(Version("0.4.5"))


def test_the_wheel_carries_the_web_views_templates_and_static_files(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
        + [str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("feedd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    web = ROOT / "daemon" / "feedd" / "web"
    shipped = {
        f"feedd/web/{path.relative_to(web).as_posix()}"
        for folder in ("templates", "static")
        for path in (web / folder).iterdir()
    }
    assert {
        "feedd/web/templates/pair.html",
        "feedd/web/static/style.css",
        "feedd/web/static/feedd.js",
    } <= shipped
    assert shipped <= names
