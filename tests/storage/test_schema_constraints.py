"""Property 5: foreign keys indexed, status columns constrained, JSONB shapes checked."""

from __future__ import annotations

import asyncpg
import pytest

from tests.storage.schema_seed import seed_tenant

# Foreign keys whose columns are not the leading columns (in any order) of some index.
_UNINDEXED_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text AS table_name, c.conname,
       array_agg(a.attname ORDER BY a.attnum)::text[] AS columns
  FROM pg_constraint c
  JOIN pg_class t ON t.oid = c.conrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
 WHERE c.contype = 'f' AND n.nspname = 'public' AND NOT t.relispartition
   AND NOT EXISTS (
       SELECT FROM pg_index i
        WHERE i.indrelid = c.conrelid
          AND i.indpred IS NULL
          AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
          AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
 GROUP BY 1, 2
"""

# Columns of tables (not partitions) in public, with whether a CHECK constraint or the
# column's domain constrains them.
_COLUMNS = """
SELECT t.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
       EXISTS (SELECT FROM pg_constraint k
                WHERE k.conrelid = t.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey)) AS checked,
       EXISTS (SELECT FROM pg_type ty
                WHERE ty.oid = a.atttypid
                  AND (ty.typtype = 'e'
                       OR (ty.typtype = 'd' AND EXISTS (SELECT FROM pg_constraint d WHERE d.contypid = ty.oid)))
              ) AS typed
  FROM pg_class t
  JOIN pg_namespace n ON n.oid = t.relnamespace
  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p') AND NOT t.relispartition
