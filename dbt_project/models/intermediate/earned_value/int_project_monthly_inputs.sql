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

event_months as (

    -- Each project's days of each month as their count and the sum of a 64-bit hash of each day's
    -- figures, whatever their order (as rows_fingerprint, from the values rather than their text):
    -- the same sums on the same days give the same days.
    select
        daily_events.project_key,
        {{ month_start('daily_events.date_day') }} as event_month,
        count(*) as event_days,
        sum(hashint8extended(
            cast(daily_events.date_day - date '2000-01-01' as bigint),
            hash_numeric_extended(daily_events.weight_created, hash_numeric_extended(
                daily_events.weight_completed, hash_numeric_extended(daily_events.cost, hashint8extended(
                    daily_events.items_created, hashint8extended(
                        daily_events.items_completed, daily_events.overdue_change
                    )
                ))
            ))
        )) as days_hash

    from daily_events
    where daily_events.date_day <= {{ run_date() }}
    group by daily_events.project_key, {{ month_start('daily_events.date_day') }}

),

monthly_events as (

    -- Months before the first one built fold into it, as their days' events do.
    select
        built_spans.project_key,
        greatest(event_months.event_month, built_spans.first_month) as month_start,
        sum(event_months.event_days) || ':' || sum(event_months.days_hash) as events_fingerprint

    from event_months
    inner join built_spans
        on event_months.project_key = built_spans.project_key
    group by built_spans.project_key, greatest(event_months.event_month, built_spans.first_month)

)

select
    project_months.project_key,
    project_months.month_start,
    {{ surrogate_key([
        'project_months.bac',
        'project_months.baseline_start',
        'project_months.baseline_finish',
        "'" ~ var('dim_date_start') ~ "'",
        'monthly_events.events_fingerprint',
    ]) }} as inputs_hash

from project_months
left join monthly_events
    on
        project_months.project_key = monthly_events.project_key
        and project_months.month_start = monthly_events.month_start
