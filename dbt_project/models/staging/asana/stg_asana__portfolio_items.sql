with

source as (

    select * from {{ source('asana', 'portfolio_items') }}

),

renamed as (

    select
        source.source_instance,
        source.payload -> 'portfolio' ->> 'gid' as portfolio_gid,
        source.payload ->> 'gid' as item_gid,
        source.payload ->> 'resource_type' as item_type,
        source.payload ->> 'name' as item_name,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
