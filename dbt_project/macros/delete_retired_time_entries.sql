{#-
    fct_time_entries' pre-hook on an incremental run: delete the entries that `int_time_entries`
    wrote since the table's newest `built_at` as deleted or on an item that is no longer live.
-#}
{% macro delete_retired_time_entries(time_entries) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where time_entry_key in (
            select time_entries.time_entry_key
            from {{ time_entries }} as time_entries
            where
                time_entries.built_at > {{ newest_built_at() }}
                and (time_entries.is_deleted or not time_entries.work_item_is_live)
        )
    {%- endif -%}
{%- endmacro %}
