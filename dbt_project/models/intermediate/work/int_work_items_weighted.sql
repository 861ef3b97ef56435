{#-
    Incremental by item. An item's weight follows from its own row, from whether a current item of
    its project names it as parent (`is_leaf`) and, for a leaf without an estimate, from the mean
    estimate of its project's weighted leaves. So a run rebuilds the items `int_work_items_unioned`
    wrote since this table's newest `built_at`, the parents those items name now or named before
    (and those named by items gone from it), and the unestimated leaves of the projects whose mean
    moved. The means are worked out from the stored rows, the rebuilt items' new rows taking the
    place of their old ones, so no run joins every item with its children. Items gone from
    `int_work_items_unioned` are deleted after the insert (the post-hook), once the run has read
    which parents they named. A table built before it had `built_at` is rebuilt whole.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='work_item_key',
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['work_item_key'], 'unique': True}],
        post_hook="{{ delete_rows_gone_from(ref('int_work_items_unioned'), 'work_item_key') }}",
    )
}}

{%- set rebuild_by_item = is_incremental_with_column('built_at') -%}
{#- The work items' own columns, as this table keeps them. -#}
{%- set item_columns = [
    'work_item_key', 'parent_work_item_key', 'source_system', 'source_instance', 'source_id', 'source_key',
    'source_project_id', 'project_key', 'title', 'item_type', 'status', 'status_category', 'parent_source_id',
    'assignee_person_key', 'created_at', 'started_at', 'completed_at', 'due_date', 'estimate_hours', 'story_points',
    'is_milestone', 'is_deleted',
] -%}

with

-- Not materialized: read more than once, each reading is planned with the columns it needs.
work_items as not materialized (

    select * from {{ ref('int_work_items_unioned') }}

),

{% if rebuild_by_item %}

    stored as not materialized (

        select * from {{ this }}

    ),

    changed_items as (

        select
            work_items.work_item_key,
            work_items.parent_work_item_key

        from work_items
        where work_items.built_at > {{ newest_built_at() }}

    ),

    gone_items as (

        select
            stored.work_item_key,
            stored.parent_work_item_key

        from stored
        where not exists (
            select from work_items
            where work_items.work_item_key = stored.work_item_key
        )

    ),

    reclassified_keys as (

        -- The changed items, and every parent whose children may have changed: the one a changed item
        -- names now, the one it named before, the one an item gone from the work items named.
        select changed_items.work_item_key from changed_items

        union

        select changed_items.parent_work_item_key from changed_items
        where changed_items.parent_work_item_key is not null

        union

        select stored.parent_work_item_key
        from changed_items
        inner join stored
            on changed_items.work_item_key = stored.work_item_key
        where stored.parent_work_item_key is not null

        union

        select gone_items.parent_work_item_key from gone_items
        where gone_items.parent_work_item_key is not null

    ),

    reclassified as (

        select
            {%- for column in item_columns %}
                work_items.{{ column }},
            {%- endfor %}
            not exists (
                select from work_items as children
                where
                    children.parent_work_item_key = work_items.work_item_key
                    and children.project_key = work_items.project_key
                    and not children.is_deleted
            ) as is_leaf

        from work_items
        inner join reclassified_keys
            on work_items.work_item_key = reclassified_keys.work_item_key

    ),

    reclassified_weighting as (

        select
            reclassified.*,
            (not reclassified.is_deleted and not reclassified.is_milestone and reclassified.is_leaf) as carries_weight

        from reclassified

    ),

    stored_leaf_estimates as (

        select
            stored.work_item_key,
            stored.project_key,
            stored.estimate_hours

        from stored
        where
            stored.carries_weight
            and stored.estimate_hours is not null

    ),

    previous_project_means as (

        select
            stored_leaf_estimates.project_key,
            avg(stored_leaf_estimates.estimate_hours) as mean_leaf_estimate_hours

        from stored_leaf_estimates
        group by stored_leaf_estimates.project_key

    ),

    current_leaf_estimates as (

        select
            stored_leaf_estimates.project_key,
            stored_leaf_estimates.estimate_hours

        from stored_leaf_estimates
        where
            not exists (
                select from reclassified_keys
                where reclassified_keys.work_item_key = stored_leaf_estimates.work_item_key
            )
            and not exists (
                select from gone_items
                where gone_items.work_item_key = stored_leaf_estimates.work_item_key
            )

        union all

        select
            reclassified_weighting.project_key,
            reclassified_weighting.estimate_hours

        from reclassified_weighting
        where
            reclassified_weighting.carries_weight
            and reclassified_weighting.estimate_hours is not null

    ),

    project_leaf_estimates as (

        select
            current_leaf_estimates.project_key,
            avg(current_leaf_estimates.estimate_hours) as mean_leaf_estimate_hours

        from current_leaf_estimates
        group by current_leaf_estimates.project_key

    ),

    moved_means as (

        select coalesce(project_leaf_estimates.project_key, previous_project_means.project_key) as project_key

        from project_leaf_estimates
        full outer join previous_project_means
            on project_leaf_estimates.project_key = previous_project_means.project_key
        where
            project_leaf_estimates.mean_leaf_estimate_hours
            is distinct from previous_project_means.mean_leaf_estimate_hours

    ),

    reweighted as (

        -- Unestimated leaves of a project whose mean moved, their classification as stored.
        select
            {%- for column in item_columns %}
                stored.{{ column }},
            {%- endfor %}
            stored.is_leaf,
            stored.carries_weight

        from stored
        inner join moved_means
            on stored.project_key = moved_means.project_key
        where
            stored.carries_weight
            and stored.estimate_hours is null
            and not exists (
                select from reclassified_keys
                where reclassified_keys.work_item_key = stored.work_item_key
            )

    ),

    classified as (

        select * from reclassified_weighting

        union all

        select * from reweighted

    ),

{% else %}

    parents_in_project as (

        -- Items with at least one current child in their own project: their work is counted in the children.
        select distinct parents.work_item_key

        from work_items as parents
        inner join work_items as children
            on
                parents.work_item_key = children.parent_work_item_key
                and parents.project_key = children.project_key
        where not children.is_deleted

    ),

    classified as (

        select
            {%- for column in item_columns %}
                work_items.{{ column }},
            {%- endfor %}
            parents_in_project.work_item_key is null as is_leaf,
            (
                not work_items.is_deleted
                and not work_items.is_milestone
                and parents_in_project.work_item_key is null
            ) as carries_weight

        from work_items
        left join parents_in_project
            on work_items.work_item_key = parents_in_project.work_item_key

    ),

    project_leaf_estimates as (

        select
            classified.project_key,
            avg(classified.estimate_hours) as mean_leaf_estimate_hours

        from classified
        where
            classified.carries_weight
            and classified.estimate_hours is not null
        group by classified.project_key

    ),

{% endif %}

weighted as (

    select
        {%- for column in item_columns %}
            classified.{{ column }},
        {%- endfor %}
        classified.is_leaf,
        classified.carries_weight,
        cast(round(
            case
                when not classified.carries_weight then 0
                when classified.estimate_hours is not null then classified.estimate_hours
                when project_leaf_estimates.mean_leaf_estimate_hours is not null
                    then project_leaf_estimates.mean_leaf_estimate_hours
                else 1
            end,
            2
        ) as numeric(12, 2)) as weight,
        now() as built_at

    from classified
    left join project_leaf_estimates
        on classified.project_key = project_leaf_estimates.project_key

)

select * from weighted
