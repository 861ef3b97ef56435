{#-
    On an incremental run, the filter keeping the raw rows the loader wrote or tombstoned since the
    latest such row the model already holds; nothing otherwise.
-#}
{% macro written_since_last_build(raw_alias='source') -%}
    {%- if is_incremental() %}
    where greatest({{ raw_alias }}.loaded_at, {{ raw_alias }}.deleted_at) > (
        select coalesce(max(greatest(built.loaded_at, built.deleted_at)), '-infinity')
        from {{ this }} as built
    )
    {%- endif -%}
{%- endmacro %}
