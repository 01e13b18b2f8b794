"""Atomic file writes: a part file beside the target, renamed over it only when complete.

One helper for every file voicecoach writes (exports, clips, the session
level, saved progress), so readers never see half a file and a failure or
Ctrl-C never leaves one behind. Part files are named
``.NAME.<pid>.<random>.part``: the process id lets a later run recognise the
leftovers of a process that was killed outright (SIGKILL cannot be caught)
and remove them, and only those (:func:`remove_stale_parts`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

# Room for ".", ".<pid>.<8 hex>.part" within a 255-byte file name.
_MAX_STEM_BYTES = 200


def _stem(name: str) -> str:
    # A very long target name would overflow NAME_MAX once the suffix is added:
    # such names get a short hash instead (still unique to the target).
    if len(name.encode("utf-8", "surrogateescape")) <= _MAX_STEM_BYTES:
        return name
    return "long-" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _part_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(r"\." + re.escape(_stem(target.name)) + r"\.(\d+)\.[0-9a-f]{8}\.part\Z")


def create_part(target: Path) -> Path:
    """A new, empty part file beside ``target`` (raises OSError).

    Created with mode 0o666 (less the umask), not mkstemp's 0o600, so the
    finished file has the permissions of any other file the user creates.
    """
    while True:
        part = target.with_name(f".{_stem(target.name)}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return part
        except FileExistsError:
            continue


def commit_part(part: Path, target: Path, *, durable: bool = True) -> None:
    """Move a finished part file over ``target`` (keeping ``target``'s permissions)."""
    if durable:
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.chmod(part, stat.S_IMODE(os.stat(target).st_mode))
    os.replace(part, target)
    if durable:
        fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_path(target: Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a part file path to write; on success it replaces ``target``.

    Any exception (an error, Ctrl-C) removes the part file and leaves an
    earlier ``target`` untouched. ``durable`` fsyncs the file and the
    directory, so the rename survives a power cut.
    """
    part = create_part(target)
    try:
        yield part
        commit_part(part, target, durable=durable)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise


def create_part_dir(target: Path) -> Path:
    """A new, empty part folder beside ``target`` (named as :func:`create_part` names part files; raises OSError)."""
    while True:
        part = target.with_name(f".{_stem(target.name)}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            os.mkdir(part)
            return part
        except FileExistsError:
            continue


def commit_part_dir(part: Path, target: Path, *, durable: bool = True) -> None:
    """Put the finished folder ``part`` in the place of ``target`` (an earlier folder there is removed).

    On Linux an earlier folder is swapped with the new one in one step (``renameat2`` with
    ``RENAME_EXCHANGE``), so ``target`` always holds one whole folder; elsewhere the earlier one is
    first renamed aside (under a part name, so a later run removes it if this one is killed).
    """
    if durable:
        for entry in os.scandir(part):
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(part)
    if not os.path.lexists(target):
        os.rename(part, target)
    elif _exchange(part, target):
        shutil.rmtree(part, ignore_errors=True)  # the earlier folder, now under the part name
    else:
        aside = create_part_dir(target)
        os.rmdir(aside)
        os.rename(target, aside)
        os.rename(part, target)
        shutil.rmtree(aside, ignore_errors=True)
    if durable:
        fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` atomically (Linux ``renameat2``); False where that is not available."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # an old kernel or a file system without it
        return False
    raise OSError(code, os.strerror(code), str(b))


def write_atomic(target: Path, data: bytes | str, *, durable: bool = False, make_dirs: bool = True) -> None:
    """Write ``data`` to ``target`` atomically (raises OSError; nothing is left behind)."""
    if make_dirs:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            # Something that is not a folder is in the way (a file, a loop of links): its real error.
            os.stat(target.parent)  # raises ELOOP, ENOTDIR...
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(target.parent)) from None
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(target, durable=durable) as part, open(part, "wb") as f:
        f.write(payload)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable; silently impossible on some platforms."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OSError:
        return True  # cannot tell: keep the file
    return True


def remove_stale_part_dirs(target: Path) -> list[Path]:
    """Remove the part folders of ``target`` left by processes that no longer exist (as :func:`remove_stale_parts`)."""
    pattern = _part_pattern(target)

    def pid_of(name: str) -> int | None:
        m = pattern.match(name)
        return int(m.group(1)) if m else None

    return _sweep(target.parent, pid_of, folders=True)


def remove_stale_parts(target: Path) -> list[Path]:
    """Remove part files of ``target`` left by processes that no longer exist.

    Only files named exactly as :func:`create_part` names them for this
    target are considered, and only when their process is gone; errors are
    ignored (a leftover costs disk space, never correctness).
    """
    pattern = _part_pattern(target)

    def pid_of(name: str) -> int | None:
        m = pattern.match(name)
        return int(m.group(1)) if m else None

    return _sweep(target.parent, pid_of)


_ANY_PART = re.compile(r"\.(.+)\.(\d+)\.[0-9a-f]{8}\.part\Z")


def remove_stale_parts_in(directory: Path, owns: Callable[[str], bool]) -> list[Path]:
    """Remove the part files in ``directory`` of targets ``owns(target name)`` accepts, left by dead processes.

    For a folder of many targets (the clip cache); errors are ignored, as in
    :func:`remove_stale_parts`.
    """

    def pid_of(name: str) -> int | None:
        m = _ANY_PART.match(name)
        return int(m.group(2)) if m and owns(m.group(1)) else None

    return _sweep(directory, pid_of)


def _sweep(directory: Path, pid_of: Callable[[str], int | None], *, folders: bool = False) -> list[Path]:
    """Remove the files (or ``folders``) of ``directory`` whose name gives the pid of a process that is gone."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        pid = pid_of(entry.name)
        if pid is None or _alive(pid):
            continue
        try:
            if folders and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
                removed.append(Path(entry.path))
            elif not folders and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)
