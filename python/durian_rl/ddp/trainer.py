"""Data-parallel RL on the built-in tasks with torch.distributed (gloo on CPU, NCCL with CUDA).

One step, on every rank:
  1. rank 0 reads the run folder's control inbox at the step boundary and broadcasts the step's plan (the live
     settings, group weights, excluded prompts, the step's global prompt indices, stop);
  2. each rank samples G rollouts for its contiguous shard of the prompts; the uniforms of prompt i come from the
     stream (seed, step, i), so how the prompts are split does not change the rollouts;
  3. each rank scores its rollouts (durian_rl.reward) and the ranks gather rewards, visual entropies and
     confidences to compute the batch-global advantages (durian_rl.distributed.global_advantages);
  4. the loss is verl's compute_policy_loss_vanilla / agg_loss / kl_penalty with agg_loss normalised over the
     GLOBAL batch (dp_size and batch_num_tokens as verl's FSDP workers pass them); gradients are all-reduced as
     a mean over ranks, so the update equals one process's update on the whole batch; then Adam. With
     --mini-batch-size, each PPO epoch cuts the global batch's kept prompts into the same seeded mini-batches on
     every rank (ddp/mini_batches.py), one optimiser step each, the loss normalised over that mini-batch's
     global tokens and each rank computing the rollouts of its own prompts in it.
Rank 0 writes the run folder (status, config, metrics, rollout groups, validation, interventions).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

import numpy as np
import torch
import torch.distributed as dist

from ..controls import LIVE_CONFIG_KEYS
from ..distributed import global_advantages
from ..estimators import ESTIMATORS, compute_advantages
from ..inbox import ControlInbox, ControlRefused
from ..policy import GeneralPolicy, pack_arrays
from ..reward import score_response
from ..run_folder import RunFolder
from ..tasks import TaskSet
from .mini_batches import MAX_MINI_BATCH_SIZE, epoch_generator, kept_prompts, mini_batches
from .verl_ops import PolicyLossConfig, load_core_algos

FINAL_POLICY_DIR = "final-policy"
WRITER = "durian_rl.ddp (PyTorch, torch.distributed)"
ESTIMATOR_OPTION_KEYS = {"durianWeights": "weights", "reasoningBins": "reasoningBins", "minPromptsPerBin": "minPromptsPerBin",
                         "eps": "eps", "poolZeroVariance": "poolZeroVariance"}
SUITES = ("v1", "v2")  # schemas/config.schema.json suite


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="durian_rl.ddp", description="Data-parallel GRPO/Durian training of the general policy on exported tasks.")
    parser.add_argument("--tasks", required=True, help="folder written by `durian export-tasks` (train.*; validation.* for validation)")
    parser.add_argument("--run-dir", required=True, help="run folder to create (status.json advertises its control inbox)")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=128, help="prompts per step (global, split over ranks)")
    parser.add_argument("--group-size", type=int, default=8, help="rollouts per prompt (G)")
    parser.add_argument("--estimator", default="durian", choices=("grpo", "dr_grpo", "rloo", "batch_std", "durian"))
    parser.add_argument("--durian-weights", default="0.1,0.2,0.7", help="a_ori,a_perc,a_reas")
    parser.add_argument("--reasoning-bins", type=int, default=12)
    parser.add_argument("--min-prompts-per-bin", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--kl-beta", type=float, default=0.0, help="KL to the initial policy (verl kl_penalty low_var_kl); 0: off")
    parser.add_argument("--clip-low", type=float, default=0.2)
    parser.add_argument("--clip-high", type=float, default=0.2)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--ppo-epochs", type=int, default=1)
    parser.add_argument("--mini-batch-size", type=int, default=16,
                        help="prompts per mini-batch of the update (of the global batch): each PPO epoch shuffles the kept prompt groups "
                             "and makes ceil(kept / N) optimiser steps, a group's rollouts staying together; 0 or >= kept: the whole batch in one step")
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--loss-agg-mode", default="token-mean", choices=("token-mean", "seq-mean-token-sum", "seq-mean-token-mean"))
    parser.add_argument("--validation-every", type=int, default=10, help="steps between validations (0: none)")
    parser.add_argument("--validation-size", type=int, default=0, help="validation tasks used (0: all exported)")
    parser.add_argument("--rollouts-every", type=int, default=1, help="write rollouts/step-N.jsonl every N steps (0: never)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--init", default=None, help="start from these weights (a folder with policy.json + weights.bin)")
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads per rank (0: torch's default)")
    parser.add_argument("--verl", default=None, help="verl copy to import (default: installed verl, else ../shared/third_party/verl)")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "group_size", "ppo_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a whole number >= 1, got {getattr(args, name)}")
    if not 0 <= args.mini_batch_size <= MAX_MINI_BATCH_SIZE:
        parser.error(f"--mini-batch-size must be a whole number from 0 to {MAX_MINI_BATCH_SIZE} (0: the whole batch in one step), got {args.mini_batch_size}")
    try:
        args.durian_weights = [float(x) for x in args.durian_weights.split(",")]
        assert len(args.durian_weights) == 3 and all(w >= 0 for w in args.durian_weights)
    except (ValueError, AssertionError):
        parser.error(f"--durian-weights must be three numbers >= 0 like 0.1,0.2,0.7, got {args.durian_weights!r}")
    return args


@dataclass
class Plan:
    """What every rank needs to run one step, decided by rank 0 at the boundary."""

    step: int
    live: dict[str, Any]
    group_weights: dict[str, float]
    prompts: list[int]
    #: promptId -> {response text -> reward}: reward overrides (control/relabel) from this step on.
    relabels: dict[str, dict[str, float]] = field(default_factory=dict)
    stop: bool = False


@dataclass
class Steering:
    """Rank 0's view of the controls applied so far (the inbox's handlers change it)."""

    live: dict[str, Any]
    group_weights: dict[str, float] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    relabels: dict[str, dict[str, float]] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)

    def handlers(self, known_prompts: set[str], lookup: Callable[[int, str, int], Optional[str]]) -> dict[str, Any]:
        """The inbox's handlers; `lookup(step, promptId, rollout)` is the response text a rollout group file shows."""
        def set_config(control: dict[str, Any]) -> None:
            self.previous[control["controlId"]] = {key: self.live[key] for key in control["changes"]}
            self.live.update(control["changes"])

        def set_group_weight(control: dict[str, Any]) -> None:
            if control["promptId"] not in known_prompts:
                raise ControlRefused(f"no prompt {control['promptId']!r} in this run's training tasks")
            self.previous[control["controlId"]] = self.group_weights.get(control["promptId"])
            self.group_weights[control["promptId"]] = float(control["weight"])

        def exclude(control: dict[str, Any]) -> None:
            if control["promptId"] not in known_prompts:
                raise ControlRefused(f"no prompt {control['promptId']!r} in this run's training tasks")
            if len(self.excluded) + 1 >= len(known_prompts):
                raise ControlRefused("excluding it would leave no prompt to train on")
            self.previous[control["controlId"]] = control["promptId"] in self.excluded
            self.excluded.add(control["promptId"])

        def relabel(control: dict[str, Any]) -> None:
            prompt, step, rollout = control["promptId"], control["step"], control["rollout"]
            if prompt not in known_prompts:
                raise ControlRefused(f"no prompt {prompt!r} in this run's training tasks")
            text = control.get("response") or lookup(step, prompt, rollout)
            if not text:
                raise ControlRefused(f"no rollout {rollout} of {prompt!r} in rollouts/step-{step:06d}.jsonl; give the response text in `response`")
            overrides = self.relabels.setdefault(prompt, {})
            self.previous[control["controlId"]] = (text, overrides.get(text))
            overrides[text] = float(control["reward"])

        def undo(control: dict[str, Any], target: dict[str, Any]) -> None:
            before = self.previous.pop(target["controlId"])
            kind = str(target["type"])[len("control/"):]
            if kind == "setConfig":
                self.live.update(before)
            elif kind == "setGroupWeight":
                if before is None:
                    self.group_weights.pop(target["promptId"], None)
                else:
                    self.group_weights[target["promptId"]] = before
            elif kind == "excludePrompt" and not before:
                self.excluded.discard(target["promptId"])
            elif kind == "relabel":
                text, reward = before
                overrides = self.relabels[target["promptId"]]
                if reward is None:
                    del overrides[text]
                else:
                    overrides[text] = reward

        return {"setConfig": set_config, "setGroupWeight": set_group_weight, "excludePrompt": exclude, "relabel": relabel, "undo": undo}


