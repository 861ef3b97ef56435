{#-
    Incremental by item. A run works out every item's row but its logged hours (cheap: the weighted
    items and their parents) and compares it with the stored row; it rebuilds the items whose row
    differs or is new, and those with time entries `int_time_entries` wrote since this table's
    newest `built_at`. Only for those are the logged hours summed, read through the entries'
    `work_item_key` index. An entry never moves to another item (a worklog belongs to its issue, an
    Asana time entry to its task), so an item's hours change only through entries written with its
    key. Items gone from the weighted items are deleted first, by the pre-hook. A table built
    before it had `built_at` is refused with dbt's schema-change error, which asks for a full refresh
    (the nightly DAG rebuilds a mart whose columns changed from scratch). The post-hook keeps the
    triggers that note the project days of the rows written for int_project_daily_events
    (`note_project_days`).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='work_item_key',
        on_schema_change='fail',
        indexes=[{'columns': ['project_key']}, {'columns': ['assignee_person_key']}],
        pre_hook="{{ delete_rows_gone_from(ref('int_work_items_weighted'), 'work_item_key') }}",
        post_hook="{{ note_project_days('work_items') }}",
    )
}}

{%- set rebuild_by_item = is_incremental_with_column('built_at') -%}
{#- The columns worked out for every item and compared with the stored row; the others follow from them. -#}
{%- set compared_columns = [
    'project_key', 'source_system', 'source_instance', 'source_id', 'source_key', 'title', 'item_type',
    'status', 'status_category', 'assignee_person_key', 'parent_work_item_key', 'created_at', 'started_at',
    'completed_at', 'due_date', 'estimate_hours', 'weight', 'story_points', 'is_milestone', 'is_overdue',
    'is_deleted',
] -%}

with

-- Not materialized, these and item_rows: each reading is planned on its own, through the indexes
-- its filter can use (on an incremental run, the items to rebuild by key, the entries by
-- `built_at` and by `work_item_key`).
work_items as not materialized (

    select * from {{ ref('int_work_items_weighted') }}

),

time_entries as not materialized (

    select * from {{ ref('int_time_entries') }}

),

parent_items as (

    select work_items.work_item_key

    from work_items

),

item_rows as not materialized (

    select
        work_items.work_item_key,
        work_items.project_key,
        work_items.source_system,
        work_items.source_instance,
        work_items.source_id,
        work_items.source_key,
        work_items.title,
        work_items.item_type,
        work_items.status,
        work_items.status_category,
        work_items.assignee_person_key,
        parent_items.work_item_key as parent_work_item_key,
        work_items.created_at,
        work_items.started_at,
        work_items.completed_at,
        work_items.due_date,
        work_items.estimate_hours,
        work_items.weight,
        work_items.story_points,
        work_items.is_milestone,
        coalesce(
            not work_items.is_deleted
            and work_items.status_category != 'done'
            and work_items.due_date < {{ run_date() }},
            false
        ) as is_overdue,
        work_items.is_deleted

    from work_items
    left join parent_items
        on work_items.parent_work_item_key = parent_items.work_item_key

),

{% if rebuild_by_item %}

    items_to_rebuild as (

        select item_rows.work_item_key

        from item_rows
        left join {{ this }} as stored
            on item_rows.work_item_key = stored.work_item_key
        where
            {{ new_or_changed('item_rows', 'stored', 'work_item_key', compared_columns) }}

        union

        select time_entries.work_item_key

        from time_entries
        where time_entries.built_at > {{ newest_built_at() }}

    ),

{% endif %}

entries_to_sum as (

    select time_entries.*

    from time_entries
    {% if rebuild_by_item -%}
        where time_entries.work_item_key = any(array(select items_to_rebuild.work_item_key from items_to_rebuild))
    {%- endif %}

),

logged_time as (

    select
        entries_to_sum.work_item_key,
        sum(entries_to_sum.hours) as logged_hours

    from entries_to_sum
    where not entries_to_sum.is_deleted
    group by entries_to_sum.work_item_key

)

select
    item_rows.work_item_key,
    item_rows.project_key,
    item_rows.source_system,
    item_rows.source_instance,
    item_rows.source_id,
    item_rows.source_key,
    item_rows.title,
    item_rows.item_type,
    item_rows.status,
    item_rows.status_category,
    item_rows.assignee_person_key,
    item_rows.parent_work_item_key,
    item_rows.created_at,
    item_rows.started_at,
    item_rows.completed_at,
    item_rows.due_date,
    item_rows.estimate_hours,
    item_rows.weight,
    cast(
        case when item_rows.is_deleted then 0 else coalesce(logged_time.logged_hours, 0) end
        as numeric(12, 2)
    ) as logged_hours,
    item_rows.story_points,
    item_rows.is_milestone,
    item_rows.is_overdue,
    item_rows.is_deleted,
    cast(
        round(extract(epoch from item_rows.completed_at - item_rows.created_at) / 86400, 2)
        as numeric(12, 2)
    ) as lead_time_days,
    cast(
        round(extract(epoch from item_rows.completed_at - item_rows.started_at) / 86400, 2)
        as numeric(12, 2)
    ) as cycle_time_days,
    now() as built_at

from item_rows
left join logged_time
    on item_rows.work_item_key = logged_time.work_item_key
{%- if rebuild_by_item %}
where item_rows.work_item_key = any(array(select items_to_rebuild.work_item_key from items_to_rebuild))
{%- endif %}
