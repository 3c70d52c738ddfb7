"""Virtual CPUs: one host thread of execution that runs guest contexts and switches among them.

The 2002 proposal wanted "one host thread per virtual processor", "a pool of address spaces
available to it which it can switch between", and ``unprivilege()`` taking an address-space
handle. A :class:`VCpu` runs guest :class:`Context` objects (registers plus an
:class:`~splitpriv.addrspace.AddressSpace`). Guest code runs unprivileged in a host process
that holds nothing but splitpriv's VCpu stub (csrc/stub/vcpu.c): every syscall it makes and
every fault it takes is a :class:`Trap` that comes back here, to the privileged side, which
decides what happens next (answer it and resume, or resume another context).

Two strategies put a context's address space in place:

``remap``  The proposal, emulated: a single host process. A switch to a context in another
           space is done by the stub inside the trap: it unmaps the current space's regions and
           maps the target's from its memfd (MAP_FIXED), then returns into the target's
           registers. Cost grows with the number of regions, and every page touched after the
           switch faults in again.
``process`` What UML does today (SKAS0): one host process per space, each keeping its space
           mapped. A switch resumes another process: no remapping, but a process switch.

What this is not: a sandbox. The guest's registers, general-purpose only (rip, rflags and the
sixteen integer registers; guests are built with ``-mgeneral-regs-only``), are what a switch
saves and loads; FPU and segment state stay with the host process. The stub's code range is
mapped in every host, and a guest that jumps into it can make the calls the stub makes.
This module never runs guest code itself and never touches a host's memory but through the
stub's operations.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import weakref
from dataclasses import dataclass, field, fields
from types import TracebackType
from typing import Literal

from splitpriv import _binding
from splitpriv.addrspace import AddressSpace, Mapping
from splitpriv.errors import VCpuError
from splitpriv.seccomp import TRAP, build_filter
from splitpriv.syscalls.table import table as syscall_table

Strategy = Literal["remap", "process"]
STRATEGIES: tuple[Strategy, ...] = ("remap", "process")
PROTECT_CHOICES = ("none", "mprotect")

# csrc/vcpu_abi.h: where every host keeps the stub, its control region and its stacks.
STUB_START = 0x6D00_0000_0000
STUB_END = STUB_START + 0x40000
_STUB_CODE_END = STUB_START + 0x10000
_AUDIT_ARCH_X86_64 = 0xC000003E
_MASK64 = (1 << 64) - 1
_WAIT_SLICE_MS = 200  # a Ctrl-C is seen within this long while a guest runs


@functools.cache
def guest_filter() -> bytes:
    """The hosts' seccomp filter: every syscall traps to the stub (RET_TRAP), i386 ones
    included, except those the stub's own code makes."""
    return build_filter({}, TRAP, allow_ip_range=(STUB_START, _STUB_CODE_END)).to_bytes()


@dataclass(slots=True)
class Registers:
    """A guest context's registers, in the order of the kernel's ucontext ``gregs``."""

    r8: int = 0
    r9: int = 0
    r10: int = 0
    r11: int = 0
    r12: int = 0
    r13: int = 0
    r14: int = 0
    r15: int = 0
    rdi: int = 0
    rsi: int = 0
    rbp: int = 0
    rbx: int = 0
    rdx: int = 0
    rax: int = 0
    rcx: int = 0
    rsp: int = 0
    rip: int = 0
    eflags: int = 0x202

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, f.name) & _MASK64 for f in fields(self))

    def load(self, values: tuple[int, ...]) -> None:
        for f, value in zip(fields(self), values, strict=True):
            setattr(self, f.name, value)


_ARG_REGISTERS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")


@dataclass(eq=False)
class Context:
    """A guest context: where it runs (its space) and its registers."""

    space: AddressSpace
    regs: Registers = field(default_factory=Registers)
    name: str = ""

    @classmethod
    def at(
        cls,
        space: AddressSpace,
        entry: int,
        stack: int = 0,
        args: tuple[int, ...] = (),
        name: str = "",
    ) -> Context:
        """A context about to run ``entry(*args)`` (System V registers) on ``stack``."""
        if len(args) > len(_ARG_REGISTERS):
            raise VCpuError(f"a guest entry takes at most {len(_ARG_REGISTERS)} arguments")
        regs = Registers(rip=entry, rsp=stack)
        for reg, value in zip(_ARG_REGISTERS, args, strict=False):
            setattr(regs, reg, value & _MASK64)
        return cls(space, regs, name)

    def set_return(self, value: int) -> None:
        """The value the trapped syscall returns to the guest (a negative errno for errors)."""
        self.regs.rax = value & _MASK64


