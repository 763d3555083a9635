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

The file is the truth: each command brings the database's sources in line with it.

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
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils.text import slugify

from wiredesk.models import Source

FIELDS = {
    "name": str,
    "time_zone": str,
    "seo": str,
    "auto_publish": bool,
    "hold_urgency": int,
    "hold_subjects": list,
    "url": str,
    "interval": int,
    "push_secret_env": str,
    "ftp": str,
    "ftp_password_env": str,
    "ftp_key_env": str,
    "ftp_after": str,
    "ftp_move_to": str,
    "email": str,
}
# The settings above the first [sources.…] table.
TOP_LEVEL = {"accept_unknown_sources": bool, "sources": dict}
_KINDS = {str: "a string", bool: "true or false", int: "a whole number", list: "a list", dict: "tables"}
# What search engines are asked to do with a source's articles. Google's advice for syndicated
# copy is either to keep it out of the index or to name the original as the canonical page.
SEO = ("index", "noindex", "canonical")

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    pass


class UnknownSource(ConfigError):
    """Copy from a source the file does not list, and the file does not accept unknown ones."""


def default_name(slug: str) -> str:
    # Short agency codes read best in capitals (IANS, AFP); longer slugs as words.
    return slug.upper() if len(slug) <= 5 else slug.replace("-", " ").title()


def path() -> Path:
    return Path(settings.DATA_DIR) / "sources.toml"


def read(file: Path) -> dict[str, dict]:
    """Each source's settings, checked: a mistake is named with its place, never half applied."""
    return _load(file).get("sources", {})


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
    file = file or path()
    if not file.exists():
        return 0
    sources = read(file)
    defaults = {field.name: field.get_default() for field in Source._meta.fields if field.name in FIELDS}
    for slug, values in sources.items():
        name = values.get("name") or default_name(slug)
        # Settings read from the file itself (seo; url and interval, by the poller) have no column.
        stored = {key: value for key, value in values.items() if key in defaults}
        Source.objects.update_or_create(slug=slug, defaults={**defaults, **stored, "name": name})
    return len(sources)


def slug_for(name: str | None) -> str:
    """The slug copy from `name` is stored under; no name is the default source."""
    return slugify(name or settings.WIREDESK["DEFAULT_SOURCE"]) or "wire"


def check(name: str | None) -> str:
    """The slug copy from `name` is stored under (see slug_for), if that source may deliver now
    (see the module's docstring); else UnknownSource, which names the sources that may. A
    mistake in the file raises its ConfigError. The file is read as it is now, again only when
    it changes."""
    slug = slug_for(name)
    admission = _as_now(_admission)
    if admission is None:
        return slug
    accept_any, listed = admission
    known = listed | {slug_for(None)}
    if accept_any or slug in known:
        return slug
    raise UnknownSource(
        f"unknown source {slug!r}; known: {', '.join(sorted(known))} (add [sources.{slug}] to "
        f"{path()}, or put accept_unknown_sources = true at its top)"
    )


@functools.lru_cache(maxsize=1)
def _admission(file: Path, modified: int, size: int) -> tuple[bool, frozenset[str]]:
    config = _load(file)
    return config.get("accept_unknown_sources", False), frozenset(config.get("sources", {}))


def seo(slug: str) -> str:
    """The source's seo setting, read from the file as it is now: the site needs no restart."""
    return _seo().get(slug, "index")


def seo_sources(mode: str) -> set[str]:
    """The sources whose seo setting is `mode`."""
    return {slug for slug, value in _seo().items() if value == mode}


def _seo() -> dict[str, str]:
    return _as_now(_seo_settings) or {}


def _as_now(reader):
    """`reader(file, modified, size)` of the file as it is now (None when there is none): a
    reader cached on those arguments reads the file again only when it changes."""
    file = path()
    try:
        stat = file.stat()
    except FileNotFoundError:
        return None
    return reader(file, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=1)
def _seo_settings(file: Path, modified: int, size: int) -> dict[str, str]:
    """Read again only when the file changes: it is asked on every article page."""
    try:
        sources = read(file)
    except ConfigError as exc:
        # Commands refuse a broken file (the emergency ones warn and act); pages keep being served,
        # indexed as by default.
        log.error("%s", exc)
        return {}
    return {slug: values["seo"] for slug, values in sources.items() if "seo" in values}
