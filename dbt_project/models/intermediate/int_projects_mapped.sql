with

jira_projects as (

    select * from {{ ref('stg_jira__projects') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

jira_projects_named_by_issues as (

    select
        jira_issues.source_instance,
        jira_issues.project_id,
        jira_issues.project_key,
        jira_issues.project_name,
        row_number() over (
            partition by jira_issues.source_instance, jira_issues.project_id
            order by jira_issues.updated_at desc nulls last, jira_issues.issue_id desc
        ) as recency_rank

    from jira_issues
    where jira_issues.project_id is not null

),

jira_source_projects as (

    select
        'jira' as source_system,
        jira_projects.source_instance,
        jira_projects.project_id as source_project_id,
        jira_projects.project_key as source_project_key,
        jira_projects.project_name as source_project_name,
        jira_projects.is_deleted

    from jira_projects

    union all

    -- Projects that issues point at but the projects stream does not hold (archived, or not readable).
    select
        'jira' as source_system,
        jira_projects_named_by_issues.source_instance,
        jira_projects_named_by_issues.project_id as source_project_id,
        jira_projects_named_by_issues.project_key as source_project_key,
        jira_projects_named_by_issues.project_name as source_project_name,
        false as is_deleted

    from jira_projects_named_by_issues
    left join jira_projects
        on
            jira_projects_named_by_issues.source_instance = jira_projects.source_instance
            and jira_projects_named_by_issues.project_id = jira_projects.project_id
    where
        jira_projects_named_by_issues.recency_rank = 1
        and jira_projects.project_id is null

),

source_projects as (

    select * from jira_source_projects

),

mapped as (

    -- No portfolio register is loaded yet, so every source project is unmapped: it is coded
    -- <source_system>:<source_project_key> under the UNASSIGNED program and portfolio.
    select
        source_projects.source_system,
        source_projects.source_instance,
        source_projects.source_project_id,
        source_projects.source_project_key,
        source_projects.source_project_name,
        source_projects.is_deleted,
        false as is_mapped,
        source_projects.source_system || ':' || source_projects.source_project_key as project_code,
        source_projects.source_project_name as project_name,
        'UNASSIGNED' as program_code,
        'Unassigned' as program_name,
        'UNASSIGNED' as portfolio_code,
        'Unassigned' as portfolio_name,
        cast(null as text) as project_manager,
        cast(null as text) as sponsor,
        cast(null as text) as strategic_theme,
        cast(null as text) as stage,
        cast(null as text) as priority,
        cast(null as numeric(18, 2)) as approved_budget,
        cast(null as text) as currency,
        cast(null as date) as baseline_start,
        cast(null as date) as baseline_finish,
        cast(null as date) as forecast_finish,
        cast(null as numeric(18, 2)) as expected_benefit,
        cast(null as numeric(3, 1)) as alignment_score,
        cast(null as numeric(18, 2)) as default_hourly_rate

    from source_projects

)

select
    {{ surrogate_key(['mapped.project_code']) }} as project_key,
    {{ surrogate_key(['mapped.program_code']) }} as program_key,
    {{ surrogate_key(['mapped.portfolio_code']) }} as portfolio_key,
    mapped.*

from mapped
