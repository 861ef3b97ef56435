{{ config(contract={'enforced': true}) }}

with

projects as (

    select * from {{ ref('dim_project') }}

),

project_days as (

    select * from {{ ref('fct_project_daily') }}

),

time_entries as (

    select * from {{ ref('fct_time_entries') }}

),

actual_costs as (

    select
        time_entries.project_key,
        sum(coalesce(time_entries.cost, 0)) as actual_cost

    from time_entries
    where time_entries.entry_date <= {{ run_date() }}
    group by time_entries.project_key

),

run_date_figures as (

    select
        project_days.project_key,
        project_days.eac

    from project_days
    where project_days.date_day = {{ run_date() }}

),

project_investments as (

    -- A project with no day yet (its span starts after the run date) has no cost, so its eac is its budget.
    select
        projects.portfolio_key,
        projects.strategic_theme,
        projects.stage,
        projects.approved_budget,
        coalesce(actual_costs.actual_cost, 0) as actual_cost,
        case
            when run_date_figures.project_key is not null then run_date_figures.eac
            else projects.approved_budget
        end as eac,
        projects.expected_benefit,
        projects.alignment_score

    from projects
    left join actual_costs
        on projects.project_key = actual_costs.project_key
    left join run_date_figures
        on projects.project_key = run_date_figures.project_key

),

investments as (

    select
        project_investments.portfolio_key,
        project_investments.strategic_theme,
        project_investments.stage,
        count(*) as projects_total,
        sum(project_investments.approved_budget) as approved_budget,
        sum(project_investments.actual_cost) as actual_cost,
        sum(project_investments.eac) as eac,
        sum(project_investments.expected_benefit) as expected_benefit,
        avg(project_investments.alignment_score) as avg_alignment_score

    from project_investments
    group by
        project_investments.portfolio_key,
        project_investments.strategic_theme,
        project_investments.stage

)

select
    investments.portfolio_key,
    investments.strategic_theme,
    investments.stage,
    cast(investments.projects_total as integer) as projects_total,
    cast(investments.approved_budget as numeric(18, 2)) as approved_budget,
    cast(investments.actual_cost as numeric(18, 2)) as actual_cost,
    cast(investments.eac as numeric(18, 2)) as eac,
    cast(investments.expected_benefit as numeric(18, 2)) as expected_benefit,
    cast(
        {{ safe_divide('investments.expected_benefit', 'investments.eac') }}
        as numeric(18, 6)
    ) as benefit_cost_ratio,
    cast(investments.avg_alignment_score as numeric(4, 2)) as avg_alignment_score

from investments
