"""The audit log's hash chain names the first edited or deleted row; the CLI says so."""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from skynet.audit import GENESIS, AuditLog, Purpose
from skynet.tokens import TokenStore

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
PURPOSE = Purpose("HR-0314", "hit-and-run, two injured")


def filled(path: Path, rows: int = 5) -> str:
    db = str(path / "audit.db")
    log = AuditLog(db)
    for number in range(rows):
        log.record(PURPOSE, "route", f"target-{number}", actor="det. Lin")
    log.record_refusal("route", "GET /targets/x/route", "no case", actor="anonymous")
    return db


def tamper(db: str, statement: str) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(statement)


def test_an_intact_log_verifies_and_chains_from_genesis(tmp_path: Path) -> None:
    db = filled(tmp_path)
    entries = AuditLog(db).entries()
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    check = AuditLog(db).verify()
    assert check.ok and check.rows == 6 and check.head == f"6:{entries[-1].hash}"
    assert entries[-1].outcome == "refused" and entries[-1].detail["refused"] == "no case"


@pytest.mark.parametrize(
    ("statement", "bad_id"),
    [
        ("UPDATE audit_log SET reason = 'curiosity' WHERE id = 3", 3),
        ("UPDATE audit_log SET at_s = at_s + 1 WHERE id = 2", 2),
        ("UPDATE audit_log SET outcome = 'allowed' WHERE id = 6", 6),
        ("DELETE FROM audit_log WHERE id = 4", 5),
        ("DELETE FROM audit_log WHERE id = 1", 2),
    ],
)
def test_an_edited_or_deleted_row_is_named(tmp_path: Path, statement: str, bad_id: int) -> None:
    db = filled(tmp_path)
    tamper(db, statement)
    check = AuditLog(db).verify()
    assert not check.ok and check.bad_id == bad_id


def test_deleting_the_newest_rows_breaks_the_head(tmp_path: Path) -> None:
    db = filled(tmp_path)
    tamper(db, "DELETE FROM audit_log WHERE id >= 5")
    check = AuditLog(db).verify()
    assert not check.ok and "newest rows deleted" in str(check.problem)


def test_a_rehashed_edit_is_still_caught_by_its_successor(tmp_path: Path) -> None:
    """Fixing up the edited row's own hash moves the break to the next row."""
    from skynet.audit import row_hash

    db = filled(tmp_path)
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        row = dict(connection.execute("SELECT * FROM audit_log WHERE id = 2").fetchone())
        row["reason"] = "curiosity"
        connection.execute(
            "UPDATE audit_log SET reason = ?, hash = ? WHERE id = 2", ("curiosity", row_hash(row))
        )
    assert AuditLog(db).verify().bad_id == 3


def test_a_version_1_log_is_chained_on_upgrade(db_url: str) -> None:
    url = db_url if "://" in db_url else f"sqlite:///{db_url}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at_s FLOAT NOT NULL, "
            "actor VARCHAR(128) NOT NULL, case_id VARCHAR(128) NOT NULL, reason TEXT NOT NULL, "
            "action VARCHAR(32) NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL)"
        ))  # fmt: skip
        connection.execute(
            sa.text("CREATE TABLE skynet_meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)")
        )
        connection.execute(sa.text("INSERT INTO skynet_meta VALUES ('audit_schema_version', '1')"))
        for number in (1, 2):
            connection.execute(sa.text(
                f"INSERT INTO audit_log VALUES ({number}, 1.5, 'old', 'C-1', 'an old reason', "
                "'track', 's', '{}')"
            ))  # fmt: skip
    log = AuditLog(db_url)
    assert [e.outcome for e in log.entries()] == ["allowed", "allowed"]
    log.record(PURPOSE, "route", "after the upgrade")
    assert log.verify().ok and log.verify().rows == 3
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET actor = 'someone' WHERE id = 1"))
    engine.dispose()
    assert AuditLog(db_url).verify().bad_id == 1


