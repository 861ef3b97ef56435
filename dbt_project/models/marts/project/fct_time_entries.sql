with

time_entries as (

    select * from {{ ref('int_time_entries') }}

),

work_items as (

    select * from {{ ref('int_work_items_unioned') }}

)

select
    time_entries.time_entry_key,
    time_entries.work_item_key,
    work_items.project_key,
    time_entries.person_key,
    time_entries.entry_date,
    time_entries.hours,
    time_entries.hourly_rate,
    time_entries.cost,
    time_entries.rate_source,
    time_entries.source_system,
    time_entries.source_instance,
    time_entries.source_id,
    time_entries.started_at

from time_entries
inner join work_items
    on time_entries.work_item_key = work_items.work_item_key
where
    not time_entries.is_deleted
    and not work_items.is_deleted
