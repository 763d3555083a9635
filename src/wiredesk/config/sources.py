"""The sources a deployment configures, read from `DIR/sources.toml`:

    accept_unknown_sources = false # at the top: true lets a source not listed deliver too

    [sources.hp]
    name = "Harbour Press"
    time_zone = "Europe/Oslo"      # for times the agency writes without an offset
    auto_publish = true            # false: every new story waits for the desk
    hold_urgency = 1               # hold flashes (urgency 1) for the desk
    hold_subjects = ["medtop:20000106", "Crime, law and justice"]
    seo = "canonical"              # index (default), noindex, or canonical: to the agency's own URL
    url = "https://example.com/feed.atom"  # polled over HTTP(S): see transports/http_poll.py
    interval = 60                  # seconds between polls of `url` or `ftp` (at least 5)
    push_secret_env = "HP_PUSH_SECRET"     # POST /push/hp, signed with this variable's secret: see transports/push.py
    ftp = "ftps://wire@ftp.hp.example/out" # pulled over FTP, FTPS or SFTP (sftp://): see transports/ftp.py
    ftp_password_env = "HP_FTP_PASSWORD"
    ftp_key_env = "HP_SFTP_KEY"    # SFTP: the variable holding a private key (OpenSSH format)
    ftp_after = "delete"           # or "move": into ftp_move_to on the server (default "done")
    email = "wire@hp.example"      # mail to this address, received by the SMTP listener: see transports/email.py

Secrets are never written here: a setting ending in `_env` names the environment variable that
holds one.

The file is the truth: the database's sources are brought in line with it (`apply`) by the
commands that change stories, and by the desk before each delivery whenever the file has changed
(`apply_changes`).

It is read in one place, `read`, into one `SourceConfig` per source: every setting typed, checked
and given its one default there, so no reader parses the file or repeats a default. And it is
read one way: as it is now. `read` stats the file on each call and parses it again only when its
modification time or size has changed, so everything that asks (who may deliver, the pages' seo,
the push secrets, the mail addresses, the HTTP and FTP pollers) follows an edit without a
restart: a poller starts, stops or re-points a source at its next turn. The time zone and the
publishing policy live in the database, beside the stories they decided, and follow the file the
same way: the next delivery after an edit is processed by the file as it is now.

Who may deliver (`check`, asked before anything is stored): with the file, the sources it lists
and the default source (WIREDESK_DEFAULT_SOURCE, for copy that names none), so a mistyped
`--source` or a stray inbox folder cannot open an agency page of its own; any source when the
file says `accept_unknown_sources = true`, and with no file at all (the demo, a desk not yet
configured). A source that delivers without being listed gets the defaults (publish everything,
times in UTC).
"""

from __future__ import annotations

import functools
import logging
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.text import slugify

from wiredesk.db import writing
from wiredesk.models import Source

# Polls of `url` or `ftp`: a second apart would be a siege, not a schedule.
DEFAULT_INTERVAL = 60.0
MIN_INTERVAL = 5.0
# What search engines are asked to do with a source's articles. Google's advice for syndicated
# copy is either to keep it out of the index or to name the original as the canonical page.
SEO = ("index", "noindex", "canonical")

log = logging.getLogger(__name__)


def _column(name: str):
    """The Source column's default: a source that delivers without being listed gets it too."""
    return Source._meta.get_field(name).get_default()


def _setting(kind: type, default=None):
    """A setting of the file: `kind` is what TOML must give for it."""
    return field(default=default, metadata={"kind": kind})


@dataclass(frozen=True)
class SourceConfig:
    """One [sources.<slug>] table, checked, each setting not written holding its default."""

    slug: str
    name: str = _setting(str, "")  # shown to readers; empty: `default_name(slug)`
    time_zone: str = _setting(str, _column("time_zone"))
    auto_publish: bool = _setting(bool, _column("auto_publish"))
    hold_urgency: int | None = _setting(int, _column("hold_urgency"))
    hold_subjects: tuple[str, ...] = _setting(list, tuple(_column("hold_subjects")))
    seo: str = _setting(str, "index")
    url: str | None = _setting(str)
    interval: float = _setting(int, DEFAULT_INTERVAL)  # whole seconds in the file, never less than MIN_INTERVAL
    push_secret_env: str | None = _setting(str)
    ftp: str | None = _setting(str)
    ftp_password_env: str | None = _setting(str)
    ftp_key_env: str | None = _setting(str)
    ftp_after: str = _setting(str, "delete")  # or "move"
    ftp_move_to: str = _setting(str, "done")
    email: str | None = _setting(str)

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", default_name(self.slug))

    def columns(self) -> dict:
        """What the database keeps of it, as `Source` fields."""
        return {name: getattr(self, name) for name in _COLUMNS} | {"hold_subjects": list(self.hold_subjects)}


