{#- Incremental: only the raw rows written or tombstoned since the last build are parsed again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source_instance', 'worklog_id'],
        on_schema_change='sync_all_columns',
        post_hook="{{ require_not_null(['source_instance', 'worklog_id', 'issue_id']) }}",
        indexes=[
            {'columns': ['source_instance', 'worklog_id'], 'unique': True},
            {'columns': ['(greatest(loaded_at, deleted_at))']},
        ],
    )
}}

with

source as (

    select * from {{ source('jira', 'worklogs') }}
    {{ written_since_last_build() }}

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