"""

STATUS_LIKE = ("status", "kind", "role", "direction", "outcome", "purpose", "level", "mode", "split")


async def test_every_foreign_key_column_is_covered_by_an_index(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        foreign_keys = await con.fetchval("SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
        unindexed = await con.fetch(_UNINDEXED_FOREIGN_KEYS)
    finally:
        await con.close()
    assert foreign_keys > 200
    assert [(r["table_name"], r["columns"]) for r in unindexed] == []


async def test_every_status_column_is_constrained(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        columns = await con.fetch(_COLUMNS)
    finally:
        await con.close()
    status_columns = [c for c in columns if c["column_name"] in STATUS_LIKE or c["column_name"].endswith("_status")]
    assert len(status_columns) > 80
    unconstrained = [(c["table_name"], c["column_name"]) for c in status_columns if not (c["checked"] or c["typed"])]
    assert unconstrained == []


async def test_every_jsonb_column_has_a_shape_check(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        columns = await con.fetch(_COLUMNS)
    finally:
        await con.close()
    jsonb = [c for c in columns if c["type"] == "jsonb"]
    assert len(jsonb) > 60
    assert [(c["table_name"], c["column_name"]) for c in jsonb if not c["checked"]] == []


SHAPES = [
    pytest.param(
        "INSERT INTO tool_definitions (org_id, name, description, kind, http_config)"
        " VALUES ($1, 'lookup', 'x', 'http', '{\"method\": \"GET\"}')",
        id="http tool without url",
    ),
    pytest.param(
        "INSERT INTO tool_definitions (org_id, name, description, kind, http_config, parameters)"
        ' VALUES ($1, \'lookup\', \'x\', \'http\', \'{"method": "GET", "url": "https://x"}\', \'{"type": "array"}\')',
        id="tool parameters not an object schema",
    ),
    pytest.param(
        "INSERT INTO tool_credentials (org_id, tool_id, name, kind, ciphertext, placement)"
        " SELECT $1, id, 'key', 'api_key', '\\x00', '{\"in\": \"header\"}' FROM tool_definitions WHERE org_id = $1",
        id="credential placement without name",
    ),
    pytest.param(
        "INSERT INTO sso_providers (org_id, kind, name, config) VALUES ($1, 'oidc', 'okta', '{\"client_id\": \"c\"}')",
        id="oidc provider without issuer",
    ),
    pytest.param(
        "INSERT INTO nlu_entities (org_id, bot_id, name, kind, config)"
        " SELECT $1, id, 'order_no', 'regex', '{}' FROM bots WHERE org_id = $1",
        id="regex entity without pattern",
    ),
    pytest.param(
        "INSERT INTO bot_flows (org_id, bot_id, version, graph) SELECT $1, id, 1, '[]' FROM bots WHERE org_id = $1",
        id="flow graph not an object with nodes",
    ),
    pytest.param(
        "INSERT INTO bot_flows (org_id, bot_id, version, graph) SELECT $1, id, 1, '{}' FROM bots WHERE org_id = $1",
        id="flow graph without nodes",
    ),
    pytest.param(
        "INSERT INTO nlu_entities (org_id, bot_id, name, kind, config)"
        " SELECT $1, id, 'amount', 'builtin', '{}' FROM bots WHERE org_id = $1",
        id="builtin entity without builtin",
    ),
    pytest.param(
        "INSERT INTO knowledge_sources (org_id, knowledge_base_id, kind, config)"
        " SELECT $1, id, 'url', '{}' FROM knowledge_bases WHERE org_id = $1",
        id="url source without url",
    ),
    pytest.param(
        "INSERT INTO fine_tuning_examples (org_id, dataset_id, example)"
        ' SELECT $1, id, \'{"text": "hi"}\' FROM fine_tuning_datasets WHERE org_id = $1',
        id="classification example without label",
    ),
    pytest.param(
        "INSERT INTO plugin_versions (plugin_id, version, manifest)"
        " SELECT id, '1.0.0', '{\"entry_point\": \"x\"}' FROM plugins WHERE $1::uuid IS NOT NULL",
        id="plugin manifest without hooks",
    ),
    pytest.param(
        "INSERT INTO recovery_campaigns (org_id, bot_id, name, kind, schedule)"
        " SELECT $1, id, 'carts', 'abandoned_cart', '{\"timezone\": \"UTC\"}' FROM bots WHERE org_id = $1",
        id="campaign schedule missing keys",
    ),
    pytest.param(
        "INSERT INTO security_settings (org_id, pii_redaction) VALUES ($1, '{\"messages\": true}')",
        id="pii redaction missing keys",
    ),
    pytest.param(
        "INSERT INTO handoffs (org_id, conversation_id, requested_by, status)"
        " SELECT $1, id, 'bot', 'lost' FROM conversations WHERE org_id = $1",
        id="unknown status",
    ),
]


# The same statements with the shape right go through, so the failures above are the shape's.
VALID = [
    "INSERT INTO tool_definitions (org_id, name, description, kind, http_config)"
    " VALUES ($1, 'lookup', 'x', 'http', '{\"method\": \"GET\", \"url\": \"https://x/{id}\"}')",
    "INSERT INTO tool_credentials (org_id, tool_id, name, kind, ciphertext, placement)"
    " SELECT $1, id, 'key', 'api_key', '\\x00', '{\"in\": \"header\", \"name\": \"X-Key\"}'"
    " FROM tool_definitions WHERE org_id = $1 AND name = 'search'",
    "INSERT INTO sso_providers (org_id, kind, name, config)"
    ' VALUES ($1, \'oidc\', \'okta\', \'{"client_id": "c", "issuer": "https://okta"}\')',
    "INSERT INTO nlu_entities (org_id, bot_id, name, kind, config)"
    " SELECT $1, id, 'order_no', 'regex', '{\"pattern\": \"[0-9]+\"}' FROM bots WHERE org_id = $1",
    "INSERT INTO bot_flows (org_id, bot_id, version, graph)"
    " SELECT $1, id, 1, '{\"nodes\": {}}' FROM bots WHERE org_id = $1",
    "INSERT INTO knowledge_sources (org_id, knowledge_base_id, kind, config)"
    " SELECT $1, id, 'url', '{\"url\": \"https://x\"}' FROM knowledge_bases WHERE org_id = $1",
    "INSERT INTO fine_tuning_examples (org_id, dataset_id, example)"
    ' SELECT $1, id, \'{"text": "hi", "label": "greet"}\' FROM fine_tuning_datasets WHERE org_id = $1',
    "INSERT INTO plugin_versions (plugin_id, version, manifest)"
    ' SELECT id, \'1.0.0\', \'{"entry_point": "x", "hooks": []}\' FROM plugins WHERE $1::uuid IS NOT NULL',
    "INSERT INTO recovery_campaigns (org_id, bot_id, name, kind)"
    " SELECT $1, id, 'carts', 'abandoned_cart' FROM bots WHERE org_id = $1",
    "INSERT INTO security_settings (org_id) VALUES ($1)",
]


async def _shape_parents(con: asyncpg.Connection, org_id: object) -> None:
    await con.execute(
        "INSERT INTO tool_definitions (org_id, name, description, kind, builtin_name)"
        " VALUES ($1, 'search', 'x', 'builtin', 'knowledge_search')",
        org_id,
    )
    await con.execute("INSERT INTO knowledge_bases (org_id, name) VALUES ($1, 'faq')", org_id)
    await con.execute(
        "INSERT INTO fine_tuning_datasets (org_id, name, task) VALUES ($1, 'labels', 'classification')", org_id
    )
    await con.execute(
        "WITH p AS (INSERT INTO plugin_publishers (slug, name) VALUES ('pub', 'Pub') RETURNING id)"
        " INSERT INTO plugins (publisher_id, slug, name) SELECT id, 'plug', 'Plug' FROM p"
    )


async def test_right_shapes_are_accepted(database_url: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        await _shape_parents(con, acme.org_id)
        for statement in VALID:
            assert await con.execute(statement, acme.org_id) == "INSERT 0 1", statement
    finally:
        await con.close()


@pytest.mark.parametrize("statement", SHAPES)
async def test_fixed_shapes_are_enforced(database_url: str, statement: str) -> None:
    con = await asyncpg.connect(database_url)
    try:
        acme = await seed_tenant(con, "acme")
        await _shape_parents(con, acme.org_id)
        with pytest.raises(asyncpg.CheckViolationError):
            await con.execute(statement, acme.org_id)
    finally:
        await con.close()
