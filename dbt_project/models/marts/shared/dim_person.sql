with

people as (

    select * from {{ ref('int_people_resolved') }}

),

rate_card_periods as (

    select * from {{ ref('int_rate_card_periods') }}

),

rates_in_force as (

    select
        rate_card_periods.email,
        rate_card_periods.role,
        rate_card_periods.hourly_rate,
        rate_card_periods.weekly_capacity_hours

    from rate_card_periods
    where
        rate_card_periods.effective_from <= {{ run_date() }}
        and (rate_card_periods.effective_to > {{ run_date() }} or rate_card_periods.effective_to is null)

)

select
    people.person_key,
    people.email,
    people.display_name,
    rates_in_force.role,
    rates_in_force.hourly_rate,
    rates_in_force.weekly_capacity_hours,
    people.is_tool_scoped

from people
left join rates_in_force
    on people.email = rates_in_force.email
