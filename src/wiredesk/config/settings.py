"""Settings from the environment, with defaults that run with nothing else installed.

Every variable is listed in the README's configuration table.
"""

import base64
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP

from wiredesk.config import data


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


# Read, never made here: importing the settings writes nothing (`wiredesk migrate` makes it).
DATA_DIR = data.folder()
INBOX_DIR = DATA_DIR / "inbox"
ARCHIVE_DIR = DATA_DIR / "archive"
ERROR_DIR = DATA_DIR / "error"

# Nothing here signs anything: the site has no sessions, no form tokens and no signed cookies (every
# page is public), so a command that only parses or reads runs without a key. Empty, Django refuses
# it at its first use, which would say at once where one is needed, rather than sign with a key no
# other process shares; the commands that create the database keep one in the data folder.
SECRET_KEY = data.secret_key(DATA_DIR)
DEBUG = _env_bool("WIREDESK_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("WIREDESK_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
_base_url = os.environ.get("WIREDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The static tree is rendered for the site's own address, so Django must answer to it.
if _base_host := urlsplit(_base_url).hostname:
    ALLOWED_HOSTS.append(f"[{_base_host}]" if ":" in _base_host else _base_host)
# The address `wiredesk run` serves on, which it sets from its --host: requests naming it are
# answered, and when it serves on every address, requests naming any host.
if _run_host := os.environ.get("WIREDESK_HOST"):
    _answered = "*" if _run_host in ("0.0.0.0", "::") else _run_host
    if _answered not in ALLOWED_HOSTS:
        ALLOWED_HOSTS.append(_answered)

# Behind a proxy that ends TLS (deploy/nginx.conf sets X-Forwarded-Proto, replacing whatever a
# client sent), pages must know they were asked for over https: canonical links, feeds and
# sitemaps name https addresses. Off unless such a proxy is in front, or a client could claim it.
if _env_bool("WIREDESK_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Sent with answers asked for over https only, as deploy/nginx.conf does for the static tree.
    # Not for subdomains, which may be other sites that still need plain http.
    SECURE_HSTS_SECONDS = 365 * 24 * 3600


def _style_hash(name: str) -> str:
    """The CSP source that allows a <style> element holding the template `name`, whole: plain
    CSS, which renders as the file's bytes."""
    text = (Path(__file__).resolve().parent.parent / "templates" / "wiredesk" / name).read_bytes()
    return f"'sha256-{base64.b64encode(hashlib.sha256(text).digest()).decode()}'"


# The pages run no script and fetch nothing: their styles are <style> elements that each hold one
# of these files (allowed by hash, not by 'unsafe-inline', so that agency copy could not add a
# style even if it ever escaped escaping), and their icon is a data: URL. JSON-LD is data, which
# script-src does not govern. deploy/nginx.conf sends the same policy with the static tree, and
# tests/test_security_headers.py compares the two.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "style-src": [_style_hash("site.css"), _style_hash("search.css")],
    "img-src": ["data:"],
    # Nothing on the pages fetches, but crawlers' audits (Lighthouse's robots.txt check) fetch
    # /robots.txt from inside the page, which 'none' would refuse.
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
# Powerful features the pages never use, denied to them and to any frame
# (wiredesk.publish.middleware.permissions_policy). Only features browsers know: an unknown one is
# an error in the console.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

INSTALLED_APPS = [
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "wiredesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "wiredesk.publish.middleware.permissions_policy",
    # Outermost but for security headers: a kept page is sent as it is, already compressed.
    "wiredesk.publish.pagecache.middleware",
    # Every page is public and holds no secret (no session, no form token), so compressing
    # can leak nothing through the length of the answer (BREACH).
    "django.middleware.gzip.GZipMiddleware",
    # After GZip, so that the ETag is taken over the uncompressed bytes (GZip weakens it).
    "django.middleware.http.ConditionalGetMiddleware",
    "wiredesk.publish.caching.cache_control",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "wiredesk.app.urls"
WSGI_APPLICATION = "wiredesk.app.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["wiredesk.publish.context_processors.site_context"]},
    }
]

_sqlite = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": DATA_DIR / "wiredesk.sqlite3",
    # Checked on these machines: DEFERRED transactions gave "database is locked" under 4
    # writers even with WAL; IMMEDIATE plus a generous timeout gave none.
    "OPTIONS": {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    },
}
DATABASES = {
    "default": dj_database_url.parse(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else _sqlite
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Each request runs a query or two: opening SQLite (and setting its pragmas) or a PostgreSQL
# session for each would cost more than the page.
for _database in DATABASES.values():
    _database.setdefault("CONN_MAX_AGE", 600)
    _database.setdefault("CONN_HEALTH_CHECKS", True)

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default"},
    # Pages kept by each web process under the site's version (wiredesk.publish.pagecache): a
    # change moves the version on, so nothing needs to expire; the oldest make way for new ones.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}

LANGUAGE_CODE = os.environ.get("WIREDESK_LANGUAGE", "en")
TIME_ZONE = os.environ.get("WIREDESK_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"

# The queue only speeds things up; the database stays the source of truth (see pipeline.sweep).
# On Redis it is shared by every host of one site, and named so that two sites (or the suite's
# runs) on one Redis never take each other's tasks.
_redis_url = os.environ.get("WIREDESK_REDIS_URL")
HUEY = {
    "name": os.environ.get("WIREDESK_QUEUE", "wiredesk"),
    "immediate": False,
    "huey_class": "huey.RedisHuey" if _redis_url else "huey.SqliteHuey",
    # The queue's file is not the record: a task lost to a power cut is found by the sweep, so
    # commits need not wait for the disk.
    **({"url": _redis_url} if _redis_url else {"filename": str(DATA_DIR / "queue.sqlite3"), "fsync": False}),
}
TASKS = {
    "default": {
        "BACKEND": os.environ.get("WIREDESK_TASK_BACKEND", "huey.contrib.djhuey.tasks_backend.HueyBackend"),
        "OPTIONS": {"enqueue_on_commit": True},
    }
}

WIREDESK = {
    "SITE_NAME": os.environ.get("WIREDESK_SITE_NAME", "wiredesk"),
    "DISCLAIMER": os.environ.get(
        "WIREDESK_DISCLAIMER",
        "This post has been auto-published from an agency feed without any modifications "
        "to the text and has not been reviewed by an editor",
    ),
    "DEFAULT_SOURCE": os.environ.get("WIREDESK_DEFAULT_SOURCE", "wire"),
    # How often stored deliveries nobody processed (a lost task, a crash) are looked for.
    "SWEEP_SECONDS": float(os.environ.get("WIREDESK_SWEEP_SECONDS", "5")),
    # Where the site lives: the Host and scheme the static tree is rendered for.
    "BASE_URL": _base_url,
    # Pages rendered for nginx to serve without asking Django (see wiredesk.publish.static).
    "STATIC_TREE": Path(os.environ.get("WIREDESK_STATIC_TREE") or DATA_DIR / "site").resolve(),
    # host:port for the SMTP listener that takes agency mail (transports/email.py); unset: none.
    "SMTP": os.environ.get("WIREDESK_SMTP", "").strip() or None,
    # A PEM file with its certificate chain and key, for STARTTLS; and whether to refuse plain mail.
    "SMTP_TLS": os.environ.get("WIREDESK_SMTP_TLS", "").strip() or None,
    "SMTP_REQUIRE_TLS": os.environ.get("WIREDESK_SMTP_REQUIRE_TLS", "").strip().lower() in ("1", "true", "yes"),
    # A WebSub hub the feeds name, so subscribers hear of new stories without polling.
    "WEBSUB_HUB": os.environ.get("WIREDESK_WEBSUB_HUB") or None,
    # Shows /healthz's detail (every source, its errors) to `Authorization: Bearer <token>`
    # from anywhere; unset, only to requests from this machine.
    "HEALTH_TOKEN": os.environ.get("WIREDESK_HEALTH_TOKEN") or None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "wiredesk": {"handlers": ["console"], "level": os.environ.get("WIREDESK_LOG_LEVEL", "INFO")},
        "huey": {"handlers": ["console"], "level": "WARNING"},
        # Each 500 with its traceback. Django's own handlers would write it only under DEBUG (and
        # then a second time: hence no propagation) or mail it to ADMINS, which there are none of.
        # ERROR, not WARNING: every 404 of a crawler would be a line.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
