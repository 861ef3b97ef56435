with

jira_users as (

    select * from {{ ref('stg_jira__users') }}

),

jira_issues as (

    select * from {{ ref('stg_jira__issues') }}

),

jira_worklogs as (

    select * from {{ ref('stg_jira__worklogs') }}

),

account_sightings as (

    -- Every place an account shows up; the lower sighting_rank is trusted first for names and emails.
    select
        'jira' as source_system,
        jira_users.account_id,
        jira_users.display_name,
        jira_users.email_address,
        1 as sighting_rank,
        jira_users.loaded_at as seen_at

    from jira_users

    union all

    select
        'jira' as source_system,
        jira_issues.assignee_account_id as account_id,
        jira_issues.assignee_display_name as display_name,
        jira_issues.assignee_email_address as email_address,
        2 as sighting_rank,
        jira_issues.updated_at as seen_at

    from jira_issues
    where jira_issues.assignee_account_id is not null

    union all

    select
        'jira' as source_system,
        jira_worklogs.author_account_id as account_id,
        jira_worklogs.author_display_name as display_name,
        jira_worklogs.author_email_address as email_address,
        3 as sighting_rank,
        jira_worklogs.updated_at as seen_at

    from jira_worklogs
    where jira_worklogs.author_account_id is not null

),

accounts as (

    select
        account_sightings.source_system,
        account_sightings.account_id,
        (
            array_agg(
                account_sightings.display_name
                order by account_sightings.sighting_rank asc, account_sightings.seen_at desc nulls last
            ) filter (where account_sightings.display_name is not null)
        )[1] as display_name,
        (
            array_agg(
                lower(account_sightings.email_address)
                order by account_sightings.sighting_rank asc, account_sightings.seen_at desc nulls last
            ) filter (where account_sightings.email_address is not null)
        )[1] as email

    from account_sightings
    group by account_sightings.source_system, account_sightings.account_id

),

resolved as (

    select
        accounts.source_system,
        accounts.account_id,
        accounts.display_name,
        accounts.email,
        coalesce(accounts.email, accounts.source_system || ':' || accounts.account_id) as person_identifier

    from accounts

)

select
    resolved.source_system,
    resolved.account_id,
    resolved.display_name,
    resolved.email,
    resolved.person_identifier,
    {{ surrogate_key(['resolved.person_identifier']) }} as person_key

from resolved
