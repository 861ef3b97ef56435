{#-
    The relation a generic test reads, narrowed by the test's `where` config, as dbt does, with one
    placeholder: `__built_last__` stands for the rows the model's latest run wrote (its newest
    `built_at`). An incremental model's test then reads the rows a night rebuilt, not the millions
    checked on the nights before; a full build writes every row, so it is checked whole. The newest
    `built_at` is written in as a literal (`newest_built_at`): a run's rows share one `built_at`, so
    the planner, given a subquery, would expect a run's share of the table and scan all of it.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- if '__built_last__' in where -%}
            {%- set where = where | replace('__built_last__', 'built_at = ' ~ (newest_built_at(relation) | trim)) -%}
        {%- endif -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