def response_text(tokens: Iterable[int], vocab: list[str]) -> str:
    """A response as the rollout groups show it (and a relabel names it): its tokens' words, pads dropped."""
    return " ".join(vocab[t] for t in tokens if t != 0)


def initial_live(args: argparse.Namespace) -> dict[str, Any]:
    live = {"estimator": args.estimator, "durianWeights": list(args.durian_weights), "reasoningBins": args.reasoning_bins,
            "minPromptsPerBin": args.min_prompts_per_bin, "eps": 1e-6, "poolZeroVariance": True, "lr": args.lr,
            "klBeta": args.kl_beta, "clipLow": args.clip_low, "clipHigh": args.clip_high, "temperature": args.temperature,
            "groupSize": args.group_size, "batchSize": args.batch_size}
    assert set(live) == set(LIVE_CONFIG_KEYS)
    return live


def estimator_options(live: dict[str, Any]) -> dict[str, Any]:
    accepted = ESTIMATORS[live["estimator"]].options
    return {option: live[key] for key, option in ESTIMATOR_OPTION_KEYS.items() if option in accepted}


def prompt_uniforms(seed: int, step: int, prompt: int, group_size: int, length: int) -> np.ndarray:
    """The sampling stream of one prompt at one step: [G, Lr] uniforms keyed by (seed, step, global prompt index)."""
    return np.random.default_rng([seed, step, prompt]).random((group_size, length))


