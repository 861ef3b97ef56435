with

source as (

    select * from {{ source('asana', 'sections') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as section_gid,
        source.payload ->> 'name' as section_name,
        source.payload -> 'project' ->> 'gid' as project_gid,
        {{ iso_timestamp("source.payload ->> 'created_at'") }} as created_at,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
