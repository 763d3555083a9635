#!/usr/bin/env python3
"""Run a command with DATABASE_URL pointing at a usable PostgreSQL server.

    python scripts/with_postgres.py -- <command> [args...]

A postgres:// or postgresql:// DATABASE_URL already in the environment is used
as is. Otherwise a throwaway cluster is started from the installed server
binaries (unix socket only, in a temp dir), and stopped and deleted afterwards.
Exits with the command's status, or 2 if no PostgreSQL could be provided.
Standard library only, so it runs before any dependencies are installed.
"""

import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from urllib.parse import quote, urlsplit, urlunsplit

NOT_FOUND = (
    "no PostgreSQL found. Set DATABASE_URL=postgresql://user@host/db to use a running server, "
    "or install the server binaries (Debian/Ubuntu: apt-get install postgresql; "
    "macOS: brew install postgresql)"
)


class Terminated(Exception):
    """Raised on SIGTERM so that the finally blocks still stop the cluster."""


def note(msg):
    print(f"with_postgres: {msg}", file=sys.stderr, flush=True)


def mask(url):
    parts = urlsplit(url)
    if parts.password is not None:
        userinfo, _, hostport = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{hostport}")
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", urlunsplit(parts))


def find_binaries():
    """Return [initdb, pg_ctl], or None. Debian keeps them off PATH, hence the lib dir."""
    found = [shutil.which(name) for name in ("initdb", "pg_ctl")]
    if all(found):
        return found
    root = os.environ.get("WITH_POSTGRES_LIBDIR", "/usr/lib/postgresql")

    def version(bindir):  # numeric, so that 10 sorts above 9.6
        return [int(n) for n in re.findall(r"\d+", os.path.basename(os.path.dirname(bindir)))]

    for bindir in sorted(glob.glob(os.path.join(root, "*", "bin")), key=version, reverse=True):
        paths = [os.path.join(bindir, name) for name in ("initdb", "pg_ctl")]
        if all(os.access(p, os.X_OK) for p in paths):
            return paths
    return None


def as_postgres(cmd):
    """Prefix cmd so it runs as the postgres user: initdb and postgres refuse to run as root."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
    if runuser := shutil.which("runuser", path=path):
        return [runuser, "-u", "postgres", "--", *cmd]
    su = shutil.which("su", path=path) or "su"
    return [su, "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


def free_port():
    # No TCP listener is started, so the port only names the socket file (.s.PGSQL.<port>);
    # a free one just keeps it from looking like the system server on 5432 in ps and logs.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, env):
    proc = subprocess.Popen(cmd, env=env)
    try:
        rc = proc.wait()
    except (KeyboardInterrupt, Terminated) as exc:
        # Let the command exit before its database disappears (Ctrl-C already reached it).
        if isinstance(exc, Terminated):
            proc.terminate()
        rc = proc.wait()
    return rc if rc >= 0 else 128 - rc  # shell convention for "killed by signal N"


def with_cluster(cmd, initdb, pg_ctl):
    pw = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            note(
                "running as root, but initdb refuses to run as root and there is no 'postgres' "
                "user to run it as. Create one (useradd -r postgres), run as another user, "
                "or set DATABASE_URL"
            )
            return 2
    wrap = as_postgres if pw else list
    # Short and under /tmp: the socket path must fit in ~107 bytes.
    tmp = tempfile.mkdtemp(prefix="wdpg-", dir="/tmp")
    data, log, port = os.path.join(tmp, "data"), os.path.join(tmp, "log"), free_port()
    try:
        if pw:
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
            os.chmod(tmp, 0o755)  # so non-postgres clients can reach the socket
        init = subprocess.run(
            wrap([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]),
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if init.returncode:
            note(f"initdb failed:\n{init.stdout}{init.stderr}")
            return 2
        opts = (
            f"-c listen_addresses='' -k {tmp} -p {port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        # -s: pg_ctl's progress dots would otherwise end up in the command's stdout.
        start = subprocess.run(
            wrap([pg_ctl, "-D", data, "-o", opts, "-w", "-t", "60", "-s", "-l", log, "start"]),
            cwd=tmp,
        )
        if start.returncode:
            try:
                with open(log, errors="replace") as f:
                    tail = "".join(f.readlines()[-30:])
            except OSError:
                tail = "(no log written)\n"
            note(f"PostgreSQL failed to start; end of {log}:\n{tail}")
            return 2
        # The socket directory, percent-encoded as the host: libpq and dj-database-url both read it.
        url = f"postgresql://postgres@{quote(tmp, safe='')}:{port}/postgres"
        note(f"using a throwaway cluster from {os.path.dirname(initdb)} ({url})")
        return run(cmd, {**os.environ, "DATABASE_URL": url})
    finally:
        subprocess.run(
            wrap([pg_ctl, "-D", data, "-m", "immediate", "-s", "stop"]),
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def main(args):
    cmd = args[1:] if args[:1] == ["--"] else args
    if not cmd:
        note("usage: python scripts/with_postgres.py -- <command> [args...]")
        return 2
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        note(f"using DATABASE_URL from the environment ({mask(url)})")
        return run(cmd, os.environ)
    binaries = find_binaries()
    if not binaries:
        note(NOT_FOUND)
        return 2
    return with_cluster(cmd, *binaries)


if __name__ == "__main__":

    def on_sigterm(signum, frame):
        raise Terminated

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except Terminated:
        sys.exit(143)
