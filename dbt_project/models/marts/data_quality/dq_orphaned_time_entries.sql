with

time_entries as (

    select * from {{ ref('int_time_entries') }}

),

work_items as (

    select * from {{ ref('int_work_items_unioned') }}

)

select
    time_entries.time_entry_key,
    time_entries.source_system,
    time_entries.source_instance,
    time_entries.source_id,
    time_entries.source_work_item_id,
    time_entries.person_key,
    time_entries.entry_date,
    time_entries.hours

from time_entries
left join work_items
    on time_entries.work_item_key = work_items.work_item_key
where
    not time_entries.is_deleted
    -- An entry's project is its item's (int_time_entries), so an entry whose item is not loaded has
    -- none: the project_key index finds these few entries instead of a scan of every entry.
    and time_entries.project_key is null
    and work_items.work_item_key is null
