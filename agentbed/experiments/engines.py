"""Engines that execute a study's independent runs: local processes, or a Ray cluster.

``testbed compare`` and ``testbed sweep`` each hand an engine a list of :class:`RunTask` and a
job function; the engine calls ``job(task.out, *task.args, progress=...)`` once per task and
reports each result as it finishes. A job writes its files only under the directory it is
given and depends only on its arguments (scenario, policy, seed), so where it ran never
changes a byte of the output (paths in its result are the caller's to re-anchor: a Ray run's
directory was a scratch one): the default
:class:`ProcessEngine` runs the jobs in this process or in a pool of local worker processes,
:class:`agentbed.experiments.ray_engine.RayEngine` runs them as Ray tasks (each in a scratch
directory on whichever node Ray picks) and writes the files they made on the machine that
asked.

A run that raises becomes :class:`RunFailed`, named after its task (``random seed 3``,
``run.policy=fifo seed 2``); Ctrl-C (``KeyboardInterrupt``) stops every worker and propagates.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol, cast

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "EngineError",
    "Job",
    "ProcessEngine",
    "RunEngine",
    "RunFailed",
    "RunTask",
    "make_engine",
    "prepare_workers",
]

ENGINE_NAMES = ("process", "ray")
"""What ``--engine`` accepts."""

DEFAULT_ENGINE = "process"

Job = Callable[..., Any]
"""``job(out, *args, progress=stream_or_None)``: one run, writing only under ``out``."""


class EngineError(ValueError):
    """An engine that cannot be had: an unknown name, bad settings, or Ray not installed."""


class RunFailed(Exception):
    """A run raised; the message names the run and says what it raised.

    Attributes:
        name: The task's name (``fifo seed 3``).
        reason: ``ExceptionType: message`` of what the run raised.
    """

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def failure_reason(err: BaseException) -> str:
    """``ExceptionType: message``, the way the commands print a failure."""
    return f"{type(err).__name__}: {err}"


@dataclass(frozen=True, slots=True)
class RunTask:
    """One independent run.

    Attributes:
        name: How messages name it (``random seed 3``).
        out: The directory its files go to.
        args: The job's arguments after ``out`` (picklable: they may travel to another process
            or machine).
    """

    name: str
    out: Path
    args: tuple[Any, ...]


Done = Callable[[int, Any], None]
"""Called with a task's index and its job's result as each run finishes."""


class RunEngine(Protocol):
    """Runs independent jobs and reports each result as it finishes.

    Attributes:
        in_process: Whether runs go one by one in this process (so a progress bar can show
            them).
    """

    in_process: bool

    def run(
        self,
        job: Job,
        tasks: Sequence[RunTask],
        done: Done,
        *,
        say: Callable[[str], None],
        progress: IO[str] | None = None,
        starting: Callable[[int], None] | None = None,
    ) -> None:
        """Run ``job`` on every task, calling ``done(index, result)`` as each finishes.

        Args:
            job: The run (a module-level function, so other processes can import it).
            tasks: What to run.
            done: Gets each result, in the order runs finish (in task order when they run one
                by one); an exception it raises stops the engine and propagates.
            say: Gets a line announcing a parallel start (``running 4 runs in 2 processes``).
            progress: A progress-bar stream for runs in this process; workers get None.
            starting: Called with a task's index just before it runs, when runs go one by one
                in this process.

        Raises:
            RunFailed: a run raised an exception.
            KeyboardInterrupt: Ctrl-C; workers are stopped first.
        """
        ...

    def describe(self) -> str:
        """The engine's settings as the command line gives them (``--jobs 2``)."""
        ...


def prepare_workers() -> None:
    """Compile the project's contracts before runs start in other processes."""
    # Compile (and on a fresh machine install the compiler) once, here, so the workers find a
    # warm cache instead of racing each other to fill it.
    from agentbed.chain.compiler import compile_project

    compile_project()


# ---------------------------------------------------------------------------------------------
# Local processes
# ---------------------------------------------------------------------------------------------


class ProcessEngine:
    """Runs in this process (``jobs == 1``, or a single task) or in a local process pool.

    Args:
        jobs: Worker processes (>= 1).

    Raises:
        EngineError: ``jobs < 1``.
    """

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise EngineError(f"--jobs must be >= 1, got {jobs}")
        self.jobs = jobs
        self.in_process = jobs == 1

    def describe(self) -> str:
        """``--jobs J``."""
        return f"--jobs {self.jobs}"

    def run(
        self,
        job: Job,
        tasks: Sequence[RunTask],
        done: Done,
        *,
        say: Callable[[str], None],
        progress: IO[str] | None = None,
        starting: Callable[[int], None] | None = None,
    ) -> None:
        """Run the tasks here one by one, or in up to ``jobs`` worker processes
        (:meth:`RunEngine.run`)."""
        if self.jobs == 1 or len(tasks) <= 1:
            for index, task in enumerate(tasks):
                if starting is not None:
                    starting(index)
                done(index, _call_here(job, task, progress))
            return
        prepare_workers()
        workers = min(self.jobs, len(tasks))
        say(f"running {len(tasks)} runs in {workers} processes ...")
        _run_in_workers(job, tasks, done, workers)


