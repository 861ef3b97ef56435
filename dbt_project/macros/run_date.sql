{#- The status date of the run (YYYY-MM-DD): the `run_date` var, else the `PMO_RUN_DATE` environment
    variable, else the UTC date the run started. The environment variable is read only while dbt
    executes: a var that changes makes dbt parse the whole project again, and an environment variable
    read while parsing makes it parse again every model that calls this macro. -#}
{% macro run_date() -%}
    {%- set configured = var('run_date', '') | string | trim -%}
    {%- if configured in ('', 'None') and execute -%}
        {%- set configured = env_var('PMO_RUN_DATE', '') | trim -%}
    {%- endif -%}
    {%- if configured in ('', 'None') -%}
        {%- set configured = run_started_at.strftime('%Y-%m-%d') -%}
    {%- elif not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', configured) -%}
        {{ exceptions.raise_compiler_error("var run_date must be a date as YYYY-MM-DD, got '" ~ configured ~ "'") }}
    {%- endif -%}
    cast('{{ configured }}' as date)
{%- endmacro %}


{#- The first day of the ISO week (its Monday) or of the month of `day` (a date expression), as a date.
    The date is truncated as a timestamp without a time zone: a date given to date_trunc is otherwise
    converted to a timestamptz in the session's time zone first, about 50 ns a row more over the
    millions of time entries fct_capacity_weekly buckets by week, for the same day. -#}
{% macro week_start(day) -%}
    cast(date_trunc('week', cast({{ day }} as timestamp)) as date)
{%- endmacro %}

{% macro month_start(day) -%}
    cast(date_trunc('month', cast({{ day }} as timestamp)) as date)
{%- endmacro %}
