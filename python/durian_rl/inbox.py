"""The control inbox of a run folder (schemas/README.md: "Control inbox"). A reader (the VS Code extension, a
script) appends controls to `inbox.jsonl`, one whole JSON line each, in the shape of src/protocol/controls.ts.
The trainer calls `ControlInbox.at_step_boundary(last_step)` between steps: it reads the lines completed since the
last call (a torn last line stays unread until its newline arrives), checks each control, applies it through the
trainer's handlers and acknowledges it in interventions.jsonl: applied, holding from step `last_step + 1` (the
step whose update first uses it), or refused with the reason.

    inbox = ControlInbox(run, {
        "setConfig": lambda control: trainer.set_live(control["changes"]),
        "setGroupWeight": lambda control: trainer.weights.__setitem__(control["promptId"], control["weight"]),
        "undo": lambda control, target: trainer.undo(target),
    })
    for step in range(1, steps + 1):
        inbox.at_step_boundary(step - 1)     # applies new controls; waits here while paused
        if inbox.stop_requested:
            break
        ...train step...

pause, resume and stop are handled here (status.json says paused/running; `stop_requested` is set); a handler
given for them is called as well. A kind without a handler is refused ("this trainer does not support ...").
A handler refuses a control by raising `ControlRefused(reason)`; anything else it raises propagates.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .controls import CONTROL_ID_PATTERN, MAX_CONTROL_CHARS, UNDOABLE_KINDS, ControlError, control_kind, parse_control
from .run_folder import INBOX_FILE, INTERVENTIONS_FILE, RunFolder

#: Most bytes read from the inbox at one boundary (the rest is read at the next).
READ_LIMIT = 4 * 1024 * 1024
#: A line longer than this (in bytes; controls are at most 64 KiB of JSON text) is refused unread.
MAX_LINE_BYTES = 4 * MAX_CONTROL_CHARS


class ControlRefused(Exception):
    """Raised by a handler that cannot apply a control; `reason` goes to interventions.jsonl."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Outcome:
    """What happened to one inbox line: applied (with `step`) or refused (with `reason`)."""

    line: int
    step: int
    control_id: str | None
    kind: str | None
    applied: bool
    reason: str | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (write a finite number)")


