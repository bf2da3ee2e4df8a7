"""A run folder in Durian's format (schemas/README.md), written from Python, so the VS Code extension can follow
a run trained elsewhere (verl, torchrun) and steer it through the control inbox (`durian_rl.inbox`).

Writes are what the format promises a reader: status.json, config.json and each rollouts/step-N.jsonl are
replaced atomically (a temp file `.tmp-...` in the same folder, fsynced, renamed over the target); JSONL logs are
appended whole lines at a time (one `write` of complete lines, then fsync). No write follows a symbolic link
inside the run folder: every file and sub-folder is opened relative to the run folder's own descriptor with
O_NOFOLLOW, and a folder that holds a link is refused when the run is created.

    run = RunFolder.create("runs/my-run", config={"estimator": "durian", "groupSize": 8}, writer="my trainer")
    run.append_metrics(1, {"actor/pg_loss": 0.12, "reward/mean": 0.4}, elapsed_ms=850)
    run.write_status("completed", 1)
"""
from __future__ import annotations

import datetime as _dt
import errno
import json
import math
import operator
import os
import re
import socket
from typing import Any, Iterable, Mapping

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
METRICS_FILE = "metrics.jsonl"
VALIDATION_FILE = "validation.jsonl"
INTERVENTIONS_FILE = "interventions.jsonl"
INBOX_FILE = "inbox.jsonl"
ROLLOUTS_DIR = "rollouts"
IMAGES_DIR = "images"
TMP_PREFIX = ".tmp-"
RUN_STATES = ("running", "paused", "stopped", "completed", "crashed")
MAX_STEP = 1_000_000_000
_SAFE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._+-]*[A-Za-z0-9_+-])?")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class RunFolderError(OSError):
    """A run-folder write or check that failed: `path` is the file, the message says what and why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


def now_iso() -> str:
    """ISO 8601 UTC with milliseconds, as the TypeScript trainer writes (`2026-12-02T00:40:00.000Z`)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_step(step: Any, what: str = "step") -> int:
    """`step` as an int (numpy and torch integers included), or ValueError unless a whole number in [0, MAX_STEP]."""
    try:
        value = operator.index(step)
    except TypeError:
        value = None
    if isinstance(step, bool) or value is None or not 0 <= value <= MAX_STEP:
        raise ValueError(f"{what} must be a whole number in [0, {MAX_STEP}], got {step!r}")
    return value


def check_name(name: Any, what: str = "name") -> str:
    """A single safe file name: letters, digits, space, `. _ + -`, no path separator, at most 100 characters."""
    if not isinstance(name, str) or not name or len(name) > 100 or not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"{what} {name!r} must be a single name of letters, digits, spaces and . _ + - (at most 100 characters, a letter or digit first and last)")
    return name


def step_name(step: int) -> str:
    return f"step-{check_step(step):06d}"


def _json_line(record: Any, where: str) -> bytes:
    try:
        text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError as error:
        raise ValueError(f"{where}: not JSON data ({error}); non-finite numbers must be written as null") from None
    return (text + "\n").encode("utf-8")


def _find_symlink(root: str, relative: str = "") -> str | None:
    """The first symbolic link inside `root` (relative), walking folders without following links."""
    with os.scandir(os.path.join(root, relative) if relative else root) as entries:
        for entry in entries:
            name = f"{relative}/{entry.name}" if relative else entry.name
            if entry.is_symlink():
                return name
            if entry.is_dir(follow_symlinks=False):
                inner = _find_symlink(root, name)
                if inner is not None:
                    return inner
    return None


def _refuse_symlinks(path: str) -> None:
    link = _find_symlink(path)
    if link is not None:
        raise RunFolderError(os.path.join(path, link), f"{path} holds a symbolic link, {link}; a run folder may hold only plain files and folders (nothing was written)")


