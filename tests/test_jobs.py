"""The scheduler (in the lifespan, with a job store that survives restarts), job runs and
the `registry jobs` command."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from registry import db, jobs, scheduled_jobs
from registry.app import create_app
from registry.jobs import SchedulerJob, list_jobs
from registry.ops.lease import DatabaseLease, Lease
from registry.resources.tables import Resource
from registry.scheduled_jobs import JOBS, JobRun, JobSpec, run_job
from tests.conftest import SETTINGS, Tenant

ROOT = Path(__file__).resolve().parent.parent
ENABLED = replace(SETTINGS, scheduler_enabled=True, dispatch_interval_seconds=3600)


@pytest.fixture
async def own_engine(app: object):  # type: ignore[no-untyped-def]
    """create_app() binds its own engine; give the session's back afterwards."""
    original = db.engine()
    await SchedulerJob.delete(force=True)
    yield
    db.bind(original)
    await SchedulerJob.delete(force=True)


async def test_disabled_scheduler_does_not_start(own_engine: None) -> None:
    application = create_app(SETTINGS, migrate_on_start=False)
    async with application.lifespan():
        assert getattr(application.state, "scheduler", None) is None


@pytest.mark.serial
async def test_scheduler_starts_in_the_lifespan_and_its_schedules_survive_a_restart(
    own_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[datetime] = []

    async def probe(now: datetime, settings: Any, scope: Any) -> dict[str, int]:
        ran.append(now)
        return {"probed": 1}

    monkeypatch.setitem(
        JOBS,
        "probe",
        JobSpec("probe", "test job", lambda s: IntervalTrigger(seconds=1), probe),
    )
    first = create_app(ENABLED, migrate_on_start=False)
    moved = (datetime.now(UTC) + timedelta(days=3, minutes=7)).replace(microsecond=0)
    async with first.lifespan():
        scheduler = first.state.scheduler
        assert scheduler.running
        assert {job.id for job in scheduler.get_jobs()} == set(JOBS)
        freshness = scheduler.get_job("freshness")
        assert freshness.coalesce is True and freshness.max_instances == 1
        assert scheduled_jobs.describe(freshness.trigger) == "daily 06:00 Europe/Rome"
        # An operator moved a run; the store must keep that, not recompute it on restart.
        scheduler.modify_job("freshness", next_run_time=moved)
    assert ran == []  # stopped before the probe was due
    stored = {r["job_id"]: r for r in await SchedulerJob.select()}
    assert set(stored) == set(JOBS)
    assert stored["freshness"]["next_run_time"] == moved

    await asyncio.sleep(1.3)  # "down" while the probe was due (more than once)

    second = create_app(ENABLED, migrate_on_start=False)
    async with second.lifespan():
        scheduler = second.state.scheduler
        assert scheduler.get_job("freshness").next_run_time == moved
        for _ in range(100):  # the missed runs run once, right after the restart
            if ran:
                break
            await asyncio.sleep(0.02)
        assert len(ran) == 1
        scheduler.pause_job("probe")
    recorded = await JobRun.select().where(JobRun.job == "probe")
    assert [(r["trigger"], r["status"]) for r in recorded] == [("schedule", "ok")]
    await JobRun.delete().where(JobRun.job == "probe")


async def test_a_changed_schedule_replaces_the_stored_one(
    own_engine: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with create_app(ENABLED, migrate_on_start=False).lifespan():
        pass
    changed = replace(ENABLED, rematch_interval_minutes=5)
    application = create_app(changed, migrate_on_start=False)
    async with application.lifespan():
        job = application.state.scheduler.get_job("rematch")
        assert scheduled_jobs.describe(job.trigger) == "every 5 min"
        assert job.next_run_time <= datetime.now(UTC) + timedelta(minutes=5, seconds=1)


async def test_job_runs_are_recorded_and_never_raise(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    await Resource.update({Resource.valid_until: yesterday}).where(
        Resource.id == tenant.resource_id
    )
    clock = datetime.now(UTC)
    run = await run_job("expiry", SETTINGS, now=clock, ambito_ids=[tenant.ambito_id])
    assert run.status == "ok" and run.summary["resources_expired"] == 1
    assert run.clock == clock and run.trigger == "cli"

    async def broken(now: datetime, settings: Any, scope: Any) -> dict[str, int]:
        raise RuntimeError("the database went away")

    monkeypatch.setitem(JOBS, "broken", JobSpec("broken", "fails", JOBS["expiry"].trigger, broken))
    failed = await run_job("broken", SETTINGS, ambito_ids=[tenant.ambito_id])
    assert failed.status == "failed" and "the database went away" in failed.error
    [row] = await JobRun.select().where(JobRun.job == "broken")
    assert row["status"] == "failed" and row["finished_at"] is not None
    await JobRun.delete().where(JobRun.job == "broken")

    # An idle dispatch is not recorded (it runs every few seconds); a busy one is.
    before = await JobRun.count().where(JobRun.job == "dispatch")
    idle = await run_job("dispatch", SETTINGS, ambito_ids=[tenant.ambito_id])
    assert idle.status == "ok" and idle.summary["delivered"] == 0
    assert await JobRun.count().where(JobRun.job == "dispatch") == before

    with pytest.raises(scheduled_jobs.UnknownJob):
        await run_job("nope", SETTINGS)

    listed = {info.name: info for info in await list_jobs(SETTINGS)}
    assert set(listed) >= {"freshness", "expiry", "rematch", "dispatch", "metrics_snapshot"}
    assert listed["expiry"].last_run is not None
    assert listed["expiry"].schedule == "daily 00:15 Europe/Rome"
    assert listed["dispatch"].schedule == "every 30 s"


async def test_metrics_snapshot_hook(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    run = await run_job("metrics_snapshot", SETTINGS, ambito_ids=[tenant.ambito_id])
    assert run.status == "ok", run.error
    assert "skipped" not in run.summary  # the metrics domain provides the hook now
    monkeypatch.setattr(scheduled_jobs, "METRICS_HOOK", "registry.nowhere:take_snapshot")
    run = await run_job("metrics_snapshot", SETTINGS, ambito_ids=[])
    assert run.status == "ok" and "skipped" in run.summary


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", *args],
        cwd=ROOT,
        env={**os.environ, "REGISTRY_SCHEDULER": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_registry_jobs_list_and_run(tenant: Tenant) -> None:
    await Resource.update({Resource.confirmed_at: datetime.now(UTC) - timedelta(days=10)}).where(
        Resource.id == tenant.resource_id
    )
    clock = (datetime.now(UTC) + timedelta(days=51)).isoformat()
    done = await asyncio.to_thread(
        cli, "jobs", "run", "freshness", "--now", clock, "--ambito", tenant.code
    )
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert run["status"] == "ok" and run["summary"] == {"reminded": 1, "stale": 0}
    assert run["trigger"] == "cli"

    listed = await asyncio.to_thread(cli, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert set(lines) >= set(JOBS) - {"probe", "broken"}
    assert "daily 06:00 Europe/Rome" in lines["freshness"]


def test_registry_jobs_run_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from registry.cli import main

    # Both are refused before the database is touched, so they run in this process.
    assert main(["jobs", "run", "nope"]) == 2
    assert "no job 'nope'" in capsys.readouterr().err
    assert main(["jobs", "run", "expiry", "--now", "yesterday"]) == 2
    assert "--now" in capsys.readouterr().err


async def test_a_scope_names_existing_ambiti(tenant: Tenant) -> None:
    from registry.errors import NotFound

    assert await scheduled_jobs.ambito_ids([tenant.code]) == [tenant.ambito_id]
    with pytest.raises(NotFound, match="'NOPE'"):
        await scheduled_jobs.ambito_ids([tenant.code, "NOPE"])


async def test_rematch_watermark_moves_only_with_scheduled_runs(app: object) -> None:
    await JobRun.delete().where(JobRun.job == "rematch")
    now = datetime.now(UTC).replace(microsecond=0)
    default = await scheduled_jobs.rematch_watermark(now, SETTINGS)
    assert default == now - timedelta(minutes=SETTINGS.rematch_interval_minutes)

    def run(trigger: str, clock: datetime, status: str = "ok") -> JobRun:
        return JobRun(job="rematch", trigger=trigger, clock=clock, started_at=clock, status=status)

    await JobRun.insert(
        run("schedule", now - timedelta(minutes=30)),
        run("schedule", now - timedelta(minutes=10), "failed"),
        run("cli", now - timedelta(minutes=5)),  # e.g. for one ambito
        run("schedule", now + timedelta(days=1)),  # a later clock than this one
    )
    assert await scheduled_jobs.rematch_watermark(now, SETTINGS) == now - timedelta(minutes=30)
    await JobRun.delete().where(JobRun.job == "rematch")


async def test_one_lease_holder_at_a_time_and_a_lapsed_lease_is_taken_over(app: object) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    first, second = DatabaseLease(name, 1.0), DatabaseLease(name, 1.0)
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.acquire()  # a renewal
    assert await second.current_holder() == first.holder
    await asyncio.sleep(1.2)  # first stopped renewing: its lease lapsed
    assert await second.acquire()
    assert not await first.acquire()
    await second.release()  # a clean stop: no need to wait for it to lapse
    assert await first.current_holder() is None
    assert await first.acquire()
    # Many at once: exactly one gets it.
    racers = [DatabaseLease(f"{name}-race", 30) for _ in range(8)]
    assert sorted(await asyncio.gather(*(r.acquire() for r in racers))) == [False] * 7 + [True]
    await Lease.delete().where(Lease.name.like(f"{name}%"))


async def test_only_the_lease_holder_runs_a_scheduler_and_another_takes_over(
    own_engine: None,
) -> None:
    quick = replace(ENABLED, scheduler_lease_seconds=1.0)
    first, second = jobs.SchedulerLeader(quick), jobs.SchedulerLeader(quick)
    await first.start()
    await second.start()
    try:
        assert first.scheduler is not None and first.scheduler.running
        assert second.scheduler is None
        await first.stop()  # releases the lease
        for _ in range(50):
            if second.scheduler is not None:
                break
            await asyncio.sleep(0.1)
        assert second.scheduler is not None and second.scheduler.running
        assert {job.id for job in second.scheduler.get_jobs()} == set(JOBS)
    finally:
        await first.stop()
        await second.stop()
    assert await Lease.select().where(Lease.holder == second.lease.holder).first() is not None
    assert await DatabaseLease(jobs.SCHEDULER_LEASE, 1).current_holder() is None
