"""Backups of the registry's database while the service runs, and their restore.

SQLite: the online backup API copies the database in one step, under a read transaction,
so the copy is one consistent moment; in WAL mode the writers go on meanwhile. PostgreSQL:
pg_dump (custom format) reads one snapshot of the database; restore drops the schema and
loads the dump in one transaction, so a restore that fails leaves the database as it was.

Both write the backup next to its destination first and rename it into place once checked,
so a half-written file never carries the backup's name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from registry.config import Settings


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why."""


def backup(settings: Settings, target: Path, *, overwrite: bool = False) -> None:
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists (--force to replace it)")
    if not target.parent.is_dir():
        raise BackupError(f"no folder {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        if settings.database_url:
            _pg_dump(settings.database_url, partial)
        else:
            _sqlite_backup(Path(settings.sqlite_path), partial)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def restore(settings: Settings, source: Path) -> None:
    """Replace the configured database's content with the backup's (stop the service first)."""
    if not source.is_file():
        raise BackupError(f"no file {source}")
    if settings.database_url:
        _pg_restore(settings.database_url, source)
    else:
        _sqlite_restore(source, Path(settings.sqlite_path))


# --- SQLite --------------------------------------------------------------------------------


def _check_sqlite(connection: sqlite3.Connection, name: str) -> None:
    try:
        [(result,)] = connection.execute("PRAGMA integrity_check").fetchall()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{name} is not a SQLite database ({error})") from error
    if result != "ok":
        raise BackupError(f"{name} fails the integrity check: {result}")
    if "migration" not in tables:
        raise BackupError(f"{name} is not a registry database (it has no migration table)")


def _sqlite_backup(database: Path, partial: Path) -> None:
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as source:
        source.execute("PRAGMA busy_timeout = 30000")
        with contextlib.closing(sqlite3.connect(partial)) as copy:
            # One step (pages=-1): a copy made in several steps restarts whenever a writer
            # commits in between, and might never finish under steady writes.
            source.backup(copy, pages=-1)
            # A single self-contained file: no -wal file beside it to forget.
            copy.execute("PRAGMA journal_mode = DELETE")
            _check_sqlite(copy, "the backup")
    with open(partial, "rb") as written:
        os.fsync(written.fileno())


def _sqlite_restore(source: Path, database: Path) -> None:
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup_db:
        _check_sqlite(backup_db, str(source))
        with contextlib.closing(sqlite3.connect(database, timeout=30)) as live:
            # The backup API writes through the live database's own journal (WAL included),
            # under its write lock: readers see the old content or the new, never a mix.
            backup_db.backup(live, pages=-1)
            live.execute("PRAGMA journal_mode = WAL")


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment carrying the password: a password
    on the command line would show in the process list."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    return urlunsplit(parts._replace(netloc=netloc)), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (it comes with the PostgreSQL client)")
    return path


def _run(command: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")
    return done


def _pg_dump(url: str, partial: Path) -> None:
    dsn, env = _pg_connection(url)
    # --no-owner/--no-privileges: the dump restores under whichever role runs the registry.
    options = ["--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
    _run([_tool("pg_dump"), *options, f"--dbname={dsn}"], env, "pg_dump")
    _run([_tool("pg_restore"), "--list", str(partial)], env, "reading the dump back")


def _pg_restore(url: str, source: Path) -> None:
    dsn, env = _pg_connection(url)
    listing = subprocess.run(
        [_tool("pg_restore"), "--list", str(source)], env=env, capture_output=True, text=True
    )
    if listing.returncode != 0:
        raise BackupError(f"{source} is not a pg_dump archive: {listing.stderr.strip()}")
    if " TABLE public migration " not in listing.stdout:
        raise BackupError(f"{source} is not a registry database (it has no migration table)")
    script = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(source)],
        env=env,
        capture_output=True,
    )
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed: {script.stderr.decode(errors='replace')}")
    # One transaction: the old schema goes and the dump comes in together, or neither.
    prologue = b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"
    options = ["--quiet", "--no-psqlrc", "--single-transaction", "--set=ON_ERROR_STOP=1"]
    loaded = subprocess.run(
        [_tool("psql"), *options, f"--dbname={dsn}"],
        input=prologue + script.stdout,
        env=env,
        capture_output=True,
    )
    if loaded.returncode != 0:
        message = loaded.stderr.decode(errors="replace").strip()
        raise BackupError(f"restore failed, the database is unchanged: {message}")
