{#-
    On an incremental run, the filter keeping the raw rows the loader wrote or tombstoned since the
    latest such row the model already holds; nothing otherwise. The model selects from the raw table alone.
-#}
{% macro written_since_last_build() -%}
    {%- if is_incremental() %}
    where greatest(loaded_at, deleted_at) > (
        select coalesce(max(greatest(built.loaded_at, built.deleted_at)), '-infinity')
        from {{ this }} as built
    )
    {%- endif -%}
{%- endmacro %}
