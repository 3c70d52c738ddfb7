"""strace's text for a delivered signal: ``{si_signo=SIGCHLD, si_code=CLD_EXITED, ...}``.

strace prints the whole ``siginfo_t`` it reads with PTRACE_GETSIGINFO. The engine records five of
its fields: the signal, ``si_code``, ``si_pid``, ``si_uid`` and ``si_status``. So the fields are
printed in strace's order and by strace's rules (which fields a code selects) as far as these
go; what is not recorded is left out rather than invented: ``si_utime``/``si_stime`` of SIGCHLD,
``si_addr`` of SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP, ``si_int``/``si_ptr`` of queued signals,
``si_timerid``/``si_overrun`` of timer signals, ``si_band``/``si_fd`` of SIGIO, ``si_errno``, and
the syscall fields of SIGSYS.

Pure functions of their inputs: nothing here touches a process.
"""

from __future__ import annotations

import signal as signal_module
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

KERNEL_SIGRTMIN = 32  # glibc's SIGRTMIN (34) reserves two; strace names by the kernel's
KERNEL_SIGRTMAX = 64


def signal_name(number: int) -> str:
    """strace's name of a signal: ``SIGTERM``, ``SIGRTMIN``, ``SIGRT_3``, or the number."""
    if 0 < number < KERNEL_SIGRTMIN:
        try:
            return signal_module.Signals(number).name
        except ValueError:
            return str(number)
    if number == KERNEL_SIGRTMIN:
        return "SIGRTMIN"
    if KERNEL_SIGRTMIN < number <= KERNEL_SIGRTMAX:
        return f"SIGRT_{number - KERNEL_SIGRTMIN}"
    return str(number)


def signal_number(name: str) -> int | None:
    """The number of a signal named as strace accepts it: ``SIGTERM``, ``TERM``, ``15``,
    ``SIGRTMIN``, ``SIGRT_3``, ``RT_3`` (any case); None if it names no signal."""
    text = name.strip().upper()
    if text.isdigit():
        number = int(text)
        return number if 0 < number <= KERNEL_SIGRTMAX else None
    if not text.startswith("SIG"):
        text = "SIG" + text
    if text == "SIGRTMIN":
        return KERNEL_SIGRTMIN
    if text == "SIGRTMAX":
        return KERNEL_SIGRTMAX
    if text.startswith("SIGRT_") and text[6:].isdigit():
        number = KERNEL_SIGRTMIN + int(text[6:])
        return number if number <= KERNEL_SIGRTMAX else None
    aliases = {"SIGIOT": signal_module.SIGABRT, "SIGPOLL": signal_module.SIGIO, "SIGCLD": 17}
    if text in aliases:
        return int(aliases[text])
    try:
        return int(signal_module.Signals[text])
    except KeyError:
        return None


def signal_names() -> list[str]:
    """Every signal name :func:`signal_number` accepts in its long form (for suggestions)."""
    return [signal_name(n) for n in range(1, KERNEL_SIGRTMAX + 1)]


def _table(*pairs: tuple[str, int]) -> Mapping[int, str]:
    return MappingProxyType({value: name for name, value in pairs})


# Codes any signal can carry (si_code <= 0 comes from user space; SI_KERNEL from the kernel).
SI_CODES: Final = _table(
    ("SI_USER", 0),
    ("SI_KERNEL", 0x80),
    ("SI_QUEUE", -1),
    ("SI_TIMER", -2),
    ("SI_MESGQ", -3),
    ("SI_ASYNCIO", -4),
    ("SI_SIGIO", -5),
    ("SI_TKILL", -6),
    ("SI_DETHREAD", -7),
    ("SI_ASYNCNL", -60),
)
SI_TIMER, SI_SIGIO = -2, -5
CLD_EXITED = 1

