with

source as (

    select * from {{ source('asana', 'status_updates') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as status_update_gid,
        source.payload -> 'parent' ->> 'gid' as project_gid,
        source.payload ->> 'title' as title,
        source.payload ->> 'status_type' as status_type,
        source.payload ->> 'text' as status_text,
        source.payload -> 'author' ->> 'gid' as author_gid,
        {{ iso_timestamp("source.payload ->> 'created_at'") }} as created_at,
        {{ iso_timestamp("source.payload ->> 'modified_at'") }} as modified_at,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
