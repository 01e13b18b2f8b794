"""The echo canceller stage: the output tap, the reference it reads at the microphone's times, speexdsp
itself on a simulated echo, the echo gate it turns off, and voice control off when the library is missing."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.control.voice import RATE, Heard
from voicecoach.control.voice import echo as echo_mod
from voicecoach.control.voice.echo import LEAD_S, EchoCanceller, EchoUnavailable, OutputTap, SpeexEcho
from voicecoach.control.voice.listener import CHUNK, SoundActivity, VoiceLogic


def sine(freq: float, seconds: float, rate: int) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def test_the_tap_reads_the_output_at_the_times_it_is_heard():
    tap = OutputTap(rate=1000, seconds=2.0)
    ramp = np.arange(3000, dtype=np.float32)  # sample k is heard at 100 + k / 1000
    for k in range(0, 3000, 100):  # wraps the 2 s ring
        tap.write(ramp[k : k + 100].reshape(-1, 1), 100.0 + k / 1000)
    times = np.array([102.0, 102.5, 102.9985, 103.5, 99.0])
    got = tap.read(times)
    assert got[:3] == pytest.approx([2000.0, 2500.0, 2998.5])  # interpolated between samples
    assert got[3] == 0 and got[4] == 0  # not yet written, and before anything: silence
    assert tap.read(np.array([100.5]))[0] == 0  # overwritten by the ring: silence, never a wrong sample


def test_a_new_stream_starts_its_clock_again_and_the_gap_between_reads_as_silence():
    tap = OutputTap(rate=1000, seconds=4.0)
    tap.write(np.ones(500, np.float32), 10.0, new_stream=True)  # heard 10.0-10.5
    tap.write(np.full(500, 2.0, np.float32), 10.001 + 0.5)  # the estimate's jitter: the same run
    tap.write(np.full(500, 3.0, np.float32), 12.0, new_stream=True)  # a new stream after a pause
    got = tap.read(np.array([10.2, 10.7, 11.5, 12.2]))
    assert got.tolist() == [1.0, 2.0, 0.0, 3.0]


class Recording:
    """An echo 'engine' that records the reference it is given and returns the microphone unchanged."""

    def __init__(self) -> None:
        self.far: list[np.ndarray] = []

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        self.far.append(far.copy())
        return near


def test_the_reference_is_the_output_resampled_to_16_khz_a_lead_ahead_of_the_microphone():
    tap = OutputTap()
    out = sine(440.0, 3.0, 44100)
    for k in range(0, len(out), 1024):
        tap.write(out[k : k + 1024], 50.0 + k / 44100)
    engine = Recording()
    canceller = EchoCanceller(tap, engine)
    jitter = [0.0, 0.002, -0.002, 0.001, -0.001] * 8  # the reported capture times are a little off, around the truth
    for i, off in enumerate(jitter, 1):  # 20 ms reads
        canceller.process(np.zeros(320, np.int16), 51.0 + i * 320 / RATE + off)
    far = np.concatenate(engine.far[-5:]).astype(np.float64) / 32767  # once the clock has settled
    first = 320 * (len(jitter) - 5)
    times = (
        51.0 + np.arange(first + 1, first + 1601) / RATE + LEAD_S
    )  # each read's last sample was captured at its time
    expected = 0.5 * np.sin(2 * np.pi * 440.0 * (times - 50.0))
    assert np.max(np.abs(far - expected)) < 0.03  # the same sine at the exact times (filter and rounding aside)


def test_speexdsp_cancels_a_simulated_echo_and_keeps_the_voice():
    rng = np.random.default_rng(7)
    n = 12 * RATE
    far = (rng.standard_normal(n) * 0.1).astype(np.float32)  # the coach: noise-like, like speech spectra
    room = np.zeros(800, np.float32)
    room[[160, 400, 700]] = [0.6, -0.3, 0.1]  # 10 ms away, and two reflections
    echo = np.convolve(far, room)[:n]
    voice = np.zeros(n, np.float32)
    voice[10 * RATE : 11 * RATE] = sine(300.0, 1.0, RATE) * 0.2  # someone speaks over it, late on
    near = ((echo + voice) * 32767).astype(np.int16)
    aec = SpeexEcho()
    out = np.concatenate(
        [aec.process(near[i : i + 320], (far[i : i + 320] * 32767).astype(np.int16)) for i in range(0, n, 320)]
    )
    settled = slice(6 * RATE, 10 * RATE)
    erle = 10 * np.log10(np.mean(near[settled].astype(float) ** 2) / np.mean(out[settled].astype(float) ** 2))
    assert erle > 15  # the echo is gone
    said = slice(10 * RATE, 11 * RATE)
    kept = np.corrcoef(out[said].astype(float), voice[said])[0, 1]
    assert kept > 0.9  # the voice said over it is not


def test_without_speexdsp_it_is_a_clear_error_naming_what_to_install(monkeypatch: pytest.MonkeyPatch):
    import ctypes

    def no_library(name: str, *args: object, **kwargs: object) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    with pytest.raises(EchoUnavailable) as err:
        SpeexEcho()
    assert "speexdsp" in err.value.message and "libspeexdsp1" in (err.value.hint or "")


def test_voice_control_turns_itself_off_in_one_line_without_the_echo_canceller(monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("pymicro_wakeword", reason="the listen extra")
    pytest.importorskip("pocketsphinx", reason="the listen extra")
    from voicecoach.live import launch

    def missing() -> None:
        raise EchoUnavailable("echo cancelling needs the speexdsp library, which is not installed", hint="install it")

    monkeypatch.setattr(echo_mod, "_speexdsp", missing)
    ears, reason = launch._voice_logic(None)
    assert ears is None
    assert (
        reason
        == "Voice control is off: echo cancelling needs the speexdsp library, which is not installed; install it."
    )


# -- the logic with a canceller in front ---------------------------------------------


class Wakes:
    phrase = "Hey Fake"

    def feed(self, pcm: np.ndarray) -> bool:
        return bool(pcm[0] == 1)

    def reset(self) -> None:
        pass


class Answers:
    def __init__(self, heard: Heard) -> None:
        self.heard = heard
        self.n = 0

    def start(self, before: np.ndarray) -> None:
        self.n = 0

    def feed(self, pcm: np.ndarray) -> Heard | None:
        self.n += 1
        return self.heard if self.n >= 3 else None


class Passes:
    cancels_echo = True

    def process(self, pcm: np.ndarray, t_end: float) -> np.ndarray:
        return pcm


def feed_all(logic: VoiceLogic, codes: list[int]) -> list:
    out = []
    for i, code in enumerate(codes):
        command = logic.feed(np.full(CHUNK, code, np.int16), 100.0 + (i + 1) * CHUNK / RATE)
        if command is not None:
            out.append(command)
    return out


@pytest.mark.parametrize("cancels", [True, False], ids=["canceller", "gate-only"])
def test_with_a_canceller_a_command_said_over_the_coach_is_obeyed(cancels: bool):
    activity = SoundActivity()
    activity.mark(99.0, 120.0)  # the coach speaks all along
    told: list[bool] = []
    logic = VoiceLogic(
        Wakes(),
        Answers(Heard("pause", "pause")),
        activity,
        cleaners=(Passes(),) if cancels else (),
        on_listening=told.append,
    )
    got = feed_all(logic, [0, 1, 0, 0, 0, 0])
    if cancels:
        assert [c.action for c in got] == ["pause"] and told == [True, False]
    else:
        assert got == [] and told == []  # today's gate: a wake over the coach is not for us


def test_listening_is_always_closed_even_when_nothing_was_said():
    told: list[bool] = []
    logic = VoiceLogic(Wakes(), Answers(Heard("")), cleaners=(Passes(),), on_listening=told.append)
    assert feed_all(logic, [0, 1, 0, 0, 0, 0, 1, 0, 0, 0]) == []
    assert told == [True, False, True, False]


def test_the_echo_is_kept_just_after_its_reference_whatever_the_reported_latency_missed():
    """The sound server buffered 0.3 s more than it said: the canceller finds the echo and moves its reference."""
    from voicecoach.control.voice.echo import TARGET_LAG_S

    rng = np.random.default_rng(3)
    out = (rng.standard_normal(12 * 44100) * 0.1).astype(np.float32)  # the coach, 12 s
    tap = OutputTap()
    engine = Recording()
    canceller = EchoCanceller(tap, engine)
    late = 0.3  # heard 0.3 s after the reported time
    heard = np.interp(np.arange(12 * RATE) / RATE - late, np.arange(len(out)) / 44100, out)
    k = 0
    for i in range(0, 11 * RATE, 320):
        while k < len(out) and k / 44100 < (i + 320) / RATE + 0.35:  # the player writes 0.35 s ahead
            tap.write(out[k : k + 1024], 10.0 + k / 44100, new_stream=k == 0)
            k += 1024
        canceller.process((heard[i : i + 320] * 32767).astype(np.int16), 10.0 + (i + 319) / RATE)
    assert canceller.moved_s == pytest.approx(late + LEAD_S - TARGET_LAG_S, abs=0.003)
    lag, corr = canceller.delay.last or (0.0, 0.0)
    assert lag == pytest.approx(TARGET_LAG_S, abs=0.002) and corr > 0.5  # measured again after the move