FIELDS = {f.name: f.metadata["kind"] for f in fields(SourceConfig) if "kind" in f.metadata}
_COLUMNS = ("name", "time_zone", "auto_publish", "hold_urgency", "hold_subjects")


@dataclass(frozen=True)
class SourcesFile:
    """sources.toml, checked: its sources by slug, in the file's order."""

    sources: dict[str, SourceConfig]
    accept_unknown_sources: bool  # with no file at all, true: any source may deliver


# The settings above the first [sources.…] table.
TOP_LEVEL = {"accept_unknown_sources": bool, "sources": dict}
_KINDS = {str: "a string", bool: "true or false", int: "a whole number", list: "a list", dict: "tables"}
_NO_FILE = SourcesFile({}, accept_unknown_sources=True)


class ConfigError(ValueError):
    pass


class UnknownSource(ConfigError):
    """Copy from a source the file does not list, and the file does not accept unknown ones."""


def default_name(slug: str) -> str:
    # Short agency codes read best in capitals (IANS, AFP); longer slugs as words.
    return slug.upper() if len(slug) <= 5 else slug.replace("-", " ").title()


def path() -> Path:
    return Path(settings.DATA_DIR) / "sources.toml"


def read(file: Path | None = None) -> SourcesFile:
    """The file (DATA/sources.toml unless given) as it is now, checked: a mistake raises
    ConfigError naming its place, never half read. Parsed again only when it changes."""
    file = file or path()
    try:
        stat = file.stat()
    except FileNotFoundError:
        return _NO_FILE
    return _read(file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _read(file: Path, modified: int, size: int) -> SourcesFile:
    config = _load(file)
    found = {}
    for slug, values in config.get("sources", {}).items():
        interval = values.get("interval", DEFAULT_INTERVAL)
        if interval < MIN_INTERVAL:
            log.warning(
                "sources: %s asks for a poll every %ss; polled every %ss, the least allowed",
                slug,
                interval,
                MIN_INTERVAL,
            )
        found[slug] = SourceConfig(
            slug,
            **{
                **values,
                "hold_subjects": tuple(values.get("hold_subjects", ())),
                "interval": max(float(interval), MIN_INTERVAL),
            },
        )
    return SourcesFile(found, accept_unknown_sources=config.get("accept_unknown_sources", False))


def _load(file: Path) -> dict:
    """The whole file, checked."""
    try:
        config = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    for key, value in config.items():
        if key not in TOP_LEVEL:
            raise ConfigError(f"{file}: unknown top-level setting {key!r}; known: {', '.join(TOP_LEVEL)}")
        if not isinstance(value, TOP_LEVEL[key]):
            raise ConfigError(f"{file}: {key} must be {_KINDS[TOP_LEVEL[key]]}")
    for slug, values in config.get("sources", {}).items():
        if not isinstance(values, dict):
            raise ConfigError(
                f"{file}: [sources.{slug}] must be a table, such as [sources.{slug}] on a line of its own"
            )
        for key, value in values.items():
            if key in TOP_LEVEL:
                # TOML puts a setting written under a table header into that table.
                raise ConfigError(
                    f"{file}: [sources.{slug}] has {key}, which goes at the top of the file, "
                    f"before the first [sources.…]"
                )
            if key not in FIELDS:
                raise ConfigError(
                    f"{file}: [sources.{slug}] has an unknown setting {key!r}; known: {', '.join(FIELDS)}"
                )
            if not isinstance(value, FIELDS[key]) or (FIELDS[key] is int and isinstance(value, bool)):
                raise ConfigError(f"{file}: [sources.{slug}] {key} must be {_KINDS[FIELDS[key]]}")
        if "time_zone" in values:
            try:
                ZoneInfo(values["time_zone"])
            except (ValueError, ZoneInfoNotFoundError):
                raise ConfigError(
                    f"{file}: [sources.{slug}] time_zone {values['time_zone']!r} is not an IANA zone"
                ) from None
        if values.get("seo", "index") not in SEO:
            raise ConfigError(f"{file}: [sources.{slug}] seo must be one of {', '.join(SEO)}")
        if "url" in values and not values["url"].lower().startswith(("http://", "https://")):
            raise ConfigError(f"{file}: [sources.{slug}] url must start with http:// or https://")
        if "ftp" in values:
            _check_ftp(f"{file}: [sources.{slug}] ftp", values["ftp"])
        if "ftp_key_env" in values and not values.get("ftp", "").lower().startswith("sftp://"):
            raise ConfigError(f"{file}: [sources.{slug}] ftp_key_env is for an sftp:// server only")
        if values.get("ftp_after", "delete") not in ("delete", "move"):
            raise ConfigError(f"{file}: [sources.{slug}] ftp_after must be delete or move")
        if "email" in values and "@" not in values["email"]:
            raise ConfigError(f"{file}: [sources.{slug}] email must be an address, such as wire@agency.example")
    return config


def _check_ftp(where: str, url: str) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("ftp", "ftps", "sftp"):
        raise ConfigError(f"{where} must start with ftp://, ftps:// or sftp://")
    if not parts.hostname:
        raise ConfigError(f"{where} must name a server, such as ftps://wire@ftp.hp.example/out")
    if scheme == "sftp" and not parts.username:
        raise ConfigError(f"{where} must name the user to log in as, such as sftp://wire@sftp.hp.example/out")
    try:
        port = parts.port or (22 if scheme == "sftp" else 21)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ConfigError(f"{where} has a port that is not a number from 1 to 65535")
    if parts.password is not None:
        raise ConfigError(
            f"{where} must not hold a password; put it in an environment variable and name that in ftp_password_env"
        )


def apply(file: Path | None = None) -> int:
    """Bring the database's sources in line with the file; returns how many it names."""
    global _applied
    found = read(file)
    with writing():
        for config in found.sources.values():
            Source.objects.update_or_create(slug=config.slug, defaults=config.columns())
    if file is None:
        _applied = found
    return len(found.sources)


# The file as this process last applied it (read() gives the same object while it is unchanged).
_applied: SourcesFile | None = None


def apply_changes() -> None:
    """`apply`, if the file changed since this process last applied it. A broken file is said
    once and changes nothing: the sources keep the settings they had."""
    try:
        found = read()
    except ConfigError as exc:
        _log_once(str(exc))
        return
    if found is not _applied:
        apply()


def slug_for(name: str | None) -> str:
    """The slug copy from `name` is stored under; no name is the default source."""
    return slugify(name or settings.WIREDESK["DEFAULT_SOURCE"]) or "wire"


def check(name: str | None) -> str:
    """The slug copy from `name` is stored under (see slug_for), if that source may deliver now
    (see the module's docstring); else UnknownSource, which names the sources that may. A
    mistake in the file raises its ConfigError."""
    slug = slug_for(name)
    found = read()
    known = set(found.sources) | {slug_for(None)}
    if found.accept_unknown_sources or slug in known:
        return slug
    raise UnknownSource(
        f"unknown source {slug!r}; known: {', '.join(sorted(known))} (add [sources.{slug}] to "
        f"{path()}, or put accept_unknown_sources = true at its top)"
    )


def seo(slug: str) -> str:
    """The source's seo setting, read from the file as it is now: the site needs no restart."""
    return _readable().get(slug, SourceConfig(slug)).seo


def seo_sources(mode: str) -> set[str]:
    """The sources whose seo setting is `mode`."""
    return {slug for slug, config in _readable().items() if config.seo == mode}


def _readable() -> dict[str, SourceConfig]:
    """The listed sources; none while the file is broken. Commands refuse a broken file (the
    emergency ones warn and act); pages keep being served, indexed as by default."""
    try:
        return read().sources
    except ConfigError as exc:
        _log_once(str(exc))
        return {}


@functools.lru_cache(maxsize=1)
def _log_once(error: str) -> None:
    # Asked on every article page: a broken file is said once, not once a page.
    log.error("%s", error)
