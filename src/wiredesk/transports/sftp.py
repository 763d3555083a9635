"""SFTP pull: the folder poll (transports/ftp.py) over SSH, for a source whose `ftp` URL starts
with sftp://: this module's `SftpFolder` is folder.py's `Folder` over SFTP.

    [sources.hp]
    ftp = "sftp://wire@sftp.hp.example/out"   # port 22 unless given; the path is relative to the login folder
    ftp_key_env = "HP_SFTP_KEY"               # the variable holding a private key (OpenSSH format), or
    ftp_password_env = "HP_SFTP_PASSWORD"     # the one holding a password (either, or both)

Everything the FTP transport promises holds: files taken oldest first, temporary names skipped,
each stored and committed before it is deleted or moved, a file still being written left for
the next poll, a file over the limit left on the server, nothing stored twice after a crash.

The server is trusted only if its host key is listed in DATA/known_hosts (else in the user's
~/.ssh/known_hosts), the format OpenSSH keeps: `ssh-keyscan -p 22 sftp.hp.example >>
DATA/known_hosts`, after checking the fingerprint with the agency. A server whose key is not
there, or has changed, is refused, as ssh refuses it. Neither the user's SSH configuration nor
an SSH agent is consulted: the desk logs in with what sources.toml names, nothing else.

The SSH library (asyncssh) works on an event loop: each folder has one of its own, in a thread
of its own, which the poller's thread for that source waits on, request by request. So sources
stay as independent as over FTP, and the caller's thread may have a loop of its own or not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import posixpath
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncssh
from django.conf import settings

from wiredesk.config.sources import SourceConfig
from wiredesk.transports import folder
from wiredesk.transports.folder import Entry, FileError, Folder, SessionError, Transfer
from wiredesk.transports.polling import CHUNK, Limits


def known_hosts() -> Path:
    return Path(settings.DATA_DIR) / "known_hosts"


class SftpFolder(Folder):
    def __init__(self, config: SourceConfig, limits: Limits):
        self.config, self.limits = config, limits
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=f"sftp-{config.slug}", daemon=True)
        self._thread.start()
        try:
            self.connection, self.sftp = self._await(self._open())
        except BaseException:
            self._end_loop()
            raise

    def _await(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def _end_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    async def _open(self):
        parts = urlsplit(self.config.ftp)
        user, port = unquote(parts.username), parts.port or 22
        secrets = {}
        for setting, env, kind in (
            ("password", self.config.ftp_password_env, "ftp_password_env"),
            ("key", self.config.ftp_key_env, "ftp_key_env"),
        ):
            if env:
                if os.environ.get(env) is None:
                    raise SessionError(f"the environment variable {env} ({kind}) is not set")
                secrets[setting] = os.environ[env]
        try:
            keys = [asyncssh.import_private_key(secrets["key"])] if "key" in secrets else None
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise SessionError(f"the private key in {self.config.ftp_key_env} cannot be read: {exc}") from None
        doing = f"connecting to {parts.hostname}:{port}"
        try:
            connection = await asyncssh.connect(
                parts.hostname,
                port,
                username=user,
                password=secrets.get("password"),
                client_keys=keys,
                known_hosts=str(known_hosts()) if known_hosts().exists() else (),
                config=None,
                agent_path=None,
                connect_timeout=self.limits.timeout,
                login_timeout=self.limits.timeout,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            raise SessionError(
                f"{doing}: the server's host key is not trusted ({exc.reason}): after checking its "
                f"fingerprint with the agency, add it to {known_hosts()} "
                f"(ssh-keyscan -p {port} {parts.hostname})"
            ) from None
        except asyncssh.PermissionDenied:
            raise SessionError(f"{doing}: logging in as {user}: refused") from None
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise SessionError(f"{doing}: {_reason(exc, self.limits)}") from None
        try:
            doing = "starting SFTP"
            sftp = await asyncio.wait_for(connection.start_sftp_client(), self.limits.timeout)
            if path := folder.path(self.config):
                doing = f"changing to the folder {path}"
                await asyncio.wait_for(sftp.chdir(path), self.limits.timeout)
                # Some servers resolve a folder that is not there: ask for it.
                await asyncio.wait_for(sftp.stat("."), self.limits.timeout)
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            connection.abort()
            await connection.wait_closed()
            raise SessionError(f"{doing}: {_reason(exc, self.limits)}") from None
        return connection, sftp

    def _run(self, request, *, per_file: bool = True):
        """Run one request (an awaitable): a refusal is the file's (FileError) when `per_file`; a
        broken or silent connection ends the session."""

        async def answer():
            return await asyncio.wait_for(request, self.limits.timeout)

        try:
            return self._await(answer())
        except asyncssh.SFTPError as exc:
            if per_file and not isinstance(exc, asyncssh.SFTPConnectionLost):
                raise FileError(exc.reason) from None
            raise SessionError(_reason(exc, self.limits)) from None
        except (TimeoutError, OSError, asyncssh.Error) as exc:
            raise SessionError(_reason(exc, self.limits)) from None

    def listing(self) -> list[Entry]:
        try:
            names = self._run(self.sftp.readdir("."), per_file=False)
        except SessionError as exc:
            raise SessionError(f"listing the folder: {exc}") from None
        entries = [
            Entry(name.filename, name.attrs.size, _modified(name.attrs))
            for name in names
            if name.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR
        ]
        return folder.oldest_first(entries)

    def fetch(self, entry: Entry) -> bytes:
        transfer = Transfer(entry, self.limits)
        handle = self._run(self.sftp.open(entry.name, "rb"))
        try:
            while chunk := self._run(handle.read(CHUNK)):
                transfer.add(chunk)
        finally:
            try:
                self._run(handle.close())
            except (FileError, SessionError):
                pass  # the read's outcome stands; a broken connection shows at the next request
        return transfer.data(self._run(self.sftp.stat(entry.name)).size)

    def delete(self, name: str) -> None:
        self._run(self.sftp.remove(name))

    def move(self, name: str, folder: str) -> None:
        if not self._run(self.sftp.isdir(folder)):
            self._run(self.sftp.mkdir(folder))
        self._run(self.sftp.rename(name, posixpath.join(folder, name)))

    def close(self, clean: bool) -> None:
        try:
            self._await(self._close(clean))
        finally:
            self._end_loop()

    async def _close(self, clean: bool) -> None:
        if clean:
            self.sftp.exit()
            self.connection.close()
        else:
            self.connection.abort()
        try:
            await asyncio.wait_for(self.connection.wait_closed(), self.limits.timeout)
        except (TimeoutError, OSError, asyncssh.Error):
            # The work is done: a server that fumbles the goodbye changes nothing.
            self.connection.abort()
            await self.connection.wait_closed()


def _modified(attrs) -> str | None:
    # As FTP's MDTM gives it (YYYYMMDDHHMMSS, UTC), so that the two sort and compare alike.
    if attrs.mtime is None:
        return None
    return dt.datetime.fromtimestamp(attrs.mtime, dt.UTC).strftime("%Y%m%d%H%M%S")


def _reason(exc: BaseException, limits: Limits) -> str:
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return limits.timed_out()
    if isinstance(exc, asyncssh.Error) and exc.reason:
        return exc.reason
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    return f"{type(exc).__name__}: {exc}"
