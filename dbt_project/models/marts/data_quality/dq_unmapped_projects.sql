with

projects as (

    select * from {{ ref('int_projects_mapped') }}

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
    projects.source_system,
    projects.source_instance,
    projects.source_project_key,
    projects.source_project_name,
    cast(coalesce(current_work_items.work_items, 0) as integer) as work_items,
    projects.project_key

from projects
left join current_work_items
    on
        projects.source_system = current_work_items.source_system
        and projects.source_instance = current_work_items.source_instance
        and projects.source_project_id = current_work_items.source_project_id
where
    not projects.is_mapped
    and not projects.is_deleted
