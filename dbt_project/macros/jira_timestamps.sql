{#- Jira writes instants as 2021-01-18T23:45:00.000+1000: the offset has no colon.
    Text that is not such an instant becomes null rather than failing the build. -#}
{% macro jira_timestamp(expression) -%}
    case
        when {{ expression }} ~ '{{ jira_timestamp_pattern() }}'
            then cast(regexp_replace({{ expression }}, '([+-][0-9]{2}):?([0-9]{2})$', '\1:\2') as timestamptz)
    end
{%- endmacro %}

{#- The UTC offset a Jira instant was written in, as an interval (-0800 gives -08:00:00). -#}
{% macro jira_utc_offset(expression) -%}
    case
        when {{ expression }} ~ '{{ jira_timestamp_pattern() }}'
            then
                case
                    when {{ expression }} ~ 'Z$' then interval '0 hours'
                    else cast(regexp_replace(
                        substring({{ expression }} from '[+-][0-9]{2}:?[0-9]{2}$'),
                        '([+-][0-9]{2}):?([0-9]{2})', '\1:\2'
                    ) as interval)
                end
    end
{%- endmacro %}

{#- A Jira calendar date (due dates: 2026-02-01); anything else becomes null. -#}
{% macro jira_date(expression) -%}
    case
        when {{ expression }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then cast({{ expression }} as date)
    end
{%- endmacro %}

{% macro jira_timestamp_pattern() -%}
    ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([+-][0-9]{2}:?[0-9]{2}|Z)$
{%- endmacro %}
