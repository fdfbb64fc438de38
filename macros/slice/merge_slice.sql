{#-
    The statements of an incremental merge, as a JSON list (lacarte.changes.compiled renders
    them once per version of the project with `dbt compile --inline`, then runs them in one
    warehouse transaction after each slice build):

    they replace, in every model, the rows of the actors the slice build recomputed
    (lacarte_state.to_build) by the rows it built aside in slice_<schema>. Rows are compared
    by group: an actor's rows (or, for a model that reaches its actor through another model,
    the rows under one key of that model); a group whose rows are the same in the slice (as a
    multiset of whole rows) is left alone, a group that differs is deleted and inserted again.
    Models reached through another come first, while that model still holds its old keys.
    Readers see the old rows until commit. How a model names its actor is its config's
    meta.acteur (a column; {via, column, key}; or false for reference data, which an
    incremental build never changes). The columns are the built model's: a slice has the same
    ones, since a change of the code makes the next run full.
-#}
{% macro merge_slice_statements() %}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'publication' not in node.tags -%}
        {%- set rule = model_acteur_rule(node) -%}
        {%- if rule is not sameas false -%}
            {%- do models.append({'name': node.alias or node.name, 'schema': node.schema, 'rule': rule,
                                  'via': rule is mapping}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set schemas = {} -%}
    {%- for model in models -%}
        {%- do schemas.update({model.name: model.schema}) -%}
    {%- endfor -%}
    {%- set acteurs = "select identifiant_unique from lacarte_state.to_build" -%}
    {%- set built_columns = {} -%}
    {%- if execute -%}
        {%- for row in run_query("select table_schema || '.' || table_name, string_agg(quote_ident(column_name), ', ' "
            ~ "order by ordinal_position) from information_schema.columns where table_schema = any("
            ~ sql_text_array(schemas.values() | unique | list) ~ ") group by 1").rows -%}
            {%- do built_columns.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {#- A few thousand actors among millions: their rows are found by the indexes acteur_index
        made, which the planner's default cost of a random read (4, for spinning disks) would
        pass over for a full scan of every table. -#}
    {%- set statements = ["analyze lacarte_state.to_build", "set local random_page_cost = 1.1"] -%}
    {%- for model in models | sort(attribute='name') | sort(attribute='via', reverse=true) -%}
        {%- set full = adapter.quote(model.schema) ~ "." ~ adapter.quote(model.name) -%}
        {%- set slice = adapter.quote('slice_' ~ model.schema) ~ "." ~ adapter.quote(model.name) -%}
        {%- set column_list = built_columns.get(model.schema ~ '.' ~ model.name) -%}
        {%- if execute and not column_list -%}
            {{ exceptions.raise_compiler_error(full ~ " is missing: an incremental merge follows a full build "
                ~ "(lacarte run); nothing was merged") }}
        {%- endif -%}
        {%- if model.via -%}
            {%- set via = model.rule.via -%}
            {%- set via_rule = model_acteur_rule(graph.nodes.values() | selectattr('name', 'equalto', via) | first) -%}
            {%- set group = adapter.quote(model.rule.column) -%}
            {%- set via_key = adapter.quote(model.rule.key) -%}
            {%- set scope = "select " ~ via_key ~ " from " ~ adapter.quote(schemas[via]) ~ "." ~ adapter.quote(via)
                ~ " where " ~ adapter.quote(via_rule) ~ " in (" ~ acteurs ~ ") union select " ~ via_key ~ " from "
                ~ adapter.quote('slice_' ~ schemas[via]) ~ "." ~ adapter.quote(via) -%}
        {%- else -%}
            {%- set group = adapter.quote(model.rule) -%}
            {%- set scope = acteurs -%}
        {%- endif -%}
        {%- set whole_row = "row(" ~ column_list ~ ")::text" -%}
        {%- set changed = adapter.quote('merge_slice_' ~ loop.index) -%}
        {%- do statements.append("create temp table " ~ changed ~ " on commit drop as"
            ~ " with was as (select " ~ group ~ " as grp, array_agg(" ~ whole_row ~ " order by " ~ whole_row ~ ") as rows_of"
            ~ " from " ~ full ~ " where " ~ group ~ " in (" ~ scope ~ ") group by 1),"
            ~ " now as (select " ~ group ~ " as grp, array_agg(" ~ whole_row ~ " order by " ~ whole_row ~ ") as rows_of"
            ~ " from " ~ slice ~ " group by 1)"
            ~ " select coalesce(was.grp, now.grp) as grp from was full join now on was.grp = now.grp"
            ~ " where was.rows_of is distinct from now.rows_of") -%}
        {%- do statements.append("delete from " ~ full ~ " where " ~ group ~ " in (select grp from " ~ changed ~ ")") -%}
        {%- do statements.append("insert into " ~ full ~ " (" ~ column_list ~ ") select " ~ column_list
            ~ " from " ~ slice ~ " where " ~ group ~ " in (select grp from " ~ changed ~ ")") -%}
    {%- endfor -%}
    {{ return(statements) }}
{% endmacro %}


{#- How a model names its actor: its meta.acteur, which every model must set (a model without
    it is an error: an incremental build could not merge it). -#}
{% macro model_acteur_rule(node) %}
    {%- set rule = (node.config.meta or {}).get('acteur') -%}
    {%- if rule is none -%}
        {{ exceptions.raise_compiler_error("model " ~ node.name ~ " has no meta.acteur: say which column names its "
            ~ "actor, {via: <model>, column: <its column>, key: <that model's key>}, or false for reference data") }}
    {%- endif -%}
    {{ return(rule) }}
{% endmacro %}
