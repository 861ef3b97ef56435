{#-
    The newest value of an instant `expression` a table holds, as a timestamptz literal read when
    the SQL is rendered, so the planner sees the value (and how few rows come after or share it): of
    `relation` when given (a test's model), else of the model's own table on an incremental run.
    `-infinity` when there is nothing to read (a full build, a table not built yet, an empty one).
-#}
{% macro newest_instant(expression, relation=none) -%}
    {%- set table = relation if relation is not none else (this if is_incremental() else none) -%}
    {%- set newest = '-infinity' -%}
    {%- if execute and table is not none and load_relation(table) is not none -%}
        {%- set newest = run_query(
            "select coalesce(max(" ~ expression ~ "), '-infinity')::text from " ~ table
        ).columns[0].values()[0] -%}
    {%- endif -%}
    {{ sql_text_literal(newest) }}::timestamptz
{%- endmacro %}

{#- The newest `built_at` of `relation`, else of the model's own table (`newest_instant`). -#}
{% macro newest_built_at(relation=none) -%}
    {{ newest_instant('built_at', relation) }}
{%- endmacro %}
