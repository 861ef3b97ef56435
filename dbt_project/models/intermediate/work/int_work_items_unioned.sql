{#-
    Incremental: Jira issues and Asana tasks are rebuilt one by one, the Smartsheet plan rows whole
    on every run (a plan row's type comes from its children). A run rebuilds the issues and tasks
    the loader wrote or tombstoned since the last run (`source_changed_at`), the issues whose status
    changes `int_status_changes` rebuilt since, every stored descendant of a task it rebuilds (a
    subtask takes its project from its nearest ancestor that has one), and the stored items whose
    lookups no longer hold: their project's key, their assignee's person, their Jira site's story
    points fields and the milestone issue type (`configuration_fingerprint`), or the Asana field
    read for estimates. Those are found by comparing the lookups with those the last run kept
    (`keep_work_item_lookups`); without kept lookups, every stored issue is compared with them, and
    every Asana task is worked out. Of the items a run works out, it writes those whose row differs
    from the stored one or is new, so a plan row that did not change keeps its row, and `built_at`
    marks the rows a run wrote. `placed_at` marks when an item last moved project, came or went (is
    deleted or back): `int_time_entries` compares the entries of those items alone with their item.
-#}
{%- set milestone_issue_type = var('jira_milestone_issue_type') | replace("'", "''") -%}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='work_item_key',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['work_item_key'], 'unique': True},
            {'columns': ['built_at']},
            {'columns': ['placed_at']},
            {'columns': ['parent_work_item_key']},
        ],
        post_hook="{{ keep_work_item_lookups() }}",
    )
}}

