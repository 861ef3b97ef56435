{#-
    The newest `built_at` the model's table holds, as a timestamptz literal: read once when the
    model runs, so the planner sees the value (and how few rows come after it); `-infinity`
    when the run is not incremental (or nothing is built yet).
-#}
{% macro newest_built_at() -%}
    {%- if execute and is_incremental() -%}
        {%- set newest = run_query(
            "select coalesce(max(built_at), '-infinity')::text from " ~ this
        ).columns[0].values()[0] -%}
        {{ sql_text_literal(newest) }}::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}
