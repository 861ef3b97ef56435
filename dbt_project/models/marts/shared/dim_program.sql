with

projects as (

    select * from {{ ref('int_projects_mapped') }}

),

programs as (

    select distinct
        projects.program_key,
        projects.program_code,
        projects.program_name,
        projects.portfolio_key

    from projects

)

select * from programs
