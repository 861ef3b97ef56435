with

projects as (

    select * from {{ ref('int_projects_mapped') }}

)

select
    projects.project_key,
    projects.project_code,
    projects.project_name,
    projects.program_key,
    projects.portfolio_key,
    projects.source_system,
    projects.source_instance,
    projects.source_project_key,
    projects.project_manager,
    projects.sponsor,
    projects.strategic_theme,
    projects.stage,
    projects.priority,
    projects.approved_budget,
    projects.currency,
    projects.baseline_start,
    projects.baseline_finish,
    projects.forecast_finish,
    projects.expected_benefit,
    projects.alignment_score,
    projects.default_hourly_rate,
    projects.is_mapped,
    projects.has_source_project

from projects
