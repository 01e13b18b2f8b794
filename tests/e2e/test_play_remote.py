"""`voicecoach play --remote` steered from a phone: a real session on PulseAudio's null sink, the page
in Debian's chromium (headless, phone-sized, touch), every request on 127.0.0.1.

Answer the check-ins on the page (the journal has them), tap pause (the sink falls silent, the
terminal says "Paused (phone)."), tap resume (sound again), tap next (the page follows), quit on
the computer (the page says where it stopped, then the server is gone).
"""

from __future__ import annotations

import http.client
import os
import re
import sqlite3
import time

import pytest
from helpers.browser import ARGS, CHROMIUM, PHONE, missing
from helpers.play import PlayRun, silent_stretches
from helpers.pulse import PulseServer

from voicecoach.core import phrases

if missing():
    pytest.skip(missing(), allow_module_level=True)

from playwright.sync_api import expect, sync_playwright

pytestmark = [pytest.mark.audio, pytest.mark.slow]

PLAN = """\
title: Buttons
safety: Stop if it hurts.
defaults: {countdown: 2, get_ready: 2, rest_between_exercises: 3}
exercises:
  - {name: Stretch, setup: Sit down., hold: 14}
  - {name: Lift, setup: Stand up., hold: 6}
"""
ADDRESS = re.compile(r"^Phone remote: (http://127\.0\.0\.1:(\d+)/\?t=[\w-]{22,})$")


def address(run: PlayRun, timeout_s: float = 60) -> tuple[str, int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in list(run.lines):
            m = ADDRESS.match(line)
            if m:
                return m.group(1), int(m.group(2))
        assert run.proc.poll() is None, run.finish()
        time.sleep(0.05)
    raise AssertionError(run.lines)


def test_a_phone_steers_a_live_session(tmp_path, clip_cache, pulse: PulseServer):
    plan = tmp_path / "buttons.yaml"
    plan.write_text(PLAN)
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "NO_COLOR")}
    env.update(VOICECOACH_CACHE_DIR=str(clip_cache), VOICECOACH_DATA_DIR=str(data))
    rec = pulse.start_recording()
    t0 = time.monotonic()
    run = PlayRun(plan, env, extra=["--remote", "--remote-host", "127.0.0.1"], check_in=True)
    url, port = address(run)
    assert not any("\x1b" in line or "█" in line for line in run.lines)  # plain output: the address alone
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=60_000)
        page = browser.new_context(**PHONE).new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="Buttons")).to_be_visible()

        # The check-ins, answered on the phone.
        red_flag = page.get_by_role("group", name=phrases.RED_FLAG_QUESTION)
        expect(red_flag).to_be_visible(timeout=30_000)
        red_flag.get_by_role("button", name="No", exact=True).tap()
        run.wait_for(f"{phrases.noted('no')[:-1]} (phone).")
        pain = page.get_by_role("group", name=phrases.PAIN_QUESTION)
        expect(pain).to_be_visible(timeout=30_000)
        pain.get_by_role("button", name="3", exact=True).tap()
        run.wait_for(f"{phrases.noted('3')[:-1]} (phone).")

        run.wait_for("Hold.", timeout_s=60)
        expect(page.get_by_role("heading", name="Exercise 1 of 2: Stretch")).to_be_visible()
        expect(page.locator("#doing")).to_have_text("Hold")
        time.sleep(1.0)
        page.get_by_role("button", name="Pause").tap()
        run.wait_for("Paused (phone).")
        expect(page.get_by_role("button", name="Resume")).to_be_visible()
        expect(page.locator("#doing")).to_have_text("Paused (hold)")
        time.sleep(4.0)  # after the spoken "Paused." the sink must fall silent
        resumed_at = time.monotonic() - t0
        page.get_by_role("button", name="Resume").tap()
        run.wait_for("Resuming (phone).")
        expect(page.get_by_role("button", name="Pause")).to_be_visible()

        time.sleep(1.0)
        page.get_by_role("button", name="Next").tap()
        run.wait_for("Next exercise (phone).")
        expect(page.get_by_role("heading", name="Exercise 2 of 2: Lift")).to_be_visible(timeout=15_000)

        run.key(b"q")
        expect(page.locator("#endtext")).to_have_text("Stopped at exercise 2 of 2: Lift.", timeout=15_000)
        rc, err = run.finish()
        browser.close()
    samples = rec.stop()
    assert rc == 0, err
    assert "Traceback" not in err
    # The server went with the session.
    with pytest.raises(OSError):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/")
        c.getresponse()
    # The journal has the answers and the controls, with where they came from.
    with sqlite3.connect(data / "journal.sqlite3") as db:
        assert db.execute("SELECT red_flag, pain_before, ended_early FROM sessions").fetchall() == [(0, 3, 1)]
        controls = db.execute("SELECT action, source FROM controls ORDER BY id").fetchall()
    assert controls == [("pause", "phone"), ("resume", "phone"), ("next", "phone"), ("quit", "keys")]
    # The pause silenced the sink: seconds without sound until resume was tapped.
    gaps = silent_stretches(samples, 1.5)
    assert any(a <= resumed_at - 1.0 and b >= resumed_at - 0.3 for a, b in gaps), (resumed_at, gaps)
    # ... and sound came back after it.
    loud_after = samples[int((resumed_at + 0.5) * 44100) :]
    assert (abs(loud_after) > 1e-2).any()
