"""The first program of every run, inside the sandbox: `python -I -S launcher.py CONFIG ARGV...`.

It runs as root when the server is root (with bubblewrap: only CAP_SETUID, CAP_SETGID and CAP_CHOWN left),
copies the caller's files into the work directory and hands it to the run's uid, then forks the command
with the rlimits set and privileges dropped. It stays the command's parent, so the code cannot signal the
server (`os.getppid()` is this launcher), orphans re-parent to it and their CPU time is counted, and it
reports the command's exit status, CPU seconds and peak RSS on `status_fd`. For `run_tests` it then sends
the pytest report file the same way, read as the run's uid (it can get nothing the code could not print).

Standard library only (the sandbox's interpreter runs it with no site-packages), and few imports: each one
costs every run start-up time. CONFIG is a Python literal written by the server (json/re would cost ~50 ms).
"""

from __future__ import annotations

import os
import resource
import stat
import sys

TYPE_CHECKING = False  # `typing` is not loaded at start-up: importing it would cost every run
if TYPE_CHECKING:
    from typing import Any, NoReturn

PR_SET_CHILD_SUBREAPER = 36


def copy_input(src: str, work: str) -> None:
    """Copy the staged files (read-only bind, or a host directory) into the run's work directory."""
    for root, _dirs, files in os.walk(src):
        dest = work + root[len(src) :]
        os.makedirs(dest, exist_ok=True)
        for name in files:
            with open(os.path.join(root, name), "rb") as f, open(os.path.join(dest, name), "wb") as g:
                g.write(f.read())


def hand_over(work: str, uid: int, gid: int) -> None:
    """Give the work directory to the run's uid; bottom-up: once a directory is the run's (mode 0700), root
    here cannot enter it."""
    for root, dirs, files in os.walk(work, topdown=False):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
    os.chown(work, uid, gid)


def become_subreaper() -> None:
    """Orphans of the code re-parent to this launcher, so their CPU time is counted."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:  # noqa: SIM105 - contextlib is not loaded at start-up
        pass


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def exec_command(cfg: dict[str, Any], cmd: list[str]) -> NoReturn:
    """In the forked child: set the rlimits, become the run's uid and exec the command."""
    try:
        os.close(cfg["status_fd"])
        for name, (soft, hard) in cfg["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        if cfg["uid"] is not None:
            drop_privileges(cfg["uid"], cfg["gid"])
        os.chdir(cfg["work"])
        os.execve(cmd[0], cmd, cfg["env"])
    except BaseException as e:
        os.write(2, f"sandbox: cannot start {cmd[0]}: {e}\n".encode())
    finally:
        os._exit(127)


def send_report(cfg: dict[str, Any]) -> None:
    """Copy the report file (at most `report_max` bytes) to `status_fd`, from a child that is the run's uid:
    the file and every directory above it are the code's to replace, so read it with the code's rights."""
    pid = os.fork()
    if pid == 0:
        try:
            if cfg["uid"] is not None:
                drop_privileges(cfg["uid"], cfg["gid"])
            fd = os.open(cfg["report"], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            if stat.S_ISREG(os.fstat(fd).st_mode):
                left = cfg["report_max"]
                while left > 0:
                    chunk = os.read(fd, min(left, 65536))
                    if not chunk:
                        break
                    left -= len(chunk)
                    while chunk:
                        chunk = chunk[os.write(cfg["status_fd"], chunk) :]
        except BaseException:
            pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def main(argv: list[str]) -> NoReturn:
    cfg = eval(argv[1], {"__builtins__": {}})  # a literal written by the server
    cmd = argv[2:]
    copy_input(cfg["input"], cfg["work"])
    if cfg["uid"] is not None:
        hand_over(cfg["work"], cfg["uid"], cfg["gid"])
    become_subreaper()
    pid = os.fork()
    if pid == 0:
        exec_command(cfg, cmd)
    # The launcher stays as the code's parent (so os.getppid() is not the server) and reports its usage.
    _, status, ru = os.wait4(pid, 0)
    os.write(cfg["status_fd"], f"{status} {ru.ru_utime + ru.ru_stime!r} {ru.ru_maxrss}\n".encode())
    if cfg.get("report"):
        send_report(cfg)
    code = os.waitstatus_to_exitcode(status)
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv)
