{#-
    The project days whose items or time entries changed, noted as they change, so that an
    incremental run of int_project_daily_events folds only those days again instead of every item
    and time entry.

    Statement triggers on fct_work_items and fct_time_entries (made by their post-hook,
    `note_project_days`) write, in the writing statement's own transaction, the project and day of
    each event of every row deleted from or inserted into them into the day notes, a table beside
    int_project_daily_events (`int_project_daily_events__noted_days`). Triggers made anew (the table
    is new, or was copied), a truncate, and the notes' own table made anew each note that any day
    may have changed unnoted (`all_days`).

    A run of int_project_daily_events folds again the days noted since its last run and marks those
    notes read; the run after deletes them. When either fact is another table than the one its last
    run read (the nightly publish alternates between the marts it retires and those it publishes,
    each catching up two nights of changes), the notes its last run read are folded again too: a
    row replaced in a table two nights behind notes the day it held two nights ago, and the day it
    held last night was noted by the other table. It folds every day when a note it folds says
    `all_days`, when its table is empty (an unlogged table after a crash), when it has no record
    of the tables it read, or when a fact lacks the triggers (a table its model did not build).
-#}

{#- A table kept beside int_project_daily_events (`int_project_daily_events__<kind>`), named without
    its database, as the trigger functions name it. -#}
{% macro project_days_table(kind) -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=generate_schema_name('intermediate', none),
        identifier='int_project_daily_events__' ~ kind,
        type='table',
    ).include(database=False)) }}
{%- endmacro %}


{#- The day notes. -#}
{% macro project_day_notes() -%}
    {{ return(project_days_table('noted_days')) }}
{%- endmacro %}


{#- The facts int_project_daily_events read at its last run (their tables' oids). -#}
{% macro project_day_notes_followed() -%}
    {{ return(project_days_table('followed_tables')) }}
{%- endmacro %}


{#- The notes' table's fillfactor: each run marks every note read, and with half of each page left
    free, PostgreSQL writes a note's new version beside the old one without a new entry in the
    primary key's index (a HOT update). -#}
{% macro project_day_notes_fillfactor() -%}
    {{ return(50) }}
{%- endmacro %}


{#- Whether the notes' table (which exists) has its fillfactor: a table made before it was set gets
    it, for the pages written from then on. -#}
{% macro project_day_notes_have_fillfactor() -%}
    {%- set query -%}
select coalesce(reloptions, '{}') @> array['fillfactor={{ project_day_notes_fillfactor() }}'] as has_fillfactor
from pg_class
where oid = '{{ project_day_notes() }}'::regclass
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0]) }}
{%- endmacro %}


