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
        cast(date_trunc('month', greatest(spans.first_day, {{ first_calendar_day() }})) as date) as first_month

    from spans
    where greatest(spans.first_day, {{ first_calendar_day() }}) <= {{ run_date() }}

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
        built_spans.first_month,
        date_trunc('month', {{ run_date() }}),
        interval '1 month'
    ) as months (month_start)

),

events as (

    select
        item_events.project_key,
        item_events.event_day,
        item_events.items_created,
        item_events.weight_created,
        item_events.items_completed,
        item_events.weight_completed,
        item_events.overdue_change,
        null as cost

    from {{ project_item_events('work_items') }} as item_events

    union all

    -- Each entry by itself: a day's cost is the sum of its entries', so the same entries give the
    -- same days, without folding millions of entries by day first.
    select
        time_entries.project_key,
        time_entries.entry_date as event_day,
        0 as items_created,
        0 as weight_created,
        0 as items_completed,
        0 as weight_completed,
        0 as overdue_change,
        time_entries.cost

    from time_entries

),

monthly_events as (

    select
        built_spans.project_key,
        greatest(cast(date_trunc('month', events.event_day) as date), built_spans.first_month) as month_start,
        {{ rows_fingerprint([
            'events.event_day',
            'events.items_created',
            'events.weight_created',
            'events.items_completed',
            'events.weight_completed',
            'events.overdue_change',
            'events.cost',
        ]) }} as events_fingerprint

    from events
    inner join built_spans
        on events.project_key = built_spans.project_key
    where events.event_day <= {{ run_date() }}
    group by
        built_spans.project_key,
        greatest(cast(date_trunc('month', events.event_day) as date), built_spans.first_month)

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
