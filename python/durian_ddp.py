"""Entry point for torchrun (run from anywhere; puts this folder on sys.path so `durian_rl` imports without
installing it): /usr/bin/python3 -m torch.distributed.run --standalone --nproc_per_node N python/durian_ddp.py --help"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from durian_rl.ddp import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
