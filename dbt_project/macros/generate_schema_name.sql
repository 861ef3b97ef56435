{#- Models land in exactly the schema they configure (staging, intermediate, marts),
    not in dbt's default <target schema>_<custom schema>. The marts go to the `marts_schema` var:
    `marts` itself by default, or the build schema the nightly DAG audits before it publishes. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif custom_schema_name | trim == 'marts' -%}
        {{ marts_schema() }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- The schema the marts are built into (the `marts_schema` var, default `marts`). -#}
{% macro marts_schema() -%}
    {%- set configured = var('marts_schema', 'marts') | string | trim -%}
    {%- if not modules.re.match('^[a-z_][a-z0-9_]{0,62}$', configured) -%}
        {{ exceptions.raise_compiler_error("var marts_schema must be a lowercase schema name, got '" ~ configured ~ "'") }}
    {%- endif -%}
    {{ configured }}
{%- endmacro %}
