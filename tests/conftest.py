"""Shared pytest fixtures.

No test writes into the user's real cache, data or config, or appears on the
user's session bus (``DBUS_SESSION_BUS_ADDRESS`` is removed): every test runs
with ``VOICECOACH_CACHE_DIR``, ``VOICECOACH_DATA_DIR`` and
``VOICECOACH_CONFIG`` pointing into a temporary folder (and subprocesses
inherit them). Tests marked ``audio`` share one clip cache for the whole run
(``clip_cache``), so each phrase is synthesized once per run, not per test;
other tests get an empty cache of their own. Under pytest-xdist each worker
is a process of its own: its own clip cache, sound server and bus.

Signals: a test run started from a background job (``./scripts/test &`` in a
script) inherits SIGINT ignored, and so would every child a test starts, so
the tests that signal children would fail. The test process puts the default
dispositions back first (:func:`pytest_configure`).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.pulse import PulseError, PulseServer, missing_tools

CACHE, DATA, CONFIG = "VOICECOACH_CACHE_DIR", "VOICECOACH_DATA_DIR", "VOICECOACH_CONFIG"


#: The signals voicecoach handles (voicecoach.interrupts) and the tests send.
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def pytest_configure(config: pytest.Config) -> None:
    """Undo an inherited "ignore" (a background job's SIGINT, nohup's SIGHUP) in the test process.

    An ignored signal stays ignored across fork and exec, so every child a
    test starts would inherit it, and a test that interrupts `voicecoach play`
    would see the signal do nothing. A handled signal is reset to the default
    in a child at exec. (voicecoach keeps an inherited ignore on purpose:
    test_interrupts.py asks for one in its child explicitly.)
    """
    for sig in _SIGNALS:
        if signal.getsignal(sig) == signal.SIG_IGN:
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)


_E2E = Path(__file__).parent / "e2e"


@pytest.hookimpl(tryfirst=True)  # before -m deselects by mark, and before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e/ ``e2e``; put every test that does not play in real time in one xdist group.

    ``e2e``: the real stack, which ``./scripts/test --quick`` leaves out. The group: under
    ``--dist loadgroup`` (./scripts/test), the tests that compute (synthesis, mixing, hypothesis, the
    fault suite's exports) run one after another on one worker, and the tests that play through the
    sound server (the ``pulse`` fixture) are spread over the others. Real-time playback next to two
    computing workers on a two-core machine fell behind (a session 180 ms late); next to one it keeps time.
    """
    for item in items:
        if _E2E in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
        if "pulse" not in getattr(item, "fixturenames", ()) and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group("compute"))


@pytest.fixture(scope="session")
def _shared_clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One per test process: under pytest-xdist, one per worker, not one for the whole run. Tests observe
    # this cache (a second export "synthesizes nothing": the folder is unchanged), and a cache shared by
    # the workers changed under them (tests/e2e/test_export_cli.py failed with one: see docs/benchmarks.md).
    return tmp_path_factory.mktemp("clip-cache")


@pytest.fixture(scope="session")
def clip_cache(_shared_clip_cache: Path) -> Path:
    """The clip cache of audio tests: one for the whole run (for each xdist worker), warm after first use.

    A module whose tests need a cache of their own overrides this fixture.
    """
    return _shared_clip_cache


@pytest.fixture(scope="session", autouse=True)
def _private_dirs_for_the_session(tmp_path_factory: pytest.TempPathFactory, _shared_clip_cache: Path) -> Iterator[None]:
    """Private folders for module- and session-scoped fixtures too (they set up before per-test fixtures)."""
    d = tmp_path_factory.mktemp("session-dirs")
    mp = pytest.MonkeyPatch()
    mp.setenv(CACHE, str(_shared_clip_cache))
    mp.setenv(DATA, str(d / "data"))
    mp.setenv(CONFIG, str(d / "absent-config"))  # never created: no config file
    # A developer's own session bus is never touched: tests that need one start their own
    # (tests/helpers/dbus.py); without this, a test session would take the desktop's media keys.
    mp.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture(scope="session", autouse=True)
def _stderr_stays_in_process() -> None:
    """Commands run in this process (``run``) never move file descriptor 2 to /dev/null.

    ``play``, ``devices`` and ``mic-check`` do that once per process, before
    PortAudio loads, and point ``sys.stderr`` at the real descriptor; under
    CliRunner that made the first such command's messages escape the runner,
    so a test's expected error line was empty or not, by the order of tests.
    Commands run as real processes (tests/e2e) still do it.
    """
    from voicecoach import quiet

    quiet._state["fd2"] = True  # as if done already: the C libraries' messages are pytest's to capture


@pytest.fixture(autouse=True)
def _private_dirs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """This test's own data folder and config path; its own cache too, unless it is an audio test."""
    audio = request.node.get_closest_marker("audio") is not None
    if not audio and "pulse" in request.fixturenames:
        # The quick run (-m "not audio") must never start a sound server.
        pytest.fail("a test that uses the `pulse` sound server must be marked audio")
    if audio:
        cache = request.getfixturevalue("clip_cache")
    else:
        cache = tmp_path / "vc-cache"
    monkeypatch.setenv(CACHE, str(cache))
    monkeypatch.setenv(DATA, str(tmp_path / "vc-data"))
    monkeypatch.setenv(CONFIG, str(tmp_path / "vc-absent-config"))  # never created: no config file


@pytest.fixture(autouse=True)
def _a_quiet_sink(request: pytest.FixtureRequest) -> None:
    """A test that uses the sound server starts with nothing else playing on it (see PulseServer.silence_strays)."""
    if "pulse" in request.fixturenames:
        request.getfixturevalue("pulse").silence_strays()


@pytest.fixture
def run() -> Callable[..., Result]:
    """``run("show", "inner-knee")``: the command line in this process (click's CliRunner), exceptions raised."""
    from voicecoach.cli import cli

    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseServer]:
    """A private PulseAudio server whose null sink ``vc_test`` is this process's default output.

    PortAudio is re-initialised so its ALSA ``pulse``/``default`` devices
    reach the server; the monitor ``vc_test.monitor`` records what is played
    (``pulse.start_recording()``). Skips when PulseAudio is not installed,
    except under CI (``CI`` set), where ./scripts/test installs it and a
    skip would hide a broken set-up.
    """

    def unavailable(reason: str) -> None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the live audio tests)")
        pytest.skip(reason)

    missing = missing_tools()
    if missing:
        unavailable(
            f"PulseAudio not installed ({', '.join(missing)} not found): "
            "sudo apt-get install pulseaudio pulseaudio-utils, or run ./scripts/test"
        )
    from voicecoach.errors import MissingDependencyError
    from voicecoach.live import devices

    try:
        devices.import_sounddevice()
    except MissingDependencyError as exc:
        unavailable(exc.render())
    server = PulseServer()
    try:
        server.start()
    except PulseError as exc:
        server.stop()
        unavailable(f"cannot start a private PulseAudio server: {exc}")
    server.apply_env()
    devices.rescan()  # PortAudio lists devices only when initialised
    try:
        yield server
    finally:
        server.stop()
        devices.rescan()  # forget the server's devices
