"""Databases of the service tests' own on the shared servers, and management commands."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest

from .processes import ROOT

SITE_SETTINGS = "tests.services.site.settings"


def vendor_of(url: str) -> str:
    """'postgresql', 'mysql' or 'sqlite', from a DATABASE_URL."""
    if not url:
        return "sqlite"
    engine = str(dj_database_url.parse(url)["ENGINE"])
    for vendor in ("postgresql", "mysql", "sqlite"):
        if vendor in engine:
            return vendor
    return engine


def with_database_name(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@dataclass
class ServerDatabase:
    """A database of the test's own on a shared server, created here and dropped here.

    Without a server (no ``DATABASE_URL``, as in a project made by startproject) it is an SQLite
    file in the temporary folder, which every served process opens.
    """

    admin_url: str
    name: str = field(default_factory=lambda: f"preflight_services_{uuid.uuid4().hex[:10]}")

    @property
    def vendor(self) -> str:
        return vendor_of(self.admin_url)

    @property
    def sqlite_file(self) -> Path:
        return Path(tempfile.gettempdir()) / f"{self.name}.sqlite3"

    @property
    def url(self) -> str:
        if self.vendor == "sqlite":
            return f"sqlite:///{self.sqlite_file}"
        return with_database_name(self.admin_url, self.name)

    def _connect(self, database: str | None) -> Any:
        params = dj_database_url.parse(self.admin_url)
        host, port = str(params["HOST"] or "127.0.0.1"), params["PORT"]
        user, password = str(params["USER"] or ""), str(params["PASSWORD"] or "")
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(
                host=host,
                port=int(port or 5432),
                user=user or None,
                password=password or None,
                dbname=database or str(params["NAME"] or "postgres"),
                autocommit=True,
                connect_timeout=5,
            )
        import MySQLdb  # type: ignore[import-untyped]

        kwargs: dict[str, Any] = {
            "host": host,
            "port": int(port or 3306),
            "user": user,
            "password": password,
            "charset": "utf8mb4",
            "connect_timeout": 5,
            "autocommit": True,
        }
        if database:
            kwargs["database"] = database
        return MySQLdb.connect(**kwargs)

    def create(self) -> None:
        """Create the database; the name is made of letters, digits and underscores only."""
        if self.vendor == "sqlite":
            sqlite3.connect(self.sqlite_file).close()
            return
        with contextlib.closing(self._connect(None)) as connection:
            cursor = connection.cursor()
            if self.vendor == "postgresql":
                cursor.execute(f'CREATE DATABASE "{self.name}"')
            else:
                cursor.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")

    def drop(self) -> None:
        """Drop it, closing whatever a killed server may have left connected."""
        if self.vendor == "sqlite":
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.sqlite_file}{suffix}").unlink(missing_ok=True)
            return
        with contextlib.closing(self._connect(None)) as connection:
            cursor = connection.cursor()
            if self.vendor == "postgresql":
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            else:
                cursor.execute(f"DROP DATABASE IF EXISTS `{self.name}`")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement, read outside Django: the test process has its own database."""
        if self.vendor == "sqlite":
            with contextlib.closing(sqlite3.connect(self.sqlite_file, timeout=30)) as connection:
                return list(connection.execute(sql.replace("%s", "?"), tuple(params)).fetchall())
        with contextlib.closing(self._connect(self.name)) as connection:
            cursor = connection.cursor()
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())

    def audit_rows(self, origin_like: str) -> list[tuple[str, int, bool]]:
        """(origin, count, is_overflow) of the audit rows whose origin matches, overflow too."""
        rows = self.query(
            "SELECT origin, count, is_overflow FROM django_preflight_rejectedpreflight "
            "WHERE origin LIKE %s OR is_overflow = %s",
            (origin_like, True),
        )
        return [(str(origin), int(count), bool(overflow)) for origin, count, overflow in rows]


def run_django(command: Sequence[str], env: dict[str, str], timeout: float = 180) -> None:
    """A management command against the served project's settings, in its own process."""
    result = subprocess.run(
        [sys.executable, "-m", "django", *command],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": SITE_SETTINGS},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        pytest.fail(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
