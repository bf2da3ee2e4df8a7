"""`python3 -m torch.distributed.run`, usable with Debian's torch 1.13 on Python 3.11: there, torchrun's
`Std.from_str` returns None for its own default "0" (Python 3.11 no longer iterates the zero and multi-bit members
of an IntFlag), so every launch fails with "'NoneType' object has no attribute 'get'". This wrapper fixes that one
function when it is broken and then runs torchrun unchanged, with the same arguments:

    /usr/bin/python3 python/durian_torchrun.py --standalone --nproc_per_node 2 python/durian_ddp.py --tasks DIR --run-dir DIR

Where torchrun works (newer torch, or Python <= 3.10) it changes nothing; `python3 -m torch.distributed.run` is then
the same command."""
import re
import sys

from torch.distributed.elastic.multiprocessing import api


def _from_str(vm: str):
    if re.match(api._VALUE_REGEX, vm):
        return api.Std(int(vm))
    if re.match(api._MAPPING_REGEX, vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")


if api.Std.from_str("0") is None:
    api.Std.from_str = staticmethod(_from_str)

from torch.distributed.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
