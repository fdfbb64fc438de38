{#- True in an incremental build (`--vars '{slice: true}'`); a value that is not a YAML
    boolean is an error. -#}
{% macro slice_build() %}
    {{ return(boolean_argument('slice', var('slice', false))) }}
{% endmacro %}


{#- In an incremental build, the condition keeping the rows of a webapp table that belong to
    the actors to rebuild (lacarte_state.to_build). The actors are read when the statement
    runs, not when it is compiled: the compiled SQL of the slice is the same at every cycle
    (lacarte.changes.compiled runs it), and `any(array(select …))` is an init plan whose
    result the link sends to the webapp as a parameter, so the webapp reads only those rows
    by key. For a table that follows another (rule follow), its foreign key among that
    table's keys of those actors (also pushed down). How each table names its actor comes
    from lacarte_state.tracked, which the pull reads from the webapp's catalog. Empty outside
    an incremental build. -#}
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
    {%- set acteurs = "any(array(select identifiant_unique from lacarte_state.to_build))" -%}
    {%- if not row[1] -%}
        {{ return("where " ~ adapter.quote(row[0]) ~ " = " ~ acteurs) }}
    {%- endif -%}
    {{ return("where " ~ adapter.quote(row[0]) ~ " = any(array(select " ~ adapter.quote(row[2]) ~ " from "
        ~ adapter.quote(var('fdw_links')['warehouse'].local_schema) ~ "." ~ adapter.quote(row[1]) ~ " where "
        ~ adapter.quote(row[3]) ~ " = " ~ acteurs ~ "))") }}
{% endmacro %}
