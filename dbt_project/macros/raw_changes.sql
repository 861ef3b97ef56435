{#-
    On an incremental run, the filter keeping the raw rows the loader wrote or tombstoned since the
    latest such row the model already holds; nothing otherwise. The model selects from the raw table alone.
    The instant is read first and written into the query: PostgreSQL then estimates from the raw
    table's index on that expression how few rows are newer, and reads them through it, where a
    subquery's value, unknown when planning, made it read the whole table.
-#}
{% macro written_since_last_build() -%}
    {%- if is_incremental() %}
        {%- set newest_written -%}
            select cast(coalesce(max(greatest(built.loaded_at, built.deleted_at)), '-infinity') as text)
            from {{ this }} as built
        {%- endset -%}
        {%- set written_after = run_query(newest_written).columns[0].values()[0] if execute else '-infinity' %}
    where greatest(loaded_at, deleted_at) > timestamptz '{{ written_after }}'
    {%- endif -%}
{%- endmacro %}
