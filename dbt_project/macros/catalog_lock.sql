{#- What creates a schema, table or role where missing takes this lock first, for the rest of its
    transaction, as the connectors do (connectors/raw_store.py, CATALOG_LOCK): `create ... if not
    exists` is not safe against another session creating the same object at that moment, which
    fails on a duplicate key instead. The nightly DAG runs dbt commands side by side (a task per
    model), and on a new warehouse each of them makes the schemas it builds in. -#}
{% macro catalog_lock_key() -%}
hashtext('pmo_warehouse.catalog')
{%- endmacro %}

{% macro catalog_lock() -%}
select pg_advisory_xact_lock({{ catalog_lock_key() }})
{%- endmacro %}

{#- dbt's own schema creation (dbt-postgres's `postgres__create_schema`), under the lock. -#}
{% macro postgres__create_schema(relation) -%}
    {%- if relation.database -%}
        {{ adapter.verify_database(relation.database) }}
    {%- endif -%}
    {%- call statement('create_schema') -%}
        {{ catalog_lock() }};
        create schema if not exists {{ relation.without_identifier().include(database=False) }}
    {%- endcall -%}
{%- endmacro %}