class ControlInbox:
    """Reads and applies the controls appended to a run folder's inbox. `handlers` maps a control kind
    (`setConfig`, `setGroupWeight`, `relabel`, `excludePrompt`, `undo`, and optionally `pause`, `resume`, `stop`)
    to a callable taking the checked control (`undo`: the undo control and the control it reverts)."""

    def __init__(self, run: RunFolder, handlers: Mapping[str, Callable[..., Any]], *, poll_seconds: float = 0.2,
                 clock: Callable[[float], None] = time.sleep) -> None:
        self.run = run
        self.handlers = dict(handlers)
        self.poll_seconds = poll_seconds
        self._sleep = clock
        self._offset = 0
        self._line = 0
        self._skipping = False
        self._seen: set[str] = set()
        self._applied: dict[str, dict[str, Any]] = {}
        self.paused = False
        self.stop_requested = False
        # What interventions.jsonl already acknowledges (a trainer restarted on the run): inbox lines refused by
        # number, controls applied by id. Those lines are passed over once, not handled twice.
        self._refused_lines: set[int] = set()
        self._applied_ids: set[str] = set()
        self._read_acknowledged()

    def _read_acknowledged(self) -> None:
        data, _ = self.run.read_bytes_from(INTERVENTIONS_FILE, 0, 1 << 62)
        for raw in data.split(b"\n")[:-1]:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict) or not isinstance(record.get("controlId", ""), str):
                continue
            if "refused" in record:
                if isinstance(record.get("inboxLine"), int):
                    self._refused_lines.add(record["inboxLine"])
            elif record.get("controlId"):
                self._applied_ids.add(record["controlId"])
            if record.get("controlId"):
                self._seen.add(record["controlId"])

    def _acknowledged_before(self, number: int, raw: bytes) -> bool:
        """Whether this line was handled before the restart (see __init__); each applied id is passed over once."""
        if number in self._refused_lines:
            return True
        if not self._applied_ids:
            return False
        try:
            value = json.loads(raw)
        except ValueError:
            return False
        control_id = value.get("controlId") if isinstance(value, dict) else None
        if isinstance(control_id, str) and control_id in self._applied_ids:
            self._applied_ids.discard(control_id)
            return True
        return False

    # ---- reading ----

    def _complete_lines(self) -> list[tuple[int, bytes | None]]:
        """The complete lines appended since the last read, as (1-based line number, bytes or None when too long)."""
        data, size = self.run.read_bytes_from(INBOX_FILE, self._offset, READ_LIMIT)
        if size < self._offset:
            # Replaced by a shorter file: read it from its start; controls already seen are refused by id.
            self._offset, self._line, self._skipping = 0, 0, False
            self._refused_lines.clear()
            self._applied_ids.clear()
            data, size = self.run.read_bytes_from(INBOX_FILE, 0, READ_LIMIT)
        lines: list[tuple[int, bytes | None]] = []
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                break
            chunk = data[start:newline]
            start = newline + 1
            if self._skipping:
                self._skipping = False
                continue
            self._line += 1
            if len(chunk) > MAX_LINE_BYTES:
                lines.append((self._line, None))
            elif not self._acknowledged_before(self._line, chunk):
                lines.append((self._line, chunk))
        rest = len(data) - start
        if rest > MAX_LINE_BYTES:
            # A line too long to hold: refuse it now and skip the rest of it when its newline comes.
            self._line += 1
            if self._line not in self._refused_lines:
                lines.append((self._line, None))
            self._skipping = True
            start = len(data)
        self._offset += start
        return lines

    # ---- applying ----

    def at_step_boundary(self, last_step: int, *, wait: bool = True) -> list[Outcome]:
        """Applies the controls completed since the last call; controls hold from `last_step + 1`. While paused
        (and `wait`), keeps reading every `poll_seconds` until a resume or stop arrives."""
        outcomes = self._apply_new(last_step)
        while wait and self.paused and not self.stop_requested:
            self._sleep(self.poll_seconds)
            outcomes.extend(self._apply_new(last_step))
        return outcomes

    def _apply_new(self, last_step: int) -> list[Outcome]:
        return [self._handle(number, raw, last_step + 1, last_step) for number, raw in self._complete_lines() if raw is None or raw.strip()]

    def _refuse(self, number: int, step: int, reason: str, control_id: str | None = None, kind: str | None = None) -> Outcome:
        self.run.append_refused(step, reason, control_id=control_id, kind=kind, inbox_line=number)
        return Outcome(number, step, control_id, kind, False, reason)

    def _handle(self, number: int, raw: bytes | None, step: int, last_step: int) -> Outcome:
        where = f"{INBOX_FILE} line {number}"
        if raw is None:
            return self._refuse(number, step, f"{where}: is longer than {MAX_LINE_BYTES} bytes; a control is a few fields (at most {MAX_CONTROL_CHARS} characters of JSON)")
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as error:
            return self._refuse(number, step, f"{where}: is not a JSON object ({str(error)[:200]}); write one control per line")
        guess_id = value.get("controlId") if isinstance(value, dict) and isinstance(value.get("controlId"), str) else None
        try:
            control = parse_control(value)
        except ControlError as error:
            return self._refuse(number, step, f"{where}: {error}", guess_id if guess_id and len(guess_id) <= 200 and CONTROL_ID_PATTERN.fullmatch(guess_id) else None)
        kind = control_kind(control)
        control_id = control["controlId"]
        if control_id in self._seen:
            return self._refuse(number, step, f"{where}: controlId {control_id!r} was already used in this run; give every control a new id", control_id, kind)
        self._seen.add(control_id)
        try:
            self._apply(kind, control)
        except ControlRefused as refusal:
            return self._refuse(number, step, f"{kind}: {refusal.reason}", control_id, kind)
        self.run.append_applied(step, control)
        if kind == "pause":
            self.run.write_status("paused", last_step)
        elif kind == "resume":
            self.run.write_status("running", last_step)
        return Outcome(number, step, control_id, kind, True)

    def _apply(self, kind: str, control: dict[str, Any]) -> None:
        handler = self.handlers.get(kind)
        if kind in ("pause", "resume", "stop"):
            if handler is not None:
                handler(control)
            self.paused = kind == "pause" or (self.paused and kind == "stop")
            self.stop_requested = self.stop_requested or kind == "stop"
            return
        if handler is None:
            supported = ", ".join(sorted(k for k in self.handlers if k not in ("pause", "resume", "stop"))) or "none"
            raise ControlRefused(f"this trainer does not support control/{kind} (it supports pause, resume, stop; steering: {supported})")
        if kind == "undo":
            target = self._applied.get(control["targetControlId"])
            if target is None:
                raise ControlRefused(f"no applied control {control['targetControlId']!r} to undo (already undone, never applied, or not undoable: only {', '.join(UNDOABLE_KINDS)})")
            handler(control, target)
            del self._applied[control["targetControlId"]]
            return
        handler(control)
        if kind in UNDOABLE_KINDS:
            self._applied[control["controlId"]] = control

