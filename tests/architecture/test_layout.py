"""The layout's promises: import rules hold, no private name crosses a package, and a feature is
one package plus one line in FEATURES."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("app", "bots", "console", "miniprogram_api", "workers", "nlp", "config")


def test_import_contracts_hold():
    """lint-imports (.importlinter): layers, nlp pure, no cycles among a package's modules."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _package(module: str) -> str:
    """The unit privacy is kept within: a feature (app.tickets), app.core, or a top-level package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "app" and len(parts) > 1 else parts[0]


def _module_of(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def private_crossings(root: Path = ROOT) -> list[str]:
    """Every `from X import _name` or `X._name` where X lies in another package than the importer."""
    found = []
    for top in OURS:
        for path in (root / top).rglob("*.py") if (root / top).is_dir() else []:
            importer = _package(_module_of(path, root))
            tree = ast.parse(path.read_text(encoding="utf-8"))
            aliases: dict[str, str] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
                    for alias in node.names:
                        full = f"{node.module}.{alias.name}"
                        aliases[alias.asname or alias.name] = full
                        if alias.name.startswith("_") and _package(node.module) != importer:
                            found.append(f"{path.relative_to(root)}:{node.lineno} imports {full}")
            for node in ast.walk(tree):
                if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                        and isinstance(node.value, ast.Name) and node.value.id in aliases
                        and _package(aliases[node.value.id]) != importer):
                    found.append(f"{path.relative_to(root)}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_a_package():
    assert private_crossings() == []


def test_the_check_sees_a_private_crossing(tmp_path):
    """The check above can fail: a module that imports another feature's private name is reported.
    (Written to a copy in tmp_path, never into app/, where lint-imports may be reading at the same time.)"""
    (tmp_path / "app" / "wishes").mkdir(parents=True)
    (tmp_path / "app" / "tickets").mkdir(parents=True)
    (tmp_path / "app" / "wishes" / "probe.py").write_text("from app.tickets.records import _nothing\n")
    (tmp_path / "app" / "tickets" / "probe.py").write_text("from app.tickets.records import _nothing\n")
    found = private_crossings(tmp_path)
    assert found == ["app/wishes/probe.py:1 imports app.tickets.records._nothing"]  # tickets may use its own


PROBE = """
import json, sys
import app as app_package
from config import TestConfig
app_package.FEATURES = (*app_package.FEATURES, "sample_feature")
built = app_package.create_app(TestConfig())
from app.chat.menu import help_text
from app.community.demo import steps
from app.core.periodic import registered
from console.nav import NAV
print(json.dumps({
    "rules": sorted(rule.rule for rule in built.url_map.iter_rules()),
    "menu": help_text(),
    "periodic": [job.func for job in registered()],
    "seed_modules": [step.__module__ for step in steps()],
    "nav": [item.endpoint for item in NAV],
    "api": built.test_client().get("/api/v1/sample-feature").get_json(),
}))
"""


def test_a_feature_is_one_package_and_one_line_in_features():
    """A fresh process adds tests/architecture/sample_feature to FEATURES and nothing else."""
    import json
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "/console/sample-feature" in seen["rules"] and "/api/v1/sample-feature" in seen["rules"]
    assert "样例：如“样例”" in seen["menu"]
    assert "sample_feature.ping" in seen["periodic"]
    assert "sample_feature" in seen["seed_modules"]
    assert "console.sample_page" in seen["nav"]
    assert seen["api"] == {"ok": True}
