{#-
    A pre-hook of an incremental model keyed by `key`: on an incremental run, delete the stored rows
    whose key `source` no longer holds. A full build writes none of them anyway.
-#}
{% macro delete_rows_gone_from(source, key) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as stored
        where not exists (
            select from {{ source }} as current_rows
            where current_rows.{{ key }} = stored.{{ key }}
        )
    {%- endif -%}
{%- endmacro %}
