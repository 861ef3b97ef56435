with

projects as (

    select * from {{ ref('int_projects_mapped') }}

),

portfolio_names as (

    -- The register repeats a portfolio's name on each of its projects: the most used one names it.
    select
        projects.portfolio_code,
        projects.portfolio_name,
        count(*) as projects

    from projects
    group by projects.portfolio_code, projects.portfolio_name

),

portfolios as (

    select distinct on (portfolio_names.portfolio_code)
        portfolio_names.portfolio_code,
        portfolio_names.portfolio_name

    from portfolio_names
    order by portfolio_names.portfolio_code asc, portfolio_names.projects desc, portfolio_names.portfolio_name asc

),

unassigned as (

    -- UNASSIGNED exists even while every project is mapped, so dashboards can rely on it.
    select
        'UNASSIGNED' as portfolio_code,
        'Unassigned' as portfolio_name

),

with_unassigned as (

    select * from portfolios

    union all

    select unassigned.*

    from unassigned
    left join portfolios
        on unassigned.portfolio_code = portfolios.portfolio_code
    where portfolios.portfolio_code is null

)

select
    {{ surrogate_key(['with_unassigned.portfolio_code']) }} as portfolio_key,
    with_unassigned.portfolio_code,
    with_unassigned.portfolio_name

from with_unassigned
