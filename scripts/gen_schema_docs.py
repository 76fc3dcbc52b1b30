"""Writes docs/schema.md from the catalog of a migrated database.

    python scripts/gen_schema_docs.py [postgresql://...] [--out docs/schema.md] [--check]

Without a DSN it migrates a throwaway embedded PostgreSQL and reads that. Tables, views and
their comments, columns, partitioning and row-level security come from the database's catalog
(queries in sql/queries/catalog/). Grouping by domain comes from the schema file that created
each relation: its first line `-- domain: <name>`, or else its first comment line up to a colon
or full stop. --check exits 1 when the file on disk is out of date.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import asyncpg
import msgspec

REPO: Final = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a file, not installed
    sys.path.insert(0, str(REPO))

from storage.embedded import EmbeddedPostgres  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from storage.queries import QUERIES, SCHEMA_DIR  # noqa: E402

DEFAULT_OUT: Final = REPO / "docs" / "schema.md"
OTHER: Final = "Not created by a schema file"
_CREATES: Final = re.compile(
    r"^\s*CREATE\s+(?:MATERIALIZED\s+VIEW|VIEW|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)",
    re.IGNORECASE | re.MULTILINE,
)
_DOMAIN: Final = re.compile(r"^--\s*domain:\s*(.+?)\s*$")


class SchemaFile(msgspec.Struct, frozen=True, kw_only=True):
    """A schema file: its name, its domain and the relations it creates."""

    name: str
    domain: str
    creates: tuple[str, ...]


class Relation(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: str
    comment: str | None
    rls: bool
    rls_forced: bool
    partition_key: str | None
    has_default: bool | None
    retention_resource: str | None
    months_ahead: int | None
    default_retention_days: int | None
    definition: str | None
    options: list[str]


class Column(msgspec.Struct, frozen=True, kw_only=True):
    table_name: str
    name: str
    type: str
    not_null: bool
    default_value: str | None
    generated: bool
    references_table: str | None


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    table_name: str
    name: str
    command: str
    roles: list[str]
    using_expression: str | None
    check_expression: str | None


def read_schema_files(schema_dir: Path = SCHEMA_DIR) -> list[SchemaFile]:
    """The schema files in order, with the domain each declares and the relations it creates."""
    files = []
    for path in sorted(schema_dir.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        declared = _DOMAIN.match(first)
        if declared:
            domain = declared.group(1)
        else:
            domain = re.split(r"[:.]", first.lstrip("- ").strip(), maxsplit=1)[0] or path.stem
        files.append(SchemaFile(name=path.name, domain=domain, creates=tuple(_CREATES.findall(text))))
    return files


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def _table_section(relation: Relation, columns: Sequence[Column]) -> Iterable[str]:
    yield f"### `{relation.name}`"
    yield ""
    yield _cell(relation.comment) or "*(no comment)*"
    yield ""
    notes = []
    if relation.kind == "partitioned table":
        notes.append(f"partitioned by month on `{relation.partition_key}`")
    if relation.rls:
        notes.append("row-level security" + (" (forced)" if relation.rls_forced else ""))
    else:
        notes.append("global (no row-level security)")
    yield "*" + "; ".join(notes) + "*"
    yield ""
    yield "| column | type | null | default | references |"
    yield "|---|---|---|---|---|"
    for column in columns:
        default = "generated: " + _cell(column.default_value) if column.generated else _cell(column.default_value)
        nullable = "" if column.not_null else "yes"
        yield (
            f"| `{column.name}` | {_cell(column.type)} | {nullable} | {default} | {_cell(column.references_table)} |"
        )
    yield ""


def _runs_as(view: Relation) -> str:
    if view.kind == "materialized view":
        return "owner; not readable by botrt_app"
    if "security_invoker=true" in view.options:
        return "caller (RLS applies)"
    if "botrt_current_org()" in (view.definition or ""):
        return "owner; filters on botrt_current_org()"
    return "owner"


def render(
    files: Sequence[SchemaFile],
    relations: Sequence[Relation],
    columns: Sequence[Column],
    policies: Sequence[Policy],
) -> str:
    """docs/schema.md as text."""
    by_name = {relation.name: relation for relation in relations}
    columns_of: dict[str, list[Column]] = defaultdict(list)
    for column in columns:
        columns_of[column.table_name].append(column)
    domains: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = defaultdict(list)
    placed: set[str] = set()
    for file in files:
        names = [name for name in file.creates if name in by_name and name not in placed]
        domains.setdefault(file.domain, []).extend(names)
        sources[file.domain].append(file.name)
        placed.update(names)
    leftover = [relation.name for relation in relations if relation.name not in placed]
    if leftover:
        domains[OTHER] = leftover
    # Files that only define functions, policies or grants have no section of their own.
    domains = {domain: names for domain, names in domains.items() if names}

    tables = [r for r in relations if r.kind in ("table", "partitioned table")]
    partitioned = [r for r in relations if r.kind == "partitioned table"]
    views = [r for r in relations if r.kind == "view"]
    matviews = [r for r in relations if r.kind == "materialized view"]
    out = [
        "# Database schema",
        "",
        "Generated by `scripts/gen_schema_docs.py` from the catalog of a migrated database; do not edit by",
        "hand. The schema itself is `sql/schema/NNN_<domain>.sql`, applied in order by `botrt migrate`.",
        "",
        f"**{len(tables)} tables** ({len(partitioned)} partitioned by month), **{len(views)} views**, "
        f"**{len(matviews)} materialized views**, **{len(policies)} row-level security policies**.",
        "",
        "## Domains",
        "",
        "| domain | files | tables | views |",
        "|---|---|---|---|",
    ]
    for domain, names in domains.items():
        kinds = [by_name[name].kind for name in names]
        n_tables = sum(kind.endswith("table") for kind in kinds)
        files_cell = ", ".join(f"`{name}`" for name in sources.get(domain, []))
        out.append(f"| [{domain}](#{_anchor(domain)}) | {files_cell} | {n_tables} | {len(kinds) - n_tables} |")
    out.append("")

    for domain, names in domains.items():
        out += [f"## {domain}", ""]
        for name in names:
            relation = by_name[name]
            if relation.kind.endswith("table"):
                out += list(_table_section(relation, columns_of[name]))
        domain_views = [by_name[name] for name in names if not by_name[name].kind.endswith("table")]
        if domain_views:
            out += ["Views in this domain:", ""]
            out += [f"- `{view.name}` ({view.kind}): {_cell(view.comment)}" for view in domain_views]
            out.append("")

    out += [
        "## Partitioned tables",
        "",
        "Range-partitioned by calendar month (UTC), each with a DEFAULT partition that catches rows of a",
        "month without a partition until maintenance moves them. `botrt db maintain` keeps partitions",
        "created ahead and drops those past the longest retention any organization has",
        "(see `sql/schema/095_partition_maintenance.sql`).",
        "",
        "| table | partition key | DEFAULT partition | months ahead | retention resource | default retention (days) |",
        "|---|---|---|---|---|---|",
    ]
    for relation in partitioned:
        out.append(
            f"| `{relation.name}` | `{relation.partition_key}` | {'yes' if relation.has_default else 'no'} | "
            f"{_cell(relation.months_ahead)} | {_cell(relation.retention_resource)} | "
            f"{_cell(relation.default_retention_days)} |"
        )
    out += ["", "## Views", "", "| view | kind | description | runs as |", "|---|---|---|---|"]
    for view in [*views, *matviews]:
        out.append(f"| `{view.name}` | {view.kind} | {_cell(view.comment)} | {_runs_as(view)} |")
    out += [
        "",
        "## Row-level security",
        "",
        "The runtime acts as `botrt_app` (not a superuser, no BYPASSRLS) and sets the organization per",
        "transaction with `set_config('botrt.org_id', <uuid>, true)`. Every table with `org_id` has row-level",
        "security enabled and forced, with this policy; `organizations` is scoped by `id`.",
        "",
        "| table | policy | command | roles | using | with check |",
        "|---|---|---|---|---|---|",
    ]
    for policy in policies:
        out.append(
            f"| `{policy.table_name}` | {policy.name} | {policy.command} | {', '.join(policy.roles)} | "
            f"`{_cell(policy.using_expression)}` | `{_cell(policy.check_expression)}` |"
        )
    out.append("")
    return "\n".join(out)


async def generate(dsn: str, schema_dir: Path = SCHEMA_DIR) -> str:
    """Reads the catalog of the migrated database at dsn and renders docs/schema.md."""
    con = await asyncpg.connect(dsn)
    try:
        relations = msgspec.convert(
            [dict(r) for r in await con.fetch(QUERIES["catalog/list_relations"])], list[Relation]
        )
        columns = msgspec.convert([dict(r) for r in await con.fetch(QUERIES["catalog/list_columns"])], list[Column])
        policies = msgspec.convert([dict(r) for r in await con.fetch(QUERIES["catalog/list_policies"])], list[Policy])
    finally:
        await con.close()
    return render(read_schema_files(schema_dir), relations, columns, policies)


async def generate_from_scratch() -> str:
    """Migrates a throwaway embedded server's database and renders its catalog."""
    with tempfile.TemporaryDirectory(prefix="botrt-docs-") as data_dir:
        server = EmbeddedPostgres(Path(data_dir))
        uri = await asyncio.to_thread(server.start)
        try:
            con = await asyncpg.connect(uri)
            try:
                await migrate(con)
            finally:
                await con.close()
            return await generate(uri)
        finally:
            await asyncio.to_thread(server.stop)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dsn", nargs="?", help="DSN of a migrated database (default: a throwaway one)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default docs/schema.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date; write nothing")
    args = parser.parse_args(argv)
    text = asyncio.run(generate(args.dsn) if args.dsn else generate_from_scratch())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date: run scripts/gen_schema_docs.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
