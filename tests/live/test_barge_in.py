"""Barge-in in the live session, without sound: the duck in the audio callback, what it hands the echo
canceller, and the coach lowering its voice between "listening" and "done listening" (a stepped clock)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers.coaching import ScriptedInputs, stepped_coach
from helpers.fakes import FakeSpeaker
from helpers.plans import TWO

from voicecoach.core.planfile import parse_plan
from voicecoach.core.schedule import Options, build_timeline
from voicecoach.live.events import EventType
from voicecoach.live.playback import DUCK_GAIN, LISTEN_TIMEOUT_S
from voicecoach.live.player import Player
from voicecoach.live.realtime import DUCK_RAMP_S
from voicecoach.live.realtime import Run as _Run
from voicecoach.live.status import Output
from voicecoach.render.prepare import Prepared

RATE = 44100


class Status:
    output_underflow = False


class TimeInfo:
    currentTime = 10.0
    outputBufferDacTime = 10.25  # this buffer is heard 250 ms from now


def make_run(blocksize: int, **player_args) -> _Run:
    run = _Run(Player(blocksize=blocksize, prefill_blocks=8, **player_args))
    run.callback_stop, run.callback_abort = Exception, Exception
    return run


def ones(n: int) -> tuple[np.ndarray, bool]:
    return np.ones((n, 1), np.float32), True


def test_the_duck_ramps_down_holds_and_comes_back_without_a_jump() -> None:
    ramp = int(DUCK_RAMP_S * RATE)  # samples of a full swing
    run = make_run(ramp)
    out = np.zeros((ramp, 1), np.float32)
    run.queue.put(ones(ramp))
    run.callback(out, ramp, None, Status())
    assert np.all(out == 1.0)  # full voice: untouched
    run.player.duck(0.1)
    for _ in range(3):
        run.queue.put(ones(ramp))
    run.callback(out, ramp, None, Status())
    steps = np.diff(out[:, 0])
    assert np.all(steps <= 0) and np.max(np.abs(steps)) < 2.0 / ramp  # a ramp, no click
    assert out[-1, 0] == pytest.approx(0.1, abs=0.01) and out[0, 0] > 0.95
    run.callback(out, ramp, None, Status())
    assert np.allclose(out, 0.1)  # held at -20 dB
    run.player.duck(1.0)
    run.callback(out, ramp, None, Status())
    assert out[0, 0] == pytest.approx(0.1, abs=0.01) and out[-1, 0] == pytest.approx(1.0, abs=0.01)
    assert run.frames == 4 * ramp  # the duck never holds the clock back


def test_the_duck_lasts_across_streams() -> None:
    player = Player(blocksize=64, prefill_blocks=8)
    player.duck(0.1)
    out = np.zeros((64, 1), np.float32)
    run = _Run(player)
    for _ in range(int(DUCK_RAMP_S * RATE) // 64 + 2):  # down
        run.queue.put(ones(64))
        run.callback(out, 64, None, Status())
    run = _Run(player)  # a control stopped the stream: the next one is still lowered
    run.queue.put(ones(64))
    run.callback(out, 64, None, Status())
    assert np.allclose(out, 0.1)


def test_every_block_sent_goes_to_the_echo_reference_with_when_it_is_heard() -> None:
    import time

    sent: list[tuple[np.ndarray, float]] = []
    run = make_run(4, on_output=lambda block, t, first: sent.append((block.copy(), t, first)))
    run.player.duck(0.5)
    run.player.duck_gain = 0.5  # already down
    run.queue.put((np.array([[0.2], [0.4], [0.6], [0.8]], np.float32), True))
    out = np.zeros((4, 1), np.float32)
    before = time.monotonic()
    run.callback(out, 4, TimeInfo(), Status())
    run.callback(out, 4, TimeInfo(), Status())  # starved: silence is sent, and so handed on too
    after = time.monotonic()
    assert np.allclose([b[:, 0] for b, _, _ in sent], [[0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0]])  # after the duck
    assert all(before + 0.25 <= t <= after + 0.25 for _, t, _ in sent)
    assert [first for *_, first in sent] == [True, False]  # the stream's first block starts the echo's clock


def test_a_failing_echo_reference_never_stops_the_sound() -> None:
    def broken(block: np.ndarray, t: float, first: bool) -> None:
        raise RuntimeError("bug")

    run = make_run(4, on_output=broken)
    run.queue.put((np.full((4, 1), 0.5, np.float32), True))
    out = np.zeros((4, 1), np.float32)
    run.callback(out, 4, None, Status())
    assert out[:, 0].tolist() == [0.5] * 4


# -- the coach ---------------------------------------------------------------------


PLAN = parse_plan(TWO)


def coach_run(script, events=None):
    speaker = FakeSpeaker()
    tl = build_timeline(PLAN, Options(), speaker.length_s)
    prepared = Prepared(PLAN, Options(), tl, speaker)
    buf = io.StringIO()
    inputs = ScriptedInputs([], list(script), {"keys", "voice"})
    coach = stepped_coach(prepared, Output("plain", buf), inputs)
    if events is not None:
        coach.events.subscribe(events.append)
    finished = coach.run()
    return finished, buf.getvalue().splitlines(), tl, coach.playback.player


def test_the_coach_lowers_its_voice_while_it_listens_and_keeps_its_timing():
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    events: list = []
    finished, lines, _, player = coach_run(
        [(hold.start_s + 1, "listening", "voice"), (hold.start_s + 2.5, "listened", "voice")], events
    )
    assert finished
    [(down_at, down), (up_at, up)] = player.ducks
    assert (down, up) == (DUCK_GAIN, 1.0)
    assert 1.4 < up_at - down_at < 1.7  # lowered from the wake word until the command was decided
    # A duck is not a pause: nothing was stopped or said, the whole session played once, on time.
    assert not any(line.startswith(("Heard", "Paused", "Sorry")) for line in lines)
    *_, untouched = coach_run([])
    assert player.played_s == pytest.approx(untouched.played_s, abs=1e-6)
    kinds = [e.type for e in events if e.type in (EventType.LISTENING, EventType.LISTENED)]
    assert kinds == [EventType.LISTENING, EventType.LISTENED]


def test_the_voice_comes_back_by_itself_when_no_command_is_decided():
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    finished, _, _, player = coach_run([(hold.start_s + 1, "listening", "voice")])
    assert finished
    [(down_at, down), (up_at, up)] = player.ducks
    assert (down, up) == (DUCK_GAIN, 1.0)
    assert LISTEN_TIMEOUT_S <= up_at - down_at < LISTEN_TIMEOUT_S + 0.2


def test_done_listening_comes_before_the_command_it_decided():
    tl = build_timeline(PLAN, Options(), FakeSpeaker().length_s)
    hold = next(p for p in tl.phases if p.kind == "hold")
    script = [
        (hold.start_s + 1, "listening", "voice"),
        (hold.start_s + 1.5, "listened", "voice"),
        (hold.start_s + 1.5, "pause", "voice", "pause"),
        (0, "resume", "voice", "resume"),
    ]
    finished, lines, _, player = coach_run(script)
    assert finished
    assert [g for _, g in player.ducks] == [DUCK_GAIN, 1.0]  # "Paused" is said at full voice
    assert "Paused (voice). Say the wake word, then resume." in lines
