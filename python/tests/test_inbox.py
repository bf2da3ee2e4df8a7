"""durian_rl.inbox: controls appended to a run folder's inbox are read whole-line at step boundaries, checked
like src/protocol/controls.ts, applied through the trainer's handlers and acknowledged in interventions.jsonl
(applied from the next step, or refused with the reason); every line written validates against schemas/."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durian_rl import ControlInbox, ControlRefused, RunFolder, parse_control, ControlError
from durian_rl.controls import CONTROL_KINDS, LIVE_CONFIG_KEYS, LIVE_RANGES
from run_folder_schemas import assert_valid, json_lines, load, problems


class Trainer:
    """What a trainer keeps of the controls: the live settings, weights, exclusions, undo."""

    def __init__(self) -> None:
        self.live: dict[str, Any] = {"lr": 1e-6}
        self.weights: dict[str, float] = {}
        self.excluded: set[str] = set()
        self.calls: list[str] = []

    def handlers(self) -> dict[str, Any]:
        return {"setConfig": self.set_config, "setGroupWeight": self.set_weight, "excludePrompt": self.exclude, "undo": self.undo}

    def set_config(self, control: dict) -> None:
        if control["changes"].get("groupSize", 8) != 8:
            raise ControlRefused("groupSize is fixed by the rollout engine's n (8) in this trainer")
        self.calls.append(control["controlId"])
        self.live.update(control["changes"])

    def set_weight(self, control: dict) -> None:
        self.calls.append(control["controlId"])
        self.weights[control["promptId"]] = control["weight"]

    def exclude(self, control: dict) -> None:
        self.calls.append(control["controlId"])
        self.excluded.add(control["promptId"])

    def undo(self, control: dict, target: dict) -> None:
        self.calls.append(control["controlId"])
        if target["type"] == "control/excludePrompt":
            self.excluded.discard(target["promptId"])
        elif target["type"] == "control/setGroupWeight":
            self.weights.pop(target["promptId"], None)


@pytest.fixture()
def run(tmp_path: Path) -> RunFolder:
    folder = RunFolder.create(tmp_path / "run", {"estimator": "durian"})
    yield folder
    folder.close()


def append(run: RunFolder, text: str) -> None:
    with open(Path(run.path) / "inbox.jsonl", "a", encoding="utf-8") as inbox:
        inbox.write(text)


def line(control: dict) -> str:
    return json.dumps(control) + "\n"


def interventions(run: RunFolder) -> list[dict]:
    records = json_lines(Path(run.path) / "interventions.jsonl") if (Path(run.path) / "interventions.jsonl").exists() else []
    for record in records:
        assert_valid(record, "intervention-line.schema.json", "an interventions line")
    return records


def test_status_advertises_the_inbox(run: RunFolder) -> None:
    status = json.loads((Path(run.path) / "status.json").read_text())
    assert status["inbox"] == "inbox.jsonl"
    assert_valid(status, "status.schema.json", "status.json")


def test_status_advertises_the_inbox_only_while_the_writer_reads_it(run: RunFolder) -> None:
    # As Durian's own trainer (src/trainer/run/runDirectory.ts): running and paused take controls, an ended run none.
    for state, advertised in (("paused", True), ("running", True), ("stopped", False), ("completed", False), ("crashed", False)):
        run.write_status(state, 3)
        status = json.loads((Path(run.path) / "status.json").read_text())
        assert ("inbox" in status) == advertised, f"{state}: {status}"
        assert_valid(status, "status.schema.json", "status.json")


def test_a_torn_line_is_read_once_it_is_complete_and_acked_with_its_step(run: RunFolder) -> None:
    trainer = Trainer()
    inbox = ControlInbox(run, trainer.handlers())
    assert inbox.at_step_boundary(0) == []  # no inbox yet: nothing happens
    whole = line({"type": "control/setConfig", "controlId": "c-1", "changes": {"lr": 2e-6}})
    append(run, whole[:25])
    assert inbox.at_step_boundary(3) == []
    assert trainer.live["lr"] == 1e-6 and interventions(run) == []
    append(run, whole[25:] + line({"type": "control/setGroupWeight", "controlId": "c-2", "promptId": "p-7", "weight": 0})[:-1])
    outcomes = inbox.at_step_boundary(4)
    assert [(o.control_id, o.applied, o.step) for o in outcomes] == [("c-1", True, 5)]
    assert trainer.live["lr"] == 2e-6
    append(run, "\n")
    assert [(o.control_id, o.applied, o.step) for o in inbox.at_step_boundary(9)] == [("c-2", True, 10)]
    records = interventions(run)
    assert [(r["controlId"], r["step"], r["kind"]) for r in records] == [("c-1", 5, "setConfig"), ("c-2", 10, "setGroupWeight")]
    assert records[0]["control"] == {"type": "control/setConfig", "controlId": "c-1", "changes": {"lr": 2e-6}}
    assert trainer.weights == {"p-7": 0}


def test_bad_controls_are_refused_with_the_reason_and_change_nothing(run: RunFolder) -> None:
    trainer = Trainer()
    inbox = ControlInbox(run, trainer.handlers())
    append(run, "".join([
        "this is not json\n",
        line({"type": "control/fly", "controlId": "c-1"}),
        line({"type": "control/setConfig", "controlId": "c-2", "changes": {"lr": -1}}),
        line({"type": "control/setConfig", "controlId": "c-3", "changes": {"warmupSteps": 3}}),
        '{"type": "control/setGroupWeight", "controlId": "c-4", "promptId": "p", "weight": NaN}\n',
        line({"type": "control/setGroupWeight", "controlId": "c-5", "promptId": "p", "weight": 101}),
        line({"type": "control/relabel", "controlId": "c-6", "step": 1, "promptId": "p", "rollout": 0, "reward": 1}),
        line({"type": "control/undo", "controlId": "c-7", "targetControlId": "nothing"}),
        line({"type": "control/setConfig", "controlId": "c-8", "changes": {"groupSize": 4}}),
        line({"type": "control/pause", "controlId": "bad id"}),
        "\n",
        line([1, 2]),
    ]))
    outcomes = inbox.at_step_boundary(2)
    assert all(not o.applied and o.step == 3 for o in outcomes)
    reasons = [o.reason for o in outcomes]
    assert len(reasons) == 11, reasons
    assert reasons[0].startswith("inbox.jsonl line 1: is not a JSON object")
    assert 'unknown control type the string \'control/fly\'' in reasons[1] and "control/undo" in reasons[1]
    assert reasons[2] == "inbox.jsonl line 3: control/setConfig.changes.lr: must be a finite number > 0 and <= 1, got -1"
    assert "changes.warmupSteps: is not a field" in reasons[3]
    assert "NaN is not a JSON number" in reasons[4]
    assert reasons[5].endswith("weight: must be a finite number >= 0 and <= 100, got 101")
    assert reasons[6].startswith("relabel: this trainer does not support control/relabel")
    assert reasons[7] == "undo: no applied control 'nothing' to undo (already undone, never applied, or not undoable: only setConfig, setGroupWeight, relabel, excludePrompt)"
    assert reasons[8] == "setConfig: groupSize is fixed by the rollout engine's n (8) in this trainer"
    assert "controlId: must hold letters, digits" in reasons[9]
    assert reasons[10] == 'inbox.jsonl line 12: message: must be an object with a "type", got an array of 2'
    records = interventions(run)
    assert len(records) == 11 and all("refused" in r and "control" not in r for r in records)
    assert [r["inboxLine"] for r in records] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]
    assert [r.get("controlId") for r in records] == [None, "c-1", "c-2", "c-3", None, "c-5", "c-6", "c-7", "c-8", None, None]
    assert trainer.calls == [] and trainer.live == {"lr": 1e-6} and trainer.weights == {}


def test_undo_reuse_of_an_id_and_stop(run: RunFolder) -> None:
    trainer = Trainer()
    inbox = ControlInbox(run, trainer.handlers())
    append(run, line({"type": "control/excludePrompt", "controlId": "x-1", "promptId": "p-3"}))
    inbox.at_step_boundary(0)
    assert trainer.excluded == {"p-3"}
    append(run, line({"type": "control/undo", "controlId": "u-1", "targetControlId": "x-1"})
           + line({"type": "control/undo", "controlId": "u-2", "targetControlId": "x-1"})
           + line({"type": "control/excludePrompt", "controlId": "x-1", "promptId": "p-4"})
           + line({"type": "control/stop", "controlId": "s-1"}))
    outcomes = inbox.at_step_boundary(6)
    assert [(o.control_id, o.applied) for o in outcomes] == [("u-1", True), ("u-2", False), ("x-1", False), ("s-1", True)]
    assert "already used" in outcomes[2].reason
    assert trainer.excluded == set() and inbox.stop_requested
    assert [(r["controlId"], r["step"], "refused" in r) for r in interventions(run)] == [
        ("x-1", 1, False), ("u-1", 7, False), ("u-2", 7, True), ("x-1", 7, True), ("s-1", 7, False)]


def test_pause_waits_at_the_boundary_until_resume(run: RunFolder) -> None:
    trainer = Trainer()
    status_path = Path(run.path) / "status.json"
    seen: list[str] = []

    def sleep(seconds: float) -> None:
        seen.append(json.loads(status_path.read_text())["state"])
        if len(seen) == 3:
            append(run, line({"type": "control/resume", "controlId": "r-1"}))

    inbox = ControlInbox(run, trainer.handlers(), clock=sleep)
    append(run, line({"type": "control/pause", "controlId": "p-1"}))
    outcomes = inbox.at_step_boundary(4)
    assert [(o.control_id, o.applied, o.step) for o in outcomes] == [("p-1", True, 5), ("r-1", True, 5)]
    assert seen == ["paused", "paused", "paused"]
    status = json.loads(status_path.read_text())
    assert (status["state"], status["step"]) == ("running", 4)
    assert not inbox.paused


def test_an_overlong_line_is_refused_and_the_next_one_read(run: RunFolder) -> None:
    from durian_rl.inbox import MAX_LINE_BYTES

    trainer = Trainer()
    inbox = ControlInbox(run, trainer.handlers())
    append(run, "x" * (MAX_LINE_BYTES + 10))
    first = inbox.at_step_boundary(0)
    assert len(first) == 1 and not first[0].applied and "longer than" in first[0].reason
    append(run, "y" * 100 + "\n" + line({"type": "control/setGroupWeight", "controlId": "w-1", "promptId": "p", "weight": 3}))
    assert [(o.control_id, o.applied) for o in inbox.at_step_boundary(1)] == [("w-1", True)]
    assert trainer.weights == {"p": 3}


def test_an_inbox_that_is_a_link_is_refused(run: RunFolder, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text(line({"type": "control/stop", "controlId": "s"}))
    (Path(run.path) / "inbox.jsonl").symlink_to(outside)
    with pytest.raises(OSError, match="symbolic link"):
        ControlInbox(run, {}).at_step_boundary(0)


# ---- the control parser, the protocol's ranges and schemas/control.schema.json agree ----

SAMPLES: list[Any] = [
    {"type": "control/pause", "controlId": "a"},
    {"type": "control/pause", "controlId": "a", "extra": 1},
    {"type": "control/pause", "controlId": "has space"},
    {"type": "control/pause", "controlId": ""},
    {"type": "control/resume", "controlId": "x:1#2"},
    {"type": "control/stop", "controlId": "x" * 200},
    {"type": "control/stop", "controlId": "x" * 201},
    {"type": "control/fly", "controlId": "a"},
    {"type": "control/setConfig", "controlId": "a", "changes": {}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"lr": 0}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"lr": 1}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"lr": True}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"groupSize": 1}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"groupSize": 64, "batchSize": 1024}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"batchSize": 2.5}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"temperature": 0}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"durianWeights": [0, 0, 1e6]}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"durianWeights": [1, 1]}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"estimator": "ppo"}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"poolZeroVariance": 1}},
    {"type": "control/setConfig", "controlId": "a", "changes": {"eps": 1, "reasoningBins": 4096, "minPromptsPerBin": 1, "klBeta": 10, "clipLow": 0, "clipHigh": 1}},
    {"type": "control/setGroupWeight", "controlId": "a", "promptId": "p", "weight": 0},
    {"type": "control/setGroupWeight", "controlId": "a", "promptId": "p", "weight": 100.5},
    {"type": "control/setGroupWeight", "controlId": "a", "promptId": "", "weight": 1},
    {"type": "control/relabel", "controlId": "a", "step": 3, "promptId": "p", "rollout": 63, "reward": -1e6},
    {"type": "control/relabel", "controlId": "a", "step": 3, "promptId": "p", "rollout": 64, "reward": 1},
    {"type": "control/relabel", "controlId": "a", "step": 3, "promptId": "p", "rollout": 0},
    {"type": "control/relabel", "controlId": "a", "step": 3, "promptId": "p", "rollout": 0, "reward": 1, "response": "3 + 2 = 5 <eos>"},
    {"type": "control/relabel", "controlId": "a", "step": 3, "promptId": "p", "rollout": 0, "reward": 1, "response": 5},
    {"type": "control/relabel", "controlId": "a", "step": 3, "promptId": "p", "rollout": 0, "reward": 1, "response": "x" * 16385},
    {"type": "control/excludePrompt", "controlId": "a", "promptId": "p"},
    {"type": "control/undo", "controlId": "a", "targetControlId": "b c"},
    "control/pause",
    None,
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: json.dumps(s)[:70])
def test_parse_control_accepts_exactly_what_the_schema_accepts(sample: Any) -> None:
    try:
        parse_control(sample)
        parsed = True
    except ControlError:
        parsed = False
    assert parsed == (problems(sample, "control.schema.json") == [])


def test_the_python_ranges_are_the_schemas() -> None:
    schema = load("control.schema.json")
    assert [ref["$ref"].split("/")[-1] for ref in schema["oneOf"]] == list(CONTROL_KINDS)
    changes = schema["$defs"]["setConfig"]["properties"]["changes"]["properties"]
    assert sorted(changes) == sorted(LIVE_CONFIG_KEYS)
    for key, rng in LIVE_RANGES.items():
        declared = changes["durianWeights"]["items"] if key == "durianWeight" else changes[key]
        low = declared.get("exclusiveMinimum") if rng.get("exclusiveMin") else declared.get("minimum")
        assert (declared["type"], low, declared["maximum"]) == ("integer" if rng.get("integer") else "number", rng["min"], rng["max"]), key


def test_a_restarted_trainer_goes_on_after_the_acknowledged_lines(run: RunFolder) -> None:
    first = Trainer()
    inbox = ControlInbox(run, first.handlers())
    append(run, line({"type": "control/setGroupWeight", "controlId": "w-1", "promptId": "p", "weight": 3})
           + line({"type": "control/pause", "controlId": "bad id"}))
    inbox.at_step_boundary(2)
    append(run, line({"type": "control/setGroupWeight", "controlId": "w-2", "promptId": "q", "weight": 4})
           + line({"type": "control/setGroupWeight", "controlId": "w-1", "promptId": "r", "weight": 5}))
    run.close()
    reopened = RunFolder.open(run.path)
    second = Trainer()
    outcomes = ControlInbox(reopened, second.handlers()).at_step_boundary(2)
    assert [(o.line, o.control_id, o.applied) for o in outcomes] == [(3, "w-2", True), (4, "w-1", False)]
    assert second.weights == {"q": 4}
    assert [(r.get("controlId"), r.get("inboxLine")) for r in interventions(reopened)] == [("w-1", None), (None, 2), ("w-2", None), ("w-1", 4)]
    reopened.close()


def test_opening_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="is not a run folder: it has no config.json"):
        RunFolder.open(tmp_path / "empty")
