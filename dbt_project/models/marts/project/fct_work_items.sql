with

-- Not materialized: read more than once, each reading is planned with the columns it needs.
work_items as not materialized (

    select * from {{ ref('int_work_items_weighted') }}

),

time_entries as (

    select * from {{ ref('int_time_entries') }}

),

logged_time as (

    select
        time_entries.work_item_key,
        sum(time_entries.hours) as logged_hours

    from time_entries
    where not time_entries.is_deleted
    group by time_entries.work_item_key

),

parent_items as (

    select work_items.work_item_key

    from work_items

)

select
    work_items.work_item_key,
    work_items.project_key,
    work_items.source_system,
    work_items.source_instance,
    work_items.source_id,
    work_items.source_key,
    work_items.title,
    work_items.item_type,
    work_items.status,
    work_items.status_category,
    work_items.assignee_person_key,
    parent_items.work_item_key as parent_work_item_key,
    work_items.created_at,
    work_items.started_at,
    work_items.completed_at,
    work_items.due_date,
    work_items.estimate_hours,
    work_items.weight,
    cast(
        case when work_items.is_deleted then 0 else coalesce(logged_time.logged_hours, 0) end
        as numeric(12, 2)
    ) as logged_hours,
    work_items.story_points,
    work_items.is_milestone,
    coalesce(
        not work_items.is_deleted
        and work_items.status_category != 'done'
        and work_items.due_date < {{ run_date() }},
        false
    ) as is_overdue,
    work_items.is_deleted,
    cast(
        round(extract(epoch from work_items.completed_at - work_items.created_at) / 86400, 2)
        as numeric(12, 2)
    ) as lead_time_days,
    cast(
        round(extract(epoch from work_items.completed_at - work_items.started_at) / 86400, 2)
        as numeric(12, 2)
    ) as cycle_time_days

from work_items
left join logged_time
    on work_items.work_item_key = logged_time.work_item_key
left join parent_items
    on work_items.parent_work_item_key = parent_items.work_item_key
