{#-
    int_time_entries' incremental join on one tool's entries (`entries`, a CTE or relation of that
    name): those its loader wrote or tombstoned after the latest the model holds for that tool,
    and those `stale_entries` lists. A join on the union of both, rather than a `where` with `or
    ... in (...)`, so PostgreSQL hashes the stale entries instead of scanning them for each entry.
-#}
{% macro time_entries_to_rebuild(source_system, entries, changed_at, instance_column, id_column) -%}
    inner join (
        select
            {{ instance_column }} as source_instance,
            {{ id_column }} as source_id
        from {{ entries }}
        where {{ changed_at }} > (
            select coalesce(max(built.source_changed_at), '-infinity')
            from {{ this }} as built
            where built.source_system = '{{ source_system }}'
        )

        union

        select
            stale_entries.source_instance,
            stale_entries.source_id
        from stale_entries
        where stale_entries.source_system = '{{ source_system }}'
    ) as entries_to_rebuild
        on
            {{ instance_column }} = entries_to_rebuild.source_instance
            and {{ id_column }} = entries_to_rebuild.source_id
{%- endmacro %}
