with

source as (

    select * from {{ source('asana', 'users') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as user_gid,
        {{ clean_text("source.payload ->> 'name'") }} as user_name,
        {{ clean_email("source.payload ->> 'email'") }} as email,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
