with

span as (

    select
        min(dim_date.date_day) as first_day,
        max(dim_date.date_day) as last_day,
        count(*) as day_count

    from {{ ref('dim_date') }} as dim_date

),

expected as (

    select
        cast('{{ var("dim_date_start") }}' as date) as first_day,
        cast(
            {{ run_date() }} + make_interval(years => {{ var('dim_date_years_ahead') | int }}) as date
        ) as last_day

)

select
    span.first_day,
    span.last_day,
    span.day_count

from span
cross join expected
where
    span.first_day != expected.first_day
    or span.last_day != expected.last_day
    or span.day_count != expected.last_day - expected.first_day + 1
