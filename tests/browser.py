"""Real headless Chromium (Debian's), driven by Playwright. `make test` installs Chromium."""

import os
import shutil

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Without these, Chromium reaches for Google's hosts at every start, which this network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-quic",
]


def launch(playwright):
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
