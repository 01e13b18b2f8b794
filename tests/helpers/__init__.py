"""Shared test helpers (importable as ``helpers``: pytest puts ``tests/`` on ``sys.path``).

The tests mirror the packages (tests/core, tests/speech, ... for voicecoach/core, voicecoach/speech, ...);
tests/e2e holds the real-stack tests (a sound server, D-Bus, the program run as a user runs it), which
``./scripts/test --quick`` leaves out. Code two test files need lives here, never in a test file:

* :mod:`helpers.fakes`: a fake speaker, player and inputs, tone clips, a counting clip mapping;
* :mod:`helpers.timeline_rules`: the scheduler's rules, checked on a finished timeline;
* :mod:`helpers.pulse`: a private PulseAudio server for the real-playback tests (and scripts/bench);
* :mod:`helpers.dbus`: a private D-Bus session bus;
* :mod:`helpers.play`: `voicecoach play` run in a pseudo-terminal, the places it saved, silences heard;
* :mod:`helpers.plans`: small plans the tests share;
* :mod:`helpers.places`: saved places as the fault tests reach them;
* :mod:`helpers.files`: the repository's paths, the bad plan and config files, part files left behind;
* :mod:`helpers.speakers`, :mod:`helpers.strategies`: generated speakers; hypothesis strategies.
"""
