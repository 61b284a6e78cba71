"""The Ray engine: a study's runs as tasks on a Ray cluster (``--engine ray``).

Ray (https://docs.ray.io) is an optional dependency (``pip install 'agentbed[cluster]'``); it
is imported when the engine first runs. Without ``--ray-address`` the engine starts a local
cluster with ``--jobs`` CPUs for the command and stops it afterwards; with an address it
connects to an existing cluster (``ray start --head`` on one machine, ``ray start
--address=HEAD:6379`` on the others), whose every node needs the same agentbed installed (and
node, for the compiler, unless its compile cache is warm). When this process has already
called ``ray.init`` (a notebook, the test suite), that connection is used and left open.

Each run is one task needing one CPU. It runs in a scratch directory on its node and returns
its result with the bytes of every file it wrote; this process writes them into the run's
output directory, so a run's files are on the machine that asked whichever node ran it, and
they are the bytes the process engine writes (a run depends only on its scenario, policy and
seed; nothing here reads the clock or a global random generator). A finished run is written
as soon as it is reported, which is what an interrupted sweep resumes from. Ctrl-C cancels
every task not yet reported.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import socket
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from agentbed.agents.reporting.files import write_atomic
from agentbed.experiments.engines import (
    Done,
    EngineError,
    Job,
    RunFailed,
    RunTask,
    failure_reason,
    prepare_workers,
)

INSTALL_HINT = 'pip install "agentbed[cluster]"'

Files = dict[str, bytes]
"""A run's files: path relative to its output directory (POSIX separators) -> content."""


def ray_installed() -> bool:
    """Whether Ray can be imported (answered without importing it)."""
    try:
        return importlib.util.find_spec("ray") is not None
    except ValueError:  # a module without __spec__
        return False


def import_ray() -> Any:
    """The ``ray`` module.

    Raises:
        EngineError: Ray is not installed (the message says which extra installs it).
    """
    try:
        import ray
    except ImportError:
        raise EngineError(f"--engine ray needs Ray: {INSTALL_HINT}") from None
    return ray


class RayEngine:
    """Runs each task as a Ray task (:class:`agentbed.experiments.engines.RunEngine`).

    Args:
        address: An existing cluster (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``); None
            starts a local one.
        cpus: CPUs of the local cluster (how many runs go at once); unused with an address.

    Raises:
        EngineError: ``cpus < 1``, or Ray is not installed.
    """

    def __init__(self, *, address: str | None = None, cpus: int = 1) -> None:
        if cpus < 1:
            raise EngineError(f"--jobs must be >= 1, got {cpus}")
        if not ray_installed():
            raise EngineError(f"--engine ray needs Ray: {INSTALL_HINT}")
        self.address = address
        self.cpus = cpus
        self.in_process = False

    def describe(self) -> str:
        """``--engine ray`` and where its cluster is."""
        where = f"--ray-address {self.address}" if self.address else f"--jobs {self.cpus}"
        return f"--engine ray, {where}"

    def init_options(self) -> dict[str, Any]:
        """What ``ray.init`` gets: a new local cluster of ``cpus`` CPUs, or the address."""
        if self.address is not None:
            return {"address": self.address, "log_to_driver": False}
        # "local" starts a new cluster even when a `ray start` one runs on this machine.
        return {
            "address": "local",
            "num_cpus": self.cpus,
            "include_dashboard": False,
            "log_to_driver": False,
        }

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
        """Run every task on the cluster (:meth:`RunEngine.run`); files are written here.

        Raises:
            EngineError: the cluster at ``address`` cannot be reached.
            RunFailed: a run raised, or its worker died.
            KeyboardInterrupt: Ctrl-C; the tasks not yet reported are cancelled.
        """
        if not tasks:
            return
        ray = import_ray()
        started = not ray.is_initialized()
        if started:
            if self.address is not None:
                check_reachable(self.address)
            ray.init(logging_level=logging.WARNING, **self.init_options())
        try:
            if self.address is None:
                prepare_workers()  # a local cluster shares this machine's compile cache
            cpus = int(ray.cluster_resources().get("CPU", 0))
            say(f"running {len(tasks)} runs on Ray ({cpus} CPUs) ...")
            _gather(ray, job, tasks, done)
        finally:
            if started:
                ray.shutdown()


def check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail fast when a ``HOST:PORT`` or ``ray://HOST:PORT`` address does not answer.

    Ray itself keeps retrying an unreachable head for minutes, printing a warning every few
    seconds; one connection attempt says the same in one line. Other forms (``auto``) are left
    to Ray.

    Raises:
        EngineError: nothing accepts connections at the address.
    """
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as err:
        raise EngineError(f"--ray-address {address}: cannot connect ({err})") from None


def _gather(ray: Any, job: Job, tasks: Sequence[RunTask], done: Done) -> None:
    """Submit every task, then write and report each run as it finishes."""
    remote = ray.remote(num_cpus=1)(_run_in_scratch)
    pending = {remote.remote(job, task.args): i for i, task in enumerate(tasks)}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ready[0])
            task = tasks[index]
            try:
                reason, result, files = ray.get(ready[0])
            except ray.exceptions.RayError as err:  # the worker or its node died
                raise RunFailed(task.name, failure_reason(err).splitlines()[0]) from None
            if reason is not None:
                raise RunFailed(task.name, reason)
            write_files(task.out, files)
            done(index, result)
    finally:
        for ref in pending:  # Ctrl-C or a failure: nothing else should run
            with contextlib.suppress(Exception):  # the exception on its way is the one to see
                ray.cancel(ref, force=True)


def _run_in_scratch(job: Job, args: tuple[Any, ...]) -> tuple[str | None, Any, Files]:
    # Runs on a worker. A failure comes back as text: the run's exception may not survive
    # the trip, and a Ray task error would wrap it in Ray's traceback.
    with tempfile.TemporaryDirectory(prefix="agentbed-run-") as scratch:
        out = Path(scratch) / "run"
        try:
            result = job(out, *args, progress=None)
        except Exception as err:
            return failure_reason(err), None, {}
        return None, result, read_files(out)


def read_files(directory: Path) -> Files:
    """Every file under ``directory``, by relative POSIX path, in sorted order."""
    if not directory.is_dir():
        return {}
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def write_files(directory: Path, files: Files) -> None:
    """Write each of ``files`` under ``directory``, each atomically.

    Raises:
        ValueError: a path that would leave ``directory``.
    """
    for name, data in files.items():
        path = directory / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ValueError(f"run file {name!r} is outside its directory")
        write_atomic(path, _writer(data))


def _writer(data: bytes) -> Callable[[Path], object]:
    return lambda tmp: tmp.write_bytes(data)
