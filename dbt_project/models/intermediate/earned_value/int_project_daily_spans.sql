{#- A table: fct_project_daily's pre-hook, the model itself, int_project_monthly_inputs and the
    tests read it, so it is computed once. -#}
{{ config(materialized='table') }}

with

projects as (

    select * from {{ ref('dim_project') }}

),

daily_events as (

    select * from {{ ref('int_project_daily_events') }}

),

first_activity as (

    -- A project's activity starts with its first current item's creation or its first time entry.
    select
        daily_events.project_key,
        min(daily_events.date_day) as first_active_on

    from daily_events
    where daily_events.items_created > 0 or daily_events.time_entries > 0
    group by daily_events.project_key

)

select
    projects.project_key,
    projects.approved_budget as bac,
    projects.baseline_start,
    projects.baseline_finish,
    least(projects.baseline_start, first_activity.first_active_on) as first_day

from projects
left join first_activity
    on projects.project_key = first_activity.project_key
