with

source as (

    select * from {{ source('smartsheet', 'sheets') }}

),

renamed as (

    select
        source.source_instance,
        {{ id_text("source.payload ->> 'id'") }} as sheet_id,
        source.payload ->> 'name' as sheet_name,
        source.payload ->> 'sheet_kind' as sheet_kind,
        {{ iso_timestamp("source.payload ->> 'createdAt'") }} as created_at,
        {{ iso_timestamp("source.payload ->> 'modifiedAt'") }} as modified_at,
        source.payload ->> 'permalink' as permalink,
        source.payload -> 'columns' as sheet_columns,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
