{#- Typed values out of text that people type or that JSON carries either way: a Smartsheet cell,
    a CSV seed column, a JSON number read with ->>. Text that does not hold such a value becomes
    null instead of failing the build. -#}

{#- A number, written plainly (`374000`, `-2.5`, `1e3`); anything else (`€374,000`, `n/a`) gives null. -#}
{% macro text_to_numeric(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$'
            then cast(trim({{ text_expression }}) as numeric)
    end
{%- endmacro %}

{#- A calendar date written `YYYY-MM-DD` (a time after it is ignored); impossible dates such as
    2026-02-30 give null. The nested case keeps the casts from running on text that is not a date. -#}
{% macro text_to_date(text_expression) -%}
    case
        when {{ text_expression }} ~ '^\s*[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]|$)'
            then
                case
                    when
                        cast(substring(trim({{ text_expression }}) from 9 for 2) as integer)
                        <= extract(day from (
                            make_date(
                                cast(substring(trim({{ text_expression }}) from 1 for 4) as integer),
                                cast(substring(trim({{ text_expression }}) from 6 for 2) as integer),
                                1
                            ) + interval '1 month - 1 day'
                        ))
                        then cast(substring(trim({{ text_expression }}) from 1 for 10) as date)
                end
    end
{%- endmacro %}

{#- true/false (also yes/no, 1/0, any case); anything else gives null. -#}
{% macro text_to_boolean(text_expression) -%}
    case
        when lower(trim({{ text_expression }})) in ('true', 'yes', '1') then true
        when lower(trim({{ text_expression }})) in ('false', 'no', '0') then false
    end
{%- endmacro %}

{#- An id as text, whether it came as a JSON string or a JSON number (`1358743156205957` or
    `1358743156205957.0` both give '1358743156205957'); blank gives null. -#}
{% macro id_text(text_expression) -%}
    nullif(regexp_replace(trim({{ text_expression }}), '^([0-9]+)\.0*$', '\1'), '')
{%- endmacro %}

{#- Trimmed text, null when blank. -#}
{% macro clean_text(text_expression) -%}
    nullif(trim({{ text_expression }}), '')
{%- endmacro %}

{#- An email address as the warehouse keys people by it: trimmed and lowercase, null when blank. -#}
{% macro clean_email(text_expression) -%}
    nullif(lower(trim({{ text_expression }})), '')
{%- endmacro %}

{#- Any ISO 8601 instant with an offset or `Z` (Asana `2012-02-22T02:06:58.147Z`, Smartsheet
    `2018-04-21T18:06:45Z`) as timestamptz; other text gives null. Same reading as jira_timestamp. -#}
{% macro iso_timestamp(expression) -%}
    {{ jira_timestamp(expression) }}
{%- endmacro %}
