"""Where ingestion's clips are processed: a local process pool, or a Ray cluster.

An executor runs a picklable function on each of a batch of independent items
in worker processes and yields ``(item, result)`` as each finishes. The
function opens its clip in the worker, so frames never travel: only what it
returns (a clip's sightings and tracks) comes back, and the caller commits it.
A :class:`~skynet.errors.SkynetError` raised by the function comes back as
its message; a worker that dies (killed, out of memory, its node lost) comes
back as a message saying so. Any other exception is a bug and is raised.

- :class:`LocalPool` — processes on this machine (the default);
- :class:`RayCluster` — one Ray task per item, on a cluster (``--ray ADDRESS``)
  or on one started here (``--ray auto`` when none is running). Ray is an
  extra (``pip install -e '.[ray]'``) and is imported only when asked for.
"""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import ModuleType
from typing import Any, Final, Protocol, TypeVar

from skynet._workers import opencv_single_threaded
from skynet.errors import BadInputError, SkynetError

Item = TypeVar("Item")
Result = TypeVar("Result")

POOL_WORKER_DIED: Final = "its worker process died (killed or out of memory); rerun to complete it"
RAY_WORKER_DIED: Final = (
    "its Ray worker died (killed, out of memory or its node lost) and Ray's retries "
    "ran out; rerun to complete it"
)
#: Times Ray reruns a task whose worker died before the item is reported failed.
RAY_RETRIES: Final = 2
RAY_EXTRA_HINT: Final = "pip install -e '.[ray]'"
#: Crash drill, for fault tests and rehearsals: names a file holding ``FRAMES CLIP``.
#: The worker that takes up that clip claims the file (deletes it, so the drill
#: runs once) and kills itself with SIGKILL after FRAMES frames, as the
#: kernel's out-of-memory killer would.
CRASH_DRILL_ENV: Final = "SKYNET_CRASH_DRILL"

_ADDRESS = re.compile(r"^(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


class Executor(Protocol):
    """Runs ``work`` on items in worker processes, yielding results as they finish."""

    @property
    def name(self) -> str: ...

    def runs_here(self, count: int) -> bool:
        """Whether ``count`` items would run in this process (callbacks can see them)."""
        ...

    def map_unordered(
        self, work: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result | str]]: ...


class LocalPool:
    """A process pool of ``workers`` processes (default: one per CPU) on this machine.

    One item, or one worker, runs in this process. A worker killed mid-item
    breaks the pool: every item not finished by then is reported failed
    (nothing of theirs was committed), and rerunning the batch completes them.
    """

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise BadInputError(f"needs at least one worker, not {workers}", field="--workers")
        self.workers = workers

    @property
    def name(self) -> str:
        return f"local pool ({self.workers or os.cpu_count() or 1} workers)"

    def runs_here(self, count: int) -> bool:
        return min(self.workers or os.cpu_count() or 1, count) <= 1

    def map_unordered(
        self, work: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result | str]]:
        if self.runs_here(len(items)):
            for item in items:
                yield item, _guarded(work, item)
            return
        size = min(self.workers or os.cpu_count() or 1, len(items))
        with opencv_single_threaded(), ProcessPoolExecutor(max_workers=size) as pool:
            futures: dict[Future[Result | str], Item] = {
                pool.submit(_guarded, work, item): item for item in items
            }
            for future in as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool:
                    result = POOL_WORKER_DIED
                yield futures[future], result


