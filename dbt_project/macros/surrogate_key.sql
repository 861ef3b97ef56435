{% macro surrogate_key(columns) -%}
    md5({{ surrogate_key_text(columns) }})
{%- endmacro %}

{#- The columns as one text, as surrogate_key hashes them: nulls as a token, joined by a separator. -#}
{% macro surrogate_key_text(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as text), '" ~ surrogate_key_null_token() ~ "')") -%}
    {%- endfor -%}
    {{ parts | join(" || '" ~ surrogate_key_separator() ~ "' || ") }}
{%- endmacro %}

{#- An aggregate: a fingerprint of a group's rows, whatever their order. It is their count and the
    sum of a 64-bit hash of each row's columns. Unlike an md5 over the rows in key order it needs no
    sort, so millions of rows go through one hash aggregate. A row added, removed or changed changes
    it; two changes would cancel out only by a 64-bit coincidence. -#}
{% macro rows_fingerprint(columns) -%}
    count(*) || ':' || sum(hashtextextended({{ surrogate_key_text(columns) }}, 0))
{%- endmacro %}

{% macro surrogate_key_separator() -%}|{%- endmacro %}

{% macro surrogate_key_null_token() -%}<null>{%- endmacro %}
