"""``skynet tokens``: make, list and revoke the API's bearer tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

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
from skynet.times import format_time
from skynet.tokens import Role, TokenRecord, TokenStore, parse_role

app = typer.Typer(
    help="API tokens: who may call 'skynet serve', in which role.", no_args_is_help=True
)


@app.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help="wall, analyst, investigator or admin.")],
    name: Annotated[str, typer.Option("--name", help="Who or what holds it (a person, a wall).")],
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Make a token and print it once: only its hash is kept, so copy it now.

    Example: skynet tokens create --role wall --name "control room wall 1" --db case.db
    """
    db = site_database(db, site)
    record, token = TokenStore(db).create(name, parse_role(role))
    stderr.print(f"token {record.id} for {record.name!r}, role {record.role.value}; shown once:")
    stdout.print(token, markup=False)


@app.command("list")
def list_(
    output: TableJsonOption = OutputFormat.table, db: DbOption = None, site: SiteOption = None
) -> None:
    """The tokens made (never the tokens themselves), revoked ones marked.

    Example: skynet tokens list --format json
    """
    db = site_database(db, site)
    records = TokenStore(db).all()
    if output is not OutputFormat.table:
        print_json([_record_json(r) for r in records])
        return
    table = Table()
    for column in ("id", "name", "role", "created", "revoked"):
        table.add_column(column)
    for r in records:
        revoked = "" if r.revoked_s is None else format_time(r.revoked_s, timespec="seconds")
        table.add_row(
            r.id, r.name, r.role.value, format_time(r.created_s, timespec="seconds"), revoked
        )
    stdout.print(table)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="Token id (see 'skynet tokens list').")],
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Stop a token working at once (its record stays for the audit trail).

    Example: skynet tokens revoke 3f9a1c2b4d5e6f70
    """
    db = site_database(db, site)
    record = TokenStore(db).revoke(key)
    stdout.print(f"token {record.id} ({record.name}, {record.role.value}) revoked")


def _record_json(r: TokenRecord) -> dict[str, object]:
    return {
        "id": r.id,
        "name": r.name,
        "role": r.role.value,
        "created": format_time(r.created_s),
        "revoked": None if r.revoked_s is None else format_time(r.revoked_s),
    }


__all__ = ["Role", "app"]
