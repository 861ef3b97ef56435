{#- The first day dim_date holds: days before it are never built. -#}
{% macro first_calendar_day() -%}
    cast('{{ var("dim_date_start") }}' as date)
{%- endmacro %}

{#- Pre-hook of fct_project_daily on an incremental run: removes each project's days from the first
    month whose inputs changed since those days were built, and days outside the project's current
    span (or of a project that has no span any more); the model then rebuilds each project from its
    first missing day. A day's figures follow from the project's budget and baselines and from the
    events of every day up to it, so a month's days and every later day are outdated when the
    month's fingerprint in `monthly_inputs_relation` is not the one its stored days carry
    (`inputs_hash`), when the month has no fingerprint any more, or when a month of the span has no
    stored day (the span starts earlier now). When the outdated days are more than the
    `daily_facts_rebuild_share` var of the table, it is emptied instead and every project rebuilt
    whole: deleting most rows and inserting them again costs several times what writing them into
    an empty table does (each new key meets its deleted one in the primary key). -#}
{% macro delete_outdated_project_days(spans_relation, monthly_inputs_relation) -%}
    {%- if is_incremental() -%}
        {%- set kept_days -%}
(
    with

    stored_months as (

        -- Each project's months of stored days, once for each fingerprint their days carry: the
        -- table read once, its days grouped by hashing, not sorted.
        select
            stored_days.project_key,
            {{ month_start('stored_days.date_day') }} as month_start,
            stored_days.inputs_hash

        from {{ this }} as stored_days
        group by stored_days.project_key, {{ month_start('stored_days.date_day') }}, stored_days.inputs_hash

    ),

    stored_projects as (

        -- Each project's first month whose stored days carry another fingerprint than its current
        -- one (or that has none any more); null when every stored month matches.
        select
            stored_months.project_key,
            min(stored_months.month_start) filter (
                where stored_months.inputs_hash is distinct from monthly_inputs.inputs_hash
            ) as first_changed_month

        from stored_months
        left join {{ monthly_inputs_relation }} as monthly_inputs
            on
                stored_months.project_key = monthly_inputs.project_key
                and stored_months.month_start = monthly_inputs.month_start
        group by stored_months.project_key

    ),

    unbuilt_months as (

        -- Each project's first month of its span without a stored day: the span starts earlier
        -- now, or (harmlessly) the month after the last day built.
        select
            monthly_inputs.project_key,
            min(monthly_inputs.month_start) as first_unbuilt_month

        from {{ monthly_inputs_relation }} as monthly_inputs
        where not exists (
            select 1
            from stored_months
            where
                stored_months.project_key = monthly_inputs.project_key
                and stored_months.month_start = monthly_inputs.month_start
        )
        group by monthly_inputs.project_key

    )

    -- The days of each stored project that stay: from its first day (not before the first calendar
    -- day) to the run date, and before the first outdated month. None of a project without a span.
    select
        stored_projects.project_key,
        case
            when spans.first_day is not null then greatest(spans.first_day, {{ first_calendar_day() }})
        end as keep_from,
        least(
            {{ run_date() }},
            least(stored_projects.first_changed_month, unbuilt_months.first_unbuilt_month) - 1
        ) as keep_until

    from stored_projects
    left join {{ spans_relation }} as spans
        on stored_projects.project_key = spans.project_key
    left join unbuilt_months
        on stored_projects.project_key = unbuilt_months.project_key
)
        {%- endset -%}
        {%- set outdated -%}
project_days.project_key = kept_days.project_key
and (
    kept_days.keep_from is null
    or project_days.date_day < kept_days.keep_from
    or project_days.date_day > kept_days.keep_until
)
        {%- endset -%}
        {%- if execute and most_project_days_outdated(kept_days, outdated) -%}
truncate {{ this }}
        {%- else -%}
delete from {{ this }} as project_days
using {{ kept_days }} as kept_days
where {{ outdated }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- The events the current (not deleted) items of `work_items` (a relation or CTE shaped like
    fct_work_items) put on their projects' days, as a parenthesised query, one row per event: an
    item counts from the UTC day it was created, as done from the day it was done (never before it
    was created), and as overdue from the day after its due date until the day it is done. Each row
    gives the project, the day and what it changes (items_created, weight_created, items_completed,
    weight_completed, overdue_change). int_project_daily_events folds them by project and day. -#}
{% macro project_item_events(work_items) -%}
(
    with

    current_items as (

        select
            work_items.project_key,
            cast(work_items.created_at at time zone 'UTC' as date) as created_on,
            work_items.due_date,
            work_items.weight,
            case
                when work_items.status_category = 'done'
                    then greatest(
                        cast(work_items.completed_at at time zone 'UTC' as date),
                        cast(work_items.created_at at time zone 'UTC' as date)
                    )
            end as done_on

        from {{ work_items }} as work_items
        where not work_items.is_deleted

    ),

    overdue_periods as (

        select
            current_items.project_key,
            greatest(current_items.due_date + 1, current_items.created_on) as overdue_from,
            current_items.done_on as overdue_until

        from current_items
        where current_items.due_date is not null

    )

    select
        current_items.project_key,
        current_items.created_on as event_day,
        1 as items_created,
        current_items.weight as weight_created,
        0 as items_completed,
        0 as weight_completed,
        0 as overdue_change

    from current_items

    union all

    select
        current_items.project_key,
        current_items.done_on as event_day,
        0 as items_created,
        0 as weight_created,
        1 as items_completed,
        current_items.weight as weight_completed,
        0 as overdue_change

    from current_items
    where current_items.done_on is not null

    union all

    select
        overdue_periods.project_key,
        overdue_periods.overdue_from as event_day,
        0 as items_created,
        0 as weight_created,
        0 as items_completed,
        0 as weight_completed,
        1 as overdue_change

    from overdue_periods
    where overdue_periods.overdue_until is null or overdue_periods.overdue_until > overdue_periods.overdue_from

    union all

    select
        overdue_periods.project_key,
        overdue_periods.overdue_until as event_day,
        0 as items_created,
        0 as weight_created,
        0 as items_completed,
        0 as weight_completed,
        -1 as overdue_change

    from overdue_periods
    where overdue_periods.overdue_until > overdue_periods.overdue_from
)
{%- endmacro %}

{#- Whether the days of fct_project_daily matching `outdated` (a condition on `project_days`, a row of
    the table, and `kept_days`, a row of the `kept_days` query for its project) are more than the
    `daily_facts_rebuild_share` var of its days; says how many either way. -#}
{% macro most_project_days_outdated(kept_days, outdated) -%}
    {%- set rebuild_share = var('daily_facts_rebuild_share', 0.5) | float -%}
    {%- if rebuild_share < 0 or rebuild_share > 1 -%}
        {{ exceptions.raise_compiler_error("var daily_facts_rebuild_share must be between 0 and 1, got " ~ rebuild_share) }}
    {%- endif -%}
    {%- set counted -%}
select
    (
        select count(*)
        from {{ this }} as project_days
        inner join {{ kept_days }} as kept_days
            on {{ outdated }}
    ) as outdated_days,
    (select count(*) from {{ this }}) as built_days
    {%- endset -%}
    {%- set row = run_query(counted).rows[0] -%}
    {%- set rebuild_whole = row['outdated_days'] > rebuild_share * row['built_days'] -%}
    {{- log(
        this.identifier ~ ": " ~ row['outdated_days'] ~ " of " ~ row['built_days'] ~ " days to rebuild; "
        ~ ("more than " if rebuild_whole else "at most ") ~ rebuild_share ~ " of them, so "
        ~ ("every project is rebuilt whole" if rebuild_whole else "only those are deleted"),
        info=True,
    ) -}}
    {{- return(rebuild_whole) -}}
{%- endmacro %}

{#- The first day a backfill rebuilds (the `rebuild_from` var, YYYY-MM-DD) as a date literal, or
    nothing when the var is empty. -#}
{% macro rebuild_from() -%}
    {%- set configured = var('rebuild_from', '') | string | trim -%}
    {%- if configured not in ('', 'None') -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', configured) -%}
            {{ exceptions.raise_compiler_error("var rebuild_from must be a date as YYYY-MM-DD, got '" ~ configured ~ "'") }}
        {%- endif -%}
        cast('{{ configured }}' as date)
    {%- endif -%}
{%- endmacro %}
