"""Fault injection, the sound server dies mid-session: voicecoach's own message, and no library's lines.

PortAudio prints its failed expressions (``Expression
'alsa_snd_pcm_poll_descriptors_revents( ... )' failed in
'src/hostapi/alsa/pa_linux_alsa.c'``) from C, to file descriptor 2, through
a print hook the Debian library does not export. Without --debug none of it
reaches the terminal; with --debug it does.
"""

from __future__ import annotations

import pytest
from helpers.pulse import PulseServer
from test_play_real import _Run, session  # noqa: F401  (the module's fixture)

pytestmark = [pytest.mark.audio, pytest.mark.slow]

LIBRARY = ("Expression '", "pa_linux_alsa.c", "ALSA lib", "PaAlsa", "snd_pcm")


def _kill_the_server_mid_hold(session, tmp_path, extra: list[str]) -> tuple[int, str]:  # noqa: F811
    plan, env, _ = session
    doomed = PulseServer()
    doomed.start()
    try:
        env = dict(env, **doomed.client_env(), VOICECOACH_DATA_DIR=str(tmp_path))
        run = _Run(plan, env, extra)
        run.wait_for("Hold.")
        doomed.proc.kill()
        return run.finish()
    finally:
        doomed.stop()


def test_no_library_lines_when_the_server_dies(session, tmp_path):  # noqa: F811
    rc, err = _kill_the_server_mid_hold(session, tmp_path, [])
    assert rc == 5, err
    assert "The session stopped." in err
    assert not [line for line in err.splitlines() if any(mark in line for mark in LIBRARY)], err
    assert err.startswith("voicecoach: error: "), err  # voicecoach's own message comes first, and alone


def test_debug_shows_the_library_lines(session, tmp_path):  # noqa: F811
    rc, err = _kill_the_server_mid_hold(session, tmp_path, ["--debug"])
    assert rc == 5, err
    assert "The session stopped." in err
    assert any(mark in err for mark in LIBRARY), err