# Codes specific to one signal (positive si_code values).
_SIGNAL_CODES: Final[Mapping[int, Mapping[int, str]]] = {
    signal_module.SIGCHLD: _table(
        ("CLD_EXITED", 1),
        ("CLD_KILLED", 2),
        ("CLD_DUMPED", 3),
        ("CLD_TRAPPED", 4),
        ("CLD_STOPPED", 5),
        ("CLD_CONTINUED", 6),
    ),
    signal_module.SIGSEGV: _table(
        ("SEGV_MAPERR", 1),
        ("SEGV_ACCERR", 2),
        ("SEGV_BNDERR", 3),
        ("SEGV_PKUERR", 4),
        ("SEGV_ACCADI", 5),
        ("SEGV_ADIDERR", 6),
        ("SEGV_ADIPERR", 7),
        ("SEGV_MTEAERR", 8),
        ("SEGV_MTESERR", 9),
        ("SEGV_CPERR", 10),
    ),
    signal_module.SIGBUS: _table(
        ("BUS_ADRALN", 1),
        ("BUS_ADRERR", 2),
        ("BUS_OBJERR", 3),
        ("BUS_MCEERR_AR", 4),
        ("BUS_MCEERR_AO", 5),
    ),
    signal_module.SIGILL: _table(
        ("ILL_ILLOPC", 1),
        ("ILL_ILLOPN", 2),
        ("ILL_ILLADR", 3),
        ("ILL_ILLTRP", 4),
        ("ILL_PRVOPC", 5),
        ("ILL_PRVREG", 6),
        ("ILL_COPROC", 7),
        ("ILL_BADSTK", 8),
        ("ILL_BADIADDR", 9),
    ),
    signal_module.SIGFPE: _table(
        ("FPE_INTDIV", 1),
        ("FPE_INTOVF", 2),
        ("FPE_FLTDIV", 3),
        ("FPE_FLTOVF", 4),
        ("FPE_FLTUND", 5),
        ("FPE_FLTRES", 6),
        ("FPE_FLTINV", 7),
        ("FPE_FLTSUB", 8),
        ("FPE_FLTUNK", 14),
        ("FPE_CONDTRAP", 15),
    ),
    signal_module.SIGTRAP: _table(
        ("TRAP_BRKPT", 1),
        ("TRAP_TRACE", 2),
        ("TRAP_BRANCH", 3),
        ("TRAP_HWBKPT", 4),
        ("TRAP_UNK", 5),
        ("TRAP_PERF", 6),
    ),
    signal_module.SIGIO: _table(
        ("POLL_IN", 1),
        ("POLL_OUT", 2),
        ("POLL_MSG", 3),
        ("POLL_ERR", 4),
        ("POLL_PRI", 5),
        ("POLL_HUP", 6),
    ),
    signal_module.SIGPROF: _table(("PROF_SIG", 1)),
    signal_module.SIGSYS: _table(("SYS_SECCOMP", 1), ("SYS_USER_DISPATCH", 2)),
}


def code_name(signo: int, code: int) -> str:
    """``si_code`` by name (``SI_USER``, ``CLD_EXITED``...), or the number strace would print."""
    name = SI_CODES.get(code)
    if name is None:
        name = _SIGNAL_CODES.get(signo, {}).get(code)
    return name if name is not None else str(code)


def format_siginfo(signo: int, code: int, pid: int, uid: int, status: int) -> str:
    """The ``{si_signo=..., ...}`` strace prints for a delivered signal, from the recorded
    fields (see the module docstring for the ones that are not recorded)."""
    fields = [f"si_signo={signal_name(signo)}", f"si_code={code_name(signo, code)}"]
    source = [f"si_pid={pid}", f"si_uid={uid}"]
    if code <= 0:  # sent from user space: kill, tgkill, sigqueue, a timer...
        if code not in (SI_TIMER, SI_SIGIO):  # these print fields that are not recorded
            fields += source
    elif signo == signal_module.SIGCHLD:
        fields += source
        fields.append(f"si_status={status if code == CLD_EXITED else signal_name(status)}")
    elif signo not in _SIGNAL_CODES and (pid or uid):
        fields += source
    return "{" + ", ".join(fields) + "}"


__all__ = [
    "SI_CODES",
    "code_name",
    "format_siginfo",
    "signal_name",
    "signal_names",
    "signal_number",
]
