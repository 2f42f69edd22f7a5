"""Extraction off the event loop: a pool of worker processes running pipeline.worker's call, with a
time limit per page and recovery from workers that die."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar, cast

from feedd.dedup import Fingerprinter
from feedd.extract import ExtractionFailure, PageInput
from feedd.pipeline.worker import Prepared, prepare_entry

log = logging.getLogger("feedd")
T = TypeVar("T")


class ExtractorPool:
    """Runs extraction off the event loop: in worker processes, or inline when workers = 0."""

    #: Pools started again after workers died, before extraction moves into the main process.
    MAX_RESTARTS = 3
    #: Pages a worker extracts before it is replaced by a fresh one.
    TASKS_PER_WORKER = 1000

    def __init__(self, workers: int | None, timeout: float = 120.0) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._restarts = 0
        # The worker processes this object started: the only ones a hung extraction may end.
        self._context = _RecordingContext(multiprocessing.get_context("forkserver"))

    def __enter__(self) -> ExtractorPool:
        if self.workers > 0:
            self._pool = self._new_pool()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers never inherit the event loop's threads; the server imports the
        # extractor once and forks workers from that warm image.
        self._context.set_forkserver_preload(["feedd.extract.extractor", "feedd.pipeline.worker"])
        # Workers are replaced now and then: lxml and trafilatura's caches let a long-lived
        # worker's heap creep up page after page.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            # A BaseContext in all but name: everything but Process goes to the real one.
            mp_context=cast(BaseContext, self._context),
            max_tasks_per_child=self.TASKS_PER_WORKER,
        )

    async def prepare(
        self, page: PageInput, fingerprinter: Fingerprinter | None
    ) -> Prepared | ExtractionFailure:
        """prepare_entry in a worker process (in this one when workers = 0)."""
        return await self.run(prepare_entry, page, fingerprinter)

    async def run(self, function: Callable[..., T], *args: object) -> T | ExtractionFailure:
        """`function(*args)` in a worker process; a failure when it takes too long or kills its
        worker."""
        pool = self._pool
        if pool is None:
            return function(*args)
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, function, *args)
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            # A page that keeps lxml or trafilatura busy this long is pathological: stop it the
            # only way a process pool allows, by ending its workers (the others' pages fail as
            # "worker died" and are retried on the next pass).
            log.error("extraction took longer than %gs; restarting the worker pool", self.timeout)
            for process in self._context.started:
                if process.is_alive():
                    process.kill()
            self._replace_broken(pool, crashed=False)
            return ExtractionFailure(f"extraction took longer than {self.timeout:g}s")
        except BrokenProcessPool:
            self._replace_broken(pool)
            return ExtractionFailure("extraction worker died")

    def _replace_broken(self, pool: ProcessPoolExecutor, *, crashed: bool = True) -> None:
        if pool is not self._pool:
            return  # another task already replaced it
        pool.shutdown(wait=False, cancel_futures=True)
        # Only crashes count: moving a page that hangs into this process would hang the pass.
        self._restarts += crashed
        if self._restarts > self.MAX_RESTARTS:
            # e.g. a script that starts feedd without `if __name__ == "__main__":` kills every
            # worker at import; extraction still works in this process.
            log.error("extraction workers keep dying; extracting in the main process from now on")
            self._pool = None
        else:
            if crashed:
                log.error("an extraction worker died; starting a new worker pool")
            self._pool = self._new_pool()


class _RecordingContext:
    """A multiprocessing context that remembers the processes it starts, so that ending a hung
    pool's workers never touches another process (feedd may be a library in a larger program)."""

    def __init__(self, context: BaseContext) -> None:
        self._context = context
        self.started: weakref.WeakSet[BaseProcess] = weakref.WeakSet()

    def Process(self, *args: Any, **kwargs: Any) -> BaseProcess:  # noqa: N802 - the context's API
        process = self._context.Process(*args, **kwargs)  # type: ignore[attr-defined]
        self.started.add(process)
        return process

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)
