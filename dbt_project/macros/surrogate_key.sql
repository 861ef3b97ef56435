{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as text), '" ~ surrogate_key_null_token() ~ "')") -%}
    {%- endfor -%}
    md5({{ parts | join(" || '" ~ surrogate_key_separator() ~ "' || ") }})
{%- endmacro %}

{% macro surrogate_key_separator() -%}|{%- endmacro %}

{% macro surrogate_key_null_token() -%}<null>{%- endmacro %}