class RayCluster:
    """One Ray task per item, on the cluster at ``address``.

    ``address`` is ``"auto"`` (the cluster ``$RAY_ADDRESS`` or ``ray start``
    named on this machine, else a new one started here), ``"local"`` (always
    a new one here, of ``num_cpus`` CPUs) or ``host:port`` / ``ray://host:port``.
    When Ray is already initialised in this process, that connection is used
    and left open; otherwise it is closed when the batch ends. A task whose
    worker dies is retried by Ray (``RAY_RETRIES`` times) before the item is
    reported failed. The cluster's workers need Skynet installed and the clips
    at the same paths (shared storage).
    """

    def __init__(self, address: str = "auto", *, num_cpus: int | None = None) -> None:
        self.address = parse_ray_address(address)
        self.num_cpus = num_cpus

    @property
    def name(self) -> str:
        return f"Ray ({self.address})"

    def runs_here(self, count: int) -> bool:
        return False

    def map_unordered(
        self, work: Callable[[Item], Result], items: Sequence[Item]
    ) -> Iterator[tuple[Item, Result | str]]:
        ray = import_ray()
        connected_here = self._connect(ray)
        task = ray.remote(_in_ray_worker).options(max_retries=RAY_RETRIES, num_cpus=1)
        pending: dict[Any, Item] = {}
        try:
            pending = {task.remote(work, item): item for item in items}
            waiting = list(pending)
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                more, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=0)
                for ref in ready + more:
                    yield pending.pop(ref), _ray_result(ray, ref)
        finally:
            for ref in pending:  # a batch abandoned half-way leaves no work on the cluster
                ray.cancel(ref, force=True)
            if connected_here:
                ray.shutdown()

    def _connect(self, ray: ModuleType) -> bool:
        """Join or start the cluster unless Ray is initialised; True when joined here."""
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        if self.address == "local":
            options["include_dashboard"] = False
            if self.num_cpus is not None:
                options["num_cpus"] = self.num_cpus
        try:
            ray.init(address=None if self.address == "auto" else self.address, **options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            msg = f"cannot join the Ray cluster at {self.address} ({detail})"
            raise SkynetError(msg) from None
        return True


def parse_ray_address(address: str) -> str:
    """``auto``, ``local``, ``host:port`` or ``ray://host:port``; else bad input."""
    value = address.strip()
    if value in ("auto", "local") or _ADDRESS.match(value):
        return value
    msg = (
        "--ray takes auto or a cluster address such as ray://head:10001 or head:6379, "
        f"not {address!r}"
    )
    raise BadInputError(msg, field="--ray")


def import_ray() -> ModuleType:
    """The ``ray`` module, or bad input naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        msg = f"--ray needs Ray, which is not installed: {RAY_EXTRA_HINT}"
        raise BadInputError(msg, field="--ray") from None
    return ray


def executor_for(ray: str | None, workers: int | None) -> Executor:
    """The executor the ``--ray`` and ``--workers`` options ask for."""
    if ray is None:
        return LocalPool(workers)
    if workers is not None:
        msg = "--workers sizes the local pool; with --ray the cluster's CPUs set the parallelism"
        raise BadInputError(msg, field="--workers")
    import_ray()
    return RayCluster(ray)


def crash_drill(clip: str) -> Callable[[int], None] | None:
    """The frame callback of the crash drill when it is armed for ``clip`` (see CRASH_DRILL_ENV)."""
    path = os.environ.get(CRASH_DRILL_ENV)
    if not path:
        return None
    try:
        frames, named = Path(path).read_text(encoding="utf-8").strip().split(maxsplit=1)
        after = int(frames)
    except (OSError, ValueError):
        return None
    if named != clip:
        return None
    try:
        os.unlink(path)  # claimed: the drill runs once
    except FileNotFoundError:
        return None
    seen = 0

    def count(_frame_index: int) -> None:
        nonlocal seen
        seen += 1
        if seen >= after:
            os.kill(os.getpid(), signal.SIGKILL)

    return count


def _guarded(work: Callable[[Item], Result], item: Item) -> Result | str:
    """``work(item)``, or the message of the SkynetError it raised."""
    try:
        return work(item)
    except SkynetError as exc:
        return str(exc)


def _in_ray_worker(work: Callable[[Item], Result], item: Item) -> Result | str:
    """A Ray task: OpenCV kept to one thread (the cluster's tasks are the parallelism)."""
    import cv2

    cv2.setNumThreads(1)  # a Ray worker is started afresh, not forked: this is safe here
    return _guarded(work, item)


def _ray_result(ray: ModuleType, ref: Any) -> Any:
    """A finished task's value; the worker-death message when Ray gave up on it."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # a bug in the task: raised here as itself
        raise exc.as_instanceof_cause() from None
    except (
        ray.exceptions.WorkerCrashedError,
        ray.exceptions.NodeDiedError,
        ray.exceptions.OutOfMemoryError,
        ray.exceptions.ObjectLostError,
        ray.exceptions.TaskCancelledError,
    ):
        return RAY_WORKER_DIED
