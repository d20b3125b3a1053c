"""The local SQL store: schema, engine, migrations, locks."""
