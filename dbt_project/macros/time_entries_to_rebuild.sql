{#-
    int_time_entries' incremental filter on one tool's entries (`entries`, a CTE or relation of that
    name): those its loader wrote or tombstoned after the latest the model holds for that tool,
    and those `stale_entries` lists. By id alone, as an array: PostgreSQL reads those few thousand
    ids through the entries' index. Joined on the union instead, it expected millions of rows (it
    cannot tell how few entries are stale) and read every entry. An entry of the same id on
    another site is then rebuilt too, which changes nothing.
-#}
{% macro time_entries_to_rebuild(source_system, entries, changed_at, id_column) -%}
    where {{ id_column }} = any(array(
        select entries_to_rebuild.source_id
        from (
            select {{ id_column }} as source_id
            from {{ entries }}
            where {{ changed_at }} > (
                select coalesce(max(built.source_changed_at), '-infinity')
                from {{ this }} as built
                where built.source_system = '{{ source_system }}'
            )

            union

            select stale_entries.source_id
            from stale_entries
            where stale_entries.source_system = '{{ source_system }}'
        ) as entries_to_rebuild
    ))
{%- endmacro %}
