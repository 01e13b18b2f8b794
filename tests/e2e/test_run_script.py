"""./scripts/run's main job where there is no sound device: straight to the exported file, no error line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.files import ROOT

FALLBACK = ["voicecoach-inner-knee.mp3", "voicecoach-inner-knee.vtt"]


def _no_sound_env(tmp_path: Path) -> dict[str, str]:
    """No sound server reachable and none started: on this machine and in CI, no output device."""
    (tmp_path / "client.conf").write_text("autospawn = no\n")
    keep = {
        k: os.environ[k]
        for k in ("VOICECOACH_CACHE_DIR", "VOICECOACH_DATA_DIR", "VOICECOACH_CONFIG", "CI")
        if k in os.environ
    }
    return {
        **keep,
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PULSE_SERVER": f"unix:{tmp_path}/none",
        "PULSE_CLIENTCONFIG": str(tmp_path / "client.conf"),
        "PYTHONPATH": str(ROOT),
    }


@pytest.mark.audio
@pytest.mark.slow
def test_main_job_without_a_sound_device_exports_without_an_error_line(tmp_path):
    # A copy of the script beside a set-up that is already done, and a .venv whose
    # voicecoach is this checkout's: the script's own logic, the real commands.
    clone = tmp_path / "clone"
    (clone / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "run", clone / "scripts" / "run")
    (clone / "scripts" / "setup.sh").write_text("vc_setup() { :; }\n")
    bin_dir = clone / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "voicecoach").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m voicecoach "$@"\n')
    (bin_dir / "voicecoach").chmod(0o755)
    env = _no_sound_env(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text('engine = "system"\n')  # the voice other audio tests warm the cache with
    env["VOICECOACH_CONFIG"] = str(config)
    if subprocess.run([bin_dir / "voicecoach", "devices"], env=env, capture_output=True).returncode != 5:
        pytest.skip("this machine has a sound output device")
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        ["bash", clone / "scripts" / "run"], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    out = work / FALLBACK[0]
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "No sound output device here: exporting the session to a file instead.\n"
        f"Play {out} on a phone or any audio player (captions: {work / FALLBACK[1]}).\n"
    )
    assert result.stdout.startswith(f"Wrote {out} (")
    assert result.stdout.endswith(f"Wrote {work / FALLBACK[1]}\n")
    assert sorted(p.name for p in work.iterdir()) == FALLBACK


def test_what_the_main_job_writes_is_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    names = [*FALLBACK, ".voicecoach-inner-knee.mp3.1234.abcdef12.part"]
    for where in ("", "docs/"):  # the clone's top, or any folder inside it
        result = subprocess.run(
            ["git", "check-ignore", "--no-index", *[where + n for n in names]], cwd=ROOT, capture_output=True, text=True
        )
        assert result.stdout.splitlines() == [where + n for n in names]
