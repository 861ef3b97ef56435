{#-
    Incremental: only the raw rows written or tombstoned since the last build are parsed again. A
    table built before it kept the custom fields apart (`custom_fields`) is rebuilt whole.
-#}
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

{#-
    The standard fields the connector asks for by name on every issue
    (`connectors.jira.settings.ISSUE_FIELDS`; the columns hold those the models read): the rest of an
    issue's `fields` are the custom fields it asks for.
-#}
{%- set standard_fields = [
    'summary', 'created', 'updated', 'duedate', 'issuetype', 'parent', 'project', 'assignee', 'reporter',
    'status', 'resolution', 'resolutiondate', 'priority', 'timetracking', 'timeoriginalestimate',
    'timeestimate', 'timespent', 'statuscategorychangedate', 'labels',
] -%}

with

source as (

    select * from {{ source('jira', 'issues') }}
    {% if is_incremental_with_column('custom_fields') -%}
        {{ written_since_last_build() }}
    {%- endif %}

),

renamed as (

    select
        source.source_instance,
        payload_parts.issue_id,
        payload_parts.issue_key,
        payload_parts.payload_fields ->> 'summary' as summary,

        payload_parts.payload_fields -> 'issuetype' ->> 'id' as issue_type_id,
        payload_parts.payload_fields -> 'issuetype' ->> 'name' as issue_type_name,
        (payload_parts.payload_fields -> 'issuetype' ->> 'subtask') = 'true' as is_subtask,

        payload_parts.payload_fields -> 'project' ->> 'id' as project_id,
        payload_parts.payload_fields -> 'project' ->> 'key' as project_key,
        payload_parts.payload_fields -> 'project' ->> 'name' as project_name,

        payload_parts.payload_fields -> 'parent' ->> 'id' as parent_issue_id,
        payload_parts.payload_fields -> 'parent' ->> 'key' as parent_issue_key,

        payload_parts.payload_fields -> 'assignee' ->> 'accountId' as assignee_account_id,
        payload_parts.payload_fields -> 'assignee' ->> 'displayName' as assignee_display_name,
        nullif(trim(payload_parts.payload_fields -> 'assignee' ->> 'emailAddress'), '') as assignee_email_address,

        payload_parts.payload_fields -> 'status' ->> 'id' as status_id,
        payload_parts.payload_fields -> 'status' ->> 'name' as status_name,
        payload_parts.payload_fields -> 'status' -> 'statusCategory' ->> 'key' as status_category_key,
        payload_parts.payload_fields -> 'resolution' ->> 'name' as resolution_name,
        payload_parts.payload_fields -> 'priority' ->> 'name' as priority_name,
        payload_parts.payload_fields -> 'labels' as labels,

        coalesce(
            {{ jsonb_number("payload_parts.payload_fields -> 'timeoriginalestimate'") }},
            {{ jsonb_number("payload_parts.payload_fields -> 'timetracking' -> 'originalEstimateSeconds'") }}
        ) as original_estimate_seconds,
        coalesce(
            {{ jsonb_number("payload_parts.payload_fields -> 'timeestimate'") }},
            {{ jsonb_number("payload_parts.payload_fields -> 'timetracking' -> 'remainingEstimateSeconds'") }}
        ) as remaining_estimate_seconds,
        coalesce(
            {{ jsonb_number("payload_parts.payload_fields -> 'timespent'") }},
            {{ jsonb_number("payload_parts.payload_fields -> 'timetracking' -> 'timeSpentSeconds'") }}
        ) as time_spent_seconds,

        {{ jira_timestamp("payload_parts.payload_fields ->> 'created'") }} as created_at,
        {{ jira_timestamp("payload_parts.payload_fields ->> 'updated'") }} as updated_at,
        {{ jira_timestamp("payload_parts.payload_fields ->> 'resolutiondate'") }} as resolved_at,
        {{ jira_timestamp("payload_parts.payload_fields ->> 'statuscategorychangedate'") }}
            as status_category_changed_at,
        {{ jira_date("payload_parts.payload_fields ->> 'duedate'") }} as due_date,

        -- Only the custom fields are kept as JSON (`int_work_items_unioned` finds them by name): the
        -- whole object would make up about three quarters of the row, which every full scan reads.
        payload_parts.payload_fields - array[{{ "'" ~ standard_fields | join("', '") ~ "'" }}] as custom_fields,
        source.is_deleted,
        source.deleted_at,
        source.loaded_at

    from source
    -- Most payloads are stored compressed, and every operator on one decompresses it whole: read
    -- apart once (the limit keeps the planner from folding the reads back into each column).
    cross join lateral (  -- noqa: ST05
        select
            source.payload -> 'fields' as payload_fields,
            source.payload ->> 'id' as issue_id,
            source.payload ->> 'key' as issue_key
        limit 1  -- noqa: AM09
    ) as payload_parts

)

select * from renamed
