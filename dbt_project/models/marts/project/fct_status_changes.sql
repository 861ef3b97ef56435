{#-
    Incremental by item: a run rebuilds the changes of the items whose changes `int_status_changes`
    wrote since the newest `built_at` held here, and of the items held here that are now deleted,
    gone or in another project. Each such item's rows are replaced (`replace_groups`): an item left
    without live changes comes as one row holding only its key, which removes its rows.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_groups',
        unique_key='work_item_key',
        on_schema_change='fail',
        indexes=[
            {'columns': ['work_item_key', 'project_key']},
            {'columns': ['built_at']},
        ],
    )
}}

with

-- Not materialized: read more than once, each reading is planned with the filters it has.
status_changes as not materialized (

    select * from {{ ref('int_status_changes') }}

),

work_items as not materialized (

    select * from {{ ref('int_work_items_unioned') }}

),

{% if is_incremental() %}

    stored_work_items as (

        select distinct
            built.work_item_key,
            built.project_key

        from {{ this }} as built

    ),

    work_items_to_rebuild as (

        select status_changes.work_item_key

        from status_changes
        where status_changes.built_at > {{ newest_built_at() }}

        union

        select stored_work_items.work_item_key

        from stored_work_items
        left join work_items
            on stored_work_items.work_item_key = work_items.work_item_key
        where
            work_items.work_item_key is null
            or work_items.is_deleted
            or work_items.project_key is distinct from stored_work_items.project_key

    ),

{% endif %}

live_changes as (

    select
        status_changes.status_change_key,
        status_changes.work_item_key,
        work_items.project_key,
        status_changes.changed_at,
        status_changes.from_status,
        status_changes.to_status,
        status_changes.from_category,
        status_changes.to_category,
        status_changes.hours_in_from_status,
        status_changes.change_sequence,
        status_changes.source_system,
        status_changes.source_instance,
        status_changes.built_at

    from status_changes
    inner join work_items
        on status_changes.work_item_key = work_items.work_item_key
    where
        not status_changes.is_deleted
        and not work_items.is_deleted
    {% if is_incremental() -%}
        and status_changes.work_item_key in (select work_items_to_rebuild.work_item_key from work_items_to_rebuild)
    {%- endif %}

)

select
    live_changes.status_change_key,
    {% if is_incremental() -%}
        work_items_to_rebuild.work_item_key,
    {%- else -%}
        live_changes.work_item_key,
    {%- endif %}
    live_changes.project_key,
    live_changes.changed_at,
    live_changes.from_status,
    live_changes.to_status,
    live_changes.from_category,
    live_changes.to_category,
    live_changes.hours_in_from_status,
    live_changes.change_sequence,
    live_changes.source_system,
    live_changes.source_instance,
    live_changes.built_at

{% if is_incremental() -%}
    from work_items_to_rebuild
    left join live_changes
        on work_items_to_rebuild.work_item_key = live_changes.work_item_key
{%- else -%}
    from live_changes
{%- endif %}
