with

work_items as (

    select * from {{ ref('int_work_items_unioned') }}

)

select
    work_items.work_item_key as milestone_key,
    work_items.work_item_key,
    work_items.project_key,
    work_items.source_system,
    work_items.source_instance,
    work_items.source_id,
    work_items.title as milestone_name,
    work_items.due_date,
    work_items.completed_at,
    work_items.status_category = 'done' as is_done,
    work_items.is_deleted

from work_items
where work_items.is_milestone
