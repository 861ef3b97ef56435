with

source as (

    select * from {{ source('asana', 'projects') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'gid' as project_gid,
        source.payload ->> 'name' as project_name,
        (source.payload ->> 'archived') = 'true' as is_archived,
        (source.payload ->> 'completed') = 'true' as is_completed,
        {{ iso_timestamp("source.payload ->> 'completed_at'") }} as completed_at,
        {{ iso_timestamp("source.payload ->> 'created_at'") }} as created_at,
        {{ iso_timestamp("source.payload ->> 'modified_at'") }} as modified_at,
        {{ text_to_date("source.payload ->> 'start_on'") }} as start_on,
        {{ text_to_date("source.payload ->> 'due_on'") }} as due_on,
        source.payload -> 'owner' ->> 'gid' as owner_gid,
        source.payload -> 'owner' ->> 'name' as owner_name,
        source.payload -> 'team' ->> 'gid' as team_gid,
        source.payload -> 'team' ->> 'name' as team_name,
        source.payload -> 'current_status_update' ->> 'gid' as current_status_update_gid,
        source.payload ->> 'permalink_url' as permalink_url,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
