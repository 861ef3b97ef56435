with

status_changes as (

    select * from {{ ref('int_status_changes') }}

),

work_items as (

    select * from {{ ref('int_work_items_unioned') }}

)

select
    status_changes.status_change_key,
    status_changes.work_item_key,
    work_items.project_key,
    status_changes.changed_at,
    status_changes.from_status,
    status_changes.to_status,
    status_changes.from_category,
    status_changes.to_category,
    status_changes.hours_in_from_status,
    status_changes.change_sequence,
    status_changes.source_system,
    status_changes.source_instance

from status_changes
inner join work_items
    on status_changes.work_item_key = work_items.work_item_key
where
    not status_changes.is_deleted
    and not work_items.is_deleted
