"""``-y``: the path behind each file descriptor, as ``3</etc/passwd>``.

strace reads ``/proc/PID/fd/N`` while the tracee is stopped in the call. splitpriv formats a
call after it returned, in another thread, while the tracee runs on (and a short-lived tracee
is often gone by then), so reading /proc alone would race with the tracee. Instead it keeps a
model of each process's descriptor table, updated from the calls themselves, in the order the
engine recorded them:

* ``open``/``openat``/``creat``/``openat2`` put the opened path there, made absolute against the
  working directory or the directory descriptor and resolved like the kernel's own name
  (``os.path.realpath``, with ``/proc/self`` read as the tracee's), so ``/lib/x/libc.so.6``
  shows as ``/usr/lib/x/libc.so.6`` as in strace;
* ``dup``/``dup2``/``dup3``/``fcntl(F_DUPFD...)`` copy an entry, ``close``/``close_range`` drop
  entries, a successful ``execve`` drops the close-on-exec ones, ``fork``/``clone`` give the
  child a copy, ``chdir``/``fchdir`` move the working directory;
* for a command we launched, the model knows each process's table and working directory
  from the start (what it inherits from us, then what its calls did): a descriptor it does
  not hold was not open at the call, whatever the number holds in /proc by the time the call
  is formatted, and ``AT_FDCWD`` is the directory it had then, not the one it moved to since;
* /proc (``/proc/PID/fd/N``, ``/proc/PID/cwd``) is read, when the call is formatted, only for
  what the model cannot know: the names of sockets, pipes, eventfds..., and everything in a
  process attached to (``-p``), in one whose creation the model did not see, or in one whose
  calls' results the mechanism never sees (seccomp-notify); and for a descriptor a successful
  call used that no modelled call made (received in a unix socket's message). That is right
  as long as the tracee still holds the same thing, and is remembered when the call shows
  the descriptor was open (a call refused with EBADF never asks).

With ``-y``, the command records these calls even when ``-e trace`` leaves them out (they are
not printed). The model is per process (threads share it); ``CLONE_FILES`` between processes is
not modelled.
"""

from __future__ import annotations

import os
from typing import Final

from splitpriv.cli.trace_records import CHILD_CREATORS, Call
from splitpriv.syscalls import decode, prototype, render
from splitpriv.syscalls.flags import AT_FDCWD, O_CLOEXEC

# Calls whose (non-negative) result is a new descriptor.
FD_RESULTS: Final = frozenset(
    {
        "open",
        "openat",
        "openat2",
        "creat",
        "dup",
        "dup2",
        "dup3",
        "socket",
        "accept",
        "accept4",
        "epoll_create",
        "epoll_create1",
        "eventfd",
        "eventfd2",
        "memfd_create",
        "memfd_secret",
        "signalfd",
        "signalfd4",
        "timerfd_create",
        "inotify_init",
        "inotify_init1",
        "fanotify_init",
        "pidfd_open",
        "pidfd_getfd",
        "userfaultfd",
        "perf_event_open",
        "io_uring_setup",
        "open_by_handle_at",
        "open_tree",
        "fsopen",
        "fsmount",
        "fspick",
        "mq_open",
        "landlock_create_ruleset",
    }
)
# The calls the model follows: recorded with -y even when -e trace leaves them out.
FD_LIFECYCLE: Final = FD_RESULTS | frozenset(
    {
        "close",
        "close_range",
        "fcntl",
        "execve",
        "execveat",
        "chdir",
        "fchdir",
        "clone",
        "clone3",
        "fork",
        "vfork",
        "pipe",
        "pipe2",
        "socketpair",
    }
)
# (path argument, directory-descriptor argument or None) of the calls that open by path.
_OPENS: Final[dict[str, tuple[int, int | None]]] = {
    "open": (0, None),
    "creat": (0, None),
    "openat": (1, 0),
    "openat2": (1, 0),
}
_F_DUPFD, _F_SETFD, _F_DUPFD_CLOEXEC = 0, 2, 1030
_FD_CLOEXEC = 1
_EBADF = 9
_CLONE_THREAD = 0x00010000
_CLOSE_RANGE_CLOEXEC = 1 << 2
# Parameter names of undecoded calls that hold descriptors.
_FD_PARAMS: Final = frozenset(
    {
        "fd",
        "fd_in",
        "fd_out",
        "in_fd",
        "out_fd",
        "oldfd",
        "newfd",
        "epfd",
        "dfd",
        "olddfd",
        "newdfd",
        "dirfd",
        "fromfd",
        "tofd",
        "pidfd",
        "sockfd",
        "ufd",
    }
)


