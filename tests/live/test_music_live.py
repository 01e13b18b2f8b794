"""Music under a live session: the export's bed to the sample, on its own clock across streams, off with one line.

The feed's real threads decode real files (ffmpeg); the clock of the music is checked with a
fake feed whose every frame holds its own number.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers.fakes import tone

from voicecoach.core import duck
from voicecoach.core.timeline import Cue, Timeline
from voicecoach.live.music import LiveMusic
from voicecoach.live.realtime import Run
from voicecoach.render import mix, music
from voicecoach.render.bed import Bed
from voicecoach.render.feed import MusicFeed
from voicecoach.speech.clip import MIX_RATE_HZ

R = MIX_RATE_HZ
CUES = (
    Cue(0.0, 1.0, "intro", "a"),
    Cue(3.0, 4.0, "start", "b", earcon="start"),
    Cue(4.5, 5.0, "countdown", "c"),
    Cue(9.0, 10.0, "end", "a"),
)
TIMELINE = Timeline("t", 11.0, CUES)
CLIPS = {"a": tone(300, 1.0), "b": tone(500, 1.0), "c": tone(700, 0.5)}
LEVEL = -36.0


def _flac(path: Path, seconds: float) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc=0.3*sin(2*PI*40*t)|0.2*sin(2*PI*60*t):s=48000:d={seconds}", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _lufs(track: music.Track) -> float:
    return -20.0


class RampFeed:
    """A feed whose frame m holds m in both channels: what a stream reads says where the music is."""

    error: str | None = None

    def __init__(self, ready: bool = True) -> None:
        self._ready = ready
        self.reads: list[tuple[int, int]] = []

    def ready(self, frames: int = 1) -> bool:
        return self._ready

    def read(self, lo: int, hi: int, timeout_s: float = 0.0) -> np.ndarray:
        self.reads.append((lo, hi))
        return np.repeat(np.arange(lo, hi, dtype=np.float32)[:, None], 2, axis=1)


def _bed(stream, lo: int, hi: int) -> np.ndarray:
    return np.concatenate(list(stream.blocks(lo, hi, 4096)))


@pytest.mark.audio
def test_a_stream_from_the_start_is_the_exports_bed_to_the_sample(tmp_path):
    tracks = music.playlist([_flac(tmp_path / "m.flac", 4.0)])  # shorter than the session: it loops
    plan = duck.plan(TIMELINE, 14.0, earcon_s=None)
    want = np.concatenate(list(mix.blocks(TIMELINE, CLIPS, earcons=False, bed=Bed(tracks, plan, LEVEL, lufs=_lufs))))
    feed = MusicFeed(tracks, LEVEL, lufs=_lufs).start()
    try:
        assert feed.wait_ready(10.0, frames=R)
        # Mixed here much faster than real time: the decoder may be left behind (not late for a listener).
        stream = LiveMusic(feed, TIMELINE, duck_db=14.0, late_s=30.0).stream(None, 0.0, TIMELINE)
        # As the live session mixes it: up to a horizon, then on from there.
        first = mix.blocks(TIMELINE, CLIPS, earcons=False, end_s=5.0, bed=stream.session_bed(TIMELINE))
        rest = mix.blocks(TIMELINE, CLIPS, earcons=False, start_s=5.0, bed=stream.session_bed(TIMELINE))
        got = np.concatenate([*first, *rest])
    finally:
        feed.close()
    assert feed.error is None
    assert got.shape == want.shape == (mix.total_frames(TIMELINE), 2)
    np.testing.assert_array_equal(got, want)


def test_after_a_stop_the_music_goes_on_where_it_was_heard_and_never_jumps():
    feed = RampFeed()
    live = LiveMusic(feed, TIMELINE)  # type: ignore[arg-type]
    first = live.stream(None, 0.0, TIMELINE)
    _bed(first, 0, 5 * R)  # mixed ahead: 5 s
    live.stopped(first, 2.0)  # but 2 s were heard when a skip came
    assert live.heard == 2 * R
    # The skip: "Next exercise." then the session planned again from its start (a new timeline from 0).
    words = Timeline("", 1.0, (Cue(0.0, 0.8, "intro", "a"),))
    after = live.stream(words, 0.0, TIMELINE)
    feed.reads.clear()
    _bed(after.prefix_bed(), 0, R)
    assert feed.reads[0][0] == 2 * R  # the song continues where it was heard, under the words
    _bed(after.session_bed(TIMELINE), 0, R)
    assert feed.reads[-1][1] == 2 * R + R + R  # and on into the session without a jump


def test_a_pause_stops_the_music_and_resume_continues_the_song():
    feed = RampFeed()
    live = LiveMusic(feed, TIMELINE)  # type: ignore[arg-type]
    playing = live.stream(None, 0.0, TIMELINE)
    _bed(playing, 0, 4 * R)
    live.stopped(playing, 3.5)
    paused = live.stream(Timeline("", 2.0, (Cue(0.0, 1.5, "intro", "c"),)), 0.0, None)  # "Paused." words alone
    feed.reads.clear()
    assert not _bed(paused.prefix_bed(), 0, 2 * R).any()  # no music while paused
    assert feed.reads == []
    live.stopped(paused, 2.0)
    assert live.heard == int(3.5 * R)  # the music stands where it was paused
    resumed = live.stream(Timeline("", 1.0, (Cue(0.0, 0.5, "intro", "a"),)), 3.0, TIMELINE)
    _bed(resumed.prefix_bed(), 0, 1024)
    assert feed.reads[0][0] == int(3.5 * R)


def test_words_that_cannot_be_led_duck_the_music_at_once_and_later_cues_are_led():
    live = LiveMusic(RampFeed(), TIMELINE, duck_db=14.0)  # type: ignore[arg-type]
    first = live.stream(None, 0.0, TIMELINE)
    _bed(first, 0, 3 * R)
    live.stopped(first, 2.5)  # heard between cues: the bed was up (0 dB)
    words = Timeline("", 1.2, (Cue(0.0, 1.0, "intro", "a"),))
    stream = live.stream(words, 6.0, TIMELINE)  # words, then the session from 6 s (the next cue at 9 s)
    assert stream.duck_db_at(0.0) == pytest.approx(0.0)  # from where it was, without a jump...
    assert stream.duck_db_at(duck.QUICK_S) == pytest.approx(-14.0)  # ...down within 30 ms: never after the words
    cue = 1.2 + (9.0 - 6.0)  # the session's next cue, in the stream's time
    assert stream.duck_db_at(cue - duck.LEAD_S) == pytest.approx(0.0)
    assert stream.duck_db_at(cue - 0.15) < -3.0  # falling at least 150 ms before it
    assert stream.duck_db_at(cue) == pytest.approx(-14.0)


def test_the_first_music_begins_when_its_frames_are_ready_and_fades_in():
    feed = RampFeed(ready=False)
    live = LiveMusic(feed, TIMELINE)  # type: ignore[arg-type]
    stream = live.stream(None, 0.0, TIMELINE)
    assert not _bed(stream, 0, R).any()  # not decoded yet: the session does not wait for it
    feed._ready = True
    later = _bed(stream, R, 2 * R)
    assert feed.reads[0][0] == 0  # the song from its start...
    assert later[0, 0] == 0.0 and 0 < later[-1, 0] < R  # ...fading in from silence
    live.stopped(stream, 1.5)
    assert live.heard == R // 2


def test_a_file_that_breaks_turns_the_music_off_with_one_line(tmp_path):
    good, bad = _flac(tmp_path / "a.flac", 1.0), _flac(tmp_path / "b.flac", 1.0)
    tracks = music.playlist([good, bad])
    bad.unlink()  # gone after it was checked
    feed = MusicFeed(tracks, LEVEL, lufs=_lufs).start()
    try:
        assert feed.wait_ready(10.0)
        live = LiveMusic(feed, TIMELINE, late_s=30.0)
        stream = live.stream(None, 0.0, TIMELINE)
        out = _bed(stream, 0, 3 * R)  # the first song, then the music stops
    finally:
        feed.close()
    assert live.notice() == f"Music is off: {bad}: No such file or directory."
    assert live.notice() is None  # said once
    assert out[: R // 2].any() and not out[2 * R :].any()


def test_music_that_is_late_turns_itself_off_instead_of_holding_the_words(tmp_path):
    tracks = music.playlist([_flac(tmp_path / "a.flac", 1.0)])
    feed = MusicFeed(tracks, LEVEL, lufs=lambda track: float("nan")).start()  # measured in no time
    try:
        assert feed.wait_ready(10.0)
        assert feed.read(0, 10 * R, timeout_s=0.05) is None  # 10 s ahead of the decoder's 5: not there in time
    finally:
        feed.close()
    assert feed.error == f"Music is off: {tracks[0].path}: it could not be decoded in time."


def test_a_session_with_music_hears_every_frame_of_it_once_across_a_skip():
    import io

    from helpers.coaching import ScriptedInputs, stepped_coach
    from helpers.fakes import FakeSpeaker
    from helpers.plans import TWO

    from voicecoach.core.planfile import parse_plan
    from voicecoach.core.schedule import Options, build_timeline
    from voicecoach.live.status import Output
    from voicecoach.render.prepare import Prepared

    plan = parse_plan(TWO)
    speaker = FakeSpeaker()
    timeline = build_timeline(plan, Options(), speaker.length_s)
    hold = next(p for p in timeline.phases if p.kind == "hold")
    feed = RampFeed()
    live = LiveMusic(feed, timeline)  # type: ignore[arg-type]
    inputs = ScriptedInputs([], [(hold.start_s + 2, "next")])
    coach = stepped_coach(Prepared(plan, Options(), timeline, speaker), Output("plain", io.StringIO()), inputs,
                          music=live)  # fmt: skip
    assert coach.run()
    player = coach.playback.player
    assert len(player.voiced) >= 2 and all(v is not None for v in player.voiced)  # every stream: the gate's spans
    # Every stream went on into the session, so the music played all along: as many frames as were heard,
    # none twice, none skipped (a skip does not make the music jump).
    assert abs(live.heard - player.played_s * R) < 2 * 4096


class _Host:
    prefill_blocks, blocksize, samplerate, channels, paused = 100, 1024, R, 2, False
    on_output = None  # no echo canceller's tap
    duck_target = duck_gain = 1.0  # not lowered for a wake word

    def __init__(self) -> None:
        self.marked: list[tuple[float, float]] = []
        self.on_sound = lambda start, end: self.marked.append((start, end))  # the echo gate's SoundActivity.mark


class _Status:
    output_underflow = False


def _loud_flags(voiced) -> list[bool]:
    """What the producer says of each block, and (checked) what the audio callback then tells the echo gate."""
    loud_music = np.full((20 * 1024, 2), 0.3, dtype=np.float32)  # the bed: loud all along
    host = _Host()
    run = Run(host, voiced)  # type: ignore[arg-type]
    run.produce([loud_music])
    flags = [item[1] for item in list(run.queue.queue) if item is not None]
    out = np.zeros((1024, 2), dtype=np.float32)
    for _ in flags:
        run.callback(out, 1024, None, _Status())
    assert len(host.marked) == sum(flags)  # the gate hears of the blocks flagged, and of no other
    return flags


def test_the_echo_gate_hears_the_coach_not_the_music():
    live = LiveMusic(RampFeed(), TIMELINE)  # type: ignore[arg-type]
    words = Timeline("", 0.3, (Cue(0.0, 0.1, "intro", "a"),))  # 0.1 s of words, then the session from 5 s
    stream = live.stream(words, 5.0, TIMELINE)
    flags = _loud_flags(stream.voiced)
    # Blocks of 1024 frames: the words' first 0.1 s, then nothing until the session's cue at 9 s (out of range).
    assert flags[:5] == [True, True, True, True, True]
    assert not any(flags[5:])
    assert all(_loud_flags(None))  # by the peak of the mix, the music would keep the gate shut
