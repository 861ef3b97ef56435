{#- A table: fct_project_daily's pre-hook, the model itself, int_project_monthly_inputs and the
    tests read it, so it is computed once. -#}
{{ config(materialized='table') }}

with

projects as (

    select * from {{ ref('dim_project') }}

),

work_items as (

    select * from {{ ref('fct_work_items') }}

),

time_entries as (

    select * from {{ ref('fct_time_entries') }}

),

item_activity as (

    select
        work_items.project_key,
        min(cast(work_items.created_at at time zone 'UTC' as date)) as first_item_created_on

    from work_items
    where not work_items.is_deleted
    group by work_items.project_key

),

time_activity as (

    select
        time_entries.project_key,
        min(time_entries.entry_date) as first_entry_on

    from time_entries
    group by time_entries.project_key

)

select
    projects.project_key,
    projects.approved_budget as bac,
    projects.baseline_start,
    projects.baseline_finish,
    least(
        projects.baseline_start,
        item_activity.first_item_created_on,
        time_activity.first_entry_on
    ) as first_day

from projects
left join item_activity
    on projects.project_key = item_activity.project_key
left join time_activity
    on projects.project_key = time_activity.project_key
