{#- True in an incremental build (`--vars '{slice: true}'`); a value that is not a YAML
    boolean is an error. -#}
{% macro slice_build() %}
    {{ return(boolean_argument('slice', var('slice', false))) }}
{% endmacro %}


{#- In an incremental build, the condition keeping the rows of a webapp table that belong to
    the actors to rebuild (lacarte_state.to_build), written as constants so that the link
    pushes it down to the webapp: `acteur_id = any('{…}')`, or for a table that follows
    another (rule follow), its foreign key among that table's keys of those actors. How each
    table names its actor comes from lacarte_state.tracked, which the pull reads from the
    webapp's catalog. Empty outside an incremental build. -#}
{% macro slice_filter(source_table) %}
    {%- if not (execute and slice_build()) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tracked = run_query("select acteur_column, via_table, via_key, via_acteur_column from lacarte_state.tracked "
                                ~ "where source_table = " ~ sql_literal(source_table)) -%}
    {%- if tracked.rows | length != 1 -%}
        {{ exceptions.raise_compiler_error(source_table ~ " is not in lacarte_state.tracked: an incremental build "
            ~ "follows a pull (lacarte run --incremental)") }}
    {%- endif -%}
    {%- set row = tracked.rows[0] -%}
    {%- set acteurs = run_query("select coalesce(array_agg(identifiant_unique order by identifiant_unique), '{}')::text "
                                ~ "from lacarte_state.to_build").columns[0].values()[0] -%}
    {%- if not row[1] -%}
        {{ return("where " ~ adapter.quote(row[0]) ~ " = any(" ~ sql_literal(acteurs) ~ "::text[])") }}
    {%- endif -%}
    {%- set keys = run_query("select coalesce(array_agg(" ~ adapter.quote(row[2]) ~ " order by " ~ adapter.quote(row[2]) ~ "), '{}')::text from "
        ~ adapter.quote(var('fdw_links')['warehouse'].local_schema) ~ "." ~ adapter.quote(row[1]) ~ " where "
        ~ adapter.quote(row[3]) ~ " = any(" ~ sql_literal(acteurs) ~ "::text[])").columns[0].values()[0] -%}
    {{ return("where " ~ adapter.quote(row[0]) ~ " = any(" ~ sql_literal(keys) ~ ")") }}
{% endmacro %}


{#- on-run-end hook: an incremental build that built every model records it on the last run,
    so that merge_slice never merges a slice left by an earlier or a failed build. -#}
{% macro record_slice_build(results) %}
    {%- if execute and slice_build() and flags.WHICH == 'run' -%}
        {%- set failed = results | rejectattr('status', 'in', ['success', 'pass']) | list -%}
        {%- if not failed -%}
            update lacarte_state.runs set sliced_at = clock_timestamp()
            where run_id = (select max(run_id) from lacarte_state.runs);
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}