{#- A table built before these items kept when they were written is rebuilt whole. -#}
{%- set rebuild_by_issue = is_incremental_with_column('built_at') -%}
{#- Rows stored before the table had `placed_at` keep it null until the item moves: none needs it. -#}
{%- set keeps_placement = rebuild_by_issue and relation_has_column(this, 'placed_at') -%}
{#- Every column but the key and `built_at`: a row is written again only when one of them changed. -#}
{%- set compared_columns = [
    'parent_work_item_key', 'source_system', 'source_instance', 'source_id', 'source_key', 'source_project_id',
    'project_key', 'title', 'item_type', 'status', 'status_category', 'parent_source_id', 'assignee_person_key',
    'created_at', 'started_at', 'completed_at', 'due_date', 'estimate_hours', 'story_points', 'is_milestone',
    'is_deleted', 'assignee_account_id', 'source_changed_at', 'configuration_fingerprint',
] -%}

{#- The newest write or tombstone of the loader that the stored items were built from. -#}
{%- set changed_since = newest_instant('source_changed_at') if rebuild_by_issue else none -%}

{%- set configuration_fingerprint = jira_configuration_fingerprint('jira_story_points_field_lists') -%}
{#- The lookups the last run kept, when it kept them all; without them every stored issue is compared. -#}
{%- set kept_lookups = kept_lookups_if_complete(['project_keys', 'assignee_people', 'site_configurations'])
    if rebuild_by_issue else none -%}
{#- Asana tasks are rebuilt one by one when the last run kept their lookups and read estimates from
    the same field; otherwise every task is worked out. -#}
{%- set kept_asana_lookups = kept_lookups_if_complete(['asana_project_keys', 'asana_assignee_people', 'asana_settings'])
    if rebuild_by_issue else none -%}
{%- set rebuild_by_task = kept_asana_lookups is not none
    and asana_work_item_settings_kept(kept_asana_lookups['asana_settings']) -%}

with recursive

-- Not materialized: read more than once, each reading is planned with the columns and filters it needs.
jira_issues as not materialized (

    select * from {{ ref('stg_jira__issues') }}

),

jira_fields as (

    select * from {{ ref('stg_jira__fields') }}

),

-- Not materialized: on an incremental run both readings go through an index (`built_at`, the item).
jira_status_changes as not materialized (

    select * from {{ ref('int_status_changes') }}

),

asana_tasks as not materialized (

    select * from {{ ref('stg_asana__tasks') }}

),

smartsheet_plan_rows as not materialized (

    select * from {{ ref('stg_smartsheet__plan_rows') }}

),

source_projects as (

    select * from {{ ref('int_source_projects') }}

),

tool_accounts as (

    select * from {{ ref('int_tool_accounts_resolved') }}

),

-- Materialized: a handful of rows, read once for every issue.
jira_story_points_fields as materialized (

    {{ jira_story_points_fields('jira_fields') }}

),

jira_story_points_field_lists as (

    {{ jira_story_points_field_lists('jira_story_points_fields') }}

),

{% if kept_lookups %}
changed_projects as (

    {{ changed_lookups(
        work_item_project_keys(),
        kept_lookups['project_keys'],
        ['source_instance', 'source_project_id'],
        ['project_key'],
        'source_project_id'
    ) }}

),

changed_accounts as (

    {{ changed_lookups(
        work_item_assignee_people(), kept_lookups['assignee_people'], ['account_id'], ['person_key'], 'account_id'
    ) }}

),

changed_sites as (

    {{ changed_lookups(
        work_item_site_configurations(),
        kept_lookups['site_configurations'],
        ['source_instance'],
        ['configuration_fingerprint'],
        'source_instance'
    ) }}

),

{% endif %}

{% if rebuild_by_issue %}
jira_issues_to_rebuild as (

    select
        jira_issues.source_instance,
        jira_issues.issue_id

    from jira_issues
    where greatest(jira_issues.loaded_at, jira_issues.deleted_at) > {{ changed_since }}

    union

    select
        jira_status_changes.source_instance,
        jira_status_changes.source_work_item_id as issue_id

    from jira_status_changes
    where jira_status_changes.built_at > {{ newest_built_at() }}

    union

    {% if kept_lookups %}

    -- Stored issues of the Jira projects, accounts and sites whose lookups differ from those the
    -- last run kept; the stored table is not read when none does.
    select
        stored.source_instance,
        stored.source_id as issue_id

    from {{ this }} as stored
    where
        {{ stored_items_whose_lookups_changed('jira', [
            ('source_project_id', 'changed_projects', 'source_project_id'),
            ('assignee_account_id', 'changed_accounts', 'account_id'),
            ('source_instance', 'changed_sites', 'source_instance'),
        ]) }}

    {% else %}

    -- Stored issues whose lookups changed since they were built.
    select
        stored.source_instance,
        stored.source_id as issue_id

    from {{ this }} as stored
    left join source_projects
        on
            stored.source_system = source_projects.source_system
            and stored.source_instance = source_projects.source_instance
            and stored.source_project_id = source_projects.source_project_id
    left join tool_accounts
        on
            stored.source_system = tool_accounts.source_system
            and stored.assignee_account_id = tool_accounts.account_id
    left join jira_story_points_field_lists
        on stored.source_instance = jira_story_points_field_lists.source_instance
    where
        stored.source_system = 'jira'
        and (
            source_projects.project_key is distinct from stored.project_key
            or tool_accounts.person_key is distinct from stored.assignee_person_key
            or {{ configuration_fingerprint }} is distinct from stored.configuration_fingerprint
        )

    {% endif %}

),

{%- set issue_keys_to_rebuild -%}
    array(
        select {{ surrogate_key(["'jira'", 'jira_issues_to_rebuild.source_instance', 'jira_issues_to_rebuild.issue_id']) }}
        from jira_issues_to_rebuild
    )
{%- endset %}

{% endif %}

jira_status_history as (

    select
        jira_status_changes.source_instance,
        jira_status_changes.source_work_item_id as issue_id,
        min(jira_status_changes.changed_at) filter (
            where jira_status_changes.to_category = 'in_progress'
        ) as first_started_at,
        max(jira_status_changes.changed_at) filter (
            where jira_status_changes.to_category = 'done' and coalesce(jira_status_changes.from_category, '') != 'done'
        ) as last_done_at

    from jira_status_changes
    {% if rebuild_by_issue -%}
        where jira_status_changes.work_item_key = any({{ issue_keys_to_rebuild }})
    {%- endif %}
    group by jira_status_changes.source_instance, jira_status_changes.source_work_item_id

),

jira_work_items as (

    select
        'jira' as source_system,
        jira_issues.source_instance,
        jira_issues.issue_id as source_id,
        jira_issues.issue_key as source_key,
        jira_issues.project_id as source_project_id,
        jira_issues.summary as title,
        jira_issues.issue_type_name as item_type,
        jira_issues.status_name as status,
        case jira_issues.status_category_key
            when 'indeterminate' then 'in_progress'
            when 'done' then 'done'
            else 'todo'
        end as status_category,
        jira_issues.parent_issue_id as parent_source_id,
        jira_issues.assignee_account_id,
        jira_issues.created_at,
        -- Without a changelog (not loaded yet), an issue in progress started when its status
        -- last changed category.
        coalesce(
            jira_status_history.first_started_at,
            case
                when jira_issues.status_category_key = 'indeterminate' then jira_issues.status_category_changed_at
            end
        ) as started_at,
        case
            when jira_issues.status_category_key = 'done'
                then coalesce(
                    jira_issues.resolved_at,
                    jira_status_history.last_done_at,
                    jira_issues.status_category_changed_at
                )
        end as completed_at,
        jira_issues.due_date,
        cast(round(jira_issues.original_estimate_seconds / 3600.0, 2) as numeric(12, 2)) as estimate_hours,
        -- A site can hold several fields with the same name: the lowest field id that has a value wins.
        -- The field's value is taken out of the custom fields once (the limit keeps the planner from
        -- inlining it into each operator that reads it).
        cast((
            select {{ jsonb_number("story_points_values.field_value") }}
            from jira_story_points_fields
            cross join
                lateral (  -- noqa: ST05
                    select jira_issues.custom_fields -> jira_story_points_fields.field_id as field_value
                    limit 1  -- noqa: AM09
                ) as story_points_values
            where
                jira_story_points_fields.source_instance = jira_issues.source_instance
                and jsonb_typeof(story_points_values.field_value) = 'number'
            order by jira_story_points_fields.field_id asc
            limit 1
        ) as numeric(12, 2)) as story_points,
        coalesce(lower(jira_issues.issue_type_name) = lower('{{ milestone_issue_type }}'), false) as is_milestone,
        jira_issues.is_deleted,
        greatest(jira_issues.loaded_at, jira_issues.deleted_at) as source_changed_at,
        {{ configuration_fingerprint }} as configuration_fingerprint

    from jira_issues
    left join jira_status_history
        on
            jira_issues.source_instance = jira_status_history.source_instance
            and jira_issues.issue_id = jira_status_history.issue_id
    left join jira_story_points_field_lists
        on jira_issues.source_instance = jira_story_points_field_lists.source_instance
    {% if rebuild_by_issue -%}
        -- By issue id alone: an issue of the same id on another site is rebuilt too, which changes nothing.
        where jira_issues.issue_id = any(array(select jira_issues_to_rebuild.issue_id from jira_issues_to_rebuild))
    {%- endif %}

),

{% if rebuild_by_task %}
changed_asana_projects as (

    {{ changed_lookups(
        work_item_project_keys('asana'),
        kept_asana_lookups['asana_project_keys'],
        ['source_instance', 'source_project_id'],
        ['project_key'],
        'source_project_id'
    ) }}

),

changed_asana_accounts as (

    {{ changed_lookups(
        work_item_assignee_people('asana'),
        kept_asana_lookups['asana_assignee_people'],
        ['account_id'],
        ['person_key'],
        'account_id'
    ) }}

),

-- The tasks the loader wrote or tombstoned since the last run, and every stored descendant of
-- theirs: a subtask's project may come from them.
asana_tasks_written as (

    select
        asana_tasks.source_instance,
        asana_tasks.task_gid

    from asana_tasks
    where greatest(asana_tasks.loaded_at, asana_tasks.deleted_at) > {{ changed_since }}

    union

    select
        stored_children.source_instance,
        stored_children.source_id as task_gid

    from asana_tasks_written
    cross join
        lateral (  -- noqa: ST05
            -- Each task's children through the stored parents' index: `offset 0` keeps the planner,
            -- which guesses ten times the written tasks for each step of the walk, from hashing
            -- every stored item instead.
            select
                stored.source_instance,
                stored.source_id

            from {{ this }} as stored
            where
                stored.parent_work_item_key
                = {{ surrogate_key(["'asana'", 'asana_tasks_written.source_instance', 'asana_tasks_written.task_gid']) }}
            offset 0
        ) as stored_children

),

asana_tasks_to_rebuild as (

    select asana_tasks_written.task_gid

    from asana_tasks_written

    union

    -- Stored tasks of the Asana projects and accounts whose lookups differ from those the last run
    -- kept; the stored table is not read when none does.
    select stored.source_id as task_gid

    from {{ this }} as stored
    where
        {{ stored_items_whose_lookups_changed('asana', [
            ('source_project_id', 'changed_asana_projects', 'source_project_id'),
            ('assignee_account_id', 'changed_asana_accounts', 'account_id'),
        ]) }}

),

{% endif %}

-- Materialized when only some tasks are rebuilt: a few rows, read five times below.
rebuilt_asana_tasks as {{ 'materialized' if rebuild_by_task else 'not materialized' }} (

    select asana_tasks.*

    from asana_tasks
    {% if rebuild_by_task -%}
        -- By gid alone, through the raw table's key: a task of the same gid in another workspace is
        -- rebuilt too, which changes nothing.
        where asana_tasks.task_gid = any(array(select asana_tasks_to_rebuild.task_gid from asana_tasks_to_rebuild))
    {%- endif %}

),

asana_task_projects as (

    -- Subtasks have no memberships: they belong to the project of their nearest ancestor that has one.
    select
        rebuilt_asana_tasks.source_instance,
        rebuilt_asana_tasks.task_gid,
        rebuilt_asana_tasks.home_project_gid as project_gid,
        0 as levels_up

    from rebuilt_asana_tasks
    where rebuilt_asana_tasks.home_project_gid is not null

    {% if rebuild_by_task %}
    union all

    -- A subtask whose parent is not rebuilt takes the project stored for its parent: none of the
    -- parent's ancestors changed, or the parent would be rebuilt too.
    select
        subtasks.source_instance,
        subtasks.task_gid,
        stored_parents.source_project_id as project_gid,
        1 as levels_up

    from rebuilt_asana_tasks as subtasks
    inner join {{ this }} as stored_parents
        on
            stored_parents.work_item_key
            = {{ surrogate_key(["'asana'", 'subtasks.source_instance', 'subtasks.parent_task_gid']) }}
    where
        subtasks.home_project_gid is null
        and not exists (
            select rebuilt_parents.task_gid
            from rebuilt_asana_tasks as rebuilt_parents
            where
                rebuilt_parents.source_instance = subtasks.source_instance
                and rebuilt_parents.task_gid = subtasks.parent_task_gid
        )
    {% endif %}

    union all

    select
        subtasks.source_instance,
        subtasks.task_gid,
        asana_task_projects.project_gid,
        asana_task_projects.levels_up + 1 as levels_up

    from rebuilt_asana_tasks as subtasks
    inner join asana_task_projects
        on
            subtasks.source_instance = asana_task_projects.source_instance
            and subtasks.parent_task_gid = asana_task_projects.task_gid
    where
        subtasks.home_project_gid is null
        and asana_task_projects.levels_up < 100

),

asana_work_items as (

    select
        'asana' as source_system,
        rebuilt_asana_tasks.source_instance,
        rebuilt_asana_tasks.task_gid as source_id,
        cast(null as text) as source_key,
        asana_task_projects.project_gid as source_project_id,
        rebuilt_asana_tasks.task_name as title,
        rebuilt_asana_tasks.task_subtype as item_type,
        case when rebuilt_asana_tasks.is_completed then 'Completed' else 'Incomplete' end as status,
        case when rebuilt_asana_tasks.is_completed then 'done' else 'todo' end as status_category,
        rebuilt_asana_tasks.parent_task_gid as parent_source_id,
        rebuilt_asana_tasks.assignee_gid as assignee_account_id,
        rebuilt_asana_tasks.created_at,
        cast(null as timestamptz) as started_at,
        case
            when rebuilt_asana_tasks.is_completed
                then coalesce(rebuilt_asana_tasks.completed_at, rebuilt_asana_tasks.modified_at)
        end as completed_at,
        rebuilt_asana_tasks.due_on as due_date,
        cast(round(rebuilt_asana_tasks.estimate_hours, 2) as numeric(12, 2)) as estimate_hours,
        cast(null as numeric(12, 2)) as story_points,
        rebuilt_asana_tasks.task_subtype = 'milestone' as is_milestone,
        rebuilt_asana_tasks.is_deleted,
        greatest(rebuilt_asana_tasks.loaded_at, rebuilt_asana_tasks.deleted_at) as source_changed_at,
        cast(null as text) as configuration_fingerprint

    from rebuilt_asana_tasks
    left join asana_task_projects
        on
            rebuilt_asana_tasks.source_instance = asana_task_projects.source_instance
            and rebuilt_asana_tasks.task_gid = asana_task_projects.task_gid

),

smartsheet_summary_rows as (

    select distinct
        smartsheet_plan_rows.source_instance,
        smartsheet_plan_rows.parent_row_id as row_id

    from smartsheet_plan_rows
    where
        smartsheet_plan_rows.parent_row_id is not null
        and not smartsheet_plan_rows.is_deleted

),

smartsheet_rows_classified as (

    select
        smartsheet_plan_rows.*,
        smartsheet_summary_rows.row_id is not null as is_summary_row,
        coalesce(
            smartsheet_plan_rows.percent_complete = 1 or lower(smartsheet_plan_rows.plan_status) = 'complete',
            false
        ) as is_done

    from smartsheet_plan_rows
    left join smartsheet_summary_rows
        on
            smartsheet_plan_rows.source_instance = smartsheet_summary_rows.source_instance
            and smartsheet_plan_rows.row_id = smartsheet_summary_rows.row_id

),

smartsheet_work_items as (

    select
        'smartsheet' as source_system,
        smartsheet_rows_classified.source_instance,
        smartsheet_rows_classified.row_id as source_id,
        cast(null as text) as source_key,
        smartsheet_rows_classified.sheet_id as source_project_id,
        smartsheet_rows_classified.task_name as title,
        case
            when smartsheet_rows_classified.is_summary_row then 'Summary row'
            when smartsheet_rows_classified.is_milestone_flagged then 'Milestone'
            else 'Task row'
        end as item_type,
        smartsheet_rows_classified.plan_status as status,
        case
            when smartsheet_rows_classified.is_done then 'done'
            when
                smartsheet_rows_classified.percent_complete > 0
                or lower(smartsheet_rows_classified.plan_status) = 'in progress'
                then 'in_progress'
            else 'todo'
        end as status_category,
        smartsheet_rows_classified.parent_row_id as parent_source_id,
        smartsheet_rows_classified.assigned_to_email as assignee_account_id,
        smartsheet_rows_classified.created_at,
        -- A plan row records dates, not instants: its day is read as starting at 00:00 UTC.
        case
            when smartsheet_rows_classified.percent_complete > 0
                then cast(smartsheet_rows_classified.start_date as timestamp) at time zone 'UTC'
        end as started_at,
        case
            when smartsheet_rows_classified.is_done
                then cast(coalesce(
                    smartsheet_rows_classified.finish_date,
                    cast(smartsheet_rows_classified.modified_at at time zone 'UTC' as date)
                ) as timestamp) at time zone 'UTC'
        end as completed_at,
        smartsheet_rows_classified.finish_date as due_date,
        cast(round(smartsheet_rows_classified.estimate_hours, 2) as numeric(12, 2)) as estimate_hours,
        cast(null as numeric(12, 2)) as story_points,
        smartsheet_rows_classified.is_milestone_flagged as is_milestone,
        smartsheet_rows_classified.is_deleted,
        cast(null as timestamptz) as source_changed_at,
        cast(null as text) as configuration_fingerprint

    from smartsheet_rows_classified

),

work_items as (

    select * from jira_work_items

    union all

    select * from asana_work_items

    union all

    select * from smartsheet_work_items

),

item_rows as (

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
        source_projects.project_key,
        work_items.title,
        work_items.item_type,
        work_items.status,
        work_items.status_category,
        work_items.parent_source_id,
        tool_accounts.person_key as assignee_person_key,
        work_items.created_at,
        work_items.started_at,
        work_items.completed_at,
        work_items.due_date,
        work_items.estimate_hours,
        work_items.story_points,
        work_items.is_milestone,
        work_items.is_deleted,
        work_items.assignee_account_id,
        work_items.source_changed_at,
        work_items.configuration_fingerprint

    from work_items
    left join source_projects
        on
            work_items.source_system = source_projects.source_system
            and work_items.source_instance = source_projects.source_instance
            and work_items.source_project_id = source_projects.source_project_id
    left join tool_accounts
        on
            work_items.source_system = tool_accounts.source_system
            and work_items.assignee_account_id = tool_accounts.account_id

)

select
    item_rows.*,
    {% if keeps_placement -%}
        case
            when
                stored.work_item_key is not null
                and item_rows.project_key is not distinct from stored.project_key
                and item_rows.is_deleted is not distinct from stored.is_deleted
                then stored.placed_at
            else now()
        end
    {%- else -%}
        now()
    {%- endif %} as placed_at,
    now() as built_at

from item_rows
{% if rebuild_by_issue -%}
    left join {{ this }} as stored
        on item_rows.work_item_key = stored.work_item_key
    where
        {{ new_or_changed('item_rows', 'stored', 'work_item_key', compared_columns) }}
{%- endif %}
