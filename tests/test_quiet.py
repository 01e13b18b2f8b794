"""No library noise in the user's output: ALSA's C messages are silenced unless --debug."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.audio  # needs PortAudio and ALSA's library (installed by ./scripts/test)

# Opening a PCM that does not exist makes ALSA print "ALSA lib pcm.c:...:(snd_pcm_open_noupdate)
# Unknown PCM ..." from C to fd 2: the same path as "snd_pcm_recover underrun occurred".
ALSA_COMPLAINS = """
import ctypes, sys
from voicecoach import quiet
from voicecoach.live.devices import import_sounddevice
quiet.set_verbose(sys.argv[1] == "debug")
import_sounddevice()
pcm = ctypes.c_void_p()
rc = ctypes.CDLL("libasound.so.2").snd_pcm_open(ctypes.byref(pcm), b"no_such_pcm", 0, 0)
print("failed" if rc < 0 else "opened")
"""


@pytest.mark.parametrize(("mode", "printed"), [("quiet", False), ("debug", True)], ids=["default", "debug"])
def test_alsa_messages_reach_stderr_only_with_debug(mode: str, printed: bool) -> None:
    out = subprocess.run([sys.executable, "-c", ALSA_COMPLAINS, mode], capture_output=True, text=True, timeout=60)
    assert out.stdout == "failed\n", out.stderr
    assert ("Unknown PCM no_such_pcm" in out.stderr) is printed
    if not printed:
        assert out.stderr == ""
