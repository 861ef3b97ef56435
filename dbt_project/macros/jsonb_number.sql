{#- A JSON number as numeric; strings, booleans, objects and JSON null become null. -#}
{% macro jsonb_number(json_expression) -%}
    case when jsonb_typeof({{ json_expression }}) = 'number' then cast({{ json_expression }} as numeric) end
{%- endmacro %}
