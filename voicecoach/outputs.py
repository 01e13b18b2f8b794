"""Files a user names for voicecoach to write (an export, its captions, a chart): one rule, one wording.

* The folder must exist: a missing one is refused, never made (a typo in
  ``-o`` must not scatter folders); the program's own folders (the config,
  the cache, the journal) are made as needed.
* Everything that can be known before the work starts is checked then (the
  name's length, a folder in the way, a link loop, a read-only or
  unwritable folder), so a long export does not fail at its end.
* Whatever still fails while writing (a full disk, the file-size limit of
  ``ulimit -f``) is said by :func:`cannot_write`, in the same words, with
  exit status 6 (:class:`~voicecoach.errors.OutputError`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from voicecoach.errors import OutputError

#: The longest file name (one path component) Linux, macOS and Windows file systems take, in bytes.
NAME_MAX = 255

_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "it would be larger than the file-size limit (ulimit -f)",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "its path goes round a loop of symbolic links",
    errno.ENOTDIR: "a part of its path is not a directory",
    errno.EISDIR: "it is a directory",
    errno.ENOENT: "its directory does not exist",
}


def reason(exc: OSError) -> str:
    """Why ``exc`` stopped a write, in words (the system's own words for an unusual error)."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return (exc.strerror or str(exc)).rstrip(".")


def cannot_write(target: str | os.PathLike[str], exc: OSError, *, what: str = "") -> OutputError:
    """The error for a write to ``target`` that failed with ``exc`` (exit status 6)."""
    return OutputError(f"cannot write {what}{target}: {reason(exc)}.")


def check_output(path: str | os.PathLike[str], *, folder: bool = False) -> None:
    """Refuse, before any work, an output path that cannot be written (raises OutputError).

    A dangling symbolic link is fine (the file is written in its place);
    a missing folder is refused, as the module docstring says. With ``folder``
    the output is a folder (``export --split``): one already there is not refused here.
    """
    path = Path(path)
    size = len(os.fsencode(path.name))
    if size > NAME_MAX:
        raise OutputError(
            f"cannot write {path}: the file name is {size} bytes long, more than the {NAME_MAX} a file name can have.",
            hint="Choose a shorter name.",
        )
    try:
        st = os.stat(path)  # through links: a link to a folder is a folder
    except FileNotFoundError:
        st = None  # no file yet (or a dangling link): the folder decides
    except OSError as exc:
        raise cannot_write(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode) and not folder:
        raise OutputError(f"cannot write {path}: it is a directory.")
    directory = path.parent  # Path("x").parent is Path(".")
    try:
        dst = os.stat(directory)
    except FileNotFoundError:
        raise OutputError(
            f"cannot write {path}: the directory {directory} does not exist.",
            hint="Create it first or choose another output path.",
        ) from None
    except OSError as exc:
        raise cannot_write(path, exc) from None
    if not stat.S_ISDIR(dst.st_mode):
        raise OutputError(f"cannot write {path}: {directory} is not a directory.")
    if not os.access(directory, os.W_OK | os.X_OK):
        why = "on a read-only disk" if _read_only(directory) else "not writable"
        raise OutputError(
            f"cannot write {path}: the directory {directory} is {why}.",
            hint="Choose another output path or fix the directory's permissions.",
        )


def _read_only(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False


def raise_if_unwritable(said: str, where: str | os.PathLike[str], *, what: str = "") -> None:
    """Raise :func:`cannot_write` when a library's error text (``[Errno 27] File too large``) says the
    write failed for want of room (a full disk, a used-up quota, ``ulimit -f``): not the library's fault.

    For libraries that report the error only in words (pyttsx3's ``Error saving WAV file``).
    """
    for number in re.findall(r"\[Errno (\d+)\]", said):
        code = int(number)
        if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise cannot_write(where, OSError(code, os.strerror(code)), what=what)
