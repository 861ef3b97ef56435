with

source as (

    select * from {{ source('asana', 'portfolios') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as portfolio_gid,
        source.payload ->> 'name' as portfolio_name,
        source.payload -> 'owner' ->> 'gid' as owner_gid,
        {{ text_to_date("source.payload ->> 'start_on'") }} as start_on,
        {{ text_to_date("source.payload ->> 'due_on'") }} as due_on,
        {{ iso_timestamp("source.payload ->> 'created_at'") }} as created_at,
        source.payload ->> 'permalink_url' as permalink_url,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
