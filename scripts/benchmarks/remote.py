"""The phone remote (`play --remote`): tap to confirmation, first paint, CPU cost, a flood of requests.

A real `voicecoach play --remote --remote-host 127.0.0.1` runs on a private PulseAudio null sink.

* Latency: in a long silent hold, a tap (the page's POST /cmd, sent from here on a kept-alive
  connection with the page's cookie and Origin) alternately pauses and resumes; the latency is
  from the moment it is sent (the recording's length then) to the first sound of the spoken
  confirmation ("Paused." or "Resuming.") on the sink.
* First paint: Debian's chromium (Playwright) opens the printed address (token -> cookie ->
  page) and reads ``first-contentful-paint``; one fresh browser context per load.
* CPU: the playing process's CPU time over the same stretch of a session without ``--remote``
  and with it and one page connected (its event stream open): the difference, in % of a core.
* Flood: 1,000 requests (the page, 404s, taps that are refused) as fast as 8 threads send them
  while the session plays; the player's underrun count must stay 0.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import RATE, PlayProcess, log, median

T_LATENCY_MS = 150.0
T_PAINT_MS = 1000.0
T_CPU_PCT = 1.0
PLAN = """\
title: Remote
safety: Stop if it hurts.
defaults: {countdown: 0, get_ready: 2}
exercises:
  - {name: Stretch, setup: Sit down., hold: 600}
