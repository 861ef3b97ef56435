with

source as (

    select * from {{ source('asana', 'workspaces') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as workspace_gid,
        source.payload ->> 'name' as workspace_name,
        (source.payload ->> 'is_organization') = 'true' as is_organization,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
