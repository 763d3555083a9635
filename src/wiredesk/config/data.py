"""The data folder, where wiredesk keeps everything, and the secret key kept in it.

No Django here: the commands that create the database make the folder (`make`) before Django is
set up, and the settings only read it, so that importing them writes nothing.
"""

import os
import secrets
from pathlib import Path


def folder() -> Path:
    return Path(os.environ.get("WIREDESK_DATA", "var")).resolve()


def secret_key(data: Path) -> str:
    """WIREDESK_SECRET_KEY, else the one kept in the data folder; empty when there is neither."""
    if key := os.environ.get("WIREDESK_SECRET_KEY"):
        return key
    try:
        return (data / "secret_key").read_text().strip()
    except FileNotFoundError:
        return ""


def make(data: Path) -> None:
    """The data folder, and in it a secret key generated once (unless WIREDESK_SECRET_KEY gives
    one), so that whatever may one day sign something keeps its signatures across restarts."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / "secret_key"
    if not os.environ.get("WIREDESK_SECRET_KEY") and not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
