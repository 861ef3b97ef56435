with

source as (

    select * from {{ source('jira', 'projects') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'id' as project_id,
        source.payload ->> 'key' as project_key,
        source.payload ->> 'name' as project_name,
        source.payload ->> 'projectTypeKey' as project_type_key,
        source.payload -> 'lead' ->> 'accountId' as lead_account_id,
        source.payload -> 'lead' ->> 'displayName' as lead_display_name,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