def task_suite(directory: str, train: TaskSet, validation: Optional[TaskSet]) -> str:
    """The built-in suite version the tasks were exported from (<split>.meta.json `suite`; v1 for an export written
    before it was recorded); the validation split must be of the same suite."""
    suites = {split.split: split.meta.get("suite", "v1") for split in (train, validation) if split is not None}
    for split, suite in suites.items():
        if suite not in SUITES:
            raise ValueError(f"{os.path.join(directory, split + '.meta.json')}: suite must be one of {', '.join(SUITES)}, got {suite!r} "
                             "(export again with durian export-tasks --suite v1|v2)")
    if len(set(suites.values())) > 1:
        raise ValueError(f"{directory}: the train tasks are of suite {suites['train']} and the validation tasks of suite {suites['validation']}: "
                         "export both splits with the same --suite")
    return suites["train"]


class Trainer:
    def __init__(self, args: argparse.Namespace, train: TaskSet, validation: Optional[TaskSet]):
        self.args = args
        self.train, self.validation = train, validation
        self.suite = task_suite(args.tasks, train, validation)
        self.world = dist.get_world_size() if dist.is_initialized() else 1
        self.rank = dist.get_rank() if dist.is_initialized() else 0
        self.device = torch.device("cuda", torch.cuda.current_device()) if dist.is_initialized() and dist.get_backend() == "nccl" else torch.device("cpu")
        self.dtype = torch.float64 if args.dtype == "float64" else torch.float32
        config = dict(d=args.d, heads=args.heads, layers=args.layers, dtype=self.dtype)
        if args.init:
            self.policy = GeneralPolicy.load(args.init, dtype=self.dtype)
        else:
            self.policy = GeneralPolicy(train.shape, seed=args.seed, **config)
        self.policy.to(self.device)
        self.reference = None
        if args.kl_beta > 0:
            self.reference = GeneralPolicy(train.shape, **config, weights=self.policy.get_arrays()).to(self.device)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=args.lr)
        self.core_algos = load_core_algos(args.verl)
        self.features = torch.from_numpy(train.features)
        self.questions = torch.from_numpy(train.questions)
        self.ids = [task["id"] for task in train.tasks]
        self.run: Optional[RunFolder] = None
        self.inbox: Optional[ControlInbox] = None
        self.steering = Steering(initial_live(args))
        self.order: list[int] = []
        self.epoch = 0
        self.started = time.monotonic()
        self.last_step = 0

    # ---- rank 0: run folder and inbox ----
    def open_run(self) -> None:
        args = self.args
        live = self.steering.live
        config = {"estimator": live["estimator"], "estimatorOptions": {"weights": live["durianWeights"], "reasoningBins": live["reasoningBins"],
                  "minPromptsPerBin": live["minPromptsPerBin"], "poolZeroVariance": True, "eps": live["eps"]},
                  "seed": args.seed, "steps": args.steps, "batchSize": args.batch_size, "groupSize": args.group_size, "lr": args.lr,
                  "klBeta": args.kl_beta, "clipLow": args.clip_low, "clipHigh": args.clip_high, "temperature": args.temperature,
                  "ppoEpochs": args.ppo_epochs, "miniBatchSize": args.mini_batch_size, "suite": self.suite, "maxGradNorm": args.max_grad_norm,
                  "trainSize": len(self.train), "writeRollouts": args.rollouts_every > 0, "rolloutsEvery": max(1, args.rollouts_every),
                  "engine": f"pytorch-ddp ({dist.get_backend() if dist.is_initialized() else 'single process'}, {self.world} ranks)",
                  "policy": "general", "policyDescription": self.policy.describe(), "tasks": os.path.abspath(args.tasks), "worldSize": self.world, "lossAggMode": args.loss_agg_mode}
        if args.validation_every:  # the schema's validationEvery is >= 1: a run without validation leaves it out
            config["validationEvery"] = args.validation_every
        self.run = RunFolder.create(args.run_dir, config, writer=WRITER)
        self.inbox = ControlInbox(self.run, self.steering.handlers(set(self.ids), self.rollout_response))

    def rollout_response(self, step: int, prompt: str, rollout: int) -> Optional[str]:
        """The response text of rollout `rollout` of `prompt` in this run's rollouts/step-N.jsonl, if written."""
        assert self.run is not None
        try:
            with open(os.path.join(self.run.path, "rollouts", f"step-{step:06d}.jsonl"), encoding="utf-8") as handle:
                for line in handle:
                    group = json.loads(line)
                    if group.get("promptId") == prompt:
                        rollouts = group.get("rollouts", [])
                        return rollouts[rollout]["response"] if rollout < len(rollouts) else None
        except (OSError, ValueError):
            return None
        return None

    def _next_prompts(self, count: int) -> list[int]:
        """The next `count` training prompts in a seeded order that reshuffles every pass, skipping excluded ones."""
        chosen: list[int] = []
        while len(chosen) < count:
            if not self.order:
                self.epoch += 1
                self.order = np.random.default_rng([self.args.seed, 0x5EED, self.epoch]).permutation(len(self.train)).tolist()
            index = self.order.pop(0)
            if self.ids[index] not in self.steering.excluded and index not in chosen:
                chosen.append(index)
        return chosen

    def plan(self, step: int) -> Plan:
        if self.rank == 0:
            assert self.inbox is not None
            self.inbox.at_step_boundary(step - 1)
            live = dict(self.steering.live)
            count = min(int(live["batchSize"]), len(self.train) - len(self.steering.excluded))
            relabels = {prompt: dict(overrides) for prompt, overrides in self.steering.relabels.items() if overrides}
            plan = Plan(step, live, dict(self.steering.group_weights), self._next_prompts(count), relabels, stop=self.inbox.stop_requested)
        else:
            plan = None
        if self.world > 1:
            box = [plan]
            dist.broadcast_object_list(box, src=0)
            plan = box[0]
        assert plan is not None
        if len(plan.prompts) < self.world:
            raise ValueError(f"step {step} has {len(plan.prompts)} prompts for {self.world} ranks: use --batch-size >= {self.world}")
        return plan

    # ---- one step ----
    def rollouts(self, plan: Plan) -> dict[str, Any]:
        shard = np.array_split(np.asarray(plan.prompts), self.world)[self.rank].tolist()
        g = int(plan.live["groupSize"])
        lr = self.policy.shape["maxResponseLength"]
        uniforms = np.concatenate([prompt_uniforms(self.args.seed, plan.step, p, g, lr) for p in shard])
        patches = self.features[shard].to(self.device)
        questions = self.questions[shard].to(self.device)
        self.policy.eval()
        sample = self.policy.sample(patches, questions, torch.from_numpy(uniforms).to(self.device), group_size=g, temperature=float(plan.live["temperature"]))
        responses = sample.responses.cpu()
        scores = [score_response(row.tolist(), self.train.tasks[p]["answer"]) for p, row in zip(np.repeat(shard, g), responses)]
        return {"shard": shard, "g": g, "responses": responses, "lengths": sample.lengths.cpu(),
                "confidence": sample.sequence_logprobs.cpu().to(torch.float64), "scores": scores,
                "patches": patches.repeat_interleave(g, 0), "questions": questions.repeat_interleave(g, 0)}

    def _sum_over_ranks(self, *values: float) -> list[float]:
        """Each value summed over the ranks (one collective for all of them)."""
        if self.world == 1:
            return [float(value) for value in values]
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def update(self, plan: Plan, batch: dict[str, Any], result: Any) -> dict[str, float]:
        """The PPO epochs on this step's kept rollouts: per epoch, one optimiser step per mini-batch of the global
        batch's kept prompts (every rank the same split); old and reference log-probs once for the step. The
        metrics are the last epoch's, averaged over its mini-batches, with actor/optimizer_steps (all epochs)."""
        live = plan.live
        for group in self.optimizer.param_groups:
            group["lr"] = float(live["lr"])
        temperature = float(live["temperature"])
        responses = batch["responses"].to(self.device)
        mask = (responses != 0) & torch.from_numpy(result.local_kept).to(self.device)[:, None]
        mask_f = mask.to(self.dtype)
        advantage = torch.from_numpy(result.local_advantages).to(self.device, self.dtype)[:, None].expand_as(mask_f) * mask_f
        with torch.no_grad():
            old, _ = self.policy.token_logprobs(batch["patches"], batch["questions"], responses, temperature)
            ref = self.reference.token_logprobs(batch["patches"], batch["questions"], responses, temperature)[0] if self.reference is not None and live["klBeta"] > 0 else None
        g = int(batch["g"])
        first, count = result.start // g, len(batch["shard"])  # this rank's prompts: batch positions first .. first+count-1
        prompts = kept_prompts(result.result.kept, g)
        local = {"patches": batch["patches"], "questions": batch["questions"], "responses": responses, "mask": mask_f,
                 "advantage": advantage, "old": old, "ref": ref}
        self.policy.train()
        records: list[dict[str, float]] = []
        steps = 0
        for epoch in range(self.args.ppo_epochs):
            parts = mini_batches(prompts, self.args.mini_batch_size, epoch_generator(self.args.seed, plan.step, epoch))
            records = []
            for part in parts:
                if len(parts) == 1:
                    records.append(self._optimizer_step(local, live))  # the whole batch, its unkept rows masked out
                    continue
                rows = [(k - first) * g + r for k in sorted(part) if first <= k < first + count for r in range(g) if result.local_kept[(k - first) * g + r]]
                index = torch.tensor(rows, dtype=torch.long, device=self.device)
                records.append(self._optimizer_step({key: None if value is None else value[index] for key, value in local.items()}, live))
            steps += len(parts)
        metrics = {key: sum(record[key] for record in records) / len(records) for key in records[0]}
        return {**metrics, "actor/lr": float(live["lr"]), "actor/optimizer_steps": float(steps)}

    def _optimizer_step(self, rows: dict[str, Any], live: dict[str, Any]) -> dict[str, float]:
        """One optimiser step on this rank's rows of a mini-batch (possibly none), the loss aggregated over the
        mini-batch's rows on all ranks; gradients all-reduced as a mean over ranks."""
        mask_f = rows["mask"]
        global_tokens, global_sequences = self._sum_over_ranks(float(mask_f.sum()), float((mask_f.sum(-1) > 0).sum()))
        info = {"dp_size": self.world, "batch_num_tokens": max(global_tokens, 1.0), "global_batch_size": max(global_sequences, 1.0)}
        loss_config = PolicyLossConfig(clip_ratio=float(live["clipLow"]), clip_ratio_low=float(live["clipLow"]), clip_ratio_high=float(live["clipHigh"]), global_batch_info=info)
        self.optimizer.zero_grad(set_to_none=False)
        pg_value = kl_value = entropy_sum = clipped_tokens = ppo_kl_sum = 0.0
        if len(mask_f):
            logp, _, entropy = self.policy.token_logprobs(rows["patches"], rows["questions"], rows["responses"], float(live["temperature"]), with_entropy=True)
            pg_loss, pg_metrics = self.core_algos.get_policy_loss_fn("vanilla")(rows["old"], logp, rows["advantage"], mask_f, self.args.loss_agg_mode, loss_config)
            loss = pg_loss
            if rows["ref"] is not None:
                kl = self.core_algos.kl_penalty(logp, rows["ref"], "low_var_kl")
                kl_loss = self.core_algos.agg_loss(kl, mask_f, self.args.loss_agg_mode, **info)
                loss = loss + float(live["klBeta"]) * kl_loss
                kl_value = float(kl_loss.detach())
            loss.backward()
            pg_value, entropy_sum = float(pg_loss.detach()), float((entropy.detach() * mask_f).sum())
            # verl's clip fraction and ppo_kl are means over this rank's tokens: weighted by them, summed over ranks.
            local_tokens = float(mask_f.sum())
            clipped_tokens, ppo_kl_sum = float(pg_metrics["actor/pg_clipfrac"]) * local_tokens, float(pg_metrics["actor/ppo_kl"]) * local_tokens
        for parameter in self.policy.parameters():
            if parameter.grad is None:  # a rank with no rows in the first mini-batch still joins the all-reduce
                parameter.grad = torch.zeros_like(parameter)
        if self.world > 1:
            for parameter in self.policy.parameters():
                dist.all_reduce(parameter.grad)
                parameter.grad /= self.world
        grad_norm = torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.args.max_grad_norm)
        self.optimizer.step()
        # Every rank's loss is its share of the global mean (times dp_size): the global value is their mean.
        pg_total, kl_total, entropy_total, clipped_total, ppo_kl_total = self._sum_over_ranks(pg_value, kl_value, entropy_sum, clipped_tokens, ppo_kl_sum)
        tokens = max(global_tokens, 1.0)
        return {"actor/pg_loss": pg_total / self.world, "actor/kl_loss": kl_total / self.world, "actor/entropy": entropy_total / tokens,
                "actor/pg_clipfrac": clipped_total / tokens, "actor/ppo_kl": ppo_kl_total / tokens, "actor/grad_norm": float(grad_norm)}

    def step(self, plan: Plan) -> None:
        t0 = time.monotonic()
        batch = self.rollouts(plan)
        t1 = time.monotonic()
        g, shard = batch["g"], batch["shard"]
        index = [self.ids[p] for p in np.repeat(shard, g)]
        rewards = np.array([s.reward for s in batch["scores"]])
        vocab = self.train.meta["responseVocab"]
        relabeled = np.zeros(len(rewards), dtype=bool)
        for r, (prompt, row) in enumerate(zip(index, batch["responses"].tolist())):
            override = plan.relabels.get(prompt, {}).get(response_text(row, vocab))
            if override is not None:
                rewards[r], relabeled[r] = override, True
        batch["relabeled"] = relabeled.tolist()
        accuracy = np.array([s.accuracy for s in batch["scores"]], dtype=np.float64)
        entropy = self.train.visual_entropy[np.repeat(shard, g)]
        result = global_advantages(plan.live["estimator"], index=index, scores=rewards, visual_entropy=entropy,
                                   logprob=batch["confidence"], lengths=batch["lengths"].to(torch.float64), accuracy=accuracy,
                                   group_weights=plan.group_weights, options=estimator_options(plan.live), device=self.device)
        t2 = time.monotonic()
        metrics = self.update(plan, batch, result)
        t3 = time.monotonic()
        parts = self.gather_rollouts(batch, rewards, accuracy)
        self.last_step = plan.step
        if self.rank == 0:
            self.write_step(plan, result, parts, metrics, {"timing_s/rollout": t1 - t0, "timing_s/scoring": t2 - t1, "timing_s/update": t3 - t2, "timing_s/step": time.monotonic() - t0})

    def gather_rollouts(self, batch: dict[str, Any], rewards: np.ndarray, accuracy: np.ndarray) -> Optional[list[Any]]:
        local = {"responses": batch["responses"].tolist(), "format": [s.format for s in batch["scores"]], "accuracy": accuracy.tolist(),
                 "confidence": batch["confidence"].tolist(), "relabeled": batch["relabeled"]}
        if self.world == 1:
            return [local]
        parts: list[Any] = [None] * self.world if self.rank == 0 else None  # type: ignore[assignment]
        dist.gather_object(local, parts, dst=0)
        return parts

    def write_step(self, plan: Plan, result: Any, parts: list[Any], metrics: dict[str, float], timing: dict[str, float]) -> None:
        assert self.run is not None
        whole = result.result
        g = int(plan.live["groupSize"])
        # The global batch is the prompts in plan order (contiguous shards), G rollouts each.
        ids = [self.ids[p] for p in np.repeat(plan.prompts, g)]
        grpo = compute_advantages("grpo", {"index": ids, "scores": whole.scores.tolist()}).advantages
        confidence = [c for part in parts for c in part["confidence"]]
        relabeled = [flag for part in parts for flag in part["relabeled"]]
        responses = [row for part in parts for row in part["responses"]]
        formats = [f for part in parts for f in part["format"]]
        accuracy = np.array([a for part in parts for a in part["accuracy"]])
        rewards = whole.scores
        zero_std = sum(1 for k in range(0, len(rewards), g) if np.std(rewards[k:k + g]) == 0)
        lengths = [sum(1 for t in row if t != 0) for row in responses]
        all_metrics = {
            "reward/mean": float(np.mean(rewards)), "reward/std": float(np.std(rewards)), "accuracy/mean": float(np.mean(accuracy)),
            "format/mean": float(np.mean(formats)), "frac_reward_zero_std": zero_std / max(1, len(plan.prompts)),
            "critic/advantages/mean": float(np.mean(whole.advantages)), "critic/advantages/max": float(np.max(whole.advantages)),
            "critic/advantages/min": float(np.min(whole.advantages)),
            "critic/advantages/frac_abs_gt_2": float(np.mean(np.abs(whole.advantages) > 2)),
            "critic/advantages_grpo/frac_abs_gt_2": float(np.mean(np.abs(grpo) > 2)),
            "batch/kept_groups": float(sum(1 for group in whole.groups if group["kept"])),
            "response_length/mean": float(np.mean(lengths)), **timing,
            "perf/throughput": len(rewards) / max(timing["timing_s/step"], 1e-9), **metrics,
        }
        self.run.append_metrics(plan.step, all_metrics, elapsed_ms=1000 * (time.monotonic() - self.started))
        if self.args.rollouts_every and plan.step % self.args.rollouts_every == 0:
            self.run.write_rollouts(plan.step, self.rollout_groups(plan, whole, grpo, responses, formats, accuracy, confidence, relabeled))
        self.run.write_status("running", plan.step)

    def rollout_groups(self, plan: Plan, whole: Any, grpo: np.ndarray, responses: list[list[int]], formats: list[int], accuracy: np.ndarray,
                       confidence: list[float], relabeled: list[bool]) -> list[dict[str, Any]]:
        vocab = self.train.meta["responseVocab"]
        explanation = whole.explanation
        by_prompt = {row["id"]: row for row in explanation.get("prompts", [])}
        kept = {group["id"]: group for group in whole.groups}
        g = int(plan.live["groupSize"])
        groups = []
        for k, p in enumerate(plan.prompts):
            task = self.train.tasks[p]
            info = by_prompt.get(task["id"], {})
            rows = range(k * g, (k + 1) * g)
            std = float(np.std(whole.scores[k * g:(k + 1) * g], ddof=1)) if g > 1 else 0.0
            image = self.copy_image(task)
            groups.append({
                "promptId": task["id"], "question": task["question"], "groundTruth": task["answer"], "image": image,
                "visualEntropy": float(task["visualEntropy"]), "confidence": float(info.get("confidence", 0.0)),
                "perceptualBucket": info.get("perceptualBucket", "mid"), "reasoningBin": int(info.get("reasoningBin", 0)),
                "groupStd": float(info.get("std", std)), "perceptualPooledStd": float(info.get("perceptualPooledStd", std)),
                "reasoningPooledStd": float(info.get("reasoningPooledStd", std)),
                "weight": float(kept[task["id"]]["weight"]), "excluded": False,
                "rollouts": [self.rollout_record(responses[r], vocab, whole, grpo, formats, accuracy, confidence, relabeled[r], r) for r in rows],
            })
        return groups

    def rollout_record(self, tokens: list[int], vocab: list[str], whole: Any, grpo: np.ndarray, formats: list[int], accuracy: np.ndarray,
                       confidence: list[float], relabeled: bool, r: int) -> dict[str, Any]:
        real = [t for t in tokens if t != 0]
        record = {"response": response_text(real, vocab), "tokens": real, "reward": float(whole.scores[r]), "format": float(formats[r]),
                  "accuracy": float(accuracy[r]), "meanLogprob": float(confidence[r]),
                  "advantage": float(whole.advantages[r]), "advantageGrpo": float(grpo[r])}
        if whole.per_sequence:
            record["components"] = {key: float(whole.per_sequence[key][r]) for key in ("grpo", "perceptual", "reasoning")}
        if relabeled:
            record["relabeled"] = True
        return record

    def copy_image(self, task: dict[str, Any]) -> str:
        """The task's exported PNG, copied into the run folder once (images/<id>.png)."""
        assert self.run is not None
        relative = task.get("image") or f"images/{task['id']}.png"
        source = os.path.join(self.args.tasks, relative)
        target = os.path.join(self.run.path, relative)
        if os.path.isfile(source) and not os.path.exists(target):
            with open(source, "rb") as handle:
                self.run.write_image(os.path.basename(relative), handle.read())
        return relative

    def save_policy(self) -> str:
        """The final weights in the run folder: final-policy/weights.bin (little-endian float32, names sorted) and
        final-policy/policy.json ({kind, config, weightsIndex}); `GeneralPolicy.load` reads them back."""
        assert self.run is not None
        try:
            os.mkdir(FINAL_POLICY_DIR, dir_fd=self.run._fd)
        except FileExistsError:
            pass
        data, index = pack_arrays(self.policy.get_arrays())
        self.run.write_bytes_atomic(f"{FINAL_POLICY_DIR}/weights.bin", data)
        self.run.write_json_atomic(f"{FINAL_POLICY_DIR}/policy.json", {"kind": "general", "config": self.policy.config(), "weightsIndex": index})
        return os.path.join(self.run.path, FINAL_POLICY_DIR)

    # ---- validation ----
    def validate(self, step: int) -> None:
        if self.validation is None or self.rank != 0 or self.run is None:
            return
        size = self.args.validation_size or len(self.validation)
        patches = torch.from_numpy(self.validation.features[:size]).to(self.device)
        questions = torch.from_numpy(self.validation.questions[:size]).to(self.device)
        self.policy.eval()
        responses = self.policy.sample(patches, questions, greedy=True).responses.cpu()
        totals: dict[str, list[float]] = {}
        correct = reward = 0.0
        for task, row in zip(self.validation.tasks[:size], responses):
            score = score_response(row.tolist(), task["answer"])
            correct += score.accuracy
            reward += score.reward
            for key in (f"perceptual/{task['perceptualLevel']}", f"reasoning/{task['reasoningLevel']}"):
                totals.setdefault(key, [0.0, 0.0])
                totals[key][0] += score.accuracy
                totals[key][1] += 1
        self.run.append_validation(step, correct / size, reward / size, {key: hits / total for key, (hits, total) in sorted(totals.items())})
