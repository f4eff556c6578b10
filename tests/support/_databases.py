"""Both store backends for the tests: SQLite files and a real PostgreSQL server.

``SKYNET_TEST_PG_URL`` names a server to use (CI's ``.ci/setup.d/postgres.sh``
starts one). Without it, a throwaway cluster is made with ``initdb`` in a
temporary folder, started on 127.0.0.1 on a free port and stopped at the end
of the session, provided the PostgreSQL server binaries are installed;
otherwise the PostgreSQL cases skip, saying why. Each test gets a schema of
its own on the server (its URL sets ``search_path``), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

ENV_URL = "SKYNET_TEST_PG_URL"
BACKENDS = ("sqlite", "postgresql")
_START_TIMEOUT_S = 60


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary folder, on loopback only.

    initdb and postgres refuse to run as root; as root, they run as the
    ``postgres`` system user, who owns the folder.
    """

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="skynet-test-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://skynet@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.binaries / tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_START_TIMEOUT_S, cwd=self.root
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            msg = f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
            raise RuntimeError(msg)

    def initialise(self) -> PostgresCluster:
        self._run("initdb", "-D", str(self.data), "-U", "skynet", "--auth=trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        return self

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", str(_START_TIMEOUT_S), "-o", options, "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t",
                  str(_START_TIMEOUT_S), "stop")  # fmt: skip

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PostgresCluster | None:
    """A started throwaway cluster, or None when the server binaries are absent."""
    binaries = server_binaries()
    if binaries is None:
        return None
    cluster = PostgresCluster(binaries)
    try:
        cluster.initialise().start()
    except BaseException:
        cluster.remove()
        raise
    return cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL database the tests may create schemas in."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    cluster = start_cluster()
    if cluster is None:
        pytest.skip(
            f"PostgreSQL unavailable: {ENV_URL} is unset and the server binaries "
            "(initdb, pg_ctl) are not installed (apt-get install postgresql)"
        )
    try:
        yield cluster.url
    finally:
        cluster.remove()


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its connections' ``search_path`` set to ``schema``."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL on the server whose tables land in an empty schema of this test's own."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(postgres_server, schema)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "skynet.db")
    return str(request.getfixturevalue("postgres_url"))


def backend(db: str) -> str:
    """``sqlite`` or ``postgresql``: which backend a test database is on."""
    return "postgresql" if db.startswith("postgresql") else "sqlite"


def refuse_inserts(db: str, table: str, key: str, message: str) -> None:
    """Make the database refuse to insert the row ``key`` into ``table`` (a trigger)."""
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}", poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        if backend(db) == "sqlite":
            connection.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} WHEN new.id = '{key}' "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.id = '{key}' THEN RAISE EXCEPTION '{message}'; END IF; "
                "RETURN NEW; END $$"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    engine.dispose()


def allow_inserts(db: str, table: str) -> None:
    """Undo :func:`refuse_inserts`."""
    engine = sa.create_engine(db if "://" in db else f"sqlite:///{db}", poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        if backend(db) == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER refuse")
        else:
            connection.exec_driver_sql(f"DROP TRIGGER refuse ON {table}")
            connection.exec_driver_sql("DROP FUNCTION refuse()")
    engine.dispose()


@contextlib.contextmanager
def locale_sorted_database(server: str) -> Iterator[str]:
    """A new database on ``server`` that sorts text by the en-US locale (ICU), as
    many real servers do, where ``a0`` comes before ``B1``; dropped after.

    Skips when the server cannot make one (no ICU, or no right to create databases).
    """
    name = f"t_icu_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
            )
    except sa.exc.DBAPIError as exc:
        admin.dispose()
        pytest.skip(f"the server cannot make an ICU en-US database ({exc.orig})")
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()
