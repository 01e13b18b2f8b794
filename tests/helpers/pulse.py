"""A private PulseAudio server with null sinks, for tests of real playback (and of voice control).

No sound card is needed: ``module-null-sink`` is a sink clocked by the
system timer, and its monitor source lets the tests record exactly what
was played. PortAudio reaches it through ALSA's ``pulse`` plugin
(Debian: libasound2-plugins, a dependency of the pulseaudio package).

The daemon runs in "user" mode even as root (pulseaudio only warns: "This
program is not intended to be run as root"), with every path it uses in a
private temporary directory, so it neither needs nor disturbs a desktop's
sound server. Its command line (see :meth:`PulseServer.start`)::

    HOME=$D/home XDG_RUNTIME_DIR=$D/run PULSE_RUNTIME_PATH=$D/run/pulse \\
    PULSE_STATE_PATH=$D/state XDG_CONFIG_HOME=$D/config \\
    pulseaudio -n --daemonize=no --use-pid-file=no --system=no \\
        --exit-idle-time=-1 --disallow-exit --log-target=stderr \\
        --load="module-null-sink sink_name=vc_test format=float32le rate=44100 channels=1" \\
        --load="module-native-protocol-unix socket=$D/native auth-anonymous=1"

and clients (this process, PortAudio, parec) find it through
``PULSE_SERVER=unix:$D/native``.

A second null sink, ``vc_room``, is "the room": its monitor is the default
source, so a program that opens the default microphone hears whatever a
test plays into the room (``paplay --device=vc_room``), and
:meth:`PulseServer.loop_speakers_into_room` feeds the speakers back into it.

A silent low-latency client (``pacat --latency-msec=10 /dev/zero``) stays
connected: an idle null sink sleeps through blocks of up to 2 s, so a new
stream would otherwise wait up to 2 s for its first data request (and then
be served faster than real time to catch up), where a sound card's clock
serves it at once. With the keep-alive the sink ticks every 10 ms, like
hardware.

Every child process gets PR_SET_PDEATHSIG, so a killed test run leaves no
daemon behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATE = 44100
SINK = "vc_test"
#: A second null sink, "the room": what is played to it is what the microphone hears
#: (its monitor is the server's default input), for the voice-control tests.
ROOM = "vc_room"


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when the test process dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class PulseError(RuntimeError):
    """The test sound server could not be started or used."""


def missing_tools() -> list[str]:
    """The programs this harness needs that are not on PATH."""
    return [tool for tool in ("pulseaudio", "pactl", "parec", "paplay") if shutil.which(tool) is None]


class PulseServer:
    """A private pulseaudio daemon; :meth:`start` it, then use it as a context for clients."""

    sink = SINK
    monitor = SINK + ".monitor"
    room = ROOM
    room_monitor = ROOM + ".monitor"

    def __init__(self) -> None:
        # Directly under the temp dir: a unix socket path must stay under ~108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="vc-pulse-"))
        self.socket = self.dir / "native"
        self.server = f"unix:{self.socket}"
        self.log_path = self.dir / "pulseaudio.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.keepalive: subprocess.Popen[bytes] | None = None
        self._saved_env: dict[str, str | None] = {}

    # -- the daemon ---------------------------------------------------------
    def _daemon_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k != "DBUS_SESSION_BUS_ADDRESS"}
        for name in ("home", "run", "state", "config"):
            (self.dir / name).mkdir(mode=0o700, exist_ok=True)
        env.update(
            HOME=str(self.dir / "home"),
            XDG_RUNTIME_DIR=str(self.dir / "run"),
            PULSE_RUNTIME_PATH=str(self.dir / "run" / "pulse"),
            PULSE_STATE_PATH=str(self.dir / "state"),
            XDG_CONFIG_HOME=str(self.dir / "config"),
        )
        return env

    def client_env(self) -> dict[str, str]:
        """Variables that send every PulseAudio client of this process to this server."""
        conf = self.dir / "client.conf"
        # Never autospawn a second (real, user) daemon if ours is gone.
        conf.write_text(f"autospawn = no\ndefault-server = {self.server}\n")
        return {"PULSE_SERVER": self.server, "PULSE_SINK": self.sink, "PULSE_CLIENTCONFIG": str(conf)}

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the daemon and wait until it answers."""
        cmd = [
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--use-pid-file=no",
            "--system=no",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--log-target=stderr",
            f"--load=module-null-sink sink_name={self.sink} format=float32le rate={RATE} channels=1"
            " sink_properties=device.description=voicecoach-test",
            f"--load=module-native-protocol-unix socket={self.socket} auth-anonymous=1",
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=self._daemon_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PulseError(f"pulseaudio exited with {self.proc.returncode}:\n{self.log()}")
            if self.socket.exists() and self._pactl_ok("info"):
                self.pactl("set-default-sink", self.sink)
                self._start_keepalive()
                return
            time.sleep(0.05)
        self.stop()
        raise PulseError(f"pulseaudio did not answer within {timeout_s} s:\n{self.log()}")

    def _start_keepalive(self) -> None:
        """Keep a silent 10 ms-latency stream playing (see the module docstring)."""
        self.keepalive = subprocess.Popen(
            [
                "pacat",
                "--server",
                self.server,
                "--playback",
                f"--device={self.sink}",
                "--latency-msec=10",
                "--format=float32le",
                f"--rate={RATE}",
                "--channels=1",
                "--raw",
                "/dev/zero",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **self.client_env()},
            preexec_fn=_die_with_parent,
        )
        time.sleep(0.2)  # let it connect and lower the sink's requested latency
        # Suspending and resuming restarts the sink's timer from now, at the new
        # 10 ms block, instead of after the up to 2 s block it is sleeping through.
        self.pactl("suspend-sink", self.sink, "1")
        self.pactl("suspend-sink", self.sink, "0")

    def stop(self) -> None:
        """Stop the daemon, restore the environment, remove the temporary directory."""
        self.restore_env()
        for proc in (self.keepalive, self.proc):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    # -- clients --------------------------------------------------------------
    def apply_env(self) -> None:
        """Point this process's PulseAudio clients (PortAudio's ALSA plugin) at the server."""
        for key, value in self.client_env().items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def _pactl_ok(self, *args: str) -> bool:
        return (
            subprocess.run(
                ["pactl", "--server", self.server, *args],
                capture_output=True,
                env={**os.environ, **self.client_env()},
                timeout=10,
            ).returncode
            == 0
        )

    def pactl(self, *args: str) -> str:
        """Run ``pactl`` against this server and return its output."""
        res = subprocess.run(
            ["pactl", "--server", self.server, *args],
            capture_output=True,
            text=True,
            env={**os.environ, **self.client_env()},
            timeout=10,
        )
        if res.returncode != 0:
            raise PulseError(f"pactl {' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    def add_room(self) -> str:
        """Load the room sink and make its monitor the default input; returns the module id.

        Only for the tests that need it: a second null sink in the server
        measurably disturbed the timing of the speakers' sink (a 250 ms jump
        in test_play_real), so it is not there by default.
        """
        module = self.pactl(
            "load-module",
            "module-null-sink",
            f"sink_name={self.room}",
            "format=s16le",
            "rate=16000",
            "channels=1",
            "sink_properties=device.description=voicecoach-room",
        ).strip()
        self.pactl("set-default-source", self.room_monitor)  # the "microphone" hears the room
        return module

    def play_into_room(self, wav: Path) -> None:
        """Play a sound file into the room (what the microphone hears), to its end."""
        subprocess.run(
            ["paplay", "--server", self.server, f"--device={self.room}", str(wav)],
            check=True,
            env={**os.environ, **self.client_env()},
            timeout=60,
            capture_output=True,
        )

    def loop_speakers_into_room(self, steady: bool = False, gain_db: float = 0.0) -> str:
        """Feed everything played on the speakers into the room (an echo path); returns the module id.

        ``steady``: the loopback never adjusts its rate (``adjust_time=0``), so the echo's delay stays
        put, as from a sound card's own speakers to its microphone; by default it slides by a few
        milliseconds a minute as the loopback keeps its latency, as between two devices' clocks.
        ``gain_db``: how much louder (or, negative, quieter) the echo is than what is played.
        """
        extra = ["adjust_time=0"] if steady else []
        module = self.pactl(
            "load-module", "module-loopback", f"source={self.monitor}", f"sink={self.room}", "latency_msec=30", *extra
        ).strip()
        if gain_db:
            index = None
            for line in self.pactl("list", "sink-inputs").splitlines():
                line = line.strip()
                if line.startswith("Sink Input #"):
                    index = line.removeprefix("Sink Input #")
                elif line == f"Owner Module: {module}" and index is not None:
                    self.pactl("set-sink-input-volume", index, f"{gain_db:+g}dB")
        return module

    def stray_inputs(self) -> list[str]:
        """Playback streams on the server other than the keep-alive: what an earlier test left playing."""
        keep = str(self.keepalive.pid) if self.keepalive is not None else None
        strays: list[str] = []
        index, pid = None, None
        for line in [*self.pactl("list", "sink-inputs").splitlines(), "Sink Input #end"]:
            line = line.strip()
            if line.startswith("Sink Input #"):
                if index is not None and pid != keep:
                    strays.append(index)
                index, pid = line.removeprefix("Sink Input #"), None
            elif line.startswith("application.process.id = "):
                pid = line.split("=", 1)[1].strip().strip('"')
        return strays

    def silence_strays(self) -> list[str]:
        """Mute what an earlier test left playing, so a recording hears only this test; returns the streams muted.

        A test that fails with its session still running (say, a signal that did not stop it) would
        otherwise play into every later recording of the same server.
        """
        strays = self.stray_inputs()
        for index in strays:
            try:
                self.pactl("set-sink-input-mute", index, "1")
            except PulseError:
                pass  # it ended meanwhile
        return strays

    def unload(self, module: str) -> None:
        self.pactl("unload-module", module)

    def start_recording(self, device: str | None = None, channels: int = 1) -> Recording:
        """Record the null sink's monitor (what is played), or another source, until ``stop()``."""
        return Recording(self, device=device, channels=channels)

    def record(self, seconds: float) -> np.ndarray:
        """Record ``seconds`` of the null sink's monitor."""
        rec = self.start_recording()
        time.sleep(seconds)
        return rec.stop()


class Recording:
    """``parec`` writing the monitor as raw float32 mono (or ``channels``) at 44100 Hz to a file."""

    def __init__(
        self, server: PulseServer, start_timeout_s: float = 5.0, device: str | None = None, channels: int = 1
    ) -> None:
        self.channels = channels
        self.path = server.dir / f"rec-{time.monotonic_ns()}.f32"
        with open(self.path, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    "parec",
                    "--server",
                    server.server,
                    f"--device={device or server.monitor}",
                    "--format=float32le",
                    f"--rate={RATE}",
                    f"--channels={channels}",
                    "--raw",
                    # Small fragments: data reaches the file promptly, so stop() loses little.
                    "--latency-msec=10",
                ],
                stdout=out,
                stderr=subprocess.PIPE,
                env={**os.environ, **server.client_env()},
                preexec_fn=_die_with_parent,
            )
        # The monitor delivers (silent) samples continuously: the first bytes
        # mean the recording runs, so playback started now is captured whole.
        deadline = time.monotonic() + start_timeout_s
        while self.path.stat().st_size == 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.stop_process()
                raise PulseError(f"parec did not start recording: {err}")
            time.sleep(0.005)

    def recorded_s(self) -> float:
        """How much has been recorded so far (s): the recording's "now", within a 10 ms fragment."""
        return self.path.stat().st_size // (4 * self.channels) / RATE

    def stop_process(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return (self.proc.stderr.read() if self.proc.stderr else b"").decode(errors="replace").strip()

    def stop(self) -> np.ndarray:
        """Stop recording; the samples recorded (float32, 44100 Hz; (frames, channels) when not mono)."""
        self.stop_process()
        data = np.fromfile(self.path, dtype="<f4")
        if self.channels > 1:
            data = data[: data.size // self.channels * self.channels].reshape(-1, self.channels)
        self.path.unlink(missing_ok=True)
        return data


def find_onsets(
    samples: np.ndarray, rate: int = RATE, threshold_db: float = -40.0, min_gap_s: float = 0.1, window_s: float = 0.001
) -> list[float]:
    """Times (s) where sound starts after at least ``min_gap_s`` of silence.

    The envelope is the mean power over a short trailing window of
    ``window_s``; an onset is the first frame whose envelope rises above
    ``threshold_db`` (dB re full scale, 0 dB = a constant 1.0) after the
    envelope stayed below it for ``min_gap_s``. A trailing window makes the
    detection fire within a sample or two of a sharp attack.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return []
    w = max(1, int(round(window_s * rate)))
    csum = np.concatenate(([0.0], np.cumsum(x * x)))
    idx = np.arange(1, x.size + 1)
    power = (csum[idx] - csum[np.maximum(idx - w, 0)]) / w
    loud = power > 10.0 ** (threshold_db / 10.0)
    loud_idx = np.flatnonzero(loud)
    if loud_idx.size == 0:
        return []
    gap = int(round(min_gap_s * rate))
    # Sound already playing when the recording began is no onset.
    onsets = [int(loud_idx[0])] if loud_idx[0] >= gap else []
    # A loud frame starts an onset when the previous loud frame is more than `gap` earlier.
    starts = loud_idx[1:][np.diff(loud_idx) > gap]
    onsets.extend(starts.tolist())
    return [float(i) / rate for i in onsets]


if __name__ == "__main__":  # manual check: python tests/helpers/pulse.py
    if missing_tools():
        sys.exit(f"missing: {missing_tools()}")
    srv = PulseServer()
    srv.start()
    try:
        print(srv.pactl("info"))
        print(f"recorded {srv.record(0.5).size} frames")
    finally:
        srv.stop()
