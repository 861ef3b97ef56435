with

projects as (

    select * from {{ ref('int_projects_mapped') }}

),

portfolios as (

    select distinct
        projects.portfolio_key,
        projects.portfolio_code,
        projects.portfolio_name

    from projects

)

select * from portfolios
