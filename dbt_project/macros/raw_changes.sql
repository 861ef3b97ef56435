{#-
    On an incremental run, the filter keeping the raw rows the loader wrote or tombstoned since the
    latest such row the model already holds; nothing otherwise. The model selects from the raw table alone.
    The instant is a literal (`newest_instant`): PostgreSQL then estimates from the raw table's
    index on that expression how few rows are newer, and reads them through it, where a subquery's
    value, unknown when planning, made it read the whole table.
-#}
{% macro written_since_last_build() -%}
    {%- if is_incremental() %}
    where greatest(loaded_at, deleted_at) > {{ newest_instant('greatest(loaded_at, deleted_at)') }}
    {%- endif -%}
{%- endmacro %}
