{#- The first day dim_date holds: days before it are never built. -#}
{% macro first_calendar_day() -%}
    cast('{{ var("dim_date_start") }}' as date)
{%- endmacro %}

{#- Pre-hook of fct_project_daily on an incremental run: deletes every day of a project whose inputs
    changed since its days were built (its inputs_hash differs) or that has no span any more, and days
    outside the project's current span; the model then rebuilds those projects whole. -#}
{% macro delete_outdated_project_days(spans_relation) -%}
    {%- if is_incremental() -%}
delete from {{ this }} as project_days
where not exists (
    select 1
    from {{ spans_relation }} as spans
    where
        spans.project_key = project_days.project_key
        and spans.inputs_hash = project_days.inputs_hash
        and project_days.date_day between greatest(spans.first_day, {{ first_calendar_day() }}) and {{ run_date() }}
)
    {%- endif -%}
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