@dataclass(frozen=True)
class Trap:
    """Why a guest context stopped: a syscall it made, or a fault it took."""

    context: Context
    kind: Literal["syscall", "fault"]
    nr: int = -1
    arch: int = _AUDIT_ARCH_X86_64
    args: tuple[int, ...] = ()
    signo: int = 0
    code: int = 0
    addr: int = 0

    @property
    def name(self) -> str:
        """The syscall's name (or ``syscall_N``), or the fault's signal name."""
        if self.kind == "fault":
            try:
                return signal.Signals(self.signo).name
            except ValueError:
                return f"signal {self.signo}"
        return syscall_table(self.arch).name(self.nr)


def switch_ops(old: list[Mapping], new: list[Mapping], slot: int) -> list[_binding.VcpuOp]:
    """What the stub does to replace one space's regions by another's: map every new region
    (MAP_FIXED replaces whatever was there) and unmap only the old regions that no new region
    covers exactly, which saves a munmap per region when two spaces share a layout."""
    covered = {(m.addr, m.length) for m in new}
    ops = [
        _binding.VcpuOp(_binding.OP_UNMAP, m.addr, m.length)
        for m in old
        if (m.addr, m.length) not in covered
    ]
    ops += [
        _binding.VcpuOp(_binding.OP_MAP, m.addr, m.length, m.prot, slot, m.file_offset) for m in new
    ]
    return ops


class _Host:
    """One host process, and which address space it has mapped right now."""

    def __init__(self, protect: str, cpu: int) -> None:
        try:
            self.raw = _binding.VcpuHost(guest_filter(), protect, cpu)
        except OSError as exc:
            raise VCpuError(f"cannot start a VCpu host process: {exc.strerror}") from None
        self.slots: dict[int, int] = {}  # id(space) -> the host's fd slot for its memfd
        self.space: AddressSpace | None = None
        self.generation = -1
        self.layout: list[Mapping] = []

    def show(self, space: AddressSpace, keep: dict[int, AddressSpace]) -> None:
        """Queue the operations that make ``space`` the mapped one (nothing if it is already)."""
        if space is self.space and space.generation == self.generation:
            return
        layout = space.mappings()
        for m in layout:
            if m.addr < STUB_END and STUB_START < m.end:
                raise VCpuError(
                    f"mapping {m} overlaps the VCpu stub at 0x{STUB_START:x}-0x{STUB_END:x}"
                )
        # Count before queueing anything: a handle sent but not received would be taken by
        # the next switch's receive. Passing the handle costs up to two operations of its own.
        handle_ops = 0 if id(space) in self.slots else 2
        needed = len(switch_ops(self.layout, layout, 0)) + handle_ops
        if needed > _binding.VCPU_MAX_OPS:
            raise VCpuError(f"a switch needs {needed} operations (max {_binding.VCPU_MAX_OPS})")
        self.space = None  # unknown until the queue is complete
        for op in switch_ops(self.layout, layout, self._slot(space, keep)):
            self._queue(op)
        # From here the host's layout is the target's, or (if an operation fails) unknown:
        # keeping both as "mapped" only makes the next switch unmap a few holes too many.
        self.layout = layout if not self.layout else self.layout + layout
        self.space, self.generation = space, space.generation

    def settled(self) -> None:
        """The queued operations all succeeded: the layout is exactly the space's."""
        if self.space is not None:
            self.layout = self.space.mappings()

    def _slot(self, space: AddressSpace, keep: dict[int, AddressSpace]) -> int:
        key = id(space)
        if key in self.slots:
            return self.slots[key]
        free = set(range(_binding.VCPU_MAX_FDS)) - set(self.slots.values())
        if not free:  # evict a space that is not mapped now
            victim = next(k for k in self.slots if self.space is None or k != id(self.space))
            slot = self.slots.pop(victim)
            self._queue(_binding.VcpuOp(_binding.OP_CLOSE_FD, slot=slot))
        else:
            slot = min(free)
        rc = self.raw.send_fd(space.fileno(), slot)
        if rc < 0:
            raise VCpuError(f"cannot pass the address space handle: {os.strerror(-rc)}")
        self.slots[key] = slot
        keep[key] = space
        return slot

    def _queue(self, op: _binding.VcpuOp) -> None:
        rc = self.raw.queue(op)
        if rc < 0:
            raise VCpuError(f"cannot queue a VCpu operation: {os.strerror(-rc)}")


