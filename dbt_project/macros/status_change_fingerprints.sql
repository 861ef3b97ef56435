{#- The fingerprint of one side (`from` or `to`) of a stored change of int_status_changes: the site,
    the status's id and name, and the category stored with it. `alias` qualifies the columns; bare,
    they are the expression the side's index is on. -#}
{% macro status_change_fingerprint(side, alias=none) -%}
    {%- set prefix = (alias ~ '.') if alias else '' -%}
    {{ surrogate_key([
        prefix ~ 'source_instance',
        prefix ~ side ~ '_status_id',
        prefix ~ side ~ '_status',
        prefix ~ side ~ '_category',
    ]) }}
{%- endmacro %}
