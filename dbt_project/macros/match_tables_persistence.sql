{#-
    An on-run-start hook: the tables of the models this run builds are made logged or unlogged as
    their `unlogged` config says, when they are not yet (a warehouse built before the staging and
    intermediate layers were unlogged). `alter table ... set unlogged` rewrites the table, once.
    Only the selected models' tables are altered, so a run of one model never waits on another's.
    PostgreSQL only: other warehouses have no unlogged tables.
-#}
{% macro match_tables_persistence() -%}
    {%- if execute and target.type == 'postgres' -%}
        {%- set wanted = [] -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model'
            and node.unique_id in selected_resources
            and node.config.materialized in ('table', 'incremental') -%}
            {%- do wanted.append(
                '(' ~ sql_text_literal(node.schema) ~ ', ' ~ sql_text_literal(node.alias) ~ ', '
                ~ ('true' if node.config.get('unlogged', false) else 'false') ~ ')'
            ) -%}
        {%- endfor -%}
        {%- if wanted -%}
            {%- set mismatched = run_query(
                "select format('alter table %I.%I set %s', namespaces.nspname, tables.relname,"
                ~ " case when wanted.unlogged then 'unlogged' else 'logged' end)"
                ~ " from (values " ~ wanted | join(', ') ~ ") as wanted (schema_name, table_name, unlogged)"
                ~ " inner join pg_namespace as namespaces on namespaces.nspname = wanted.schema_name"
                ~ " inner join pg_class as tables on tables.relnamespace = namespaces.oid"
                ~ " and tables.relname = wanted.table_name and tables.relkind = 'r'"
                ~ " where (tables.relpersistence = 'u') is distinct from wanted.unlogged"
                ~ " order by 1"
            ).columns[0].values() -%}
            {%- for statement in mismatched -%}
                {%- do log('match_tables_persistence: ' ~ statement, info=true) -%}
                {{ statement }};
            {% endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
