{#-
    What int_work_items_unioned builds a Jira issue's row with besides the issue: per site and Jira
    project, the project's key; per account, its person; per site, its configuration (the fields
    named for story points and the milestone issue type, as one fingerprint). Every run keeps them
    (`keep_work_item_lookups`, see `kept_lookups`), so the next run rebuilds only the stored issues
    of the projects, accounts and sites whose lookup changed, instead of comparing every stored
    issue with the lookups. An Asana task's row is built likewise with its project's key, its
    assignee's person and the custom field read for its estimate, kept apart (`asana_*` kinds).
-#}

{#- The Jira fields named for story points (`jira_story_points_field`), per site. -#}
{% macro jira_story_points_fields(jira_fields) -%}
    {%- set story_points_field = var('jira_story_points_field') | replace("'", "''") -%}
    select
        jira_fields.source_instance,
        jira_fields.field_id

    from {{ jira_fields }} as jira_fields
    where
        lower(jira_fields.field_name) = lower('{{ story_points_field }}')
        and not jira_fields.is_deleted
{%- endmacro %}


{#- Per Jira site, its story points fields' ids in order, from `jira_story_points_fields`' rows. -#}
{% macro jira_story_points_field_lists(story_points_fields) -%}
    select
        story_points_fields.source_instance,
        string_agg(story_points_fields.field_id, ',' order by story_points_fields.field_id) as field_ids

    from {{ story_points_fields }} as story_points_fields
    group by story_points_fields.source_instance
{%- endmacro %}


{#- A site's configuration as one value, from its row of `jira_story_points_field_lists` (`field_lists`). -#}
{% macro jira_configuration_fingerprint(field_lists) -%}
    {%- set milestone_issue_type = var('jira_milestone_issue_type') | replace("'", "''") -%}
    md5(coalesce({{ field_lists }}.field_ids, '') || '|' || lower('{{ milestone_issue_type }}'))
{%- endmacro %}


{% macro work_item_project_keys(source_system='jira') -%}
    select
        source_projects.source_instance,
        source_projects.source_project_id,
        source_projects.project_key

    from {{ ref('int_source_projects') }} as source_projects
    where source_projects.source_system = '{{ source_system }}'
{%- endmacro %}


{% macro work_item_assignee_people(source_system='jira') -%}
    select
        tool_accounts.account_id,
        tool_accounts.person_key

    from {{ ref('int_tool_accounts_resolved') }} as tool_accounts
    where tool_accounts.source_system = '{{ source_system }}'
{%- endmacro %}


{#- The Asana custom field read for a task's estimate (`asana_estimate_field`), as one row. -#}
{% macro asana_work_item_settings() -%}
    select cast('{{ var("asana_estimate_field") | replace("'", "''") }}' as text) as estimate_field
{%- endmacro %}


{#- Whether the Asana settings the last run kept (`kept`, a relation) are those of this run. -#}
{% macro asana_work_item_settings_kept(kept) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set kept_fields = run_query('select estimate_field from ' ~ kept).columns[0].values() | list -%}
    {{ return(kept_fields == [var('asana_estimate_field')]) }}
{%- endmacro %}


{#- Every Jira site the fields or the projects name, with its configuration's fingerprint. -#}
{% macro work_item_site_configurations() -%}
    select
        sites.source_instance,
        {{ jira_configuration_fingerprint('field_lists') }} as configuration_fingerprint

    from (
        select jira_fields.source_instance from {{ ref('stg_jira__fields') }} as jira_fields
        union
        select source_projects.source_instance
        from {{ ref('int_source_projects') }} as source_projects
        where source_projects.source_system = 'jira'
    ) as sites
    left join (
        {{ jira_story_points_field_lists('(' ~ jira_story_points_fields(ref('stg_jira__fields')) ~ ')') }}
    ) as field_lists
        on sites.source_instance = field_lists.source_instance
{%- endmacro %}


{% macro keep_work_item_lookups() -%}
    {{ keep_lookups({
        'project_keys': work_item_project_keys(),
        'assignee_people': work_item_assignee_people(),
        'site_configurations': work_item_site_configurations(),
        'asana_project_keys': work_item_project_keys('asana'),
        'asana_assignee_people': work_item_assignee_people('asana'),
        'asana_settings': asana_work_item_settings(),
    }) }}
{%- endmacro %}


{#- The condition that picks the stored items of `source_system` (alias `stored`) whose lookups
    changed: for each (column, relation, returned) of `changed`, the item's `column` is among the
    values of `relation`'s `returned` column. The stored table is not read when no relation has a row. -#}
{% macro stored_items_whose_lookups_changed(source_system, changed) -%}
    stored.source_system = '{{ source_system }}'
    and exists (
        {%- for column, relation, returned in changed %}
        {{ "union all" if not loop.first }}
        select {{ relation }}.{{ returned }} from {{ relation }}
        {%- endfor %}
    )
    and (
        {%- for column, relation, returned in changed %}
        {{ "or " if not loop.first }}stored.{{ column }} = any(array(select {{ relation }}.{{ returned }} from {{ relation }}))
        {%- endfor %}
    )
{%- endmacro %}
