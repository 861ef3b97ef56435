{#- The portfolio register's and the rate card's fields, typed the same way whichever sheet or CSV
    file they come from. A field's kind says how its text is read:
    text (trimmed), code (lowercase, spaces and hyphens as `_`: "On hold" is on_hold),
    id (a key that may arrive as a JSON number), email, currency (uppercase), number, date. -#}

{% macro portfolio_register_fields() -%}
    {{ return([
        ('project_code', 'text'),
        ('project_name', 'text'),
        ('program_code', 'text'),
        ('program_name', 'text'),
        ('portfolio_code', 'text'),
        ('portfolio_name', 'text'),
        ('source_system', 'code'),
        ('source_project_key', 'id'),
        ('project_manager', 'email'),
        ('sponsor', 'email'),
        ('strategic_theme', 'text'),
        ('stage', 'code'),
        ('priority', 'code'),
        ('approved_budget', 'number'),
        ('currency', 'currency'),
        ('baseline_start', 'date'),
        ('baseline_finish', 'date'),
        ('forecast_finish', 'date'),
        ('expected_benefit', 'number'),
        ('alignment_score', 'number'),
        ('default_hourly_rate', 'number'),
    ]) }}
{%- endmacro %}

{% macro rate_card_fields() -%}
    {{ return([
        ('email', 'email'),
        ('role', 'text'),
        ('hourly_rate', 'number'),
        ('weekly_capacity_hours', 'number'),
        ('effective_from', 'date'),
    ]) }}
{%- endmacro %}

{#- One field's text read as its kind. -#}
{% macro typed_field(text_expression, kind) -%}
    {%- if kind == 'number' -%}
        {{ text_to_numeric(text_expression) }}
    {%- elif kind == 'date' -%}
        {{ text_to_date(text_expression) }}
    {%- elif kind == 'code' -%}
        nullif(lower(regexp_replace(trim({{ text_expression }}), '[\s-]+', '_', 'g')), '')
    {%- elif kind == 'id' -%}
        {{ id_text(text_expression) }}
    {%- elif kind == 'email' -%}
        {{ clean_email(text_expression) }}
    {%- elif kind == 'currency' -%}
        nullif(upper(trim({{ text_expression }})), '')
    {%- else -%}
        {{ clean_text(text_expression) }}
    {%- endif -%}
{%- endmacro %}

{#- The select list of typed fields: `field_template` is the SQL of a field's text with `{field}`
    where its name goes (`source.payload -> 'contract_fields' ->> '{field}'`, `source.{field}`).
    It ends with `unparsed_fields`: the number and date fields whose text is not blank but could
    not be read, so that a test can name them instead of letting them pass as empty. -#}
{% macro typed_field_columns(fields, field_template) -%}
    {%- for name, kind in fields %}
        {{ typed_field(field_template | replace('{field}', name), kind) }} as {{ name }},
    {%- endfor %}
        array_remove(array[
    {%- for name, kind in fields if kind in ('number', 'date') %}
            case
                when
                    {{ clean_text(field_template | replace('{field}', name)) }} is not null
                    and {{ typed_field(field_template | replace('{field}', name), kind) }} is null
                    then '{{ name }}'
            end{{ ',' if not loop.last }}
    {%- endfor %}
        ], null) as unparsed_fields
{%- endmacro %}
