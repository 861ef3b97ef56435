with

source as (

    select * from {{ source('jira', 'worklogs') }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'id' as worklog_id,
        source.payload ->> 'issueId' as issue_id,
        source.payload -> 'author' ->> 'accountId' as author_account_id,
        source.payload -> 'author' ->> 'displayName' as author_display_name,
        nullif(trim(source.payload -> 'author' ->> 'emailAddress'), '') as author_email_address,
        {{ jira_timestamp("source.payload ->> 'started'") }} as started_at,
        {{ jira_utc_offset("source.payload ->> 'started'") }} as started_utc_offset,
        {{ jsonb_number("source.payload -> 'timeSpentSeconds'") }} as time_spent_seconds,
        {{ jira_timestamp("source.payload ->> 'created'") }} as created_at,
        {{ jira_timestamp("source.payload ->> 'updated'") }} as updated_at,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
