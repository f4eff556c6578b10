"""``skynet audit``: check the hash chain of the audit log, and read a case's trail."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from skynet.audit import AuditEntry, AuditLog
from skynet.cli._common import (
    DbOption,
    OutputFormat,
    SiteOption,
    TableJsonOption,
    print_json,
    site_database,
    stderr,
    stdout,
)
from skynet.cli.track import OffsetOption
from skynet.times import format_time

app = typer.Typer(
    help="The audit log: verify its chain, show a case's trail.", no_args_is_help=True
)
#: Exit status when the chain is broken (distinct from bad input's 2).
EXIT_TAMPERED = 3


@app.command("verify")
def verify(db: DbOption = None, site: SiteOption = None) -> None:
    """Recompute the hash chain; name the first edited or deleted row (exit 3), else print the head.

    Keep the printed head somewhere else: a later verify that ends on another
    head for the same row means the log was rewritten whole.

    Example: skynet audit verify --db case.db
    """
    db = site_database(db, site)
    check = AuditLog(db).verify()
    if check.ok:
        stdout.print(f"audit log intact: {check.rows} rows, head {check.head or '(empty)'}")
        return
    where = f"row {check.bad_id}: " if check.bad_id is not None else ""
    stderr.print(f"audit log TAMPERED: {where}{check.problem}", markup=False)
    raise typer.Exit(EXIT_TAMPERED)


@app.command("show")
def show(
    case: Annotated[
        str | None, typer.Option("--case", help="Only this case's trail (default: every row).")
    ] = None,
    output: TableJsonOption = OutputFormat.table,
    utc_offset: OffsetOption = 0.0,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """The audit trail, oldest first: who asked what, when, for which case and why.

    Example: skynet audit show --case HR-0314 --utc-offset 8
    """
    db = site_database(db, site)
    entries = AuditLog(db).entries(case)
    if output is not OutputFormat.table:
        print_json([entry_json(e, utc_offset) for e in entries])
        return
    if not entries:
        stderr.print(f"no audit rows{f' for case {case!r}' if case else ''}", markup=False)
        return
    table = Table()
    for column in ("#", "when", "who", "case", "action", "subject", "outcome", "reason"):
        table.add_column(column, justify="right" if column == "#" else "left")
    for e in entries:
        table.add_row(
            str(e.id),
            format_time(e.at_s, utc_offset, timespec="seconds"),
            e.actor,
            e.case_id,
            e.action,
            e.subject,
            e.outcome if e.outcome == "allowed" else f"[red]{e.outcome}[/red]",
            e.reason,
        )
    stdout.print(table)


def entry_json(e: AuditEntry, utc_offset: float = 0.0) -> dict[str, object]:
    """One row as JSON, time ISO 8601 with its offset."""
    return {
        "id": e.id,
        "at": format_time(e.at_s, utc_offset),
        "actor": e.actor,
        "case_id": e.case_id,
        "reason": e.reason,
        "action": e.action,
        "subject": e.subject,
        "outcome": e.outcome,
        "detail": e.detail,
        "hash": e.hash,
    }
