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

{#- Pre- and post-hook of int_status_changes: an index on each side's fingerprint, created when the
    table lacks it. The statuses the stored changes name are then read one index probe per status
    instead of scanning millions of changes. The pre-hook gives one to a table built before it existed
    (dbt creates configured indexes only with the table), before the run reads it; the post-hook to a
    table built whole. An index of the table whose definition names the side's status id is taken as it. -#}
{% macro create_status_fingerprint_indexes() -%}
    do $$
    begin
        if to_regclass('{{ this }}') is null then
            return;
        end if;
        {%- for side in ['from', 'to'] %}
        if not exists (
            select
            from pg_index
            where
                indrelid = to_regclass('{{ this }}')
                and pg_get_indexdef(indexrelid) like '%{{ side }}_status_id%'
        ) then
            create index on {{ this }} (({{ status_change_fingerprint(side) }}));
        end if;
        {%- endfor %}
    end
    $$
{%- endmacro %}
