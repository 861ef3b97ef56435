{#-
    What int_time_entries costs an entry with besides the entry itself: per tool account, its
    person, that person's email and rate card (a fingerprint of its periods); per project, its
    default rate. Every run keeps them (`keep_time_entry_lookups`, see `kept_lookups`), so the next
    run finds the accounts and projects whose lookups changed by comparing a few thousand rows, and
    reads only their entries, through indexes, instead of comparing every stored entry with the
    lookups.
-#}

{% macro rate_card_fingerprints() -%}
    select
        rate_card_periods.email,
        md5(string_agg(
            {{ surrogate_key([
                'rate_card_periods.effective_from',
                'rate_card_periods.effective_to',
                'rate_card_periods.hourly_rate',
            ]) }},
            ',' order by rate_card_periods.effective_from
        )) as rate_card_fingerprint

    from {{ ref('int_rate_card_periods') }} as rate_card_periods
    group by rate_card_periods.email
{%- endmacro %}


{% macro time_entry_account_lookups() -%}
    select
        tool_accounts.source_system,
        tool_accounts.account_id,
        tool_accounts.person_key,
        people.email as person_email,
        rate_card_fingerprints.rate_card_fingerprint

    from {{ ref('int_tool_accounts_resolved') }} as tool_accounts
    left join {{ ref('int_people_resolved') }} as people
        on tool_accounts.person_key = people.person_key
    left join ({{ rate_card_fingerprints() }}) as rate_card_fingerprints
        on people.email = rate_card_fingerprints.email
{%- endmacro %}


{% macro time_entry_project_rates() -%}
    select
        projects.project_key,
        projects.default_hourly_rate

    from {{ ref('int_projects_mapped') }} as projects
{%- endmacro %}


{% macro keep_time_entry_lookups() -%}
    {{ keep_lookups({
        'account_lookups': time_entry_account_lookups(),
        'project_rates': time_entry_project_rates(),
    }) }}
{%- endmacro %}
