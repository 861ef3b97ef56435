with

source as (

    select * from {{ source('asana', 'custom_field_settings') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as custom_field_setting_gid,
        coalesce(source.payload -> 'project' ->> 'gid', source.payload -> 'parent' ->> 'gid') as project_gid,
        source.payload -> 'custom_field' ->> 'gid' as custom_field_gid,
        source.payload -> 'custom_field' ->> 'name' as custom_field_name,
        coalesce(
            source.payload -> 'custom_field' ->> 'resource_subtype',
            source.payload -> 'custom_field' ->> 'type'
        ) as custom_field_type,
        (source.payload ->> 'is_important') = 'true' as is_important,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
