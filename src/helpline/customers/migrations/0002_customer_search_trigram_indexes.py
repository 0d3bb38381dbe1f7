"""Substring search on customer names and identities (the customers search box) uses trigram
indexes on PostgreSQL, on the ``UPPER(col::text)`` expression that ``icontains`` compiles to."""

from django.db import migrations


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS customer_name_trgm "
        "ON customers_customer USING gin (UPPER(name::text) gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS identity_value_trgm "
        "ON customers_identity USING gin (UPPER(value::text) gin_trgm_ops)"
    )
    schema_editor.execute("ANALYZE customers_customer")
    schema_editor.execute("ANALYZE customers_identity")


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_name_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS identity_value_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
