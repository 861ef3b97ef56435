with

source as (

    select * from {{ source('smartsheet', 'plan_rows') }}

),

renamed as (

    select
        source.source_instance,
        {{ id_text("source.payload ->> 'id'") }} as row_id,
        {{ id_text("source.payload ->> 'sheet_id'") }} as sheet_id,
        source.payload ->> 'sheet_name' as sheet_name,
        {{ id_text("source.payload ->> 'parentId'") }} as parent_row_id,
        cast({{ jsonb_number("source.payload -> 'rowNumber'") }} as integer) as row_number,
        {{ clean_text("source.payload -> 'contract_fields' ->> 'task_name'") }} as task_name,
        {{ text_to_date("source.payload -> 'contract_fields' ->> 'start'") }} as start_date,
        {{ text_to_date("source.payload -> 'contract_fields' ->> 'finish'") }} as finish_date,
        {{ text_to_numeric("source.payload -> 'contract_fields' ->> 'percent_complete'") }} as percent_complete,
        {{ clean_text("source.payload -> 'contract_fields' ->> 'status'") }} as plan_status,
        {{ clean_email("source.payload -> 'contract_fields' ->> 'assigned_to'") }} as assigned_to_email,
        {{ text_to_numeric("source.payload -> 'contract_fields' ->> 'estimate_hours'") }} as estimate_hours,
        coalesce(
            {{ text_to_boolean("source.payload -> 'contract_fields' ->> 'milestone'") }}, false
        ) as is_milestone_flagged,
        {{ iso_timestamp("source.payload ->> 'createdAt'") }} as created_at,
        {{ iso_timestamp("source.payload ->> 'modifiedAt'") }} as modified_at,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
