with

tool_accounts as (

    select * from {{ ref('int_tool_accounts_resolved') }}

),

people as (

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

)

select * from people
