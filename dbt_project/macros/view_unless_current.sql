{#-
    The view materialization on PostgreSQL: a view already in the warehouse as this build would
    create it is left alone instead of being created again.

    dbt's own view materialization creates every view on every run: a temporary view, two renames,
    the relation's and every column's comment, then a drop of the old view, although at night the
    staging views are the same as the night before. Here the model's
    SQL is first made a temporary view (nothing outside this session sees it), and the existing view
    is kept when PostgreSQL's own text of both definitions is the same (a `select *` expands to
    the same columns, every name resolves to the same relation) and the comment on its `_RETURN`
    rule holds the fingerprint of the documentation and grants this build would give it. Anything
    else (no such view, a leftover of a failed run, a full refresh, a definition or a comment changed
    by hand or in the project) goes through dbt's view materialization, and the new view gets the
    fingerprint. Tests and hooks run either way.
-#}
{% materialization view, adapter='postgres' -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set fingerprint = view_build_fingerprint() -%}
    {%- if view_is_current(target_relation, sql, fingerprint) -%}
        {{ run_hooks(pre_hooks, inside_transaction=False) }}
        {{ run_hooks(pre_hooks, inside_transaction=True) }}
        {%- call noop_statement('main', 'VIEW CURRENT') -%}
            -- {{ target_relation }} is current: its definition and comments are this build's
        {%- endcall -%}
        {{ run_hooks(post_hooks, inside_transaction=True) }}
        {{ adapter.commit() }}
        {{ run_hooks(post_hooks, inside_transaction=False) }}
        {{ return({'relations': [target_relation]}) }}
    {%- endif -%}
    {%- set built = materialization_view_default() -%}
    {%- call statement('record_view_fingerprint') -%}
        comment on rule "_RETURN" on {{ target_relation }} is {{ sql_text_literal(fingerprint) }}
    {%- endcall -%}
    {{ adapter.commit() }}
    {{ return(built) }}
{%- endmaterialization %}


{#- What a build gives a view besides its definition: its comments and its grants, as one digest. -#}
{% macro view_build_fingerprint() -%}
    {%- set column_docs = [] -%}
    {%- for column in model.columns.values() -%}
        {%- do column_docs.append([column.name, column.description]) -%}
    {%- endfor -%}
    {{ return('dbt-view ' ~ local_md5(tojson([
        model.description,
        column_docs,
        config.get('persist_docs'),
        config.get('grants'),
    ]))) }}
{%- endmacro %}


{#- Whether the view `relation` exists as this build would create it from `sql` with `fingerprint`. -#}
{% macro view_is_current(relation, sql, fingerprint) -%}
    {%- if not execute or should_full_refresh() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = load_cached_relation(relation) -%}
    {%- if existing is none or not existing.is_view
        or load_cached_relation(make_intermediate_relation(relation)) is not none
        or load_cached_relation(make_backup_relation(relation, 'view')) is not none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- call statement('view_probe', fetch_result=True, auto_begin=True) -%}
        drop view if exists pg_temp.pmo_view_probe;
        create temporary view pmo_view_probe as
        {{ sql }}
        ;
        select
            obj_description(rules.oid, 'pg_rewrite') = {{ sql_text_literal(fingerprint) }}
            and pg_get_viewdef(rules.ev_class) = pg_get_viewdef('pg_temp.pmo_view_probe'::regclass)
        from pg_rewrite as rules
        where rules.ev_class = to_regclass({{ sql_text_literal(relation.render()) }}) and rules.rulename = '_RETURN'
    {%- endcall -%}
    {%- set current = load_result('view_probe').table -%}
    {%- call statement('view_probe_dropped', auto_begin=True) -%}
        drop view pg_temp.pmo_view_probe
    {%- endcall -%}
    {{ return(current.rows | length == 1 and current.rows[0][0] == true) }}
{%- endmacro %}
