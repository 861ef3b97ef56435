with

people as (

    select * from {{ ref('int_people_resolved') }}

)

select
    people.person_key,
    people.email,
    people.display_name,
    cast(null as text) as role,
    cast(null as numeric(18, 2)) as hourly_rate,
    cast(null as numeric(12, 2)) as weekly_capacity_hours,
    people.is_tool_scoped

from people
