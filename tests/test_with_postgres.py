"""scripts/with_postgres.py, run as a subprocess the way `make test` runs it.

The cluster tests need the PostgreSQL server binaries (initdb, pg_ctl, psql).
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "with_postgres.py"

# Prints the URL it was given, then queries the server through it with psql (argv[1]).
CHILD = """
import os, subprocess, sys
url = os.environ["DATABASE_URL"]
print(url)
r = subprocess.run([sys.argv[1], url, "-XtAc", "select 1"], capture_output=True, text=True)
print(r.stdout.strip() or r.stderr.strip())
sys.exit(r.returncode)
"""


def with_postgres(*cmd, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--", *cmd],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def psql_path():
    # Use the psql next to the initdb the script picks, not a wrapper from another version.
    spec = importlib.util.spec_from_file_location("with_postgres", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    binaries = module.find_binaries()
    assert binaries, "PostgreSQL server binaries are needed for this test"
    psql = Path(os.path.realpath(binaries[0])).with_name("psql")
    return str(psql) if psql.exists() else shutil.which("psql")


def test_starts_throwaway_cluster_and_removes_it():
    result = with_postgres(sys.executable, "-c", CHILD, psql_path())

    assert result.returncode == 0, result.stdout + result.stderr
    url, answer = result.stdout.splitlines()
    assert answer == "1"
    socket_dir = unquote(urlsplit(url).netloc.split("@", 1)[1].rsplit(":", 1)[0])
    assert socket_dir.startswith("/tmp/wdpg-")
    assert not os.path.exists(socket_dir)
    assert "with_postgres: using a throwaway cluster" in result.stderr


def test_propagates_exit_status():
    result = with_postgres(sys.executable, "-c", "raise SystemExit(3)")

    assert result.returncode == 3, result.stderr


def test_uses_database_url_from_environment(tmp_path):
    url = "postgresql://wd:s3cret@db.invalid:5432/wiredesk"
    # No binaries reachable: trying to start a cluster would exit 2.
    result = with_postgres(
        sys.executable,
        "-c",
        "import os; print(os.environ['DATABASE_URL'])",
        DATABASE_URL=url,
        PATH="",
        WITH_POSTGRES_LIBDIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == url
    assert "using DATABASE_URL from the environment" in result.stderr
    assert "wd:***@db.invalid" in result.stderr
    assert "s3cret" not in result.stderr


def test_fails_clearly_without_postgres(tmp_path):
    (tmp_path / "15" / "bin").mkdir(parents=True)  # a version dir without binaries
    marker = tmp_path / "ran"
    result = with_postgres(
        sys.executable,
        "-c",
        f"open({str(marker)!r}, 'w')",
        PATH="",
        WITH_POSTGRES_LIBDIR=str(tmp_path),
    )

    assert result.returncode == 2
    assert "with_postgres: no PostgreSQL found" in result.stderr
    assert "DATABASE_URL=" in result.stderr
    assert not marker.exists()
