{{ config(contract={'enforced': true}) }}

{{ rollup_daily('program') }}
