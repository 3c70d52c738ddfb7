"""A minimal guest kernel on splitpriv's VCpu: the 2002 proposal, working.

Usage: ``python3 examples/guest_kernel/kernel.py [--strategy remap|process] [--tasks N]``

It builds ``task.c`` into a static freestanding guest, loads one copy into each of N address
spaces (same virtual addresses, separate memory), and multiplexes the tasks on one VCpu with a
round-robin scheduler. Every syscall a task makes traps here: ``write`` to fd 1 or 2 is copied
out of the task's space and printed, ``getpid`` returns the task's pid, ``sched_yield`` moves
to the next task, ``exit`` ends the task; anything else gets ENOSYS, and a fault kills the task.
The output is the same under both strategies; only the cost of a switch differs.
"""

from __future__ import annotations

import argparse
import errno
import sys
import tempfile
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from splitpriv.addrspace import PROT_READ, PROT_WRITE, AddressSpace
from splitpriv.guest import build_guest, load_elf
from splitpriv.vcpu import STRATEGIES, Context, VCpu

HERE = Path(__file__).resolve().parent
STACK_TOP = 0x20000000
STACK_SIZE = 0x10000
FIRST_PID = 100
MAX_WRITE = 4096
SYS_WRITE, SYS_SCHED_YIELD, SYS_GETPID, SYS_EXIT, SYS_EXIT_GROUP = 1, 24, 39, 60, 231


@dataclass
class Task:
    number: int
    pid: int
    context: Context


def build_task(workdir: Path) -> Path:
    return build_guest([HERE / "task.c"], workdir / "task")


def boot(count: int, image: Path, rounds: Callable[[int], int]) -> list[Task]:
    """One address space per task, each with its own copy of the task and a stack."""
    tasks = []
    for number in range(count):
        space = AddressSpace.create(f"task{number}")
        entry = load_elf(space, image)
        space.map(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE)
        # The System V entry state: rsp + 8 is 16-byte aligned, as if _start had been called.
        context = Context.at(
            space, entry, stack=STACK_TOP - 8, args=(number, rounds(number)), name=f"task{number}"
        )
        tasks.append(Task(number, FIRST_PID + number, context))
    return tasks


def schedule(cpu: VCpu, tasks: list[Task], emit: Callable[[str], None]) -> dict[int, int]:
    """Round-robin until every task has exited; returns each task's exit status (or -signal)."""
    ready = deque(tasks)
    status: dict[int, int] = {}
    while ready:
        task = ready.popleft()
        while True:  # run this task until it yields, exits or dies
            trap = cpu.run(task.context, timeout=10)
            context = task.context
            if trap.kind == "fault":
                emit(f"[kernel] task {task.number} killed by {trap.name} at 0x{trap.addr:x}\n")
                status[task.number] = -trap.signo
                break
            if trap.nr == SYS_WRITE and trap.args[0] in (1, 2):
                length = min(trap.args[2], MAX_WRITE)
                emit(context.space.read(trap.args[1], length).decode(errors="replace"))
                context.set_return(length)
            elif trap.nr == SYS_GETPID:
                context.set_return(task.pid)
            elif trap.nr == SYS_SCHED_YIELD:
                context.set_return(0)
                ready.append(task)
                break
            elif trap.nr in (SYS_EXIT, SYS_EXIT_GROUP):
                emit(f"[kernel] task {task.number} exited with {trap.args[0] & 0xFF}\n")
                status[task.number] = trap.args[0] & 0xFF
                break
            else:
                context.set_return(-errno.ENOSYS)
    return status


def run(
    strategy: str = "remap",
    count: int = 3,
    emit: Callable[[str], None] = sys.stdout.write,
    protect: str = "none",
) -> tuple[dict[int, int], list[int], int]:
    """Boot ``count`` tasks (task i runs i + 2 rounds) and schedule them to the end; returns
    (exit statuses, the host pids used, the number of context switches)."""
    with tempfile.TemporaryDirectory() as tmp:
        image = build_task(Path(tmp))
        tasks = boot(count, image, rounds=lambda number: number + 2)
        with VCpu(strategy, protect=protect) as cpu:  # type: ignore[arg-type]
            status = schedule(cpu, tasks, emit)
            hosts, switches = cpu.host_pids(), cpu.switches
        for task in tasks:
            task.context.space.close()
    return status, hosts, switches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", choices=STRATEGIES, default="remap")
    parser.add_argument("--protect", choices=("none", "mprotect"), default="none")
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    status, hosts, switches = run(args.strategy, args.tasks, protect=args.protect)
    print(
        f"[kernel] {len(status)} tasks, {switches} switches, strategy {args.strategy}: "
        f"{len(hosts)} host process(es)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
