"""The command line: parse, call, report; errors become messages and exit codes in one place.

``app`` holds the root group and the error mapping; the commands live in
modules by topic (``session``: show, export, play; ``info``: programs, check,
voices, devices; ``settings``: config, cache; ``journal``: the training journal)
and are added to the group when this package is imported.
"""

from voicecoach.cli import info, journal, session, settings  # noqa: F401  (registers the commands)
from voicecoach.cli.app import cli, main

__all__ = ["cli", "main"]
