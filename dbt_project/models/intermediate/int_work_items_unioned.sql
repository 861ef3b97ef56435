{%- set story_points_field = var('jira_story_points_field') | replace("'", "''") -%}
{%- set milestone_issue_type = var('jira_milestone_issue_type') | replace("'", "''") -%}

with

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

jira_fields as (

    select * from {{ ref('stg_jira__fields') }}

),

source_projects as (

    select * from {{ ref('int_projects_mapped') }}

),

tool_accounts as (

    select * from {{ ref('int_tool_accounts_resolved') }}

),

jira_story_points_fields as (

    select
        jira_fields.source_instance,
        jira_fields.field_id

    from jira_fields
    where
        lower(jira_fields.field_name) = lower('{{ story_points_field }}')
        and not jira_fields.is_deleted

),

jira_story_points_values as (

    select
        jira_issues.source_instance,
        jira_issues.issue_id,
        jira_story_points_fields.field_id,
        {{ jsonb_number("jira_issues.issue_fields -> jira_story_points_fields.field_id") }} as story_points

    from jira_issues
    inner join jira_story_points_fields
        on jira_issues.source_instance = jira_story_points_fields.source_instance

),

jira_story_points as (

    -- A site can hold several fields with the same name: the lowest field id that has a value wins.
    select
        jira_story_points_values.source_instance,
        jira_story_points_values.issue_id,
        (
            array_agg(
                jira_story_points_values.story_points
                order by jira_story_points_values.field_id asc
            ) filter (where jira_story_points_values.story_points is not null)
        )[1] as story_points

    from jira_story_points_values
    group by jira_story_points_values.source_instance, jira_story_points_values.issue_id

),

jira_work_items as (

    select
        'jira' as source_system,
        jira_issues.source_instance,
        jira_issues.issue_id as source_id,
        jira_issues.issue_key as source_key,
        jira_issues.project_id as source_project_id,
        source_projects.project_key,
        jira_issues.summary as title,
        jira_issues.issue_type_name as item_type,
        jira_issues.status_name as status,
        case jira_issues.status_category_key
            when 'indeterminate' then 'in_progress'
            when 'done' then 'done'
            else 'todo'
        end as status_category,
        jira_issues.parent_issue_id as parent_source_id,
        tool_accounts.person_key as assignee_person_key,
        jira_issues.created_at,
        case
            when jira_issues.status_category_key = 'done'
                then coalesce(jira_issues.resolved_at, jira_issues.status_category_changed_at)
        end as completed_at,
        jira_issues.due_date,
        cast(round(jira_issues.original_estimate_seconds / 3600.0, 2) as numeric(12, 2)) as estimate_hours,
        cast(jira_story_points.story_points as numeric(12, 2)) as story_points,
        coalesce(lower(jira_issues.issue_type_name) = lower('{{ milestone_issue_type }}'), false) as is_milestone,
        jira_issues.is_deleted

    from jira_issues
    left join source_projects
        on
            source_projects.source_system = 'jira'
            and jira_issues.source_instance = source_projects.source_instance
            and jira_issues.project_id = source_projects.source_project_id
    left join tool_accounts
        on
            tool_accounts.source_system = 'jira'
            and jira_issues.assignee_account_id = tool_accounts.account_id
    left join jira_story_points
        on
            jira_issues.source_instance = jira_story_points.source_instance
            and jira_issues.issue_id = jira_story_points.issue_id

),

work_items as (

    select * from jira_work_items

)

select
    {{ surrogate_key(['work_items.source_system', 'work_items.source_instance', 'work_items.source_id']) }}
        as work_item_key,
    case
        when work_items.parent_source_id is not null
            then
                {{ surrogate_key([
                    'work_items.source_system', 'work_items.source_instance', 'work_items.parent_source_id',
                ]) }}
    end as parent_work_item_key,
    work_items.source_system,
    work_items.source_instance,
    work_items.source_id,
    work_items.source_key,
    work_items.source_project_id,
    work_items.project_key,
    work_items.title,
    work_items.item_type,
    work_items.status,
    work_items.status_category,
    work_items.parent_source_id,
    work_items.assignee_person_key,
    work_items.created_at,
    work_items.completed_at,
    work_items.due_date,
    work_items.estimate_hours,
    work_items.story_points,
    work_items.is_milestone,
    work_items.is_deleted

from work_items
