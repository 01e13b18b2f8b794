"""Shell completion through click's own mechanism, asked of the installed entry point.

docs/completion.md tells users to run `_VOICECOACH_COMPLETE=bash_source voicecoach`
(zsh_source, fish_source); these tests hold that promise for the click that is installed.
"""

from __future__ import annotations

import os
import subprocess
import sysconfig
from pathlib import Path

import pytest

# The console script pip installed beside this interpreter (.venv/bin/voicecoach), not `python -m`:
# completion keys its variable on the program's name, as the shell calls it.
ENTRY_POINT = Path(sysconfig.get_path("scripts")) / "voicecoach"


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    assert ENTRY_POINT.exists(), f"the voicecoach entry point is not installed at {ENTRY_POINT}"
    return subprocess.run(
        [str(ENTRY_POINT)], capture_output=True, text=True, env={**os.environ, **env}, timeout=60, check=False
    )


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_names_the_voicecoach_function(shell):
    result = _run(_VOICECOACH_COMPLETE=f"{shell}_source")
    assert result.returncode == 0, result.stderr
    assert "_voicecoach_completion" in result.stdout
    assert "_VOICECOACH_COMPLETE" in result.stdout


def _bash_complete(words: str) -> list[str]:
    """What click offers for the last of ``words``, through the COMP_WORDS/COMP_CWORD protocol."""
    cword = len(words.split(" ")) - 1
    result = _run(_VOICECOACH_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword))
    assert result.returncode == 0, result.stderr
    # One "type,value" line per completion.
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line.startswith("plain,")]


def test_completing_pl_offers_play():
    assert _bash_complete("voicecoach pl") == ["play"]


def test_completing_a_subcommand_and_an_option_value():
    assert _bash_complete("voicecoach journal ") == ["add", "settled"]
    assert _bash_complete("voicecoach play --level ") == ["auto", "low", "mid", "high"]
