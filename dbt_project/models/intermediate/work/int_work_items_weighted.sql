{{ config(materialized='table', indexes=[{'columns': ['work_item_key'], 'unique': True}]) }}

with

-- Not materialized: read more than once, each reading is planned with the columns it needs.
work_items as not materialized (

    select * from {{ ref('int_work_items_unioned') }}

),

-- Materialized: about a sixth of the items, worked out once for the two readings of `classified`.
parents_in_project as materialized (

    -- Items with at least one current child in their own project: their work is counted in the children.
    select distinct parents.work_item_key

    from work_items as parents
    inner join work_items as children
        on
            parents.work_item_key = children.parent_work_item_key
            and parents.project_key = children.project_key
    where not children.is_deleted

),

-- Not materialized: each of its two readings takes only the columns it needs, where one stored
-- result would hold every column of every item and spill to disk.
classified as not materialized (

    select
        work_items.work_item_key,
        work_items.parent_work_item_key,
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
        work_items.started_at,
        work_items.completed_at,
        work_items.due_date,
        work_items.estimate_hours,
        work_items.story_points,
        work_items.is_milestone,
        work_items.is_deleted,
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

weighted as (

    select
        classified.*,
        cast(round(
            case
                when not classified.carries_weight then 0
                when classified.estimate_hours is not null then classified.estimate_hours
                when project_leaf_estimates.mean_leaf_estimate_hours is not null
                    then project_leaf_estimates.mean_leaf_estimate_hours
                else 1
            end,
            2
        ) as numeric(12, 2)) as weight

    from classified
    left join project_leaf_estimates
        on classified.project_key = project_leaf_estimates.project_key

)

select * from weighted