def test_cli_verify_names_the_row_and_show_lists_a_case(run_cli: CliRunner, tmp_path: Path) -> None:
    db = filled(tmp_path)
    intact = run_cli("audit", "verify", "--db", db)
    assert intact.returncode == 0 and "6 rows" in intact.stdout
    shown = run_cli("audit", "show", "--case", "HR-0314", "--format", "json", "--db", db)
    trail = json.loads(shown.stdout)
    assert [e["subject"] for e in trail] == [f"target-{n}" for n in range(5)]
    assert trail[0]["at"].endswith("+00:00") and trail[0]["actor"] == "det. Lin"
    table = run_cli("audit", "show", "--db", db, check=True)
    assert "refused" in table.stdout and "target-4" in table.stdout
    tamper(db, "UPDATE audit_log SET case_id = 'OTHER' WHERE id = 4")
    broken = run_cli("audit", "verify", "--db", db)
    assert broken.returncode == 3 and "row 4" in broken.stderr


def test_cli_tokens_create_list_revoke(run_cli: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "tokens.db")
    made = run_cli("tokens", "create", "--role", "wall", "--name", "wall 1", "--db", db, check=True)
    token = made.stdout.strip()
    record = TokenStore(db).authenticate(token)
    assert record is not None and record.role.value == "wall" and record.name == "wall 1"
    listed = json.loads(run_cli("tokens", "list", "--format", "json", "--db", db).stdout)
    assert [t["id"] for t in listed] == [record.id] and token not in json.dumps(listed)
    with sqlite3.connect(db) as connection:  # only the hash is stored
        stored = " ".join(
            str(v) for row in connection.execute("SELECT * FROM api_tokens") for v in row
        )
    assert token not in stored
    run_cli("tokens", "revoke", record.id, "--db", db, check=True)
    assert TokenStore(db).authenticate(token) is None
    bad = run_cli("tokens", "create", "--role", "boss", "--name", "x", "--db", db)
    assert bad.returncode == 2 and "roles: wall, analyst, investigator, admin" in bad.stderr
    again = run_cli("tokens", "revoke", record.id, "--db", db)
    assert again.returncode == 2 and "no live token" in again.stderr


@pytest.mark.parametrize(
    "command",
    [("serve",), ("tokens", "create"), ("tokens", "list"), ("tokens", "revoke"),
     ("audit", "verify"), ("audit", "show")],
)  # fmt: skip
def test_help_gives_a_worked_example(run_cli: CliRunner, command: tuple[str, ...]) -> None:
    result = run_cli(*command, "--help", check=True)
    assert "Example: skynet " + command[0] in result.stdout


def _write_rows(db_url: str, worker: int) -> None:
    log = AuditLog(db_url)
    for number in range(8):
        log.record(PURPOSE, "route", f"w{worker}-{number}", actor=f"worker {worker}")


def test_on_each_backend_processes_racing_keep_one_chain_and_tampering_shows(db_url: str) -> None:
    """Writers in processes of their own never fork the chain (nor lose a row)."""
    import multiprocessing

    AuditLog(db_url)  # the schema, made once
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_rows, args=(db_url, w)) for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    log = AuditLog(db_url)
    check = log.verify()
    assert check.ok and check.rows == 24
    assert len({e.prev_hash for e in log.entries()}) == 24
    engine = sa.create_engine(log.engine.url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_log SET subject = 'changed' WHERE id = 17"))
    engine.dispose()
    assert AuditLog(db_url).verify().bad_id == 17


def test_the_new_commands_take_a_site_like_every_other(run_cli: CliRunner, tmp_path: Path) -> None:
    made = run_cli("tokens", "create", "--role", "admin", "--name", "ops", "--site", "county")
    assert made.returncode == 0, made.stderr
    site_db = tmp_path / "home" / "sites" / "county" / "skynet.db"
    assert TokenStore(str(site_db)).authenticate(made.stdout.strip()) is not None
    assert run_cli("audit", "verify", "--site", "county").returncode == 0
    both = run_cli("tokens", "list", "--site", "county", "--db", str(tmp_path / "x.db"))
    assert both.returncode == 2 and "--db or --site" in both.stderr
    for command in (["serve"], ["tokens", "revoke"], ["audit", "show"]):
        assert "--site" in run_cli(*command, "--help").stdout, command
