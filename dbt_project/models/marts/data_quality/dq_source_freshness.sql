{%- set stale_after_hours = var('source_stale_after_hours') | float -%}

with

stream_states as (

    select * from {{ ref('stg_loader__stream_states') }}

),

load_batches as (

    select * from {{ ref('stg_loader__load_batches') }}

),

streams as (

    select
        stream_states.source_system,
        stream_states.source_instance,
        stream_states.stream

    from stream_states

    union

    select
        load_batches.source_system,
        load_batches.source_instance,
        load_batches.stream

    from load_batches

),

last_batches as (

    select distinct on (load_batches.source_system, load_batches.source_instance, load_batches.stream)
        load_batches.source_system,
        load_batches.source_instance,
        load_batches.stream,
        load_batches.started_at,
        load_batches.batch_status,
        load_batches.records_loaded,
        load_batches.records_deleted,
        load_batches.records_rejected

    from load_batches
    order by
        load_batches.source_system asc,
        load_batches.source_instance asc,
        load_batches.stream asc,
        load_batches.started_at desc

),

successful_batches as (

    select
        load_batches.source_system,
        load_batches.source_instance,
        load_batches.stream,
        max(load_batches.finished_at) as last_success_at

    from load_batches
    where load_batches.batch_status = 'succeeded'
    group by load_batches.source_system, load_batches.source_instance, load_batches.stream

),

source_failures as (

    select
        load_batches.source_system,
        load_batches.source_instance,
        max(load_batches.started_at) as last_failure_at

    from load_batches
    where load_batches.batch_status = 'failed'
    group by load_batches.source_system, load_batches.source_instance

),

freshness as (

    select
        streams.source_system,
        streams.source_instance,
        streams.stream,
        coalesce(stream_states.last_success_at, successful_batches.last_success_at) as last_success_at,
        last_batches.started_at as last_run_at,
        last_batches.batch_status as last_run_status,
        last_batches.records_loaded as rows_last_run,
        last_batches.records_deleted as deletes_last_run,
        last_batches.records_rejected as rejects_last_run,
        source_failures.last_failure_at as source_last_failure_at

    from streams
    left join stream_states
        on
            streams.source_system = stream_states.source_system
            and streams.source_instance = stream_states.source_instance
            and streams.stream = stream_states.stream
    left join successful_batches
        on
            streams.source_system = successful_batches.source_system
            and streams.source_instance = successful_batches.source_instance
            and streams.stream = successful_batches.stream
    left join last_batches
        on
            streams.source_system = last_batches.source_system
            and streams.source_instance = last_batches.source_instance
            and streams.stream = last_batches.stream
    left join source_failures
        on
            streams.source_system = source_failures.source_system
            and streams.source_instance = source_failures.source_instance

)

-- Staleness is judged at the moment this dbt invocation started, the same instant for every row.
select
    freshness.source_system,
    freshness.source_instance,
    freshness.stream,
    freshness.last_success_at,
    freshness.last_run_at,
    freshness.last_run_status,
    cast(freshness.rows_last_run as integer) as rows_last_run,
    cast(freshness.deletes_last_run as integer) as deletes_last_run,
    cast(freshness.rejects_last_run as integer) as rejects_last_run,
    cast(round(
        extract(epoch from cast('{{ run_started_at.isoformat() }}' as timestamptz) - freshness.last_success_at) / 3600,
        2
    ) as numeric(12, 2)) as hours_since_success,
    freshness.source_last_failure_at,
    coalesce(
        freshness.last_success_at
        < cast('{{ run_started_at.isoformat() }}' as timestamptz) - interval '{{ stale_after_hours }} hours',
        true
    )
    -- A source that failed after this stream last succeeded (an API down, a revoked token)
    -- stops every one of its streams: none of them is current any more.
    or coalesce(freshness.source_last_failure_at > freshness.last_success_at, false) as is_stale

from freshness
