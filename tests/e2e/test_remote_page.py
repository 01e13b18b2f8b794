"""The phone remote's page in a real browser (Debian's chromium, headless, phone-sized, touch).

The server runs here on 127.0.0.1 and the states are pushed as the live session's PhoneView
makes them; taps must reach the session loop's select() as commands from the phone. Then what a
screen reader, a keyboard, a small screen, large text and a dark theme get, and axe-core.
``VOICECOACH_SCREENSHOT=docs/remote.png`` also saves the picture the docs show.
"""

from __future__ import annotations

import os
import select

import pytest
from helpers.browser import ARGS, CHROMIUM, PHONE, axe_violations, missing

from voicecoach.control.commands import Action, Command, Source
from voicecoach.control.remote import RemoteSource

if missing():
    pytest.skip(missing(), allow_module_level=True)

from playwright.sync_api import expect, sync_playwright

HOLD = {
    "program": "Knee, inner side",
    "status": "playing",
    "exercise": {"number": 3, "total": 9, "name": "Side lunge stretch", "set": 1, "sets": 2, "side": "right"},
    "doing": {"kind": "hold", "label": "Hold", "left_s": 25.0, "running": True},
    "next": "",
    "question": None,
    "end": "",
}
PAIN = {
    **HOLD,
    "status": "question",
    "question": {"text": "How much does it hurt?", "choices": [str(n) for n in range(11)]},
}
LONG_QUESTION = "How much does your knee hurt right now, from 0, no pain, to 10, the worst pain imaginable?"
REST = {
    **HOLD,
    "doing": {"kind": "rest", "label": "Rest", "left_s": 20.0, "running": True},
    "next": "Set 2 of 2, right side",
}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=60_000)
        yield b
        b.close()


@pytest.fixture
def remote():
    r = RemoteSource("127.0.0.1").start()
    yield r
    r.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(**PHONE)
    yield ctx
    ctx.close()


def taps(remote, timeout_s=5.0):
    """What the session loop reads: select() on the input, then its commands."""
    ready, _, _ = select.select([remote], [], [], timeout_s)
    return remote.read() if ready else []


def open_page(phone, remote):
    page = phone.new_page()
    page.goto(remote.url)
    assert page.url == f"http://127.0.0.1:{remote.server.port}/"  # the token left the address bar
    assert phone.cookies()[0]["httpOnly"] and phone.cookies()[0]["sameSite"] == "Strict"
    return page


def test_the_page_follows_the_session_and_taps_are_commands(phone, remote):
    remote.publish(HOLD)
    page = open_page(phone, remote)
    expect(page.get_by_role("heading", name="Exercise 3 of 9: Side lunge stretch")).to_be_visible()
    expect(page.locator("#detail")).to_have_text("Set 1 of 2, right side")
    expect(page.locator("#doing")).to_have_text("Hold")
    expect(page.get_by_role("status")).to_have_text("Exercise 3 of 9: Side lunge stretch, Set 1 of 2, right side")
    first = page.locator("#left").inner_text()
    page.wait_for_timeout(1300)
    assert int(page.locator("#left").inner_text().split()[0]) < int(first.split()[0])  # counted down by the page

    page.get_by_role("button", name="Pause").tap()
    assert taps(remote) == [Command(Action.PAUSE, Source.PHONE)]
    remote.publish({**HOLD, "status": "paused", "doing": {**HOLD["doing"], "left_s": 21.0, "running": False}})
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.locator("#doing")).to_have_text("Paused (hold)")  # said in words, not by a colour
    expect(page.locator("#left")).to_have_text("21 s left")
    page.get_by_role("button", name="Resume").tap()
    assert taps(remote) == [Command(Action.RESUME, Source.PHONE)]
    for name, action in [
        ("Next", Action.NEXT),
        ("Back", Action.BACK),
        ("Repeat", Action.REPEAT),
        ("+15 seconds", Action.MORE),
        ("−15 seconds", Action.LESS),
        ("It hurts", Action.HURT),
        ("How long is left?", Action.TIME_LEFT),
    ]:
        page.get_by_role("button", name=name, exact=True).tap()
        assert taps(remote) == [Command(action, Source.PHONE)], name

    expect(page.get_by_role("button", name="Done")).to_be_hidden()  # only while a set at your own pace waits
    own_pace = {"kind": "reps", "label": "At your own pace", "left_s": None, "spent_s": 64.2, "running": True}
    remote.publish({**HOLD, "awaiting": True, "doing": own_pace})
    expect(page.locator("#doing")).to_have_text("At your own pace")
    expect(page.locator("#left")).to_have_text("1:05 so far", timeout=2000)  # the time spent, counted up
    page.get_by_role("button", name="Done").tap()
    assert taps(remote) == [Command(Action.DONE, Source.PHONE)]
    remote.publish({**HOLD, "awaiting": False})
    expect(page.get_by_role("button", name="Done")).to_be_hidden()

    remote.publish(PAIN)
    group = page.get_by_role("group", name="How much does it hurt?")
    expect(group).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("How much does it hurt?")
    assert group.get_by_role("button").all_inner_texts() == [*(str(n) for n in range(11)), "Skip"]
    group.get_by_role("button", name="7", exact=True).tap()
    assert taps(remote) == [Command(Action.ANSWER, Source.PHONE, "7")]
    remote.publish({**PAIN, "question": {"text": "Did your knee settle?", "choices": ["yes", "no"]}})
    group = page.get_by_role("group", name="Did your knee settle?")
    expect(group).to_be_visible()
    assert group.get_by_role("button").all_inner_texts() == ["Yes", "No", "Skip"]
    group.get_by_role("button", name="Skip").tap()
    assert taps(remote) == [Command(Action.SKIP, Source.PHONE)]

    remote.publish(REST)
    expect(page.locator("#next")).to_have_text("Next: Set 2 of 2, right side")
    expect(page.get_by_role("group")).to_be_hidden()

    remote.publish(
        {
            **REST,
            "status": "stopped",
            "doing": None,
            "next": "",
            "end": "Stopped at exercise 3 of 9: Side lunge stretch.",
        }
    )
    expect(page.get_by_role("heading", name="The session is over")).to_be_visible()
    expect(page.locator("#endtext")).to_have_text("Stopped at exercise 3 of 9: Side lunge stretch.")
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("The session is over.")


