{#- A table: fct_project_daily's pre-hook and the model itself read it. -#}
{{ config(materialized='table') }}

with

spans as (

    select * from {{ ref('int_project_daily_spans') }}

),

daily_events as (

    select * from {{ ref('int_project_daily_events') }}

),

built_spans as (

    -- Days before the first calendar day are not built: what happened then counts on the first
    -- day built, so it is fingerprinted in that day's month.
    select
        spans.project_key,
        spans.bac,
        spans.baseline_start,
        spans.baseline_finish,
        {{ month_start('greatest(spans.first_day, ' ~ first_calendar_day() ~ ')') }} as first_month

    from spans
    where
        spans.first_day is not null
        and greatest(spans.first_day, {{ first_calendar_day() }}) <= {{ run_date() }}

),

project_months as (

    select
        built_spans.project_key,
        built_spans.bac,
        built_spans.baseline_start,
        built_spans.baseline_finish,
        cast(months.month_start as date) as month_start

    from built_spans
    cross join lateral generate_series(
        cast(built_spans.first_month as timestamp),
        cast({{ month_start(run_date()) }} as timestamp),
        interval '1 month'
    ) as months (month_start)

),

monthly_days as (

    -- Each project's days of each month as a fingerprint of their figures (the same sums on the
    -- same days give the same days); days before the first month built fold into it, as their
    -- figures do.
    select
        built_spans.project_key,
        greatest({{ month_start('daily_events.date_day') }}, built_spans.first_month) as month_start,
        {{ rows_fingerprint([
            'daily_events.date_day',
            'daily_events.items_created',
            'daily_events.weight_created',
            'daily_events.items_completed',
            'daily_events.weight_completed',
            'daily_events.overdue_change',
            'daily_events.cost',
        ]) }} as days_fingerprint

    from daily_events
    inner join built_spans
        on daily_events.project_key = built_spans.project_key
    where daily_events.date_day <= {{ run_date() }}
    group by built_spans.project_key, greatest({{ month_start('daily_events.date_day') }}, built_spans.first_month)

)

select
    project_months.project_key,
    project_months.month_start,
    {{ surrogate_key([
        'project_months.bac',
        'project_months.baseline_start',
        'project_months.baseline_finish',
        "'" ~ var('dim_date_start') ~ "'",
        'monthly_days.days_fingerprint',
    ]) }} as inputs_hash

from project_months
left join monthly_days
    on
        project_months.project_key = monthly_days.project_key
        and project_months.month_start = monthly_days.month_start
