"""What the benchmarks share on the measuring side: the machine, noise, child processes, the document."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.child import RATE, make_plan, plan_label

__all__ = ["RATE", "make_plan", "plan_label"]  # re-exported for the benchmarks

ROOT = Path(__file__).resolve().parent.parent.parent
CHILD = Path(__file__).resolve().parent / "child.py"
DOC = ROOT / "docs" / "benchmarks.md"
PIPER_HEADER = "## Neural voice (piper)"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- machine and noise ------------------------------------------------------------


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def machine_info() -> dict:
    import numpy
    import scipy

    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": model,
        "mem_gb": mem_gb,
        "os": _first_line(["sh", "-c", '. /etc/os-release && echo "$PRETTY_NAME"']),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "ffmpeg": _first_line(["ffmpeg", "-version"]).split(" Copyright")[0],
        "espeak": _first_line(["espeak-ng", "--version"]).split("  Data at:")[0],
        "pulseaudio": _first_line(["pulseaudio", "--version"]),
    }


def cpu_counters() -> tuple[int, int] | None:
    """(steal, total) jiffies from /proc/stat: steal is time the hypervisor gave to others."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


class Noise:
    """Load average and CPU steal over a benchmark."""

    def __init__(self) -> None:
        self.load0 = os.getloadavg()[0]
        self.c0 = cpu_counters()
        self.t0 = time.monotonic()

    def done(self) -> dict:
        c1 = cpu_counters()
        steal = None
        if self.c0 and c1 and c1[1] > self.c0[1]:
            steal = 100.0 * (c1[0] - self.c0[0]) / (c1[1] - self.c0[1])
        return {
            "load_before": self.load0,
            "load_after": os.getloadavg()[0],
            "steal_pct": steal,
            "elapsed_s": time.monotonic() - self.t0,
        }


def noise_text(n: dict) -> str:
    steal = "n/a" if n["steal_pct"] is None else f"{n['steal_pct']:.1f} %"
    return (
        f"1-minute load average {n['load_before']:.2f} before, {n['load_after']:.2f} after; "
        f"CPU steal {steal}; took {n['elapsed_s']:.0f} s"
    )


# --- child processes ------------------------------------------------------------------


def run_child(kind: str, spec: dict, env: dict | None = None, timeout_s: float = 900) -> dict:
    """Run ``child.py KIND SPEC`` in a fresh interpreter; its result dict."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", delete=False) as f:
        out_path = f.name
    spec = {**spec, "result": out_path}
    # Through a small shell that forks the child (no exec): Linux starts a
    # process's ru_maxrss at the high-water RSS of the memory it had when it
    # exec'd, which for a child spawned straight from this (big) process is
    # this process's RSS (vfork/posix_spawn share it). Measured: a child of a
    # 300 MB parent reported ru_maxrss 312 MiB for a real VmHWM of 11 MB.
    cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh", sys.executable, str(CHILD), kind, json.dumps(spec)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # the shell and the child it started (their own process group)
        proc.communicate()
        raise RuntimeError(f"child {kind} timed out after {timeout_s} s") from None
    wall = time.perf_counter() - t0
    try:
        text = Path(out_path).read_text()
    finally:
        Path(out_path).unlink(missing_ok=True)
    if proc.returncode != 0 or not text:
        raise RuntimeError(f"child {kind} failed (exit {proc.returncode}):\n{err[-3000:]}")
    result = json.loads(text)
    result["process_wall_s"] = wall
    return result


# Memory is in MiB throughout (ru_maxrss is in KiB on Linux).


# --- helpers ------------------------------------------------------------------------------


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def warm_cache(cache_dir: Path, plan_spec: dict) -> dict:
    """Fill ``cache_dir`` for a plan (in this process) as a first export leaves it: every
    clip and the session's level; return what the session looks like."""
    from voicecoach.render.prepare import prepare, session_gain
    from voicecoach.speech.speaker import Speaker, SpeechSettings

    plan, options = make_plan(plan_spec)
    speaker = Speaker(SpeechSettings(), cache_dir=cache_dir)
    p = prepare(plan, options, SpeechSettings(), speaker=speaker)
    session_gain(p)
    return {
        "prepared": p,
        "duration_s": p.timeline.duration_s,
        "phrases": len(p.clips),
        "exercises": len(plan.exercises),
        "cues": len(p.timeline.cues),
        "voice": speaker.describe(),
    }


def verdict(ratio_of_medians: float, median_of_ratios: float, target: float) -> str:
    """ "yes"/"no" when both ways of reading the runs agree, else "borderline" (within the noise)."""
    ok = (ratio_of_medians <= target, median_of_ratios <= target)
    return "yes" if all(ok) else "no" if not any(ok) else "borderline"


