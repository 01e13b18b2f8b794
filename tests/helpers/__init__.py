"""Shared test helpers (importable as ``helpers``: pytest puts ``tests/`` on ``sys.path``).

* :mod:`helpers.fakes`: a fake speaker and player, tone clips, a counting clip mapping;
* :mod:`helpers.timeline_rules`: the scheduler's rules, checked on a finished timeline;
* :mod:`helpers.pulse`: a private PulseAudio server for the real-playback tests (and scripts/bench).
"""
