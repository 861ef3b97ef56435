with

source_projects as (

    select * from {{ ref('int_source_projects') }}

),

work_items as (

    select * from {{ ref('int_work_items_unioned') }}

),

current_work_items as (

    select
        work_items.source_system,
        work_items.source_instance,
        work_items.source_project_id,
        count(*) as work_items

    from work_items
    where not work_items.is_deleted
    group by work_items.source_system, work_items.source_instance, work_items.source_project_id

)

select
    source_projects.source_system,
    source_projects.source_instance,
    source_projects.source_project_key,
    source_projects.source_project_name,
    cast(coalesce(current_work_items.work_items, 0) as integer) as work_items,
    source_projects.project_key

from source_projects
left join current_work_items
    on
        source_projects.source_system = current_work_items.source_system
        and source_projects.source_instance = current_work_items.source_instance
        and source_projects.source_project_id = current_work_items.source_project_id
where
    not source_projects.is_mapped
    and not source_projects.is_deleted
