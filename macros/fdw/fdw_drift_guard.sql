{#-
    on-run-start hook. Models are built on the warehouse only: a build, run, seed, snapshot
    or test on another target is refused at once (and postgres__create_schema refuses to
    create its schemas before this hook runs). On the warehouse, `dbt build`, `run` and
    `test` stop at once when the webapp's link differs from what a refresh would make it (a
    migration changed a source table, an option was changed by hand), naming the difference
    and the command to run.
-#}
{% macro fdw_drift_guard() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'seed', 'snapshot', 'test') -%}
        {%- do refuse_non_warehouse_target(flags.WHICH) -%}
        {%- if flags.WHICH != 'seed' -%}
            {%- set drift = fdw_drift(fdw_link()) -%}
            {%- if drift -%}
                {{ exceptions.raise_compiler_error(
                    "the webapp's link differs from what a refresh would make it: " ~ (drift | join('; '))
                    ~ ". Run `lacarte deploy` (the deploy step: refresh_fdw on both sides), then run this command again "
                    ~ "(`lacarte run`, or the same dbt command: it stopped before any model, so `dbt retry` has nothing "
                    ~ "to resume)") }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}


{% macro refuse_non_warehouse_target(command) %}
    {%- if target.name != 'warehouse' -%}
        {{ exceptions.raise_compiler_error(
            "dbt " ~ command ~ " --target " ~ target.name ~ " is refused: models, seeds and tests live in the warehouse "
            ~ "(--target warehouse). On the webapp only the run-operations refresh_fdw, fdw_status and "
            ~ "publish_exposures run. Nothing was done") }}
    {%- endif -%}
{% endmacro %}
