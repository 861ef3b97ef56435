{#- Incremental: only the raw rows written or tombstoned since the last build are parsed again. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['source_instance', 'issue_id'],
        on_schema_change='sync_all_columns',
        post_hook="{{ require_not_null(['source_instance', 'issue_id']) }}",
        indexes=[
            {'columns': ['source_instance', 'issue_id'], 'unique': True},
            {'columns': ['(greatest(loaded_at, deleted_at))']},
        ],
    )
}}

with

source as (

    select * from {{ source('jira', 'issues') }}
    {{ written_since_last_build() }}

),

renamed as (

    select
        source.source_instance,
        source.payload ->> 'id' as issue_id,
        source.payload ->> 'key' as issue_key,
        source.payload -> 'fields' ->> 'summary' as summary,

        source.payload -> 'fields' -> 'issuetype' ->> 'id' as issue_type_id,
        source.payload -> 'fields' -> 'issuetype' ->> 'name' as issue_type_name,
        (source.payload -> 'fields' -> 'issuetype' ->> 'subtask') = 'true' as is_subtask,

        source.payload -> 'fields' -> 'project' ->> 'id' as project_id,
        source.payload -> 'fields' -> 'project' ->> 'key' as project_key,
        source.payload -> 'fields' -> 'project' ->> 'name' as project_name,

        source.payload -> 'fields' -> 'parent' ->> 'id' as parent_issue_id,
        source.payload -> 'fields' -> 'parent' ->> 'key' as parent_issue_key,

        source.payload -> 'fields' -> 'assignee' ->> 'accountId' as assignee_account_id,
        source.payload -> 'fields' -> 'assignee' ->> 'displayName' as assignee_display_name,
        nullif(trim(source.payload -> 'fields' -> 'assignee' ->> 'emailAddress'), '') as assignee_email_address,

        source.payload -> 'fields' -> 'status' ->> 'id' as status_id,
        source.payload -> 'fields' -> 'status' ->> 'name' as status_name,
        source.payload -> 'fields' -> 'status' -> 'statusCategory' ->> 'key' as status_category_key,
        source.payload -> 'fields' -> 'resolution' ->> 'name' as resolution_name,
        source.payload -> 'fields' -> 'priority' ->> 'name' as priority_name,
        source.payload -> 'fields' -> 'labels' as labels,

        coalesce(
            {{ jsonb_number("source.payload -> 'fields' -> 'timeoriginalestimate'") }},
            {{ jsonb_number("source.payload -> 'fields' -> 'timetracking' -> 'originalEstimateSeconds'") }}
        ) as original_estimate_seconds,
        coalesce(
            {{ jsonb_number("source.payload -> 'fields' -> 'timeestimate'") }},
            {{ jsonb_number("source.payload -> 'fields' -> 'timetracking' -> 'remainingEstimateSeconds'") }}
        ) as remaining_estimate_seconds,
        coalesce(
            {{ jsonb_number("source.payload -> 'fields' -> 'timespent'") }},
            {{ jsonb_number("source.payload -> 'fields' -> 'timetracking' -> 'timeSpentSeconds'") }}
        ) as time_spent_seconds,

        {{ jira_timestamp("source.payload -> 'fields' ->> 'created'") }} as created_at,
        {{ jira_timestamp("source.payload -> 'fields' ->> 'updated'") }} as updated_at,
        {{ jira_timestamp("source.payload -> 'fields' ->> 'resolutiondate'") }} as resolved_at,
        {{ jira_timestamp("source.payload -> 'fields' ->> 'statuscategorychangedate'") }}
            as status_category_changed_at,
        {{ jira_date("source.payload -> 'fields' ->> 'duedate'") }} as due_date,

        source.payload -> 'fields' as issue_fields,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source

)

select * from renamed
