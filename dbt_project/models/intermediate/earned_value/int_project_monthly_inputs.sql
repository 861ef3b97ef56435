{#- A table: fct_project_daily's pre-hook and the model itself read it. -#}
{{ config(materialized='table') }}

with

spans as (

    select * from {{ ref('int_project_daily_spans') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }}

),

time_entries as (

    select * from {{ ref('fct_time_entries') }}

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

events as (

    -- Each event as its day, its kind and its amount. A day's figures are sums of its events' (an
    -- item created adds 1 and its weight, done 1 and its weight, an overdue start or end 1 or -1, a
    -- time entry its cost), so the same kinds and amounts on the same days give the same days.
    select
        item_events.project_key,
        item_events.event_day,
        item_events.items_created
        + 2 * item_events.items_completed
        + case item_events.overdue_change when 1 then 3 when -1 then 4 else 0 end as event_kind,
        coalesce(item_events.weight_created + item_events.weight_completed, 0) as amount

    from {{ project_item_events('work_items') }} as item_events

    union all

    -- Each entry by itself: a day's cost is the sum of its entries'.
    select
        time_entries.project_key,
        time_entries.entry_date as event_day,
        0 as event_kind,
        coalesce(time_entries.cost, 0) as amount

    from time_entries

),

event_months as (

    -- The events of each project and month as their count and the sum of a 64-bit hash of each,
    -- whatever their order (as rows_fingerprint, from the values rather than their text).
    select
        events.project_key,
        {{ month_start('events.event_day') }} as event_month,
        count(*) as events,
        sum(hashint8extended(
            cast(events.event_day - date '2000-01-01' as bigint) * 8 + events.event_kind,
            hash_numeric_extended(events.amount, 0)
        )) as events_hash

    from events
    where events.event_day <= {{ run_date() }}
    group by events.project_key, {{ month_start('events.event_day') }}

),

monthly_events as (

    -- Months before the first one built fold into it, as their days' events do.
    select
        built_spans.project_key,
        greatest(event_months.event_month, built_spans.first_month) as month_start,
        sum(event_months.events) || ':' || sum(event_months.events_hash) as events_fingerprint

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
