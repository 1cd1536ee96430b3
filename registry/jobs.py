"""The scheduler: its persistent job store, its life and its lease (the jobs themselves and
their runs are registry/scheduled_jobs.py).

Every web process (uvicorn worker, or server on another host sharing the database) with
REGISTRY_SCHEDULER=1 (the default) competes for one lease in the database
(registry/ops/lease.py); only its holder runs the scheduler, and another process takes over
when the holder stops renewing it. Each run checks the lease again and stores the job's next
run time before it starts, so a tick runs once even across a hand-over. The tests set
REGISTRY_SCHEDULER=0. Every job is idempotent and takes the clock as a parameter (`now`),
so the CLI (`registry jobs run NAME --now ...`) and the tests run the same code the
scheduler runs. Each run is recorded in `job_run`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import pickle
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from piccolo.columns import UUID, Text, Timestamptz, Varchar
from piccolo.table import Table

from registry.common import now as utcnow
from registry.config import Settings, load_settings
from registry.db import unit_of_work
from registry.ops.lease import DatabaseLease
from registry.scheduled_jobs import JOBS, JobRun, JobRunOut, describe, run_job

log = logging.getLogger("registry.jobs")


# --- tables --------------------------------------------------------------------------------
# System-wide, not per ambito: one schedule serves every ambito of the installation.


class SchedulerJob(Table, tablename="scheduler_job"):
    """APScheduler's persistent job store, on the registry's own database."""

    id = UUID(primary_key=True)
    job_id = Varchar(length=191, unique=True)
    next_run_time = Timestamptz(null=True, default=None)
    job_state = Text()  # base64 of APScheduler's pickled job state, as its own stores keep it
    updated_at = Timestamptz()


_settings: Settings | None = None
_leader: SchedulerLeader | None = None


async def run_scheduled(name: str) -> None:
    """What the scheduler calls (by this textual reference, which is what the store keeps)."""
    leader = _leader
    if leader is not None and not await leader.confirm():
        log.warning("job %s not run: this process no longer holds the scheduler lease", name)
        return
    await run_job(name, _settings or load_settings(), trigger="schedule")


# --- the persistent job store --------------------------------------------------------------


class PiccoloJobStore(MemoryJobStore):
    """APScheduler's job store, persisted in the registry's own database through Piccolo.

    Why not SQLAlchemyJobStore: it would add SQLAlchemy plus a second, synchronous PostgreSQL
    driver (the registry uses asyncpg) and blocking queries on the event loop, for five rows.
    APScheduler 3 calls job stores synchronously from inside the event loop, where an async
    ORM cannot be awaited; so this store serves reads from memory and writes every change
    through to the `scheduler_job` table in the background, in order, coalescing repeats.
    The rows are loaded before the scheduler starts. If the process dies before a write
    lands, the stored next run time is the older one and the job runs once more on restart:
    harmless, since every job is idempotent.
    """

    def __init__(self) -> None:
        super().__init__()
        self._loaded: list[dict[str, Any]] = []
        self._dirty: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        self._loaded = await SchedulerJob.select(SchedulerJob.job_id, SchedulerJob.job_state)

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        for row in self._loaded:
            try:
                MemoryJobStore.add_job(self, self._reconstitute(row["job_state"]))
            except Exception:
                # Code moved or the state is unreadable: drop it, reconcile() adds it anew.
                log.warning("dropping unreadable stored job %s", row["job_id"], exc_info=True)
                self._dirty.add(row["job_id"])
        self._loaded = []
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def _reconstitute(self, text: str) -> Job:
        state = pickle.loads(base64.b64decode(text))  # our own rows, written by this class
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _touch(self, job_id: str) -> None:
        self._dirty.add(job_id)
        if self._wake is not None:
            self._wake.set()

    def add_job(self, job: Job) -> None:
        super().add_job(job)
        self._touch(job.id)

    def update_job(self, job: Job) -> None:
        super().update_job(job)
        self._touch(job.id)

    def remove_job(self, job_id: str) -> None:
        super().remove_job(job_id)
        self._touch(job_id)

    def remove_all_jobs(self) -> None:
        ids = list(self._jobs_index)
        super().remove_all_jobs()
        for job_id in ids:
            self._touch(job_id)

    def shutdown(self) -> None:
        # MemoryJobStore.shutdown() removes every job, which here would delete the stored
        # schedules; close() flushes and forgets instead.
        pass

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("could not persist the job store; retrying in 5 s")
                if not self._closing:
                    await asyncio.sleep(5)
                    self._wake.set()

    async def flush(self) -> None:
        async with self._lock:
            dirty, self._dirty = self._dirty, set()
            try:
                for job_id in sorted(dirty):
                    await self._persist(job_id)
            except BaseException:
                self._dirty |= dirty
                raise

    async def _persist(self, job_id: str) -> None:
        job = self.lookup_job(job_id)
        async with unit_of_work():
            if job is None:
                await SchedulerJob.delete().where(SchedulerJob.job_id == job_id)
                return
            values = {
                SchedulerJob.next_run_time: job.next_run_time,
                SchedulerJob.job_state: base64.b64encode(
                    pickle.dumps(job.__getstate__(), pickle.HIGHEST_PROTOCOL)
                ).decode(),
                SchedulerJob.updated_at: utcnow(),
            }
            if await SchedulerJob.exists().where(SchedulerJob.job_id == job_id):
                await SchedulerJob.update(values).where(SchedulerJob.job_id == job_id)
            else:
                await SchedulerJob.insert(
                    SchedulerJob(job_id=job_id, **{c._meta.name: v for c, v in values.items()})
                )

    async def close(self) -> None:
        """Write what is pending and stop. The writer is never cancelled half-way through a
        write: it is asked to stop and awaited."""
        if self._writer is not None and self._wake is not None:
            self._closing = True
            self._wake.set()
            await self._writer
            self._writer = None
        await self.flush()
        MemoryJobStore.remove_all_jobs(self)


# --- the scheduler's life (called from the app's lifespan) ---------------------------------


def _reconcile(scheduler: AsyncIOScheduler, settings: Settings) -> None:
    """Keep stored schedules (and so their next run times) unless the code changed them."""
    for spec in JOBS.values():
        trigger = spec.trigger(settings)
        job = scheduler.get_job(spec.name)
        if job is None:
            scheduler.add_job(
                "registry.jobs:run_scheduled",
                trigger=trigger,
                args=[spec.name],
                id=spec.name,
                name=spec.description,
            )
        elif describe(job.trigger) != describe(trigger):
            log.info("schedule of job %s changed to %s", spec.name, describe(trigger))
            scheduler.reschedule_job(spec.name, trigger=trigger)
    for job in scheduler.get_jobs():
        if job.id not in JOBS:
            log.info("removing stored job %s: no longer defined", job.id)
            job.remove()


async def start_scheduler(settings: Settings) -> AsyncIOScheduler:
    global _settings
    _settings = settings
    store = PiccoloJobStore()
    await store.load()
    scheduler = AsyncIOScheduler(
        jobstores={"default": store},
        job_defaults={
            "coalesce": True,  # many missed runs (e.g. while down) run once
            "max_instances": 1,  # a slow run is never overlapped by the next one
            "misfire_grace_time": None,  # a run missed while down still runs on restart
        },
        timezone=ZoneInfo(settings.timezone),
    )
    scheduler.start()
    _reconcile(scheduler, settings)
    await store.flush()
    log.info(
        "scheduler started: %s",
        ", ".join(f"{j.id} next {j.next_run_time or 'paused'}" for j in scheduler.get_jobs()),
    )
    return scheduler


async def stop_scheduler(scheduler: AsyncIOScheduler, grace_seconds: float = 10.0) -> None:
    """Stop starting runs, let the running ones finish (up to a grace period), then stop.

    APScheduler's asyncio executor cancels running jobs on shutdown; a job cancelled in the
    middle of a database call can hold its connection while the pool is being closed.
    Every job is safe to interrupt (idempotent; the dispatcher's claims expire), but a clean
    finish is better, so they get `grace_seconds` first.
    """
    store = scheduler._jobstores.get("default")
    if scheduler.running:
        scheduler.pause()
        executor = scheduler._lookup_executor("default")
        running = [f for f in getattr(executor, "_pending_futures", ()) if not f.done()]
        if running:
            log.info("waiting up to %.0f s for %d running job(s)", grace_seconds, len(running))
            await asyncio.wait(running, timeout=grace_seconds)
        scheduler.shutdown(wait=False)
        # AsyncIOScheduler.shutdown() is deferred to the next loop iteration.
        for _ in range(100):
            if not scheduler.running:
                break
            await asyncio.sleep(0.01)
    if isinstance(store, PiccoloJobStore):
        await store.close()


SCHEDULER_LEASE = "scheduler"


class SchedulerLeader:
    """Competes for the scheduler lease; runs the scheduler while, and only while, it holds it.

    Every process sharing the database runs one of these. The holder renews the lease every
    third of its length; the others try to take it as often, so a dead holder is replaced
    within about 1.3 lease lengths. On taking over, the scheduler loads the job store the
    previous holder kept up to date, so no tick is lost or repeated.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lease = DatabaseLease(SCHEDULER_LEASE, settings.scheduler_lease_seconds)
        self.scheduler: AsyncIOScheduler | None = None
        self._renewed_at = 0.0
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def renew_every(self) -> float:
        return max(self.settings.scheduler_lease_seconds / 3, 0.2)

    async def start(self) -> None:
        """One attempt now (a lone process has its scheduler on return), then keep trying."""
        global _leader, _settings
        _leader, _settings = self, self.settings
        try:
            await self._step()
        except Exception:
            log.exception("could not start the scheduler; retrying")
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.renew_every)
            self._wake.clear()
            if self._stopping:
                break
            try:
                await self._step()
            except Exception:
                log.exception("scheduler lease: step failed; retrying")

    async def _step(self) -> None:
        try:
            held = await self.lease.acquire()
        except Exception:
            log.warning("could not renew the scheduler lease", exc_info=True)
            # Still ours until it lapses (with a margin): past that, another process may
            # have taken it, and two schedulers must never run at once.
            held = (
                self.scheduler is not None
                and time.monotonic() - self._renewed_at
                < self.settings.scheduler_lease_seconds * 0.8
            )
        else:
            if held:
                self._renewed_at = time.monotonic()
        if held and self.scheduler is None:
            log.info("scheduler lease taken by %s", self.lease.holder)
            self.scheduler = await start_scheduler(self.settings)
        elif not held and self.scheduler is not None:
            log.warning("scheduler lease lost by %s: stopping the scheduler", self.lease.holder)
            scheduler, self.scheduler = self.scheduler, None
            await stop_scheduler(scheduler)

    async def confirm(self) -> bool:
        """Before each run: still the holder? Then store the next run time the scheduler has
        just computed, so a successor taking over during this run does not run it again."""
        try:
            held = await self.lease.acquire()
        except Exception:
            log.warning("could not confirm the scheduler lease", exc_info=True)
            return False
        if not held:
            self._wake.set()  # the loop stops the scheduler
            return False
        self._renewed_at = time.monotonic()
        store = self.scheduler._jobstores.get("default") if self.scheduler else None
        if isinstance(store, PiccoloJobStore):
            await store.flush()
        return True

    async def stop(self) -> None:
        global _leader
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self.scheduler is not None:
            scheduler, self.scheduler = self.scheduler, None
            await stop_scheduler(scheduler)
        try:
            await self.lease.release()  # the next process need not wait for it to lapse
        except Exception:
            log.warning("could not release the scheduler lease", exc_info=True)
        if _leader is self:
            _leader = None


# --- what the operator sees ----------------------------------------------------------------


class JobInfo(msgspec.Struct, kw_only=True):
    name: str
    description: str
    schedule: str
    next_run: datetime | None
    last_run: JobRunOut | None


async def list_jobs(settings: Settings) -> list[JobInfo]:
    stored = {
        row["job_id"]: row["next_run_time"]
        for row in await SchedulerJob.select(SchedulerJob.job_id, SchedulerJob.next_run_time)
    }
    infos = []
    for spec in JOBS.values():
        row = (
            await JobRun.select()
            .where(JobRun.job == spec.name)
            .order_by(JobRun.started_at, ascending=False)
            .first()
        )
        infos.append(
            JobInfo(
                name=spec.name,
                description=spec.description,
                schedule=describe(spec.trigger(settings)),
                next_run=stored.get(spec.name),
                last_run=_run_out(row) if row else None,
            )
        )
    return infos


def _run_out(row: dict[str, Any]) -> JobRunOut:
    summary = row["summary"]
    if isinstance(summary, str):
        summary = msgspec.json.decode(summary or "{}")
    return JobRunOut(
        job=row["job"],
        trigger=row["trigger"],
        clock=row["clock"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        summary=summary,
        error=row["error"],
    )
