{#- A table: fct_project_daily's pre-hook, the model itself and the tests read it, so it is computed once. -#}
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

current_items as (

    select
        work_items.project_key,
        work_items.work_item_key,
        cast(work_items.created_at at time zone 'UTC' as date) as created_on,
        work_items.status_category,
        work_items.completed_at,
        work_items.due_date,
        work_items.weight

    from work_items
    where not work_items.is_deleted

),

item_activity as (

    select
        current_items.project_key,
        min(current_items.created_on) as first_item_created_on,
        {{ rows_fingerprint([
            'current_items.work_item_key',
            'current_items.created_on',
            'current_items.status_category',
            'current_items.completed_at',
            'current_items.due_date',
            'current_items.weight',
        ]) }} as items_hash

    from current_items
    group by current_items.project_key

),

time_activity as (

    select
        time_entries.project_key,
        min(time_entries.entry_date) as first_entry_on,
        {{ rows_fingerprint([
            'time_entries.time_entry_key',
            'time_entries.entry_date',
            'time_entries.cost',
        ]) }} as time_entries_hash

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
    ) as first_day,
    {{ surrogate_key([
        'projects.approved_budget',
        'projects.baseline_start',
        'projects.baseline_finish',
        "'" ~ var('dim_date_start') ~ "'",
        'item_activity.items_hash',
        'time_activity.time_entries_hash',
    ]) }} as inputs_hash

from projects
left join item_activity
    on projects.project_key = item_activity.project_key
left join time_activity
    on projects.project_key = time_activity.project_key
