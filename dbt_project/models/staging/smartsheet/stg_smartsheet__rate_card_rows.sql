with

source as (

    select * from {{ source('smartsheet', 'rate_card_rows') }}

),

renamed as (

    select
        source.source_instance,
        {{ id_text("source.payload ->> 'id'") }} as row_id,
        {{ id_text("source.payload ->> 'sheet_id'") }} as sheet_id,
        cast({{ jsonb_number("source.payload -> 'rowNumber'") }} as integer) as row_number,
        {{ typed_field_columns(rate_card_fields(), "source.payload -> 'contract_fields' ->> '{field}'") }},
        {{ iso_timestamp("source.payload ->> 'modifiedAt'") }} as modified_at,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
