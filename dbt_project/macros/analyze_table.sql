{#-
    Post-hook of every model: a table (or incremental table) gets fresh planner statistics as soon
    as it is built, so the models after it in the same run are planned on its real size instead of
    waiting for autovacuum. Views have nothing to analyze.
-#}
{% macro analyze_built_table() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
