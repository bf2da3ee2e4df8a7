"""The trainer's process: joins the process group torchrun set up (or runs alone), trains, and on rank 0 keeps
status.json truthful (completed, stopped, or crashed with the reason)."""
from __future__ import annotations

import datetime
import os
import sys
import traceback
from typing import Optional

import torch
import torch.distributed as dist

from ..tasks import TasksError, load_tasks
from .trainer import Trainer, parse_args


def init_process_group() -> None:
    if int(os.environ.get("WORLD_SIZE", "1")) < 1 or "RANK" not in os.environ:
        return
    # Rank 0 may wait at a step boundary while the run is paused: the other ranks wait in the next collective, so
    # the timeout is long (torchrun ends every rank if one fails, so nothing hangs on a crash).
    timeout = datetime.timedelta(days=7)
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl", timeout=timeout)
    else:
        dist.init_process_group("gloo", timeout=timeout)


def _agree(ok: bool) -> bool:
    """True on every rank when every rank says ok (rank 0 may fail to create the run folder, for example)."""
    if not dist.is_initialized():
        return ok
    flag = torch.tensor([1 if ok else 0], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item())


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_process_group()
    rank = dist.get_rank() if dist.is_initialized() else 0
    trainer = None
    try:
        ok = True
        try:
            train = load_tasks(args.tasks, "train")
            validation = load_tasks(args.tasks, "validation") if os.path.isfile(os.path.join(args.tasks, "validation.meta.json")) else None
            trainer = Trainer(args, train, validation)
            if rank == 0:
                trainer.open_run()
        except (TasksError, OSError, ValueError, ImportError) as error:
            print(f"durian_rl.ddp: {error}", file=sys.stderr)
            ok = False
        if not _agree(ok):
            return 2
        assert trainer is not None
        if rank == 0:
            print(f"durian_rl.ddp: {trainer.world} rank(s), {len(trainer.train)} train tasks, "
                  f"{trainer.policy.describe()['parameters']} parameters, run folder {trainer.run.path}", flush=True)
        if args.validation_every:
            trainer.validate(0)
        last = 0
        for step in range(1, args.steps + 1):
            plan = trainer.plan(step)
            if plan.stop:
                break
            trainer.step(plan)
            last = step
            if args.validation_every and (step % args.validation_every == 0 or step == args.steps):
                trainer.validate(step)
        if rank == 0 and trainer.run is not None:
            trainer.save_policy()
            trainer.run.write_status("completed" if last == args.steps else "stopped", last)
            print(f"durian_rl.ddp: {'completed' if last == args.steps else 'stopped after'} {last} steps", flush=True)
        return 0
    except BaseException as error:
        if rank == 0 and trainer is not None and trainer.run is not None:
            try:
                trainer.run.write_status("crashed", trainer.last_step, f"{type(error).__name__}: {error}"[:2000])
            except Exception:
                pass
        traceback.print_exc()
        return 1
    finally:
        if trainer is not None and trainer.run is not None:
            trainer.run.close()
        if dist.is_initialized():
            dist.destroy_process_group()