def warm_misses(runs: list[dict]) -> str:
    """A warning line when "warm" runs had to synthesize (the cache key changed under the benchmark?)."""
    bad = [r["synthesized"] for r in runs if r.get("synthesized")]
    if not bad:
        return ""
    return (
        f"\n**Warning:** {len(bad)} warm-cache run(s) synthesized phrases ({', '.join(map(str, bad))}): "
        "the clip cache did not serve them (did voicecoach change during the run?). Run again.\n"
    )


def _met(v: str) -> str:
    return {"yes": "yes", "no": "**no**", "borderline": "**borderline**"}[v]


# --- the document --------------------------------------------------------------------------------------------


def md_machine(info: dict, command: str, when: str) -> str:
    mem = f", {info['mem_gb']:.0f} GB RAM" if info.get("mem_gb") else ""
    return (
        "\n".join(
            [
                f"Last run: `{command}` ({when}).",
                "",
                "| | |",
                "| --- | --- |",
                f"| CPU | {info['cpu_model']}, `nproc` = {info['nproc']}{mem} |",
                f"| system | {info['os']}, Linux {info['kernel']} |",
                f"| Python | {info['python']} (numpy {info['numpy']}, scipy {info['scipy']}) |",
                f"| ffmpeg | {info['ffmpeg']} |",
                f"| speech | {info['espeak']} |",
                f"| sound server | {info['pulseaudio']} |",
            ]
        )
        + "\n"
    )


SKELETON = """# Benchmarks

Speed and memory are measured by `scripts/bench`, not by timed tests.

<!-- bench:machine:begin -->
<!-- bench:machine:end -->

## Export speed

<!-- bench:export:begin -->
<!-- bench:export:end -->

## Export memory

<!-- bench:memory:begin -->
<!-- bench:memory:end -->

## Live playback

<!-- bench:live:begin -->
<!-- bench:live:end -->

{piper}

Filled in by another script (another engineer appends here); `scripts/bench` never writes below this header.
""".replace("{piper}", PIPER_HEADER)


def update_doc(path: Path, sections: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else SKELETON
    for name, body in sections.items():
        begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
        block = f"{begin}\n{body.rstrip()}\n{end}"
        if pattern.search(text):
            text = pattern.sub(lambda _m, block=block: block, text, count=1)
        else:  # no markers yet: a new section just before the piper section (or at the end)
            at = text.find(PIPER_HEADER)
            new = f"## {name}\n\n{block}\n\n"
            text = text[:at] + new + text[at:] if at >= 0 else text.rstrip() + "\n\n" + new
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class PlayProcess:
    """`voicecoach play PLAN --plain [...]`, its lines collected as they arrive."""

    def __init__(self, plan: Path, env: dict[str, str], extra: list[str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", "play", str(plan), "--plain", *(extra or [])],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_for(self, prefix: str, timeout_s: float = 60) -> str:
        with self.cond:
            if not self.cond.wait_for(lambda: any(x.startswith(prefix) for x in self.lines), timeout_s):
                raise RuntimeError(f"no line {prefix!r} in {self.lines}")
            return next(x for x in self.lines if x.startswith(prefix))

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> tuple[int, str]:
        self.proc.terminate()  # SIGTERM: a quit that saves the place
        _, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, err


# --- music for the benchmarks with --music -----------------------------------------------

MUSIC_FILES, MUSIC_FILE_S = 60, 180.0  # a three-hour playlist of many files
MUSIC_DISTINCT = 6  # files actually encoded; the others are copies (encoding 60 took 7 minutes on a busy machine)


def make_music(folder: Path, count: int = MUSIC_FILES, seconds: float = MUSIC_FILE_S) -> Path:
    """``count`` stereo MP3 files of ``seconds`` each (a tone over pink noise, six pitches), made once per run.

    Every file is a file of its own on disk (copies of the six encoded ones), so the export opens,
    probes, measures and decodes each one as it would a real playlist's.
    """
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"{i + 1:03d} tone.mp3"
        if path.exists():
            continue
        if i >= MUSIC_DISTINCT:
            shutil.copyfile(folder / f"{i % MUSIC_DISTINCT + 1:03d} tone.mp3", path)
            continue
        graph = (
            f"sine=f={110 + 7 * i}:d={seconds}:r=44100[a];anoisesrc=d={seconds}:c=pink:a=0.05:r=44100[b];"
            "[a][b]amix=inputs=2,pan=stereo|c0=c0|c1=0.8*c0"
        )
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", graph]
        subprocess.run([*cmd, "-c:a", "libmp3lame", "-b:a", "128k", str(path)], check=True)
    return folder
