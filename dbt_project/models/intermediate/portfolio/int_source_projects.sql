{{ config(materialized='table') }}

with

jira_projects as (

    select * from {{ ref('stg_jira__projects') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

asana_projects as (

    select * from {{ ref('stg_asana__projects') }}

),

asana_tasks as (

    select * from {{ ref('stg_asana__tasks') }}

),

asana_time_entries as (

    select * from {{ ref('stg_asana__time_entries') }}

),

smartsheet_sheets as (

    select * from {{ ref('stg_smartsheet__sheets') }}

),

smartsheet_plan_rows as (

    select * from {{ ref('stg_smartsheet__plan_rows') }}

),

register_projects as (

    select * from {{ ref('int_register_projects') }}

),

listed_projects as (

    -- Projects as each tool lists them: Jira projects, Asana projects, Smartsheet plan sheets.
    select
        'jira' as source_system,
        jira_projects.source_instance,
        jira_projects.project_id as source_project_id,
        jira_projects.project_key as source_project_key,
        jira_projects.project_name as source_project_name,
        jira_projects.is_deleted

    from jira_projects

    union all

    select
        'asana' as source_system,
        asana_projects.source_instance,
        asana_projects.project_gid as source_project_id,
        asana_projects.project_gid as source_project_key,
        asana_projects.project_name as source_project_name,
        asana_projects.is_deleted

    from asana_projects

    union all

    select
        'smartsheet' as source_system,
        smartsheet_sheets.source_instance,
        smartsheet_sheets.sheet_id as source_project_id,
        smartsheet_sheets.sheet_id as source_project_key,
        smartsheet_sheets.sheet_name as source_project_name,
        smartsheet_sheets.is_deleted

    from smartsheet_sheets
    where smartsheet_sheets.sheet_kind = 'plan'

),

referenced_projects as (

    -- Projects that work points at, whether or not the tool lists them (archived, not readable).
    -- Each table's rows fold first by the project they name (hundreds of thousands of items, a few
    -- thousand projects), before the union is folded again below.
    select
        'jira' as source_system,
        jira_issues.source_instance,
        jira_issues.project_id as source_project_id,
        jira_issues.project_key as source_project_key,
        jira_issues.project_name as source_project_name,
        max(jira_issues.updated_at) as seen_at

    from jira_issues
    where jira_issues.project_id is not null
    group by jira_issues.source_instance, jira_issues.project_id, jira_issues.project_key, jira_issues.project_name

    union all

    select
        'asana' as source_system,
        asana_tasks.source_instance,
        asana_tasks.home_project_gid as source_project_id,
        asana_tasks.home_project_gid as source_project_key,
        asana_tasks.home_project_name as source_project_name,
        max(asana_tasks.modified_at) as seen_at

    from asana_tasks
    where asana_tasks.home_project_gid is not null
    group by asana_tasks.source_instance, asana_tasks.home_project_gid, asana_tasks.home_project_name

    union all

    select
        'asana' as source_system,
        asana_time_entries.source_instance,
        asana_time_entries.attributable_project_gid as source_project_id,
        asana_time_entries.attributable_project_gid as source_project_key,
        asana_time_entries.attributable_project_name as source_project_name,
        max(asana_time_entries.created_at) as seen_at

    from asana_time_entries
    where asana_time_entries.attributable_project_gid is not null
    group by
        asana_time_entries.source_instance,
        asana_time_entries.attributable_project_gid,
        asana_time_entries.attributable_project_name

    union all

    select
        'smartsheet' as source_system,
        smartsheet_plan_rows.source_instance,
        smartsheet_plan_rows.sheet_id as source_project_id,
        smartsheet_plan_rows.sheet_id as source_project_key,
        smartsheet_plan_rows.sheet_name as source_project_name,
        max(smartsheet_plan_rows.modified_at) as seen_at

    from smartsheet_plan_rows
    group by smartsheet_plan_rows.source_instance, smartsheet_plan_rows.sheet_id, smartsheet_plan_rows.sheet_name

),

distinct_references as (

    -- Each distinct reference once, at its latest, by hashing, before the ordered window below.
    select
        referenced_projects.source_system,
        referenced_projects.source_instance,
        referenced_projects.source_project_id,
        referenced_projects.source_project_key,
        referenced_projects.source_project_name,
        max(referenced_projects.seen_at) as seen_at

    from referenced_projects
    group by
        referenced_projects.source_system,
        referenced_projects.source_instance,
        referenced_projects.source_project_id,
        referenced_projects.source_project_key,
        referenced_projects.source_project_name

),

latest_references as (

    select
        distinct_references.*,
        row_number() over (
            partition by
                distinct_references.source_system,
                distinct_references.source_instance,
                distinct_references.source_project_id
            order by distinct_references.seen_at desc nulls last, distinct_references.source_project_name asc
        ) as recency_rank

    from distinct_references

),

source_projects as (

    select * from listed_projects

    union all

    select
        latest_references.source_system,
        latest_references.source_instance,
        latest_references.source_project_id,
        latest_references.source_project_key,
        latest_references.source_project_name,
        false as is_deleted

    from latest_references
    left join listed_projects
        on
            latest_references.source_system = listed_projects.source_system
            and latest_references.source_instance = listed_projects.source_instance
            and latest_references.source_project_id = listed_projects.source_project_id
    where
        latest_references.recency_rank = 1
        and listed_projects.source_project_id is null

),

register_claims as (

    -- Should two register rows name the same source project, the lower project code maps it.
    select
        register_projects.project_code,
        register_projects.source_system,
        lower(register_projects.source_project_key) as source_project_key,
        row_number() over (
            partition by register_projects.source_system, lower(register_projects.source_project_key)
            order by register_projects.project_code asc
        ) as claim_rank

    from register_projects
    where
        register_projects.source_system is not null
        and register_projects.source_project_key is not null

),

mapped as (

    select
        source_projects.source_system,
        source_projects.source_instance,
        source_projects.source_project_id,
        source_projects.source_project_key,
        source_projects.source_project_name,
        source_projects.is_deleted,
        register_claims.project_code is not null as is_mapped,
        coalesce(
            register_claims.project_code,
            source_projects.source_system || ':' || source_projects.source_project_key
        ) as project_code

    from source_projects
    left join register_claims
        on
            source_projects.source_system = register_claims.source_system
            and lower(source_projects.source_project_key) = register_claims.source_project_key
            and register_claims.claim_rank = 1

)

select
    {{ surrogate_key(['mapped.project_code']) }} as project_key,
    mapped.*

from mapped