def test_accessible_small_large_dark_and_by_keyboard(phone, remote, browser):
    remote.publish(PAIN)
    page = open_page(phone, remote)
    expect(page.get_by_role("group", name="How much does it hurt?")).to_be_visible()
    # What a screen reader gets: every button named, one polite live region.
    nodes = phone.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    buttons = [n for n in nodes if n.get("role", {}).get("value") == "button" and not n.get("ignored")]
    # 8 controls (Done stays hidden until a set at your own pace waits for it) and 12 answers.
    assert len(buttons) == 8 + 12 and all(n.get("name", {}).get("value") for n in buttons)
    live = [
        n
        for n in nodes
        if any(p["name"] == "live" and p["value"]["value"] == "polite" for p in n.get("properties", []))
    ]
    assert [n["role"]["value"] for n in live] == ["status"]
    assert axe_violations(page) == []
    if os.environ.get("VOICECOACH_SCREENSHOT"):
        remote.publish(REST)
        expect(page.get_by_role("group")).to_be_hidden()
        page.screenshot(path=os.environ["VOICECOACH_SCREENSHOT"], full_page=True)
        remote.publish(PAIN)
        expect(page.get_by_role("group")).to_be_visible()

    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(18, 18, 18)"
    assert axe_violations(page) == []

    # 320 px wide, then 200 % text: nothing wider than the screen (with the real pain question's long words).
    remote.publish({**PAIN, "question": {**PAIN["question"], "text": LONG_QUESTION}})
    expect(page.get_by_role("group", name=LONG_QUESTION)).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert axe_violations(page) == []

    # A keyboard (or switch access): Tab reaches the answers, Enter sends one.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "0"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert taps(remote) == [Command(Action.ANSWER, Source.PHONE, "1")]


def test_the_page_reconnects_by_itself(phone, remote):
    remote.publish(HOLD)
    page = open_page(phone, remote)
    expect(page.locator("#conn")).to_have_text("Connected to the computer.")
    phone.set_offline(True)
    page.evaluate("es.close(); es.onerror()")  # what a dropped Wi-Fi does to the stream
    expect(page.locator("#conn")).to_contain_text("reconnecting")
    phone.set_offline(False)
    page.evaluate("connect()")  # the page's own retry (after 3 s, or the 40 s watchdog), without the wait
    remote.publish(REST)
    expect(page.locator("#doing")).to_have_text("Rest")
    expect(page.locator("#conn")).to_have_text("Connected to the computer.")
