{#
    Incremental by issue: a run rebuilds every change of the issues whose changelog the loader wrote
    or tombstoned since the last run (`source_changed_at`), of those whose issue row it wrote since
    and that are deleted, came back or have no live change stored, and of the issues whose stored
    categories no longer match what the issues holding each status say now (the statuses stored are
    read through an index on each side's `status_change_fingerprint`). Whether a rewritten issue has
    a live change stored is read from the index on (`work_item_key`, `is_deleted`) alone. `built_at`
    marks the rows a run wrote, so `fct_status_changes` can follow.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='work_item_key',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['status_change_key'], 'unique': True},
            {'columns': ['work_item_key', 'is_deleted']},
            {'columns': ['source_changed_at']},
            {'columns': ['built_at']},
            {'columns': ['(' ~ status_change_fingerprint('from') | trim ~ ')']},
            {'columns': ['(' ~ status_change_fingerprint('to') | trim ~ ')']},
        ],
    )
}}

{#- A table built before rows kept when they were written is rebuilt whole. -#}
{%- set rebuild_by_issue = is_incremental_with_column('built_at') -%}

with recursive

jira_issues as (

    -- Only the columns read here: the staging view computes the others from each issue's payload.
    select
        issues.source_instance,
        issues.issue_id,
        issues.status_id,
        issues.status_name,
        issues.status_category_key,
        issues.created_at,
        issues.is_deleted,
        issues.deleted_at,
        issues.loaded_at

    from {{ ref('stg_jira__issues') }} as issues

),

current_statuses as (

    -- Jira's changelog names statuses but not their categories: learn each status's category
    -- from the issues that hold it now (by id, else by name).
    select
        jira_issues.source_instance,
        jira_issues.status_id,
        lower(jira_issues.status_name) as status_name,
        case jira_issues.status_category_key
            when 'new' then 'todo'
            when 'indeterminate' then 'in_progress'
            when 'done' then 'done'
        end as status_category,
        count(*) as issues

    from jira_issues
    where jira_issues.status_category_key in ('new', 'indeterminate', 'done')
    group by
        jira_issues.source_instance,
        jira_issues.status_id,
        lower(jira_issues.status_name),
        jira_issues.status_category_key

),

categories_by_id as (

    select distinct on (current_statuses.source_instance, current_statuses.status_id)
        current_statuses.source_instance,
        current_statuses.status_id,
        current_statuses.status_category

    from current_statuses
    where current_statuses.status_id is not null
    order by
        current_statuses.source_instance asc,
        current_statuses.status_id asc,
        current_statuses.issues desc,
        current_statuses.status_category asc

),

categories_by_name as (

    select distinct on (current_statuses.source_instance, current_statuses.status_name)
        current_statuses.source_instance,
        current_statuses.status_name,
        current_statuses.status_category

    from current_statuses
    where current_statuses.status_name is not null
    order by
        current_statuses.source_instance asc,
        current_statuses.status_name asc,
        current_statuses.issues desc,
        current_statuses.status_category asc

),

{% if rebuild_by_issue %}
{%- set changed_through -%}
    select coalesce(max(changed.source_changed_at), '-infinity') from {{ this }} as changed
{%- endset %}

{%- for side in ['from', 'to'] %}
{%- set stored_status -%}
    {{ status_change_fingerprint(side, 'stored_change') }} as status_fingerprint,
            stored_change.source_instance,
            stored_change.{{ side }}_status_id as status_id,
            stored_change.{{ side }}_status as status_name,
            stored_change.{{ side }}_category as stored_category
{%- endset %}

stored_{{ side }}_statuses as (

    -- Each status the stored changes move {{ side }}, with the category stored for it, read as a loose
    -- index scan: the smallest fingerprint, then the next larger one, one probe of the side's index
    -- each (a handful of statuses among millions of changes).
    (
        select
            {{ stored_status }}

        from {{ this }} as stored_change
        order by {{ status_change_fingerprint(side, 'stored_change') }}
        limit 1
    )

    union all

    select next_status.*

    from stored_{{ side }}_statuses as previous_status
    cross join lateral (
        select
            {{ stored_status }}

        from {{ this }} as stored_change
        where {{ status_change_fingerprint(side, 'stored_change') }} > previous_status.status_fingerprint
        order by {{ status_change_fingerprint(side, 'stored_change') }}
        limit 1
    ) as next_status

),

{%- endfor %}

stored_statuses as (

    select * from stored_from_statuses

    union

    select * from stored_to_statuses

),

remapped_statuses as (

    -- Statuses whose category, as the issues holding them now say, is not the one stored; as one
    -- text per status, so the stored changes are matched by hashing rather than compared pairwise.
    select stored_statuses.status_fingerprint

    from stored_statuses
    left join categories_by_id
        on
            stored_statuses.source_instance = categories_by_id.source_instance
            and stored_statuses.status_id = categories_by_id.status_id
    left join categories_by_name
        on
            stored_statuses.source_instance = categories_by_name.source_instance
            and lower(stored_statuses.status_name) = categories_by_name.status_name
    where
        coalesce(categories_by_id.status_category, categories_by_name.status_category)
        is distinct from stored_statuses.stored_category

),

changed_issues as (

    select
        changelog_changes.source_instance,
        changelog_changes.issue_id

    from {{ ref('stg_jira__status_changes') }} as changelog_changes
    where greatest(changelog_changes.loaded_at, changelog_changes.deleted_at) > ({{ changed_through }})

    union

    -- An issue row written again (a worklog moves its time spent and update time) changes its
    -- status changes only when the issue was deleted, came back, or has none stored yet: its
    -- status moves arrive through its changelog.
    select
        jira_issues.source_instance,
        jira_issues.issue_id

    from jira_issues
    where
        greatest(jira_issues.loaded_at, jira_issues.deleted_at) > ({{ changed_through }})
        and (
            jira_issues.is_deleted
            or not exists (
                select
                from {{ this }} as stored_changes
                where
                    stored_changes.work_item_key
                    = {{ surrogate_key(["'jira'", 'jira_issues.source_instance', 'jira_issues.issue_id']) }}
                    and not stored_changes.is_deleted
            )
        )

    union

    select
        previous_changes.source_instance,
        previous_changes.source_work_item_id as issue_id

    from {{ this }} as previous_changes
    -- Checked once: with no status remapped (the usual night) the stored changes are not read;
    -- otherwise they are found through the sides' indexes.
    where
        exists (select 1 from remapped_statuses)
        and (
            {{ status_change_fingerprint('from', 'previous_changes') }}
            = any(array(select remapped_statuses.status_fingerprint from remapped_statuses))
            or {{ status_change_fingerprint('to', 'previous_changes') }}
            = any(array(select remapped_statuses.status_fingerprint from remapped_statuses))
        )

),

{% endif %}

status_changes as (

    select all_status_changes.*

    from {{ ref('stg_jira__status_changes') }} as all_status_changes
    {% if rebuild_by_issue -%}
    -- By issue id alone: an issue of the same id on another site is rebuilt too, which changes nothing.
    where all_status_changes.issue_id = any(array(select changed_issues.issue_id from changed_issues))
    {%- endif %}

),

sequenced as (

    select
        status_changes.source_instance,
        status_changes.issue_id,
        status_changes.history_id,
        status_changes.history_position,
        status_changes.item_position,
        status_changes.changed_at,
        status_changes.from_status_id,
        status_changes.from_status_name,
        status_changes.to_status_id,
        status_changes.to_status_name,
        status_changes.is_deleted,
        greatest(status_changes.loaded_at, status_changes.deleted_at) as changelog_changed_at,
        row_number() over (
            partition by status_changes.source_instance, status_changes.issue_id
            order by
                status_changes.changed_at asc,
                status_changes.history_position asc,
                status_changes.item_position asc
        ) as change_sequence,
        lag(status_changes.changed_at) over (
            partition by status_changes.source_instance, status_changes.issue_id
            order by
                status_changes.changed_at asc,
                status_changes.history_position asc,
                status_changes.item_position asc
        ) as previous_changed_at

    from status_changes

),

categorised as (

    select
        sequenced.*,
        jira_issues.created_at as issue_created_at,
        jira_issues.is_deleted as is_issue_deleted,
        greatest(jira_issues.loaded_at, jira_issues.deleted_at) as issue_changed_at,
        coalesce(from_by_id.status_category, from_by_name.status_category) as from_category,
        coalesce(to_by_id.status_category, to_by_name.status_category) as to_category

    from sequenced
    left join jira_issues
        on
            sequenced.source_instance = jira_issues.source_instance
            and sequenced.issue_id = jira_issues.issue_id
    left join categories_by_id as from_by_id
        on
            sequenced.source_instance = from_by_id.source_instance
            and sequenced.from_status_id = from_by_id.status_id
    left join categories_by_name as from_by_name
        on
            sequenced.source_instance = from_by_name.source_instance
            and lower(sequenced.from_status_name) = from_by_name.status_name
    left join categories_by_id as to_by_id
        on
            sequenced.source_instance = to_by_id.source_instance
            and sequenced.to_status_id = to_by_id.status_id
    left join categories_by_name as to_by_name
        on
            sequenced.source_instance = to_by_name.source_instance
            and lower(sequenced.to_status_name) = to_by_name.status_name

)

select
    {{ surrogate_key([
        "'jira'", 'categorised.source_instance', 'categorised.issue_id',
        "coalesce(nullif(categorised.history_id, ''), 'position ' || categorised.history_position)",
        'categorised.item_position',
    ]) }} as status_change_key,
    {{ surrogate_key(["'jira'", 'categorised.source_instance', 'categorised.issue_id']) }} as work_item_key,
    'jira' as source_system,
    categorised.source_instance,
    categorised.issue_id as source_work_item_id,
    categorised.history_id,
    categorised.change_sequence,
    categorised.changed_at,
    categorised.from_status_id,
    categorised.from_status_name as from_status,
    categorised.to_status_id,
    categorised.to_status_name as to_status,
    categorised.from_category,
    categorised.to_category,
    -- The first change leaves the status the issue was created in.
    cast(round(
        extract(epoch from categorised.changed_at - coalesce(
            categorised.previous_changed_at, categorised.issue_created_at
        )) / 3600,
        2
    ) as numeric(12, 2)) as hours_in_from_status,
    categorised.is_deleted or coalesce(categorised.is_issue_deleted, false) as is_deleted,
    greatest(
        categorised.changelog_changed_at,
        case when categorised.is_issue_deleted then categorised.issue_changed_at end
    ) as source_changed_at,
    now() as built_at

from categorised
