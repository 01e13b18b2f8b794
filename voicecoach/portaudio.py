"""Importing python-sounddevice, the one way: for the sound output (live/) and the microphone (control/).

Importing it loads the PortAudio shared library, so it is imported lazily,
inside functions: commands that never touch a sound card (export, show...)
must work on a machine without it.
"""

from __future__ import annotations

from types import ModuleType

from voicecoach.errors import MissingDependencyError

__all__ = ["PortAudioMissing", "import_sounddevice"]


class PortAudioMissing(MissingDependencyError):
    """The PortAudio library is not installed (the sounddevice package is)."""


def import_sounddevice() -> ModuleType:
    """Import and return ``sounddevice``, mapping a missing PortAudio to a user error.

    ALSA's own messages (``snd_pcm_recover underrun occurred``...) are silenced
    first, unless --debug (:mod:`voicecoach.quiet`).

    Raises:
        PortAudioMissing: PortAudio is not installed.
        MissingDependencyError: the sounddevice package is not installed.
    """
    from voicecoach import quiet

    quiet.silence_alsa()  # before PortAudio starts: its ALSA back end prints from C (unless --debug)
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError("PortAudio library not found")
        raise PortAudioMissing(
            f"cannot play sound live: {exc}",
            hint=(
                "install PortAudio: sudo apt-get install libportaudio2 (Debian/Ubuntu), "
                "brew install portaudio (macOS); or export the session to a file: "
                "voicecoach export PLAN -o session.mp3"
            ),
        ) from exc
    except ImportError as exc:
        raise MissingDependencyError(
            "cannot play sound live: the Python package sounddevice is not installed",
            hint="reinstall voicecoach (pip install voicecoach), which depends on it",
        ) from exc
    return sounddevice
