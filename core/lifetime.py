"""Processes we start end with us, also when we are killed.

``mentoring40 serve`` and ``search serve`` start Meilisearch, and ``serve --workers N``
has uvicorn start worker processes. Our own cleanup (a ``finally``) runs on SIGTERM and
Ctrl-C; on SIGKILL (or the OOM killer) nothing of ours runs, so we ask the Linux kernel
to send the child SIGTERM when we die: ``prctl(PR_SET_PDEATHSIG)``.

The kernel sends it when the *thread* that forked the child exits, not the whole
process, so it is asked for only when the main thread (which lives as long as the
process) forks. Elsewhere (not Linux, another thread) children are stopped by our
cleanup alone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def preexec_die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets SIGTERM when we die.

    None where the kernel cannot do it for us (not Linux, or not the main thread).
    """
    prctl = _prctl()  # looked up before the fork: the child only makes the call
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()
    death_signal = ctypes.c_ulong(signal.SIGTERM)

    def preexec() -> None:
        # Between fork and exec: one system call and one check, nothing that takes a lock.
        if prctl(PR_SET_PDEATHSIG, death_signal) != 0 or os.getppid() != parent:
            os._exit(1)  # no death signal, or the parent died before it was set

    return preexec


def die_with_parent(parent_pid: int) -> None:
    """Called in a child: SIGTERM to this process when ``parent_pid`` ends, and exit now
    if it already has (it may die before this call)."""
    prctl = _prctl()
    if prctl is None:
        return
    prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGTERM))
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)
