{#-
    int_time_entries' incremental filter on one tool's entries: those its loader wrote or tombstoned
    after the latest the model holds for that tool, and those `stale_entries` lists.
-#}
{% macro time_entries_to_rebuild(source_system, changed_at, instance_column, id_column) -%}
    where
        {{ changed_at }} > (
            select coalesce(max(built.source_changed_at), '-infinity')
            from {{ this }} as built
            where built.source_system = '{{ source_system }}'
        )
        or ({{ instance_column }}, {{ id_column }}) in (
            select stale_entries.source_instance, stale_entries.source_id
            from stale_entries
            where stale_entries.source_system = '{{ source_system }}'
        )
{%- endmacro %}
