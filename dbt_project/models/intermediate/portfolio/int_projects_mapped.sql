{{ config(materialized='table') }}

with

register_projects as (

    select * from {{ ref('int_register_projects') }}

),

source_projects as (

    select * from {{ ref('int_source_projects') }}

),

register_matches as (

    -- The source project a register row maps (the first, should several tool instances hold it).
    select
        source_projects.project_code,
        source_projects.source_instance,
        source_projects.source_project_id,
        source_projects.source_project_name,
        row_number() over (
            partition by source_projects.project_code
            order by
                source_projects.is_deleted asc,
                source_projects.source_instance asc,
                source_projects.source_project_id asc
        ) as match_rank

    from source_projects
    where source_projects.is_mapped

),

registered as (

    select
        register_projects.project_code,
        coalesce(register_projects.project_name, register_matches.source_project_name) as project_name,
        coalesce(register_projects.program_code, 'UNASSIGNED') as program_code,
        case
            when register_projects.program_code is null then 'Unassigned'
            else register_projects.program_name
        end as program_name,
        coalesce(register_projects.portfolio_code, 'UNASSIGNED') as portfolio_code,
        case
            when register_projects.portfolio_code is null then 'Unassigned'
            else register_projects.portfolio_name
        end as portfolio_name,
        register_projects.source_system,
        register_matches.source_instance,
        register_matches.source_project_id,
        register_projects.source_project_key,
        register_matches.source_project_name,
        false as is_deleted,
        true as is_mapped,
        register_matches.project_code is not null as has_source_project,
        register_projects.register_source,
        register_projects.project_manager,
        register_projects.sponsor,
        register_projects.strategic_theme,
        register_projects.stage,
        register_projects.priority,
        register_projects.approved_budget,
        register_projects.currency,
        register_projects.baseline_start,
        register_projects.baseline_finish,
        register_projects.forecast_finish,
        register_projects.expected_benefit,
        register_projects.alignment_score,
        register_projects.default_hourly_rate

    from register_projects
    left join register_matches
        on
            register_projects.project_code = register_matches.project_code
            and register_matches.match_rank = 1

),

unmapped_ranked as (

    -- A source project no register row maps stands for itself; the same key in two tool
    -- instances is one project.
    select
        source_projects.*,
        row_number() over (
            partition by source_projects.project_code
            order by
                source_projects.is_deleted asc,
                source_projects.source_instance asc,
                source_projects.source_project_id asc
        ) as code_rank

    from source_projects
    where not source_projects.is_mapped

),

unmapped as (

    select
        unmapped_ranked.project_code,
        unmapped_ranked.source_project_name as project_name,
        'UNASSIGNED' as program_code,
        'Unassigned' as program_name,
        'UNASSIGNED' as portfolio_code,
        'Unassigned' as portfolio_name,
        unmapped_ranked.source_system,
        unmapped_ranked.source_instance,
        unmapped_ranked.source_project_id,
        unmapped_ranked.source_project_key,
        unmapped_ranked.source_project_name,
        unmapped_ranked.is_deleted,
        false as is_mapped,
        true as has_source_project,
        cast(null as text) as register_source,
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

    from unmapped_ranked
    where unmapped_ranked.code_rank = 1

),

projects as (

    select * from registered

    union all

    select * from unmapped

)

select
    {{ surrogate_key(['projects.project_code']) }} as project_key,
    {{ surrogate_key(['projects.program_code']) }} as program_key,
    {{ surrogate_key(['projects.portfolio_code']) }} as portfolio_key,
    projects.*

from projects
