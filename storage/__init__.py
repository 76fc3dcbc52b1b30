"""PostgreSQL: pool, migrations, named queries, batch writers and the runtime's ports."""