def inheritable_descriptors() -> dict[int, str]:
    """This process's descriptors that a command it launches inherits, and their paths."""
    found: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if os.get_inheritable(fd):
                found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
    return found


def _shown(path: str) -> str:
    """A path as strace prints it inside ``<...>``: C escapes, no quotes."""
    return render.quote(os.fsencode(path))[1:-1]


def _s32(value: int) -> int:
    return render.signed(value, 32)


# A descriptor the model knows exists but cannot name: printed as a bare number, never looked
# up in /proc (which would show what the number holds when the line is printed).
_UNKNOWN: Final = "\0unknown"
# A descriptor the model knows a call made but not what it is (a socket, an eventfd): named
# from /proc at its first use, which is the call's own line when that is printed.
_LIVE: Final = "\0live"


class FdPaths:
    """A model of each traced process's descriptor table (see the module docstring)."""

    def __init__(
        self, launch_cwd: str | None = None, inherited: dict[int, str] | None = None
    ) -> None:
        self._tables: dict[int, dict[int, tuple[str, bool]]] = {}  # pid -> fd -> (path, cloexec)
        self._cwd: dict[int, str] = {}
        self._launch_cwd = launch_cwd
        # What a launched command starts with (our own inheritable descriptors): known before
        # its first call, so a process too short-lived for /proc still shows them.
        self._inherited = {fd: (path, False) for fd, path in (inherited or {}).items()}
        # The processes whose whole table and working directory the model knows: the launched
        # command (the first process seen) and the children the model saw it make. For them
        # /proc, read after the call, is not asked what was open or where they were.
        self._modelled: set[int] = set()
        self._root: int | None = None

    def _knows(self, pid: int) -> bool:
        if self._root is None and self._launch_cwd is not None:
            self._root = pid  # a launched command's first record is its own
            self._modelled.add(pid)
        return pid in self._modelled

    def _table(self, pid: int) -> dict[int, tuple[str, bool]]:
        table = self._tables.get(pid)
        if table is None:
            self._knows(pid)
            table = self._tables[pid] = dict(self._inherited)
        return table

    def _live(self, pid: int, fd: int) -> str | None:
        try:
            return os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            return None

    def _live_cwd(self, pid: int) -> str | None:
        try:
            return os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            return None

    def path(self, pid: int, fd: int, *, in_use: bool = False) -> str | None:
        """The path behind ``fd`` in process ``pid`` (raw text), or None when unknown.
        ``in_use``: a call that succeeded used or made it, so it was open even if the model
        does not have it (passed in a unix socket's message, say): /proc may name it, and
        what it says is remembered. Otherwise /proc is asked only about a process the model
        does not know whole, and not remembered: the number may not have been open then."""
        table = self._table(pid)
        entry = table.get(fd)
        if entry is not None:
            name, cloexec = entry
            if name == _LIVE:
                live = self._live(pid, fd)
                # Not found now: the number may hold something else later, so never again.
                table[fd] = (_UNKNOWN if live is None else live, cloexec)
                return live
            return name if name != _UNKNOWN else None
        if not in_use and self._knows(pid):
            return None  # not open at the call: /proc could only show what came after
        live = self._live(pid, fd)
        if live is not None and in_use:
            table[fd] = (live, False)
        return live

    def cwd(self, pid: int) -> str | None:
        cwd = self._cwd.get(pid)
        if cwd is None:
            # A modelled process that is not in _cwd never moved: it is where we launched it.
            known = self._knows(pid)
            cwd = self._launch_cwd if known else self._live_cwd(pid) or self._launch_cwd
            if cwd is not None:
                self._cwd[pid] = cwd
        return cwd if cwd != _UNKNOWN else None

    def describe(self, pid: int, fd: int, *, in_use: bool = False) -> str:
        """``3</etc/passwd>``, or just ``3`` when the path is unknown."""
        if fd < 0:
            return str(fd)
        path = self.path(pid, fd, in_use=in_use)
        return f"{fd}<{_shown(path)}>" if path is not None else str(fd)

    def describe_before(self, pid: int, fd: int) -> str:
        """Like :meth:`describe`, from the model alone: what ``fd`` was before the call being
        formatted, which /proc (read after it) cannot tell."""
        entry = self._table(pid).get(fd)
        if entry is None or entry[0] in (_UNKNOWN, _LIVE):
            return str(fd)
        return f"{fd}<{_shown(entry[0])}>"

    def describe_dirfd(self, pid: int, fd: int) -> str:
        if fd == AT_FDCWD:
            cwd = self.cwd(pid)
            return f"AT_FDCWD<{_shown(cwd)}>" if cwd is not None else "AT_FDCWD"
        return self.describe(pid, fd)

    # -- results --------------------------------------------------------------------------------

    def _returns_fd(self, call: Call) -> bool:
        ret = call.retval
        if ret is None or ret < 0 or call.failed:
            return False
        if call.name in ("fcntl", "fcntl64"):
            return (call.args[1] & 0xFFFFFFFF) in (_F_DUPFD, _F_DUPFD_CLOEXEC)
        return call.name in FD_RESULTS

    def result(self, call: Call, text: str) -> str:
        """The result text with the new descriptor's path (``= 3</etc/passwd>``); updates
        the model for the call first, as the result is what the call made."""
        self._update(call)
        if not self._returns_fd(call):
            return text
        assert call.retval is not None
        path = self.path(call.pid, call.retval)
        return f"{text}<{_shown(path)}>" if path is not None else text

    # -- the model -------------------------------------------------------------------------------

    def _resolve(self, call: Call, path_arg: int, dirfd_arg: int | None) -> str | None:
        data = call.memory.get(path_arg)
        if data is None or path_arg in call.truncated:
            return None
        path = os.fsdecode(data.split(b"\0", 1)[0])
        pid, tid = call.pid, call.tid
        if not path.startswith("/"):
            dirfd = AT_FDCWD if dirfd_arg is None else _s32(call.args[dirfd_arg])
            base = self.cwd(pid) if dirfd == AT_FDCWD else self.path(pid, dirfd, in_use=True)
            if base is None:
                return None
            path = os.path.join(base, path)
        path = os.path.normpath(path)
        for prefix, real in (
            ("/proc/self", f"/proc/{pid}"),
            ("/proc/thread-self", f"/proc/{pid}/task/{tid}"),
        ):
            if path == prefix or path.startswith(prefix + "/"):
                path = real + path[len(prefix) :]
        return os.path.realpath(path)

    def _update(self, call: Call) -> None:
        ret = call.retval
        if ret is None and call.unavailable and self._knows(call.pid):
            # The mechanism never sees results (seccomp-notify): what this call made or
            # closed is unknown, so from now on /proc knows better than the model.
            self._modelled.discard(call.pid)
        if ret is None or call.failed:
            return
        name, pid, args = call.name, call.pid, call.args
        table = self._table(pid)
        if name in _OPENS:
            path_arg, dirfd_arg = _OPENS[name]
            path = self._resolve(call, path_arg, dirfd_arg)
            flags = args[dirfd_arg + 2 if dirfd_arg is not None else path_arg + 1]
            cloexec = name != "openat2" and bool(flags & O_CLOEXEC)
            if path is None:
                live = self._live(pid, ret)
                table[ret] = (_UNKNOWN if live is None else live, cloexec)
            else:
                table[ret] = (path, cloexec)
        elif name == "close":
            table.pop(_s32(args[0]), None)
        elif name == "close_range":
            first, last = args[0] & 0xFFFFFFFF, args[1] & 0xFFFFFFFF
            for fd in [fd for fd in table if first <= fd <= last]:
                if args[2] & _CLOSE_RANGE_CLOEXEC:
                    table[fd] = (table[fd][0], True)
                else:
                    del table[fd]
        elif name in ("dup", "dup2", "dup3"):
            source = self.path(pid, _s32(args[0]), in_use=True)
            cloexec = name == "dup3" and bool(args[2] & O_CLOEXEC)
            # A copy of a descriptor the model cannot name is not named either: /proc, read
            # later, could show what the number holds by then (after an exec, say).
            table[ret] = (_UNKNOWN if source is None else source, cloexec)
        elif name in ("fcntl", "fcntl64"):
            command = args[1] & 0xFFFFFFFF
            if command in (_F_DUPFD, _F_DUPFD_CLOEXEC):
                source = self.path(pid, _s32(args[0]), in_use=True)
                table[ret] = (_UNKNOWN if source is None else source, command == _F_DUPFD_CLOEXEC)
            elif command == _F_SETFD:
                fd = _s32(args[0])
                if fd in table:
                    table[fd] = (table[fd][0], bool(args[2] & _FD_CLOEXEC))
        elif name in ("execve", "execveat"):
            for fd in [fd for fd, (_, cloexec) in table.items() if cloexec]:
                del table[fd]
        elif name in CHILD_CREATORS and ret > 0:
            if not (name == "clone" and args[0] & _CLONE_THREAD):
                # A child whose own records came first (the stub mechanisms can hand them over
                # before the call that made it) keeps its table, and /proc as a source.
                if ret not in self._tables:
                    self._tables[ret] = dict(table)
                    if self._knows(pid):
                        self._modelled.add(ret)
                        self._cwd[ret] = self.cwd(pid) or _UNKNOWN
                cwd = self._cwd.get(pid)
                if cwd is not None:
                    self._cwd.setdefault(ret, cwd)
        elif name in ("chdir", "fchdir"):
            if name == "chdir":
                path = self._resolve(call, 0, None)
            else:
                path = self.path(pid, _s32(args[0]), in_use=True)
            # A path the model cannot follow (cut short, a directory it cannot name): /proc
            # now, as close to the call as we get.
            self._cwd[pid] = path or self._live_cwd(pid) or _UNKNOWN
        elif name in FD_RESULTS:
            table[ret] = (_LIVE, False)  # socket, eventfd...: named from /proc
        elif name in ("pipe", "pipe2", "socketpair"):
            # Two new descriptors, named from /proc now if they still are what the call made
            # (a shell closes its pipe's ends soon after forking): later, the numbers may
            # hold something else, so one not named now stays unnamed.
            data = call.memory.get(3 if name == "socketpair" else 0) or b""
            kind = "socket:[" if name == "socketpair" else "pipe:["
            flags = args[1] if name != "pipe" else 0
            cloexec = bool(flags & O_CLOEXEC)  # (SOCK_CLOEXEC is the same bit)
            for k in range(len(data) // 4):
                fd = int.from_bytes(data[4 * k : 4 * k + 4], "little", signed=True)
                live = self._live(pid, fd)
                named = live is not None and live.startswith(kind)
                table[fd] = (live if named and live is not None else _UNKNOWN, cloexec)

    def observe(self, call: Call) -> None:
        """A call that is not printed (recorded for the model only)."""
        self._update(call)

    # -- arguments -------------------------------------------------------------------------------

    def arguments(self, call: Call, string_limit: int | None) -> list[str]:
        """The argument texts, descriptors annotated (before the call's own update)."""
        fn = decode.decoder_for(call.name)
        if fn is not None:
            args = _FdArgs(call, string_limit, indexed=False)
            args.paths = self
            args.pid = call.pid
            return decode.apply_decoder(fn, args)
        texts = decode.plain_arguments(call, string_limit)
        params = prototype(call.name).params
        return [
            self._plain(call, params[i].name, text) if i < len(params) else text
            for i, text in enumerate(texts)
        ]

    def _plain(self, call: Call, param: str, text: str) -> str:
        if param not in _FD_PARAMS:
            return text
        if text == "AT_FDCWD":
            return self.describe_dirfd(call.pid, AT_FDCWD)
        if text.isdigit():
            return self.describe(call.pid, int(text), in_use=not call.failed)
        return text


class _FdArgs(decode.Args):
    """The decoders' view of a call, printing descriptors with their paths."""

    paths: FdPaths
    pid: int

    def fd(self, i: int) -> str:
        fd = self.s32(i)
        if self.retval == -_EBADF:  # not open at the call: /proc could only show a later one
            return self._as(self.paths.describe_before(self.pid, fd), i)
        # A descriptor a call did not refuse was open at the call (see FdPaths.path).
        in_use = not (self.returned and self.failed)
        return self._as(self.paths.describe(self.pid, fd, in_use=in_use), i)

    def new_fd(self, fd: int) -> str:
        return self.paths.describe(self.pid, fd, in_use=True)

    def target_fd(self, i: int) -> str:
        return self._as(self.paths.describe_before(self.pid, self.s32(i)), i)

    def dirfd(self, i: int) -> str:
        return self._as(self.paths.describe_dirfd(self.pid, self.s32(i)), i)


__all__ = ["FD_LIFECYCLE", "FD_RESULTS", "FdPaths", "inheritable_descriptors"]