"""
_ADDRESS = re.compile(r"^Phone remote: (http://127\.0\.0\.1:(\d+)/\?t=\S+)$")


def _unavailable() -> str | None:
    missing = [t for t in ("pulseaudio", "parec") if shutil.which(t) is None]
    if missing:
        return f"{', '.join(missing)} not found (./scripts/test installs them)"
    return None


class _Phone:
    """The page's side over HTTP: the token exchanged for the cookie, then taps on one connection."""

    def __init__(self, url: str, port: int) -> None:
        self.port, self.host = port, f"127.0.0.1:{port}"
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", url.split(self.host, 1)[1], headers={"Host": self.host})
        r = c.getresponse()
        r.read()
        self.cookie = r.getheader("Set-Cookie", "").split(";")[0]
        self.conn = c

    def tap(self, action: str) -> int:
        body = f'{{"action": "{action}"}}'.encode()
        headers = {
            "Host": self.host,
            "Cookie": self.cookie,
            "Origin": f"http://{self.host}",
            "Content-Type": "application/json",
        }
        self.conn.request("POST", "/cmd", body=body, headers=headers)
        r = self.conn.getresponse()
        r.read()
        return r.status

    def stream(self) -> http.client.HTTPConnection:
        """An open event stream, as a connected page keeps (read by a thread, so it never fills)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", "/events", headers={"Host": self.host, "Cookie": self.cookie})
        r = c.getresponse()
        threading.Thread(target=lambda: [None for _ in iter(lambda: r.fp.readline(), b"")], daemon=True).start()
        return c


def _env(server, work: Path) -> dict[str, str]:
    return dict(
        os.environ,
        **server.client_env(),
        VOICECOACH_CACHE_DIR=str(work / "remote-cache"),
        VOICECOACH_DATA_DIR=str(work / "remote-data"),
    )


def _latency(plan: Path, env: dict[str, str], server, taps: int) -> list[float]:
    from helpers.pulse import find_onsets

    rec = server.start_recording()
    play = PlayProcess(plan, env, ["--no-check-in", "--remote", "--remote-host", "127.0.0.1"])
    m = _ADDRESS.match(play.wait_for("Phone remote: "))
    assert m is not None
    phone = _Phone(m.group(1), int(m.group(2)))
    play.wait_for("Hold.")
    time.sleep(3.0)  # into the silent part of the hold
    sent: list[float] = []
    for i in range(taps):
        action = "pause" if i % 2 == 0 else "resume"
        sent.append(rec.recorded_s())
        phone.tap(action)
        play.wait_for("Paused (phone)." if action == "pause" else "Resuming (phone).")
        time.sleep(4.0)  # the confirmation (and the count-in) are over: silence again
    play.stop()
    samples = rec.stop()
    onsets = find_onsets(samples, RATE)
    out = []
    for i, t in enumerate(sent):
        after = [o for o in onsets if o >= t - 0.005]
        if after:
            out.append((after[0] - t) * 1000)
            log(f"remote tap {i + 1}: -> confirmation {out[-1]:.0f} ms")
    return out


def _first_paint(plan: Path, env: dict[str, str], loads: int) -> list[float] | str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from helpers.browser import ARGS, CHROMIUM, PHONE, missing

    why = missing()
    if why:
        return why
    from playwright.sync_api import sync_playwright

    play = PlayProcess(plan, env, ["--no-check-in", "--remote", "--remote-host", "127.0.0.1"])
    m = _ADDRESS.match(play.wait_for("Phone remote: "))
    assert m is not None
    url, out = m.group(1), []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for _ in range(loads):
                ctx = browser.new_context(**PHONE)
                page = ctx.new_page()
                page.goto(url)
                fcp = "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
                deadline = time.monotonic() + 10  # polled: the page's CSP refuses wait_for_function's eval
                while page.evaluate(fcp) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                out.append(page.evaluate(fcp))
                ctx.close()
            browser.close()
    finally:
        play.stop()
    log(f"remote first paint: {', '.join(f'{x:.0f}' for x in out)} ms")
    return out


def _cpu(plan: Path, env: dict[str, str], seconds: float, remote: bool) -> float:
    play = PlayProcess(plan, env, ["--no-check-in", "--remote", "--remote-host", "127.0.0.1"] if remote else [])
    if remote:
        m = _ADDRESS.match(play.wait_for("Phone remote: "))
        assert m is not None
        stream = _Phone(m.group(1), int(m.group(2))).stream()
    play.wait_for("Hold.")
    time.sleep(2.0)
    c0, t0 = play.cpu_s(), time.monotonic()
    time.sleep(seconds)
    pct = (play.cpu_s() - c0) / (time.monotonic() - t0) * 100
    if remote:
        stream.close()
    play.stop()
    log(f"remote cpu {'with' if remote else 'without'} --remote: {pct:.2f} % of a core")
    return pct


def _flood(plan: Path, env: dict[str, str], requests: int) -> dict:
    play = PlayProcess(plan, env, ["--no-check-in", "--remote", "--remote-host", "127.0.0.1"])
    m = _ADDRESS.match(play.wait_for("Phone remote: "))
    assert m is not None
    phone = _Phone(m.group(1), int(m.group(2)))
    play.wait_for("Hold.")
    host = phone.host

    def one(i: int) -> int:
        c = http.client.HTTPConnection("127.0.0.1", phone.port, timeout=10)
        try:
            path, method, body = [("/", "GET", None), ("/nothing", "GET", None), ("/cmd", "POST", b"{")][i % 3]
            c.request(
                method, path, body=body, headers={"Host": host, "Cookie": phone.cookie, "Origin": f"http://{host}"}
            )
            r = c.getresponse()
            r.read()
            return r.status
        except OSError:
            return 0
        finally:
            c.close()

    t = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(requests)))
    elapsed = time.monotonic() - t
    time.sleep(2.0)
    _, err = play.stop()
    found = re.search(r"(\d+) audio underruns", err)
    underruns = int(found.group(1)) if found else 0
    log(f"remote flood: {requests} requests in {elapsed:.1f} s, {underruns} underruns")
    return {"requests": requests, "seconds": elapsed, "answered": sum(1 for c in codes if c), "underruns": underruns}


def bench_remote(args, work: Path) -> dict:
    why = _unavailable()
    if why:
        return {"skipped": why}
    from helpers.pulse import PulseServer

    plan = work / "remote.yaml"
    plan.write_text(PLAN)
    server = PulseServer()
    server.start()
    try:
        env = _env(server, work)
        subprocess.run(
            [sys.executable, "-m", "voicecoach", "show", str(plan)], env=env, check=True, capture_output=True
        )
        latencies = _latency(plan, env, server, args.remote_taps)
        paint = _first_paint(plan, env, 5)
        flood = _flood(plan, env, 1000)
        cpu_off = _cpu(plan, env, args.remote_cpu_seconds, remote=False)
        cpu_on = _cpu(plan, env, args.remote_cpu_seconds, remote=True)
    finally:
        server.stop()
    if not latencies:
        return {"skipped": "no tap produced a measurement"}
    res = {
        "taps": len(latencies),
        "taps_sent": args.remote_taps,
        "latency_ms": latencies,
        "median_ms": median(latencies),
        "cpu_seconds": args.remote_cpu_seconds,
        "cpu_without_pct": cpu_off,
        "cpu_with_pct": cpu_on,
        "flood": flood,
    }
    if isinstance(paint, str):
        res["paint_skipped"] = paint
    else:
        res["paint_ms"] = paint
        res["paint_median_ms"] = median(paint)
    return res


def summary(res: dict) -> str:
    if "skipped" in res:
        return f"remote: skipped: {res['skipped']}"
    cost = res["cpu_with_pct"] - res["cpu_without_pct"]
    paint = f"first paint median {res['paint_median_ms']:.0f} ms" if "paint_ms" in res else "first paint skipped"
    return (
        f"remote: tap to confirmation median {res['median_ms']:.0f} ms over {res['taps']} taps; {paint}; "
        f"CPU cost {cost:+.2f} % of a core; flood of {res['flood']['requests']}: "
        f"{res['flood']['underruns']} underruns"
    )


def md_remote(res: dict, command: str, when: str) -> str:
    lat = ", ".join(f"{x:.0f}" for x in sorted(res["latency_ms"]))
    cost = res["cpu_with_pct"] - res["cpu_without_pct"]
    rows = [
        f"| a tap (POST /cmd) to the first sound of the spoken confirmation | median {res['median_ms']:.0f} ms "
        f"({lat}) | <= {T_LATENCY_MS:.0f} ms: {'met' if res['median_ms'] <= T_LATENCY_MS else 'MISSED'} |",
    ]
    if len(res["latency_ms"]) == res.get("taps_sent"):  # pause and resume in turn: each on its own
        pauses, resumes = res["latency_ms"][0::2], res["latency_ms"][1::2]
        rows.append(
            f"| ... of which Pause (stops the playing stream first) / Resume (nothing playing) | "
            f"median {median(pauses):.0f} ms / {median(resumes):.0f} ms | |"
        )
    if "paint_ms" in res:
        paints = ", ".join(f"{x:.0f}" for x in res["paint_ms"])
        rows.append(
            f"| first contentful paint of the page (chromium, 127.0.0.1, token -> cookie -> page) | median "
            f"{res['paint_median_ms']:.0f} ms ({paints}) | <= {T_PAINT_MS:.0f} ms: "
            f"{'met' if res['paint_median_ms'] <= T_PAINT_MS else 'MISSED'} |"
        )
    rows.append(
        f"| CPU of the playing process over {res['cpu_seconds']:.0f} s: with `--remote` and one page's event "
        f"stream open, minus without | {res['cpu_with_pct']:.2f} - {res['cpu_without_pct']:.2f} = {cost:+.2f} % "
        f"of a core | < {T_CPU_PCT:.0f} %: {'met' if cost < T_CPU_PCT else 'MISSED'} |"
    )
    f = res["flood"]
    rows.append(
        f"| audio underruns during a flood of {f['requests']} requests ({f['seconds']:.1f} s, 8 threads; "
        f"{f['answered']} answered) | {f['underruns']} | 0: {'met' if f['underruns'] == 0 else 'MISSED'} |"
    )
    return (
        f"Measured by `{command}` on {when}: a real `voicecoach play --remote` on a private PulseAudio null "
        f"sink, every request on 127.0.0.1.\n\n| measure | result | target |\n| --- | --- | --- |\n"
        + "\n".join(rows)
        + "\n"
    )
