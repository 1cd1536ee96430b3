"""`registry import hsds|holders` and `registry export ...`: run as a person would, in a
separate process against the same database, with progress on stderr."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from registry.holders.tables import Holder
from registry.interop.service import export_document
from tests.conftest import Tenant, make_tenant
from tests.fixtures.interop import HSDS_EXAMPLES, rich_data, udp

REPO = Path(__file__).resolve().parents[1]


async def registry(*args: str) -> subprocess.CompletedProcess[str]:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "registry.cli", *args],
            cwd=REPO,
            env={**os.environ, "REGISTRY_SCHEDULER": "0"},
            capture_output=True,
            text=True,
            timeout=300,
        )

    # In a thread: the test's event loop stays free while the other process works.
    return await asyncio.to_thread(run)


async def test_import_hsds_dry_run_then_for_real(tmp_path: Path, tenant: Tenant) -> None:
    await rich_data(tenant)
    document = await export_document(udp(tenant))
    target = await make_tenant()
    text = json.dumps(document)
    for old, new in zip(tenant.comuni, target.comuni, strict=True):
        text = text.replace(old, new)
    path = tmp_path / "export.json"
    path.write_text(text)
    dry = await registry("import", "hsds", str(path), "--ambito", target.code, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "DRY RUN" in dry.stdout
    assert "organization" in dry.stdout and "service" in dry.stdout
    # Progress: one line per 10% (stderr is not a terminal here), up to 100%.
    assert "planning services: 7/7 (100%)" in dry.stderr
    before = await Holder.count().where(Holder.ambito == target.ambito_id)
    report_path = tmp_path / "report.json"
    done = await registry(
        "import", "hsds", str(path), "--ambito", target.code, "--report", str(report_path)
    )
    assert done.returncode == 0, done.stderr
    assert "writing: " in done.stderr and "(100%)" in done.stderr
    report = json.loads(report_path.read_text())
    assert report["applied"] and report["counts"]["organization"]["created"] == 4
    assert await Holder.count().where(Holder.ambito == target.ambito_id) == before + 4


async def test_import_a_folder_of_hsds_csv(app: object) -> None:
    folder = HSDS_EXAMPLES / "csv"
    target = await make_tenant()
    result = await registry("import", "hsds", str(folder), "--ambito", target.code)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reading: " in result.stderr
    assert "not mapped:" in result.stdout and "program" in result.stdout
    names = {
        r["name"] for r in await Holder.select(Holder.name).where(Holder.ambito == target.ambito_id)
    }
    assert "Example Organization Inc." in names


async def test_export_and_spreadsheet_import(tmp_path: Path, tenant: Tenant) -> None:
    out = tmp_path / "pacchetto.zip"
    result = await registry(
        "export", "hsds", "--ambito", tenant.code, "--format", "datapackage", "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    names = zipfile.ZipFile(io.BytesIO(out.read_bytes())).namelist()
    assert "datapackage.json" in names and "services.csv" in names
    sheet = tmp_path / "enti.xlsx"
    assert (
        await registry(
            "export", "holders", "--ambito", tenant.code, "--format", "xlsx", "-o", str(sheet)
        )
    ).returncode == 0
    again = await registry("import", "holders", str(sheet), "--ambito", tenant.code)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "created 0, updated 2" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("kind;sector;name\nassociation;business;Sbagliata\n")
    failed = await registry("import", "holders", str(bad), "--ambito", tenant.code)
    assert failed.returncode == 1
    assert "line 2 [sector]" in failed.stdout
    unknown = await registry("import", "hsds", str(bad), "--ambito", "NESSUNO")
    assert unknown.returncode == 2
