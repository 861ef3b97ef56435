with

source as (

    select * from {{ source('jira', 'fields') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'id' as field_id,
        source.payload ->> 'key' as field_key,
        source.payload ->> 'name' as field_name,
        (source.payload ->> 'custom') = 'true' as is_custom,
        source.payload -> 'schema' ->> 'type' as value_type,
        source.payload -> 'schema' ->> 'custom' as custom_field_type,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