{#- Makes the notes' table (and its schema); with `source_table` (a fact's oid), notes that any
    day of it may have changed unnoted. -#}
{% macro create_project_day_notes(source_table=none) -%}
    {{ catalog_lock() }};
    create schema if not exists {{ project_day_notes().schema }};
    create table if not exists {{ project_day_notes() }} (
        note_id bigint generated always as identity primary key,
        source_table oid not null,
        project_key text,
        date_day date,
        all_days boolean not null default false,
        is_read boolean not null default false
    ) with (fillfactor = {{ project_day_notes_fillfactor() }})
    {%- if source_table is not none %};
    insert into {{ project_day_notes() }} (source_table, all_days) values ({{ source_table }}, true)
    {%- endif -%}
{%- endmacro %}


{#- The project days a fact's rows (`rows`, a relation shaped like the fact) count on, as a
    parenthesised query of project_key and date_day. -#}
{% macro project_days_of(fact, rows) -%}
    {%- if fact == 'time_entries' -%}
        (select time_entries.project_key, time_entries.entry_date as date_day from {{ rows }} as time_entries)
    {%- elif fact == 'work_items' -%}
        (
            select item_events.project_key, item_events.event_day as date_day
            from {{ project_item_events(rows) }} as item_events
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error("project_days_of: no fact '" ~ fact ~ "'") }}
    {%- endif -%}
{%- endmacro %}


{#- The events the note triggers fire on, each trigger named `note_project_days_<event>`. -#}
{% macro note_trigger_events() -%}
    {{ return(['deleted', 'inserted', 'updated', 'truncated']) }}
{%- endmacro %}


{#- How many note triggers the tables of `tables` (a query of oids) carry, as a scalar subquery. -#}
{% macro note_triggers_on(tables) -%}
    (
        select count(*) from pg_trigger
        where tgrelid in ({{ tables }}) and tgname like 'note\_project\_days\_%' and not tgisinternal
    )
{%- endmacro %}


{#- The facts' tables (`facts`, relations) as a query of their oids, `source_table`. -#}
{% macro fact_tables(facts) -%}
    {%- for fact in facts %}
    {{ "union all " if not loop.first }}select to_regclass('{{ fact.include(database=False) }}') as source_table
    {%- endfor %}
{%- endmacro %}


{#- Post-hook of fct_work_items (`fact` 'work_items') and fct_time_entries ('time_entries'): makes
    the notes' table where it is missing, the function that notes the days of the fact's changed
    rows (anew each run, so that it follows this macro; it names no database, so a copy of the
    warehouse's database keeps noting), and its triggers on the fact where they are missing.
    Triggers made anew note that every day may have changed. -#}
{% macro note_project_days(fact) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set notes = project_day_notes() -%}
    {%- set fact_table = "'" ~ this.include(database=False) ~ "'::regclass" -%}
    {%- set function = notes.incorporate(path={'identifier': 'note_project_days_of_' ~ fact}) -%}
    {%- set present = run_query(
        "select to_regclass('" ~ notes ~ "') is not null as notes_exist, "
        ~ note_triggers_on("select " ~ fact_table) ~ " as triggers"
    ).rows[0] -%}
    {%- set events = note_trigger_events() -%}
    {%- if not present['notes_exist'] -%}
        {{ create_project_day_notes(fact_table) }};
    {%- endif %}
    create or replace function {{ function }}() returns trigger
    language plpgsql as $note_days$
    begin
        -- Without the notes' table (dropped), nothing is noted: whoever makes it again notes that
        -- every day may have changed, and int_project_daily_events folds every day without it.
        if to_regclass('{{ notes }}') is null then
            return null;
        end if;
        {%- for operation, rows in [("'DELETE', 'UPDATE'", 'old_rows'), ("'INSERT', 'UPDATE'", 'new_rows')] %}
        if tg_op in ({{ operation }}) then
            insert into {{ notes }} (source_table, project_key, date_day)
            select distinct tg_relid, changed.project_key, changed.date_day
            from {{ project_days_of(fact, rows) }} as changed
            where changed.date_day is not null;
        end if;
        {%- endfor %}
        if tg_op = 'TRUNCATE' then
            insert into {{ notes }} (source_table, all_days) values (tg_relid, true);
        end if;
        return null;
    end
    $note_days$
    {%- if present['triggers'] != events | length %};
    {%- for event in events %}
    drop trigger if exists note_project_days_{{ event }} on {{ this }};
    {%- endfor %}
    create trigger note_project_days_deleted after delete on {{ this }}
        referencing old table as old_rows for each statement execute function {{ function }}();
    create trigger note_project_days_inserted after insert on {{ this }}
        referencing new table as new_rows for each statement execute function {{ function }}();
    create trigger note_project_days_updated after update on {{ this }}
        referencing old table as old_rows new table as new_rows for each statement execute function {{ function }}();
    create trigger note_project_days_truncated after truncate on {{ this }}
        for each statement execute function {{ function }}();
    insert into {{ notes }} (source_table, all_days) values ({{ fact_table }}, true)
    {%- endif -%}
{%- endmacro %}


{#- What a run of int_project_daily_events folds: `every_day`, why it folds every day (none when it
    folds only noted days); `fold_read`, whether the notes its last run read are folded again; and
    `notes`, how many notes it folds. Asked when its SQL and its pre-hook are rendered. -#}
{% macro project_days_to_fold(facts) -%}
    {#- A unit test renders the model without a table of its own (`this`): it folds every day. -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return({'every_day': 'a full build', 'fold_read': false, 'notes': 0}) }}
    {%- endif -%}
    {%- set notes = project_day_notes() -%}
    {%- set followed = project_day_notes_followed() -%}
    {%- for relation in [notes, followed] -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {{ return({'every_day': 'no ' ~ relation.identifier ~ ' yet', 'fold_read': false, 'notes': 0}) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set state -%}
        with

        facts as (
            {{ fact_tables(facts) }}
        ),

        plan as (

            select
                exists (select from {{ followed }})
                and not exists (
                    select from facts
                    where facts.source_table is null or facts.source_table not in (select source_table from {{ followed }})
                ) as same_tables

        ),

        folded_notes as (

            select notes.all_days
            from {{ notes }} as notes
            cross join plan
            where not notes.is_read or not plan.same_tables

        )

        select
            not plan.same_tables as fold_read,
            exists (select from {{ this }}) as has_rows,
            {{ note_triggers_on('select facts.source_table from facts') }}
            = {{ (note_trigger_events() | length) * (facts | length) }} as facts_noted,
            (select count(*) from folded_notes) as notes,
            (select coalesce(bool_or(folded_notes.all_days), false) from folded_notes) as fold_all

        from plan
    {%- endset -%}
    {%- set row = run_query(state).rows[0] -%}
    {%- set every_day = none -%}
    {%- if not row['has_rows'] -%}
        {%- set every_day = 'its table is empty' -%}
    {%- elif not row['facts_noted'] -%}
        {%- set every_day = 'a fact lacks the triggers that note its changes' -%}
    {%- elif row['fold_all'] -%}
        {%- set every_day = 'a note says any day may have changed unnoted' -%}
    {%- endif -%}
    {{ return({'every_day': every_day, 'fold_read': row['fold_read'], 'notes': row['notes']}) }}
{%- endmacro %}


{#- The temporary table of the project days an incremental run folds again. -#}
{% macro project_days_to_fold_table() -%}
pg_temp.pmo_project_days_to_fold
{%- endmacro %}


{#- Pre-hook of int_project_daily_events, in its run's transaction: deletes the days the run folds
    again (every day when `project_days_to_fold` says none) and keeps those days in a temporary
    table the model reads; deletes the notes read by the last run and marks the rest read; records
    the facts' tables this run reads. -#}
{% macro fold_noted_project_days(facts) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set plan = project_days_to_fold(facts) -%}
    {%- set notes = project_day_notes() -%}
    {%- set followed = project_day_notes_followed() -%}
    {%- if is_incremental() -%}
        {{- log(
            this.identifier ~ ": "
            ~ ("every day folded again: " ~ plan['every_day'] if plan['every_day'] is not none
               else "the days of " ~ "{:,}".format(plan['notes']) ~ " notes folded again"
                    ~ (" (with those its last run read: a fact is another table than it read then)" if plan['fold_read'] else "")),
            info=True,
        ) -}}
    {%- endif -%}
    {%- if adapter.get_relation(notes.database, notes.schema, notes.identifier) is none %}
    {{ create_project_day_notes() }};
    {%- elif not project_day_notes_have_fillfactor() %}
    alter table {{ notes }} set (fillfactor = {{ project_day_notes_fillfactor() }});
    {%- endif %}
    {%- if adapter.get_relation(followed.database, followed.schema, followed.identifier) is none %}
    {{ catalog_lock() }};
    create table if not exists {{ followed }} (source_table oid not null);
    {%- endif %}
    {%- if is_incremental() %}
        {%- if plan['every_day'] is not none %}
    truncate {{ this }};
        {%- else %}
    create temporary table {{ project_days_to_fold_table().split('.')[-1] }} on commit drop as
    select distinct notes.project_key, notes.date_day
    from {{ notes }} as notes
    where notes.date_day is not null{% if not plan['fold_read'] %} and not notes.is_read{% endif %};
    analyze {{ project_days_to_fold_table() }};
    -- The noted days are hashed and every item and entry read once: PostgreSQL would otherwise sort
    -- every item's events to merge them, or look each day's entries up by project alone.
    set local enable_mergejoin = off;
    set local enable_nestloop = off;
    delete from {{ this }} as project_days
    using {{ project_days_to_fold_table() }} as noted
    where project_days.project_key = noted.project_key and project_days.date_day = noted.date_day;
        {%- endif %}
    {%- endif %}
    delete from {{ notes }} where is_read;
    update {{ notes }} set is_read = true;
    delete from {{ followed }};
    insert into {{ followed }} (source_table)
    {{ fact_tables(facts) }}
{%- endmacro %}
