"""A real browser for the phone remote's tests: Debian's chromium, headless, driven by Playwright.

``./scripts/test`` installs chromium (apt), Playwright (the dev extra; its own browser download,
``playwright install``, is never used) and axe-core (npm, into .venv/axe). As root chromium
needs --no-sandbox, which Playwright passes; /usr/bin/chromium's wrapper misjudges /dev/shm
here, so --disable-dev-shm-usage is passed too.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

CHROMIUM = os.environ.get("VOICECOACH_CHROMIUM", "/usr/bin/chromium")
AXE = Path(sys.prefix) / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--no-first-run",
]
# A phone: 390 x 844 CSS pixels at 3x, touch, a coarse pointer.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en-GB",
}


def missing() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed (./scripts/test installs it)"
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} not installed (./scripts/test installs chromium)"
    if not AXE.is_file():
        return f"{AXE} missing (./scripts/test installs axe-core)"
    return ""


def axe_violations(page) -> list[str]:
    """axe-core's rules (all of them, WCAG 2.1 included) run on ``page``: the ids of the violations."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async () => (await axe.run()).violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '))"
    )
