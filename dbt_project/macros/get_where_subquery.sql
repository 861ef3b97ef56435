{#-
    The relation a generic test reads, narrowed by the test's `where` config, as dbt does, with one
    placeholder: `__built_last__` stands for the rows the model's latest run wrote (its newest
    `built_at`). An incremental model's test then reads the rows a night rebuilt, not the millions
    checked on the nights before; a full build writes every row, so it is checked whole.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- set built_last = 'built_at = (select max(built_at) from ' ~ relation ~ ')' -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where | replace('__built_last__', built_last) ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
