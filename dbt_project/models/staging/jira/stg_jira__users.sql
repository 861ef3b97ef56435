with

source as (

    select * from {{ source('jira', 'users') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'accountId' as account_id,
        source.payload ->> 'accountType' as account_type,
        source.payload ->> 'displayName' as display_name,
        nullif(trim(source.payload ->> 'emailAddress'), '') as email_address,
        (source.payload ->> 'active') = 'true' as is_active,
        source.payload ->> 'timeZone' as time_zone,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
