"""The import direction of issue 14 holds: the contracts in pyproject.toml, run through import-linter
as `make check` runs them, so that `make test` fails too when an import goes the wrong way."""

from pathlib import Path

from importlinter import configuration
from importlinter.application import use_cases

ROOT = Path(__file__).resolve().parent.parent

# What `lint-imports` sets up before it lints. Not importlinter.cli.lint_imports itself: it
# reconfigures logging, which disables every logger made before (wiredesk's among them, and the
# tests that read their records fail after it), and puts the working directory on sys.path.
configuration.configure()


def _lint(config: Path) -> bool:
    """Whether the contracts in `config` are kept; the report goes to stdout, as lint-imports prints it."""
    return use_cases.lint_imports(config_filename=str(config), cache_dir=None, no_logo=True)


def test_the_code_keeps_the_import_contracts(capsys):
    kept = _lint(ROOT / "pyproject.toml")
    report = capsys.readouterr().out
    assert kept, report
    # Every contract was checked, not skipped for want of a module.
    assert "Contracts: 2 kept, 0 broken." in report


def test_a_wrong_way_import_is_reported(tmp_path, monkeypatch, capsys):
    """The check can fail: the same kinds of contract over a tiny package of two layers, whose lower
    layer imports the upper one and whose pure module imports Django."""
    package = tmp_path / "wrongway"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "upper.py").write_text("")
    (package / "lower.py").write_text("from wrongway import upper\n")
    (package / "pure.py").write_text("import django\n")
    config = tmp_path / "pyproject.toml"
    config.write_text(
        """
[tool.importlinter]
root_package = "wrongway"
include_external_packages = true

[[tool.importlinter.contracts]]
name = "upper above lower"
type = "layers"
layers = ["wrongway.upper", "wrongway.lower"]

[[tool.importlinter.contracts]]
name = "pure is pure"
type = "forbidden"
source_modules = ["wrongway.pure"]
forbidden_modules = ["django"]
"""
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    kept = _lint(config)
    report = capsys.readouterr().out
    assert not kept, report
    assert "Contracts: 0 kept, 2 broken." in report
    assert "wrongway.lower is not allowed to import wrongway.upper" in report
    assert "wrongway.pure is not allowed to import django" in report