def _call_here(job: Job, task: RunTask, progress: IO[str] | None) -> Any:
    try:
        return job(task.out, *task.args, progress=progress)
    except Exception as err:
        raise RunFailed(task.name, failure_reason(err)) from err


# A worker gets (index, job, task) or None (stop) on its own pipe and answers each task with
# (index, failure or None, result). One pipe per worker and no lock shared between processes:
# multiprocessing.Pool's terminate() can deadlock when it kills a worker holding the result
# queue's lock (seen here under load), and ProcessPoolExecutor lets a failed study's running
# runs finish before it stops.
Call = tuple[int, Job, RunTask]
Answer = tuple[int, str | None, Any]


def _run_in_workers(job: Job, tasks: Sequence[RunTask], done: Done, workers: int) -> None:
    """Run ``tasks`` in ``workers`` processes, each taking the next task when it is free.

    On an exception (a failed run, ``done`` raising, Ctrl-C) every worker is stopped with
    SIGTERM, which interrupts its run like Ctrl-C (so an event log ends with its
    ``interrupted`` record), and joined before the exception propagates.
    """
    context = multiprocessing.get_context()
    queue = list(enumerate(tasks))[::-1]  # popped from the end: task order
    started: list[tuple[BaseProcess, Connection]] = []
    busy: dict[Connection, int] = {}

    def feed(conn: Connection) -> None:
        if queue:
            index, task = queue.pop()
            conn.send((index, job, task))
            busy[conn] = index
        else:
            conn.send(None)

    finished = False
    try:
        for _ in range(workers):
            mine, theirs = context.Pipe()
            worker = context.Process(target=_worker, args=(theirs,), daemon=True)
            worker.start()
            theirs.close()
            started.append((worker, mine))
            feed(mine)
        while busy:
            for ready in wait(list(busy)):
                conn = cast(Connection, ready)
                index = busy.pop(conn)
                try:
                    answer: Answer = conn.recv()
                except EOFError:  # killed (out of memory?) without a word
                    raise RunFailed(tasks[index].name, "its worker process died") from None
                _, failure, result = answer
                if failure is not None:
                    raise RunFailed(tasks[index].name, failure)
                done(index, result)
                feed(conn)
        finished = True
    finally:
        for process, _ in started:
            if not finished and process.is_alive():
                process.terminate()
        for process, conn in started:
            process.join()
            conn.close()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _worker(conn: Connection) -> None:
    # Top-level so that worker processes can import it. Ctrl-C reaches the whole process group;
    # the parent alone decides what to do, so workers ignore it and print no tracebacks. The
    # parent stops them with SIGTERM, taken like Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while (call := conn.recv()) is not None:
            conn.send(_answer(call))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass  # stopped by the parent, or the parent is gone
    finally:
        conn.close()


def _answer(call: Call) -> Answer:
    index, job, task = call
    try:
        return index, None, job(task.out, *task.args, progress=None)
    except Exception as err:
        # Text only: the run's own exception may not survive pickling back to the parent.
        return index, failure_reason(err), None


# ---------------------------------------------------------------------------------------------
# Choosing one
# ---------------------------------------------------------------------------------------------


def make_engine(name: str, *, jobs: int | None = None, address: str | None = None) -> RunEngine:
    """The engine ``--engine NAME`` asks for.

    Args:
        name: One of :data:`ENGINE_NAMES`.
        jobs: ``process``: worker processes; ``ray``: CPUs of the local cluster it starts.
            Default: 1.
        address: ``ray`` only: an existing cluster to connect to (``auto``, ``HOST:PORT``,
            ``ray://HOST:PORT``) instead of starting a local one.

    Raises:
        EngineError: an unknown name, ``jobs < 1``, an address for the process engine,
            ``jobs`` together with an address, or Ray not installed.
    """
    if name not in ENGINE_NAMES:
        known = ", ".join(ENGINE_NAMES)
        raise EngineError(f"--engine {name!r}: unknown engine (choose from {known})")
    if jobs is not None and jobs < 1:
        raise EngineError(f"--jobs must be >= 1, got {jobs}")
    if name == "process":
        if address is not None:
            raise EngineError("--ray-address needs --engine ray")
        return ProcessEngine(jobs or 1)
    if address is not None and jobs is not None:
        raise EngineError(
            "--jobs sets the CPUs of the local Ray cluster; with --ray-address the cluster's "
            "own CPUs decide"
        )
    from agentbed.experiments.ray_engine import RayEngine

    return RayEngine(address=address, cpus=jobs or 1)
