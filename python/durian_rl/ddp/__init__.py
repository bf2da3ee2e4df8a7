"""Data-parallel training of the general policy (durian_rl.policy) on tasks exported by `durian export-tasks`,
with torch.distributed (gloo on CPU, NCCL when CUDA is present), verl's own loss functions and Durian's
batch-global advantages. Run it with torchrun from the repository root:

    /usr/bin/python3 python/durian_torchrun.py --standalone --nproc_per_node 2 python/durian_ddp.py \\
        --tasks tasks/ --run-dir runs/ddp-1 --steps 50

(python/durian_torchrun.py is `python3 -m torch.distributed.run`, repaired for Debian's torch 1.13 on Python 3.11.)
See python/README.md ("Data-parallel training") and `python/durian_ddp.py --help`."""
from .main import main

__all__ = ["main"]
