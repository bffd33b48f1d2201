"""The Alembic migrations build exactly the schema the SQLModel tables declare, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from api.db import alembic_config, make_engine, migrate
from tests.api.conftest import PostgresServer


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_migrations_match_the_models(database: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if database == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.new_database()
    else:
        url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)  # idempotent
    engine.dispose()
    command.check(alembic_config(url))  # raises if the models and the migrated schema differ