class RunFolder:
    """The writer of one run folder. Create it with `RunFolder.create`; close it (or use `with`) at the end."""

    def __init__(self, path: str, root_fd: int, *, writer: str = "durian_rl", inbox: bool = True) -> None:
        self.path = path
        self._fd = root_fd
        self._writer = writer
        self._inbox = inbox
        self._temp_counter = 0

    # ---- creation ----

    @classmethod
    def _open_folder(cls, path: str, *, writer: str, inbox: bool) -> "RunFolder":
        """The run folder opened as a directory descriptor that every later path is resolved against (never a link)."""
        try:
            fd = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as error:
            raise RunFolderError(path, f"cannot open the run folder {path}: {error.strerror} (it must be a folder, not a link)") from None
        return cls(path, fd, writer=writer, inbox=inbox)

    @classmethod
    def create(cls, path: str | os.PathLike[str], config: Mapping[str, Any], *, writer: str = "durian_rl",
               inbox: bool = True, state: str = "running") -> "RunFolder":
        """Creates the run folder (and its parents), rollouts/ and images/, a `running` status.json at step 0
        (advertising the inbox unless `inbox=False`) and config.json. Refuses a folder that already holds a run
        (config.json or status.json) or any symbolic link."""
        path = os.path.abspath(os.fspath(path))
        os.makedirs(path, exist_ok=True)
        run = cls._open_folder(path, writer=writer, inbox=inbox)
        try:
            for existing in (CONFIG_FILE, STATUS_FILE):
                if run._exists(existing):
                    raise RunFolderError(path, f"{path} already holds a run ({existing}); choose another folder")
            _refuse_symlinks(path)
            for sub in (ROLLOUTS_DIR, IMAGES_DIR):
                try:
                    os.mkdir(sub, dir_fd=run._fd)
                except FileExistsError:
                    pass
            run.write_status(state, 0)
            run.write_json_atomic(CONFIG_FILE, dict(config))
        except BaseException:
            run.close()
            raise
        return run

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, writer: str = "durian_rl", inbox: bool = True) -> "RunFolder":
        """Opens an existing run folder to go on writing it (a resumed run): it must hold config.json and
        status.json and no symbolic link. The caller makes sure no other process writes it."""
        path = os.path.abspath(os.fspath(path))
        run = cls._open_folder(path, writer=writer, inbox=inbox)
        try:
            for required in (CONFIG_FILE, STATUS_FILE):
                if not run._exists(required):
                    raise RunFolderError(path, f"{path} is not a run folder: it has no {required}")
            _refuse_symlinks(path)
        except BaseException:
            run.close()
            raise
        return run

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "RunFolder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- file access relative to the run folder, never through a link ----

    def _exists(self, name: str) -> bool:
        try:
            os.stat(name, dir_fd=self._fd, follow_symlinks=False)
            return True
        except FileNotFoundError:
            return False

    def _folder_fd(self, relative: str) -> tuple[int, str]:
        """(descriptor of the folder holding `relative`, its last name); the caller closes the descriptor when it
        is not the run's own. Every folder on the way is opened with O_NOFOLLOW."""
        parts = relative.split("/")
        for part in parts:
            if part in ("", ".", "..") or "\0" in part:
                raise ValueError(f"path {relative!r} must stay inside the run folder")
        fd = self._fd
        for part in parts[:-1]:
            try:
                inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except OSError as error:
                if fd != self._fd:
                    os.close(fd)
                raise RunFolderError(os.path.join(self.path, relative), f"cannot open {part}/ in {self.path}: {error.strerror} (a folder of the run must not be a link)") from None
            if fd != self._fd:
                os.close(fd)
            fd = inner
        return fd, parts[-1]

    def write_bytes_atomic(self, relative: str, content: bytes) -> None:
        """Replaces `relative` with `content` atomically: temp file beside it, fsync, rename (which replaces a link
        rather than follows it), fsync the folder."""
        folder, name = self._folder_fd(relative)
        self._temp_counter += 1
        temp = f"{TMP_PREFIX}{name}.{os.getpid()}.{self._temp_counter}"
        target = os.path.join(self.path, relative)
        try:
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644, dir_fd=folder)
                try:
                    view = memoryview(content)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
            except OSError as error:
                try:
                    os.unlink(temp, dir_fd=folder)
                except OSError:
                    pass
                raise RunFolderError(target, f"cannot write {target}: {error.strerror or error}") from None
            os.fsync(folder)
        finally:
            if folder != self._fd:
                os.close(folder)

    def write_json_atomic(self, relative: str, value: Any) -> None:
        try:
            text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
        except ValueError as error:
            raise ValueError(f"{relative}: not JSON data ({error})") from None
        self.write_bytes_atomic(relative, (text + "\n").encode("utf-8"))

    def append_lines(self, relative: str, records: Iterable[Any]) -> None:
        """Appends records as whole JSON lines with one write, then fsyncs (O_APPEND, O_NOFOLLOW)."""
        data = b"".join(_json_line(record, relative) for record in records)
        if not data:
            return
        folder, name = self._folder_fd(relative)
        target = os.path.join(self.path, relative)
        try:
            fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o644, dir_fd=folder)
        except OSError as error:
            hint = " (it is a symbolic link: the writer never writes through one)" if error.errno == errno.ELOOP else ""
            raise RunFolderError(target, f"cannot append to {target}: {error.strerror}{hint}") from None
        finally:
            if folder != self._fd:
                os.close(folder)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except OSError as error:
            raise RunFolderError(target, f"cannot append to {target}: {error.strerror}") from None
        finally:
            os.close(fd)

    def read_bytes_from(self, relative: str, offset: int, limit: int) -> tuple[bytes, int]:
        """(up to `limit` bytes of `relative` from `offset`, the file's size); (b"", 0) when it does not exist.
        Opened with O_NOFOLLOW: a link in its place is an error, never followed."""
        folder, name = self._folder_fd(relative)
        target = os.path.join(self.path, relative)
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC, dir_fd=folder)
        except FileNotFoundError:
            return b"", 0
        except OSError as error:
            hint = " (it is a symbolic link: the writer never reads through one)" if error.errno == errno.ELOOP else ""
            raise RunFolderError(target, f"cannot read {target}: {error.strerror}{hint}") from None
        finally:
            if folder != self._fd:
                os.close(folder)
        try:
            size = os.fstat(fd).st_size
            if offset >= size:
                return b"", size
            return os.pread(fd, min(limit, size - offset), offset), size
        finally:
            os.close(fd)

    # ---- the records of the format ----

    def write_status(self, state: str, step: int, message: str | None = None) -> None:
        """status.json: `state` (running, paused, stopped, completed, crashed), the last finished step, who writes,
        and `inbox` while running or paused (schemas/status.schema.json: present when the writer accepts controls)."""
        if state not in RUN_STATES:
            raise ValueError(f"state must be one of {', '.join(RUN_STATES)}, got {state!r}")
        status: dict[str, Any] = {"state": state, "step": check_step(step), "pid": os.getpid(), "updatedAt": now_iso(),
                                  "formatVersion": FORMAT_VERSION, "host": socket.gethostname() or "unknown", "writer": self._writer}
        # The inbox is advertised only while the writer reads it (running or paused), as Durian's own trainer does.
        if self._inbox and state in ("running", "paused"):
            status["inbox"] = INBOX_FILE
        if message:
            status["message"] = message
        self.write_json_atomic(STATUS_FILE, status)

    def append_metrics(self, step: int, metrics: Mapping[str, float], elapsed_ms: float | None = None) -> None:
        """One line of metrics.jsonl: names as in verl (`actor/pg_loss`); a non-finite value is written as null."""
        record: dict[str, Any] = {"step": check_step(step)}
        if elapsed_ms is not None:
            record["elapsedMs"] = float(elapsed_ms)
        for name, value in metrics.items():
            if name in ("step", "elapsedMs"):
                continue
            number = float(value)
            record[str(name)] = number if math.isfinite(number) else None
        self.append_lines(METRICS_FILE, [record])

    def append_validation(self, step: int, accuracy: float, reward: float, per_level: Mapping[str, float] | None = None) -> None:
        if not 0 <= accuracy <= 1:
            raise ValueError(f"accuracy must be in [0, 1], got {accuracy!r}")
        record: dict[str, Any] = {"step": check_step(step), "accuracy": float(accuracy), "reward": float(reward)}
        if per_level:
            record["perLevel"] = {str(k): float(v) for k, v in per_level.items()}
        self.append_lines(VALIDATION_FILE, [record])

    def append_applied(self, step: int, control: Mapping[str, Any]) -> None:
        """interventions.jsonl: `control` (checked) holds from `step` on (the step whose update first uses it);
        the same line Durian's own trainer writes."""
        kind = str(control["type"])[len("control/"):]
        self.append_lines(INTERVENTIONS_FILE, [{"step": check_step(step), "at": now_iso(), "kind": kind, "controlId": control["controlId"], "control": dict(control)}])

    def append_refused(self, step: int, reason: str, *, control_id: str | None = None, kind: str | None = None, inbox_line: int | None = None) -> None:
        """interventions.jsonl: a control read at the boundary before `step` was refused, and why."""
        record: dict[str, Any] = {"step": check_step(step), "at": now_iso()}
        if kind is not None:
            record["kind"] = kind
        if control_id is not None:
            record["controlId"] = control_id
        if inbox_line is not None:
            record["inboxLine"] = inbox_line
        record["refused"] = reason[:16384] or "refused"
        self.append_lines(INTERVENTIONS_FILE, [record])

    def write_rollouts(self, step: int, groups: Iterable[Mapping[str, Any]]) -> str:
        """rollouts/step-N.jsonl (one RolloutGroup per line), atomically; returns its path relative to the run."""
        relative = f"{ROLLOUTS_DIR}/{step_name(step)}.jsonl"
        self.write_bytes_atomic(relative, b"".join(_json_line(group, relative) for group in groups))
        return relative

    def write_image(self, name: str, png: bytes) -> str:
        """images/<name> atomically; returns the path relative to the run (a RolloutGroup's `image`)."""
        relative = f"{IMAGES_DIR}/{check_name(name, 'image name')}"
        self.write_bytes_atomic(relative, png)
        return relative
