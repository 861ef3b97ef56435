with

source as (

    select * from {{ source('asana', 'time_entries') }}

),

renamed as (

    select
        source.source_instance,
        -- the loader's key is the gid: read so, int_time_entries finds its entries by the primary key
        source.record_id as time_entry_gid,
        source.payload -> 'task' ->> 'gid' as task_gid,
        source.payload -> 'attributable_to' ->> 'gid' as attributable_project_gid,
        source.payload -> 'attributable_to' ->> 'name' as attributable_project_name,
        source.payload -> 'created_by' ->> 'gid' as created_by_gid,
        source.payload -> 'created_by' ->> 'name' as created_by_name,
        {{ text_to_date("source.payload ->> 'entered_on'") }} as entered_on,
        {{ jsonb_number("source.payload -> 'duration_minutes'") }} as duration_minutes,
        {{ iso_timestamp("source.payload ->> 'created_at'") }} as created_at,
        source.payload ->> 'approval_status' as approval_status,
        source.payload ->> 'billable_status' as billable_status,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
