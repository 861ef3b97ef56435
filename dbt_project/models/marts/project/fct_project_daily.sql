{{
    config(
        materialized='incremental',
        incremental_strategy='fill_or_delete_insert',
        unique_key=['project_key', 'date_day'],
        on_schema_change='fail',
        contract={'enforced': true},
        pre_hook="{{ delete_outdated_project_days(ref('int_project_daily_spans'), ref('int_project_monthly_inputs')) }}",
    )
}}

{%- set lookback_days = var('daily_facts_lookback_days', 7) | int -%}
{%- if lookback_days < 1 -%}
    {{ exceptions.raise_compiler_error("var daily_facts_lookback_days must be at least 1, got " ~ lookback_days) }}
{%- endif -%}

with

spans as (

    select * from {{ ref('int_project_daily_spans') }}

),

monthly_inputs as (

    select * from {{ ref('int_project_monthly_inputs') }}

),

daily_events as not materialized (

    -- Read twice (the opening totals and the running totals): PostgreSQL would otherwise store every
    -- event first, then read them back twice.
    select * from {{ ref('int_project_daily_events') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

{% if is_incremental() %}

    already_built as (

        select
            project_days.project_key,
            max(project_days.date_day) as last_built_day

        from {{ this }} as project_days
        group by project_days.project_key

    ),

{% endif %}

build_ranges as (

    -- A full build covers each project's whole span. An incremental one rebuilds the last
    -- `daily_facts_lookback_days` days, any day after the last one built and, on a backfill, every
    -- day from `rebuild_from`; the pre-hook has already deleted each project's days from the first
    -- month whose inputs changed, so such a project is rebuilt from that month.
    select
        spans.project_key,
        spans.bac,
        spans.baseline_start,
        spans.baseline_finish,
        {% if is_incremental() -%}
            greatest(
                spans.first_day,
                {{ first_calendar_day() }},
                least(
                    {{ run_date() }} - {{ lookback_days - 1 }},
                    coalesce(already_built.last_built_day + 1, spans.first_day){% if rebuild_from() %},
                    {{ rebuild_from() }}{% endif %}
                )
            )
        {%- else -%}
            greatest(spans.first_day, {{ first_calendar_day() }})
        {%- endif %} as build_from

    from spans
    {% if is_incremental() -%}
        left join already_built
            on spans.project_key = already_built.project_key
    {%- endif %}
    where spans.first_day <= {{ run_date() }}

),

project_days as (

    -- Each day carries its month's fingerprint, which the next incremental run compares.
    select
        build_ranges.project_key,
        calendar.date_day,
        build_ranges.bac,
        build_ranges.baseline_start,
        build_ranges.baseline_finish,
        monthly_inputs.inputs_hash

    from build_ranges
    inner join calendar
        on calendar.date_day between build_ranges.build_from and {{ run_date() }}
    left join monthly_inputs
        on
            build_ranges.project_key = monthly_inputs.project_key
            and {{ month_start('calendar.date_day') }} = monthly_inputs.month_start

),

opening_totals as (

    -- What happened before a project's first day built counts on that day, so its running totals
    -- start from everything before it.
    select
        build_ranges.project_key,
        sum(daily_events.items_created) as items_created,
        sum(daily_events.weight_created) as weight_created,
        sum(daily_events.items_completed) as items_completed,
        sum(daily_events.weight_completed) as weight_completed,
        sum(daily_events.overdue_change) as overdue_change,
        sum(daily_events.cost) as cost

    from daily_events
    inner join build_ranges
        on daily_events.project_key = build_ranges.project_key
    where daily_events.date_day < build_ranges.build_from
    group by build_ranges.project_key

),

running_totals as (

    select
        project_days.project_key,
        project_days.date_day,
        project_days.bac,
        project_days.baseline_start,
        project_days.baseline_finish,
        project_days.inputs_hash,
        coalesce(opening_totals.items_created, 0)
        + sum(coalesce(daily_events.items_created, 0)) over project_history as items_total,
        coalesce(opening_totals.items_completed, 0)
        + sum(coalesce(daily_events.items_completed, 0)) over project_history as items_done,
        coalesce(opening_totals.overdue_change, 0)
        + sum(coalesce(daily_events.overdue_change, 0)) over project_history as items_overdue,
        coalesce(opening_totals.weight_created, 0)
        + sum(coalesce(daily_events.weight_created, 0)) over project_history as weight_total,
        coalesce(opening_totals.weight_completed, 0)
        + sum(coalesce(daily_events.weight_completed, 0)) over project_history as weight_done,
        coalesce(opening_totals.cost, 0)
        + sum(coalesce(daily_events.cost, 0)) over project_history as actual_cost

    from project_days
    left join daily_events
        on
            project_days.project_key = daily_events.project_key
            and project_days.date_day = daily_events.date_day
    left join opening_totals
        on project_days.project_key = opening_totals.project_key
    window project_history as (
        partition by project_days.project_key
        order by project_days.date_day
        rows between unbounded preceding and current row
    )

),

-- `offset 0` keeps each CTE from here on from being pulled up into the next one, so each row's
-- figures are worked out once: pulled up, every reading of a fraction, pv, ev, ac, an index or a band
-- would work it out again from the running totals (eac divides by the cost index that cpi rounds,
-- each band names its index in every branch, overall_health names both bands in every branch).
-- A materialized CTE would store every row first.
progress as (

    select
        running_totals.*,
        case
            when running_totals.baseline_finish < running_totals.baseline_start then null
            when running_totals.baseline_start is null or running_totals.baseline_finish is null then null
            when running_totals.date_day < running_totals.baseline_start then 0.0
            when running_totals.date_day >= running_totals.baseline_finish then 1.0
            else
                cast(running_totals.date_day - running_totals.baseline_start as numeric)
                / (running_totals.baseline_finish - running_totals.baseline_start)
        end as planned_fraction,
        coalesce(
            {{ safe_divide('cast(running_totals.weight_done as numeric)', 'running_totals.weight_total') }},
            0
        ) as complete_fraction

    from running_totals
    offset 0  -- noqa: AM09

),

values_earned as (

    select
        progress.*,
        cast(round(progress.bac * progress.planned_fraction, 2) as numeric(18, 2)) as pv,
        cast(round(progress.bac * progress.complete_fraction, 2) as numeric(18, 2)) as ev,
        cast(progress.actual_cost as numeric(18, 2)) as ac

    from progress
    offset 0  -- noqa: AM09

),

cost_performance as (

    select
        values_earned.*,
        {{ safe_divide('values_earned.ev', 'values_earned.ac') }} as cost_index

    from values_earned
    offset 0  -- noqa: AM09

),

indices as (

    select
        cost_performance.*,
        cast({{ safe_divide('cost_performance.ev', 'cost_performance.pv') }} as numeric(18, 6)) as spi,
        cast(cost_performance.cost_index as numeric(18, 6)) as cpi,
        cast(coalesce(
            {{ safe_divide('cost_performance.bac', 'cost_performance.cost_index') }},
            cost_performance.bac
        ) as numeric(18, 2)) as eac

    from cost_performance
    offset 0  -- noqa: AM09

),

health as (

    select
        indices.*,
        {{ health_band('indices.spi') }} as schedule_health,
        {{ health_band('indices.cpi') }} as cost_health

    from indices
    offset 0  -- noqa: AM09

)

select
    health.project_key,
    health.date_day,
    cast(health.items_total as integer) as items_total,
    cast(health.items_done as integer) as items_done,
    cast(health.items_overdue as integer) as items_overdue,
    cast(health.planned_fraction as numeric(9, 6)) as pct_planned,
    cast(health.complete_fraction as numeric(9, 6)) as pct_complete,
    health.bac,
    health.pv,
    health.ev,
    health.ac,
    cast(health.ev - health.pv as numeric(18, 2)) as sv,
    cast(health.ev - health.ac as numeric(18, 2)) as cv,
    health.spi,
    health.cpi,
    health.eac,
    cast(health.eac - health.ac as numeric(18, 2)) as etc,
    cast(health.bac - health.eac as numeric(18, 2)) as vac,
    cast(
        {{ safe_divide('health.bac - health.ev', 'health.bac - health.ac') }}
        as numeric(18, 6)
    ) as tcpi,
    health.schedule_health,
    health.cost_health,
    {{ worse_health('health.schedule_health', 'health.cost_health') }} as overall_health,
    health.inputs_hash

from health
