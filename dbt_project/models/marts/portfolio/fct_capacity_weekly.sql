{#- Ordered after int_project_monthly_inputs, which it does not read, so that a build's two threads run
    it beside fct_project_daily (which would otherwise run alone at the end), not while the daily
    facts' chain waits for a thread for the facts' foreign key tests. -#}
-- depends_on: {{ ref('int_project_monthly_inputs') }}
{{ config(contract={'enforced': true}) }}

{%- set run_week = week_start(run_date()) -%}

with

people as (

    select * from {{ ref('dim_person') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }}

),

time_entries as (

    select * from {{ ref('fct_time_entries') }}

),

calendar as (

    select * from {{ ref('dim_date') }}

),

weeks as (

    select distinct
        calendar.iso_week_start as week_start,
        calendar.iso_year,
        calendar.iso_week

    from calendar

),

assigned_items as (

    select
        work_items.assignee_person_key as person_key,
        cast(date_trunc('week', work_items.created_at at time zone 'UTC') as date) as created_week,
        case
            when work_items.status_category = 'done'
                then cast(
                    date_trunc('week', greatest(work_items.completed_at, work_items.created_at) at time zone 'UTC')
                    as date
                )
        end as done_week,
        coalesce(work_items.estimate_hours, 0) as estimate_hours

    from work_items
    where
        not work_items.is_deleted
        and work_items.assignee_person_key is not null

),

logged_weeks as (

    select
        time_entries.person_key,
        {{ week_start('time_entries.entry_date') }} as week_start,
        sum(time_entries.hours) as logged_hours

    from time_entries
    where
        time_entries.person_key is not null
        and time_entries.entry_date <= {{ run_date() }}
    group by time_entries.person_key, {{ week_start('time_entries.entry_date') }}

),

activity_weeks as (

    -- Each person's first week of each kind of activity, found apart before the two are combined.
    select
        logged_weeks.person_key,
        min(logged_weeks.week_start) as week_start

    from logged_weeks
    group by logged_weeks.person_key

    union all

    select
        assigned_items.person_key,
        min(assigned_items.created_week) as week_start

    from assigned_items
    group by assigned_items.person_key

),

first_weeks as (

    -- A person's weeks start at their first logged hour or assigned item, or at the run date's week.
    select
        people.person_key,
        people.weekly_capacity_hours,
        least(min(activity_weeks.week_start), {{ run_week }}) as first_week

    from people
    left join activity_weeks
        on people.person_key = activity_weeks.person_key
    group by people.person_key, people.weekly_capacity_hours

),

person_weeks as (

    select
        first_weeks.person_key,
        first_weeks.weekly_capacity_hours,
        first_weeks.first_week,
        weeks.week_start,
        weeks.iso_year,
        weeks.iso_week

    from first_weeks
    inner join weeks
        on weeks.week_start between first_weeks.first_week and {{ run_week }}

),

open_estimate_changes as (

    select
        assigned_items.person_key,
        assigned_items.created_week as week_start,
        assigned_items.estimate_hours as estimate_change

    from assigned_items

    union all

    select
        assigned_items.person_key,
        assigned_items.done_week as week_start,
        -assigned_items.estimate_hours as estimate_change

    from assigned_items
    where assigned_items.done_week is not null

),

weekly_open_estimate_changes as (

    -- No change falls before its person's first week: an item's done week is never before its
    -- created week, and the created week is one of the activity weeks the first week is the least of.
    select
        open_estimate_changes.person_key,
        open_estimate_changes.week_start,
        sum(open_estimate_changes.estimate_change) as estimate_change

    from open_estimate_changes
    group by open_estimate_changes.person_key, open_estimate_changes.week_start

),

capacity_weeks as (

    select
        person_weeks.person_key,
        person_weeks.week_start,
        person_weeks.iso_year,
        person_weeks.iso_week,
        person_weeks.weekly_capacity_hours as capacity_hours,
        coalesce(logged_weeks.logged_hours, 0) as logged_hours,
        sum(coalesce(weekly_open_estimate_changes.estimate_change, 0)) over (
            partition by person_weeks.person_key
            order by person_weeks.week_start
            rows between unbounded preceding and current row
        ) as open_estimate_hours

    from person_weeks
    left join logged_weeks
        on
            person_weeks.person_key = logged_weeks.person_key
            and person_weeks.week_start = logged_weeks.week_start
    left join weekly_open_estimate_changes
        on
            person_weeks.person_key = weekly_open_estimate_changes.person_key
            and person_weeks.week_start = weekly_open_estimate_changes.week_start

)

select
    capacity_weeks.person_key,
    capacity_weeks.week_start,
    capacity_weeks.iso_year,
    capacity_weeks.iso_week,
    cast(capacity_weeks.capacity_hours as numeric(12, 2)) as capacity_hours,
    cast(capacity_weeks.logged_hours as numeric(12, 2)) as logged_hours,
    cast(capacity_weeks.open_estimate_hours as numeric(12, 2)) as open_estimate_hours,
    cast(
        {{ safe_divide('capacity_weeks.logged_hours', 'capacity_weeks.capacity_hours') }}
        as numeric(18, 6)
    ) as utilization

from capacity_weeks
