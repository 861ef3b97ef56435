{#- The first day dim_date holds: days before it are never built. -#}
{% macro first_calendar_day() -%}
    cast('{{ var("dim_date_start") }}' as date)
{%- endmacro %}

{#- Pre-hook of fct_project_daily on an incremental run: removes every day of a project whose inputs
    changed since its days were built (its inputs_hash differs) or that has no span any more, and days
    outside the project's current span; the model then rebuilds those projects whole. When those days
    are more than the `daily_facts_rebuild_share` var of the table, it is emptied instead and every
    project rebuilt whole: deleting most rows and inserting them again costs several times what
    writing them into an empty table does (each new key meets its deleted one in the primary key). -#}
{% macro delete_outdated_project_days(spans_relation) -%}
    {%- if is_incremental() -%}
        {%- set outdated -%}
not exists (
    select 1
    from {{ spans_relation }} as spans
    where
        spans.project_key = project_days.project_key
        and spans.inputs_hash = project_days.inputs_hash
        and project_days.date_day between greatest(spans.first_day, {{ first_calendar_day() }}) and {{ run_date() }}
)
        {%- endset -%}
        {%- if execute and most_project_days_outdated(outdated) -%}
truncate {{ this }}
        {%- else -%}
delete from {{ this }} as project_days
where {{ outdated }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether the days matching `outdated` are more than the `daily_facts_rebuild_share` var of
    fct_project_daily's days; says how many either way. -#}
{% macro most_project_days_outdated(outdated) -%}
    {%- set rebuild_share = var('daily_facts_rebuild_share', 0.5) | float -%}
    {%- if rebuild_share < 0 or rebuild_share > 1 -%}
        {{ exceptions.raise_compiler_error("var daily_facts_rebuild_share must be between 0 and 1, got " ~ rebuild_share) }}
    {%- endif -%}
    {%- set counted -%}
select
    (select count(*) from {{ this }} as project_days where {{ outdated }}) as outdated_days,
    (select count(*) from {{ this }}) as built_days
    {%- endset -%}
    {%- set row = run_query(counted).rows[0] -%}
    {%- set rebuild_whole = row['outdated_days'] > rebuild_share * row['built_days'] -%}
    {{- log(
        this.identifier ~ ": " ~ row['outdated_days'] ~ " of " ~ row['built_days'] ~ " days to rebuild; "
        ~ ("more than " if rebuild_whole else "at most ") ~ rebuild_share ~ " of them, so "
        ~ ("every project is rebuilt whole" if rebuild_whole else "only those are deleted"),
        info=True,
    ) -}}
    {{- return(rebuild_whole) -}}
{%- endmacro %}

{#- The first day a backfill rebuilds (the `rebuild_from` var, YYYY-MM-DD) as a date literal, or
    nothing when the var is empty. -#}
{% macro rebuild_from() -%}
    {%- set configured = var('rebuild_from', '') | string | trim -%}
    {%- if configured not in ('', 'None') -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', configured) -%}
            {{ exceptions.raise_compiler_error("var rebuild_from must be a date as YYYY-MM-DD, got '" ~ configured ~ "'") }}
        {%- endif -%}
        cast('{{ configured }}' as date)
    {%- endif -%}
{%- endmacro %}
