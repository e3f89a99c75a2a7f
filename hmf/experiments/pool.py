"""Worker processes that stop when asked, and never outlive the process that started them.

:func:`run_tasks` runs ``fn(*args)`` for each task in ``workers`` spawned processes (JAX is not
fork-safe), handing a worker its next task only when it reports the last one done, so nothing
is queued that a stop would have to take back. The first SIGINT (Ctrl-C), SIGTERM (``kill``) or
SIGHUP (a closed terminal) that the main process gets stops handing out tasks, ends the workers
(SIGTERM, then SIGKILL after a grace period), lets the caller clean what the unfinished tasks
left, and raises :class:`~hmf.errors.Interrupted`; further signals while it cleans up are
ignored. Workers ignore Ctrl-C themselves (a terminal sends it to the whole process group) and
watch their parent: if it dies - even by SIGKILL, which it cannot catch - they release their
locks, remove the file they are writing, and exit within about a second.

With one worker the tasks run in the calling process, under the same signal handling.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence

from hmf.errors import Interrupted
from hmf.experiments.records import release_held

__all__ = ["run_tasks", "stop_on_signals", "WorkerFailed"]

POLL_SECONDS = 0.5  # how often the main process checks its workers, and a worker its parent
GRACE_SECONDS = 5.0  # how long a worker has to end on SIGTERM before it is killed
_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

Task = tuple[Callable, tuple]


class WorkerFailed(RuntimeError):
    """A worker process raised an unexpected error or died; carries its traceback."""


_DEPTH = [0]  # stop_on_signals blocks open in this process: only the outermost one acts


@contextlib.contextmanager
def stop_on_signals(*, exiting: bool = False):
    """Within the block, the first SIGINT / SIGTERM / SIGHUP raises :class:`Interrupted` in the
    main thread and later ones are ignored (so cleanup is not cut short); the previous handlers
    come back afterwards - unless ``exiting`` (a command that ends when the block does), when
    after an interruption the signals stay ignored, so that a Ctrl-C pressed again while the
    process exits cannot kill it halfway. Signals the process ignores (``nohup``, a background
    job) stay ignored. A nested block, or one outside the main thread, does nothing."""
    if threading.current_thread() is not threading.main_thread() or _DEPTH[0]:
        yield
        return
    seen: list[int] = []

    def handler(signum, frame):
        seen.append(signum)
        if len(seen) == 1:
            raise Interrupted(signum)

    previous = {}
    for signum in _SIGNALS:
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, handler)
    _DEPTH[0] += 1
    try:
        yield
    finally:
        _DEPTH[0] -= 1
        for signum, old in previous.items():
            signal.signal(signum, signal.SIG_IGN if seen and exiting else old)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent:  # re-parented: the process that started us is gone
            try:
                release_held()
            finally:
                os._exit(70)


def _portable(exc: BaseException):
    """The exception itself if it survives pickling, else a WorkerFailed with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return WorkerFailed(f"{type(exc).__name__}: {exc}")


def _worker(parent: int, tasks, results, initializer) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    if hasattr(signal, "pthread_sigmask"):  # blocked by the parent while it started us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if initializer is not None:
        initializer()
    while True:
        item = tasks.get()
        if item is None:
            return
        index, fn, args = item
        try:
            results.put((index, True, fn(*args), ""))
        except BaseException as exc:  # reported to the parent, which decides
            results.put((index, False, _portable(exc), traceback.format_exc()))


def _end(processes) -> None:
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        if p.is_alive():
            p.kill()
            p.join(GRACE_SECONDS)


def _raise_failure(value: BaseException, text: str):
    """Raise a worker's exception here, as itself (a user's error - UsageError, DataError -
    stays one line at the command line), with the worker's traceback as a note."""
    if text and hasattr(value, "add_note"):
        value.add_note(f"in a worker process:\n{text}")
    raise value


def run_tasks(
    tasks: Sequence[Task],
    workers: int,
    on_result: Callable[[int, object], None],
    *,
    initializer: Callable[[], None] | None = None,
    on_abandon: Callable[[list[int], list[int]], None] | None = None,
) -> None:
    """Run every ``fn(*args)`` of ``tasks``; ``on_result(index, value)`` is called in this
    process as each finishes. A task's exception stops everything and is raised here.

    When the run stops early (a signal, an error), ``on_abandon(indices, pids)`` is called
    after the workers have ended, with the tasks that were running and the workers' pids, so
    the caller can remove what they left half done.
    """
    workers = max(1, min(int(workers), len(tasks)))
    if workers == 1:
        with stop_on_signals():
            for index, (fn, args) in enumerate(tasks):
                try:
                    value = fn(*args)
                except BaseException:
                    if on_abandon is not None:
                        on_abandon([index], [os.getpid()])
                    raise
                on_result(index, value)
        return

    context = multiprocessing.get_context("spawn")
    task_queue, result_queue = context.Queue(), context.Queue()
    processes = [
        context.Process(
            target=_worker,
            args=(os.getpid(), task_queue, result_queue, initializer),
            daemon=True,  # also ended by multiprocessing if this process exits normally
        )
        for _ in range(workers)
    ]
    pending = list(enumerate(tasks))
    running: set[int] = set()

    def hand_out() -> None:
        if pending:
            index, (fn, args) = pending.pop(0)
            running.add(index)
            task_queue.put((index, fn, args))

    with stop_on_signals():
        try:
            # A Ctrl-C reaches every process of the terminal's group: block it while the
            # workers start (they inherit the mask) so that none dies of it before it has
            # set itself to ignore it.
            block = hasattr(signal, "pthread_sigmask")
            if block:
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                for p in processes:
                    p.start()
            finally:
                if block:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            for _ in range(workers):
                hand_out()
            while running:
                try:
                    index, ok, value, text = result_queue.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    dead = [p for p in processes if p.exitcode is not None]
                    if dead:
                        raise WorkerFailed(
                            f"worker process {dead[0].pid} ended unexpectedly (exit status "
                            f"{dead[0].exitcode}; out of memory?)"
                        ) from None
                    continue
                running.discard(index)
                if not ok:
                    _raise_failure(value, text)
                on_result(index, value)
                hand_out()
            for _ in processes:
                task_queue.put(None)
            for p in processes:
                p.join(GRACE_SECONDS)
        except BaseException:
            _end(processes)
            if on_abandon is not None:
                on_abandon(sorted(running), [p.pid for p in processes if p.pid is not None])
            raise
        finally:
            _end(processes)
            for q in (task_queue, result_queue):
                q.close()
                q.cancel_join_thread()
