"""Headless Debian Chromium for the dashboard tests (Playwright drives /usr/bin/chromium; no
browser is ever downloaded)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless (install: apt-get install chromium chromium-driver)."""
    assert CHROMIUM.is_file(), (
        "install Debian's chromium (`just setup` or apt-get install chromium)"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
