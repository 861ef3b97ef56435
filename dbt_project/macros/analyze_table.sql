{#-
    Post-hook of every model: a table gets fresh planner statistics as soon as it is built, so the
    models after it in the same run are planned on its real size instead of waiting for autovacuum.
    An incremental table is analyzed only when it was built whole (first build, full refresh, a copy
    made by the publish): a night changes a small part of it, its statistics stay close enough until
    autovacuum analyzes it, and analyzing it again costs a second or more at the enterprise size.
    Views have nothing to analyze.
-#}
{% macro analyze_built_table() -%}
    {%- if model.config.materialized == 'table' -%}
        analyze {{ this }}
    {%- elif model.config.materialized == 'incremental' -%}
        do $$
        begin
            if (select reltuples < 0 from pg_class where oid = '{{ this }}'::regclass) then
                analyze {{ this }};
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}
