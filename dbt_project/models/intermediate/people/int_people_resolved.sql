{{ config(materialized='table') }}

with

tool_accounts as (

    select * from {{ ref('int_tool_accounts_resolved') }}

),

register_projects as (

    select * from {{ ref('int_register_projects') }}

),

rate_card_periods as (

    select * from {{ ref('int_rate_card_periods') }}

),

people_with_accounts as (

    select
        tool_accounts.person_key,
        tool_accounts.person_identifier,
        tool_accounts.email,
        (
            array_agg(
                tool_accounts.display_name
                order by tool_accounts.source_system asc, tool_accounts.account_id asc
            ) filter (where tool_accounts.display_name is not null)
        )[1] as display_name,
        tool_accounts.email is null as is_tool_scoped,
        count(*) as tool_accounts,
        string_agg(distinct tool_accounts.source_system, ',' order by tool_accounts.source_system) as source_systems

    from tool_accounts
    group by tool_accounts.person_key, tool_accounts.person_identifier, tool_accounts.email

),

emails_named_by_the_pmo as (

    -- People the register and the rate card name by email, whether or not they use a tool.
    select register_projects.project_manager as email

    from register_projects
    where register_projects.project_manager is not null

    union

    select register_projects.sponsor as email

    from register_projects
    where register_projects.sponsor is not null

    union

    select rate_card_periods.email

    from rate_card_periods

),

people_without_accounts as (

    select
        {{ surrogate_key(['emails_named_by_the_pmo.email']) }} as person_key,
        emails_named_by_the_pmo.email as person_identifier,
        emails_named_by_the_pmo.email,
        cast(null as text) as display_name,
        false as is_tool_scoped,
        cast(0 as bigint) as tool_accounts,
        cast(null as text) as source_systems

    from emails_named_by_the_pmo
    left join people_with_accounts
        on emails_named_by_the_pmo.email = people_with_accounts.email
    where people_with_accounts.email is null

)

select * from people_with_accounts

union all

select * from people_without_accounts