def _stop_all(hosts: list[_Host]) -> None:
    for host in hosts:
        host.raw.stop()
    hosts.clear()


class VCpu:
    """One virtual processor. ``strategy`` chooses how address spaces are switched (see the
    module docstring); ``protect="mprotect"`` keeps the stub's control region PROT_NONE while
    guest code runs (two mprotect calls per trap); ``cpu`` pins its host processes to a CPU.

    Use it as a context manager, or call :meth:`close`: the host processes are killed and
    reaped then (and when the VCpu is garbage-collected; a host also dies with the thread that
    started it, by PR_SET_PDEATHSIG, so a supervisor that crashes leaves none behind)."""

    def __init__(
        self, strategy: Strategy = "remap", *, protect: str = "none", cpu: int | None = None
    ) -> None:
        if strategy not in STRATEGIES:
            raise VCpuError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
        if protect not in PROTECT_CHOICES:
            raise VCpuError(f"protect must be one of {', '.join(PROTECT_CHOICES)}")
        self.strategy: Strategy = strategy
        self.protect = protect
        self._cpu = -1 if cpu is None else cpu
        self._hosts: dict[int, _Host] = {}  # remap: key 0; process: id(space)
        self._live: list[_Host] = []
        self._spaces: dict[int, AddressSpace] = {}  # keeps every space a host has an fd of
        self._handles: dict[tuple[int, int], AddressSpace] = {}  # spaces built from raw fds
        self._closed = False
        self.current: Context | None = None
        self.switches = 0
        self._finalizer = weakref.finalize(self, _stop_all, self._live)

    # ---- life cycle ----

    def close(self) -> None:
        self._finalizer()
        self._hosts.clear()
        for space in self._handles.values():
            space.close()
        self._handles.clear()
        self._spaces.clear()
        self._closed = True

    def __enter__(self) -> VCpu:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def host_pids(self) -> list[int]:
        """The host processes alive now (one for ``remap``, one per space for ``process``)."""
        return [h.raw.pid for h in self._live]

    # ---- running guests ----

    def unprivilege(
        self,
        entry: int,
        addrspace: AddressSpace | int | None = None,
        *,
        stack: int = 0,
        args: tuple[int, ...] = (),
        timeout: float | None = None,
    ) -> Trap:
        """The seed's ``unprivilege(entry, as_fd)``: run ``entry`` unprivileged in
        ``addrspace`` (default: the space of the context that ran last) until its first trap,
        which returns here. ``trap.context`` resumes it with :meth:`run`. ``addrspace`` may
        also be the handle itself, a file descriptor (from another process, say): the space
        is rebuilt from the table it carries."""
        if isinstance(addrspace, int):
            addrspace = self._space_of_handle(addrspace)
        if addrspace is None:
            if self.current is None:
                raise VCpuError("no address space given and none is current")
            addrspace = self.current.space
        return self.run(Context.at(addrspace, entry, stack, args), timeout=timeout)

    def _space_of_handle(self, fd: int) -> AddressSpace:
        """The space behind a handle: one object per memfd, however many fds name it, so
        every unprivilege() with the same handle runs in the same space (and host)."""
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino)
        space = self._handles.get(key)
        if space is None or space.closed:
            space = self._handles[key] = AddressSpace.from_fd(fd)
        else:
            space.reload()  # the handle's owner may have changed the layout since
        return space

    def run(self, context: Context, *, timeout: float | None = None) -> Trap:
        """Switch to ``context`` (if it is not the current one) and run it until it traps."""
        if self._closed:
            raise VCpuError("this VCpu is closed")
        if context.space.closed:
            raise VCpuError("the context's address space is closed")
        host = self._host_for(context.space)
        host.show(context.space, self._spaces)
        if self.current is not None and context is not self.current:
            self.switches += 1
        self.current = context
        raw = self._resume(host, context.regs.as_tuple(), timeout)
        if raw.kind == _binding.TRAP_OPFAIL:
            host.space = None  # partly switched: the next run remaps from scratch
            raise VCpuError(
                f"switching to {context.name or 'the context'}: operation {raw.op_index} "
                f"failed in the host: {os.strerror(raw.error)}"
            )
        host.settled()
        context.regs.load(raw.regs)
        if raw.kind == _binding.TRAP_SYSCALL:
            return Trap(context, "syscall", nr=raw.nr, arch=raw.arch, args=raw.args)
        return Trap(context, "fault", signo=raw.signo, code=raw.code, addr=raw.addr)

    def measure_switches(self, contexts: list[Context], rounds: int, yield_nr: int = 24) -> float:
        """Nanoseconds per resume when ``contexts`` run round-robin in C, each until its next
        ``sched_yield`` (answered with 0), ``rounds`` times over: the switch benchmark of
        bench/vcpu. Every context must loop on yielding. A single context gives the trap round
        trip without any switch."""
        for context in contexts:  # hosts started, handles passed, spaces mapped once
            self._run_to_yield(context, yield_nr)
        hosts, regs, ops = [], [], []
        for i, context in enumerate(contexts):
            host = self._host_for(context.space)
            previous = contexts[i - 1].space
            switch: list[_binding.VcpuOp] = []
            if host is self._host_for(previous) and previous is not context.space:
                slot = host.slots[id(context.space)]
                switch = switch_ops(previous.mappings(), context.space.mappings(), slot)
            hosts.append(host.raw)
            regs.append(context.regs.as_tuple())
            ops.append(switch)
        elapsed = _binding.vcpu_bench(hosts, regs, ops, rounds, yield_nr)
        if elapsed < 0:
            raise VCpuError(f"the switch benchmark failed: {os.strerror(-elapsed)}")
        for context, values in zip(contexts, regs, strict=True):
            context.regs.load(tuple(values))
        last = contexts[-1]
        host = self._host_for(last.space)
        host.space, host.generation, host.layout = (
            last.space,
            last.space.generation,
            last.space.mappings(),
        )
        self.current = last
        return elapsed / (rounds * len(contexts))

    def _run_to_yield(self, context: Context, yield_nr: int) -> None:
        for _ in range(1000):
            trap = self.run(context, timeout=10)
            if trap.kind == "syscall" and trap.nr == yield_nr:
                context.set_return(0)
                return
            if trap.kind == "fault":
                raise VCpuError(f"the guest took {trap.name} at 0x{trap.addr:x} before yielding")
            context.set_return(-errno.ENOSYS)
        raise VCpuError("the guest made 1000 calls without yielding")

    def _host_for(self, space: AddressSpace) -> _Host:
        key = 0 if self.strategy == "remap" else id(space)
        host = self._hosts.get(key)
        if host is None:
            host = _Host(self.protect, self._cpu)
            self._hosts[key] = host
            self._live.append(host)
        return host

    def _resume(
        self, host: _Host, regs: tuple[int, ...], timeout: float | None
    ) -> _binding.RawTrap:
        budget = None if timeout is None else int(timeout * 1000)
        rc = host.raw.resume(regs, self._slice(budget))
        while rc in (-errno.EINTR, -errno.ETIMEDOUT):
            if budget is not None:
                budget -= _WAIT_SLICE_MS if rc == -errno.ETIMEDOUT else 0
                if budget <= 0:
                    self._drop(host)
                    raise VCpuError(f"the guest did not trap within {timeout} s: host killed")
            rc = host.raw.wait(self._slice(budget))  # a Ctrl-C surfaces between the waits
        raw = host.raw.trap()
        if rc == -errno.ESRCH or raw.kind == _binding.TRAP_EXITED:
            self._drop(host)
            raise VCpuError(f"the VCpu host process died (wait status {raw.code})")
        if rc < 0:
            raise VCpuError(f"resuming the VCpu host failed: {os.strerror(-rc)}")
        return raw

    @staticmethod
    def _slice(budget: int | None) -> int:
        return _WAIT_SLICE_MS if budget is None else max(1, min(budget, _WAIT_SLICE_MS))

    def _drop(self, host: _Host) -> None:
        host.raw.stop()
        self._live.remove(host)
        for key, value in list(self._hosts.items()):
            if value is host:
                del self._hosts[key]
        if self.current is not None and host.space is self.current.space:
            self.current = None


__all__ = ["STRATEGIES", "Context", "Registers", "Strategy", "Trap", "VCpu"]
