{#-
    Lookups an incremental model keeps beside its table, one table a kind (`<model>__<kind>`): what
    its last run built rows with besides their own source (a project's key, an account's person, a
    rate). Every run keeps the lookups it used (`keep_lookups`, a post-hook, in the run's own
    transaction), so the next run finds the few whose value changed by comparing a few thousand rows,
    and rebuilds only the stored rows that use them, instead of comparing every stored row with the
    lookups.
-#}

{% macro kept_lookups(kind) -%}
    {{ return(api.Relation.create(
        database=this.database,
        schema=this.schema,
        identifier=this.identifier ~ '__' ~ kind,
        type='table',
    )) }}
{%- endmacro %}


{#- The kept lookups by kind, or none when a table of them is missing (a model built before they were kept). -#}
{% macro kept_lookups_if_complete(kinds) -%}
    {%- set kept = {} -%}
    {%- for kind in kinds -%}
        {%- set wanted = kept_lookups(kind) -%}
        {%- if adapter.get_relation(wanted.database, wanted.schema, wanted.identifier) is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do kept.update({kind: wanted}) -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro %}


{#- Replaces each kind's kept table with its select (`selects`: kind to select). -#}
{% macro keep_lookups(selects) -%}
    {%- for kind, select in selects.items() %}
    drop table if exists {{ kept_lookups(kind) }};
    create table {{ kept_lookups(kind) }} as {{ select }}{{ ";" if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- A select of the `returned` key of every lookup whose `values` differ between the current
    lookups (`current`, a select) and those kept (`kept`, a relation), matched on `keys`: lookups
    new, gone or changed since the last run. -#}
{% macro changed_lookups(current, kept, keys, values, returned) -%}
    select coalesce(current_lookups.{{ returned }}, kept.{{ returned }}) as {{ returned }}

    from ({{ current }}) as current_lookups
    full outer join {{ kept }} as kept
        on
            {%- for key in keys %}
            {{ "and " if not loop.first }}current_lookups.{{ key }} = kept.{{ key }}
            {%- endfor %}
    where
        {%- for value in values %}
        {{ "or " if not loop.first }}current_lookups.{{ value }} is distinct from kept.{{ value }}
        {%- endfor %}
{%- endmacro %}
