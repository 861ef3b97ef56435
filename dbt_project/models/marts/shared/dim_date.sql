with

days as (

    select cast(calendar.day_start as date) as date_day

    from generate_series(
        cast('{{ var("dim_date_start") }}' as timestamp),
        cast({{ run_date() }} + make_interval(years => {{ var('dim_date_years_ahead') | int }}) as timestamp),
        interval '1 day'
    ) as calendar (day_start)

)

select
    days.date_day,
    cast(extract(isoyear from days.date_day) as integer) as iso_year,
    cast(extract(week from days.date_day) as integer) as iso_week,
    {{ week_start('days.date_day') }} as iso_week_start,
    cast(extract(month from days.date_day) as integer) as month,
    cast(extract(quarter from days.date_day) as integer) as quarter,
    cast(extract(year from days.date_day) as integer) as year,
    cast(extract(isodow from days.date_day) as integer) as iso_day_of_week,
    extract(isodow from days.date_day) < 6 as is_weekday

from days
