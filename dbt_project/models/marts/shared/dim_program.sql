with

projects as (

    select * from {{ ref('int_projects_mapped') }}

),

program_names as (

    select
        projects.program_code,
        projects.program_name,
        count(*) as projects

    from projects
    group by projects.program_code, projects.program_name

),

program_portfolios as (

    select
        projects.program_code,
        projects.portfolio_code,
        count(*) as projects

    from projects
    group by projects.program_code, projects.portfolio_code

),

chosen_names as (

    -- The register repeats a program's name and portfolio on each of its projects: should they
    -- disagree, the ones most of its projects give win.
    select distinct on (program_names.program_code)
        program_names.program_code,
        program_names.program_name

    from program_names
    order by program_names.program_code asc, program_names.projects desc, program_names.program_name asc

),

chosen_portfolios as (

    select distinct on (program_portfolios.program_code)
        program_portfolios.program_code,
        program_portfolios.portfolio_code

    from program_portfolios
    order by
        program_portfolios.program_code asc,
        program_portfolios.projects desc,
        program_portfolios.portfolio_code asc

),

programs as (

    select
        chosen_names.program_code,
        chosen_names.program_name,
        chosen_portfolios.portfolio_code

    from chosen_names
    inner join chosen_portfolios
        on chosen_names.program_code = chosen_portfolios.program_code

),

unassigned as (

    -- UNASSIGNED exists even while every project is mapped, so dashboards can rely on it.
    select
        'UNASSIGNED' as program_code,
        'Unassigned' as program_name,
        'UNASSIGNED' as portfolio_code

),

with_unassigned as (

    select * from programs

    union all

    select unassigned.*

    from unassigned
    left join programs
        on unassigned.program_code = programs.program_code
    where programs.program_code is null

)

select
    {{ surrogate_key(['with_unassigned.program_code']) }} as program_key,
    with_unassigned.program_code,
    with_unassigned.program_name,
    {{ surrogate_key(['with_unassigned.portfolio_code']) }} as portfolio_key

from with_unassigned
