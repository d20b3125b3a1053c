"""The Alembic revisions build exactly the schema the models declare, and rerunning is safe."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tpmsync.store.db import Store, alembic_config, head_revision
from tpmsync.store.models import Base, include_object


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        # APScheduler's job table lives in the same database but is not ours to compare
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_schema_head_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from tpmsync.store.db import MIGRATIONS_DIR

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == head_revision()


def test_upgrade_is_idempotent(store: Store) -> None:
    assert store.current_revision() == head_revision()
    assert store.upgrade() == head_revision()
    assert store.current_revision() == head_revision()


def test_the_gid_migration_widens_every_gid_column_of_the_models() -> None:
    import importlib.util

    from tpmsync.store.db import MIGRATIONS_DIR
    from tpmsync.store.models import Gid

    spec = importlib.util.spec_from_file_location("m0008", MIGRATIONS_DIR / "versions" / "0008_gid_any_length.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    declared = {
        (t.name, c.name)
        for t in Base.metadata.sorted_tables
        if t.name not in CREATED_AFTER_0008
        for c in t.columns
        if c.type is Gid
    }
    assert set(module.GID_COLUMNS) == declared


CREATED_AFTER_0008 = frozenset({"project_custom_fields"})
"""Tables created by later revisions, with gid columns of any length from the start."""


def test_project_custom_fields_comes_with_0009_and_goes_with_its_downgrade(store: Store) -> None:
    with store.engine.connect() as conn:
        assert "project_custom_fields" in inspect(conn).get_table_names()
    config = alembic_config(store)
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008_gid_any_length")
    assert store.current_revision() == "0008_gid_any_length"
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert "project_custom_fields" not in tables and "custom_fields" in tables
    assert store.upgrade() == head_revision() == "0009_project_custom_fields"
    with store.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("project_custom_fields")}
        key = inspect(conn).get_pk_constraint("project_custom_fields")
    assert columns == {"project_gid", "field_gid"}
    assert sorted(key["constrained_columns"]) == ["field_gid", "project_gid"]
