"""What pages are made of besides the stories: when it changes, the whole tree is rendered again."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from django.conf import settings

import wiredesk
from wiredesk import filing
from wiredesk.config import sources


def made_of() -> str:
    """A digest of what pages are made of besides the stories."""
    digest = hashlib.sha256(_code().encode())
    site = {name: str(settings.WIREDESK[name]) for name in ("SITE_NAME", "DISCLAIMER", "BASE_URL", "WEBSUB_HUB")}
    digest.update(json.dumps([site, settings.TIME_ZONE, settings.LANGUAGE_CODE]).encode())
    for file in (sources.path(), filing.path()):
        try:
            digest.update(file.read_bytes())
        except FileNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()


@functools.cache
def _code() -> str:
    # Read once a process: the code a process runs does not change under it.
    package = Path(wiredesk.__file__).parent
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
