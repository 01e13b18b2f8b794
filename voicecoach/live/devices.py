"""Sound output devices, as PortAudio (through python-sounddevice) sees them.

``sounddevice`` is imported lazily, inside functions: importing it loads the
PortAudio shared library, and commands that never touch a sound card (export,
show...) must work on a machine without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from voicecoach.errors import DeviceError
from voicecoach.portaudio import import_sounddevice as import_sounddevice  # re-exported: tests replace it here

NO_DEVICE_HINT = "export the session to a file instead: voicecoach export PLAN -o session.mp3"


@dataclass(frozen=True)
class Device:
    """One PortAudio device: an output (speakers) or an input (a microphone, for voice control)."""

    index: int  # PortAudio's device number (what ``--device 3`` and ``--mic 3`` mean)
    name: str
    channels: int  # maximum output (or input) channels
    default: bool  # PortAudio's default output (or input) device
    kind: str = "output"  # "output" or "input"


def list_output_devices() -> list[Device]:
    """All devices PortAudio can play to, in PortAudio's order (may be empty)."""
    sd = import_sounddevice()
    try:
        default_out = _default_output_index(sd)
        return [
            Device(
                index=int(info["index"]),
                name=str(info["name"]),
                channels=int(info["max_output_channels"]),
                default=int(info["index"]) == default_out,
            )
            for info in sd.query_devices()
            if int(info["max_output_channels"]) > 0
        ]
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list sound devices: {exc}") from exc


def list_input_devices() -> list[Device]:
    """All devices PortAudio can record from (microphones), in PortAudio's order (may be empty)."""
    sd = import_sounddevice()
    try:
        default_in = _default_index(sd, "input")
        return [
            Device(
                index=int(info["index"]),
                name=str(info["name"]),
                channels=int(info["max_input_channels"]),
                default=int(info["index"]) == default_in,
                kind="input",
            )
            for info in sd.query_devices()
            if int(info["max_input_channels"]) > 0
        ]
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list sound devices: {exc}") from exc


def resolve_input_device(spec: str | None) -> int | None:
    """Turn a user's ``--mic`` value into a PortAudio device index (``None``: the default input).

    Unlike outputs, having no microphone is not an error here: voice control
    then says it is off and the session goes on. A ``spec`` that matches no
    input device is a device problem (exit status 5), as for outputs.

    Raises:
        DeviceError: ``spec`` matches no input device, or several.
    """
    if spec is None:
        return None
    return _match(list_input_devices(), spec, "input")


def resolve_device(spec: str | None) -> int | None:
    """Turn a user's ``--device`` value into a PortAudio device index.

    ``spec`` is a device number (``"3"``) or a case-insensitive part of a
    device name (``"pulse"``); an exact name wins over partial matches.
    ``None`` means PortAudio's default output device and returns ``None``.

    Raises:
        DeviceError: there is no output device at all, or ``spec`` matches none, or several.
    """
    devices = list_output_devices()
    if not devices:
        raise DeviceError("no sound output device found", hint=NO_DEVICE_HINT)
    if spec is None:
        if not any(d.default for d in devices):
            # PortAudio has devices but no default (e.g. ALSA without a "default" PCM).
            raise DeviceError(
                "no default sound output device",
                hint="choose one with --device:\n" + format_devices(devices),
            )
        return None
    return _match(devices, spec, "output")


def _match(devices: list[Device], spec: str, kind: str) -> int:
    """The device ``spec`` names: its number, its exact name, or a unique part of its name.

    Naming no device (or several) is a device problem, with the documented exit status 5
    and the list of devices to choose from.
    """
    text = spec.strip()
    if text.isdigit():
        for device in devices:
            if device.index == int(text):
                return device.index
        raise DeviceError(f"no {kind} device number {text}", hint=f"{kind} devices:\n" + format_devices(devices))
    wanted = text.casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    matches = exact or [d for d in devices if wanted in d.name.casefold()]
    if len(matches) == 1:
        return matches[0].index
    if not matches:
        raise DeviceError(f"no {kind} device matches {spec!r}", hint=f"{kind} devices:\n" + format_devices(devices))
    raise DeviceError(
        f"{spec!r} matches several {kind} devices: use a number", hint="matching devices:\n" + format_devices(matches)
    )


def format_devices(devices: list[Device]) -> str:
    """One line per device, ``*`` marking the default, for messages and ``devices`` listings."""
    if not devices:
        return "  (none)"
    return "\n".join(
        f"{'*' if d.default else ' '} {d.index:>3}  {d.name}  ({d.channels} ch"
        + (", input)" if d.kind == "input" else ")")
        for d in devices
    )


def rescan() -> None:
    """Make PortAudio enumerate devices again (it does so only when initialised).

    Needed after a sound server starts or a device is plugged in while the
    process runs. Only call it while no stream is open: it re-initialises
    PortAudio, which invalidates open streams.
    """
    sd = import_sounddevice()
    # sounddevice has no public API for this; _terminate/_initialize are the
    # documented-by-maintainer way (Pa_Terminate + Pa_Initialize).
    sd._terminate()
    sd._initialize()


def _default_output_index(sd: ModuleType) -> int:
    """PortAudio's default output device, or -1 when it has none."""
    return _default_index(sd, "output")


def _default_index(sd: ModuleType, kind: str) -> int:
    """PortAudio's default ``kind`` ("output" or "input") device, or -1 when it has none."""
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except (sd.PortAudioError, KeyError, TypeError, ValueError):
        return -1
