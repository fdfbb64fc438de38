{#-
    dbt run-operation merge_slice   (after an incremental build: dbt run --vars '{slice: true}')

    Replaces, in every model, the rows of the actors the incremental build recomputed
    (lacarte_state.to_build) by the rows it built aside in slice_<schema>, in one transaction.
    Rows are compared by group: an actor's rows (or, for a model that reaches its actor through
    another model, the rows under one key of that model); a group whose rows are the same in
    the slice (as a multiset of whole rows) is left alone, a group that differs is deleted and
    inserted again. Models reached through another come first, while that model still holds
    its old keys. Readers see the old rows until commit. How a model names its actor is its
    config's meta.acteur (a column; {via, column, key}; or false for reference data, which an
    incremental build never changes).
-#}
{% macro merge_slice() %}
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
    {%- set slice_columns = {} -%}
    {%- for row in run_query("select table_schema || '.' || table_name, string_agg(quote_ident(column_name), ', ' "
        ~ "order by ordinal_position) "
        ~ "from information_schema.columns where table_schema like 'slice\\_%' group by 1").rows -%}
        {%- do slice_columns.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for model in models | sort(attribute='name') | sort(attribute='via', reverse=true) -%}
        {%- set full = adapter.quote(model.schema) ~ "." ~ adapter.quote(model.name) -%}
        {%- set slice = adapter.quote('slice_' ~ model.schema) ~ "." ~ adapter.quote(model.name) -%}
        {%- set column_list = slice_columns.get('slice_' ~ model.schema ~ '.' ~ model.name) -%}
        {%- if not column_list -%}
            {{ exceptions.raise_compiler_error(slice ~ " is missing: run the incremental build first "
                ~ "(dbt run --exclude tag:publication --vars '{slice: true}'); nothing was merged") }}
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
    {%- set built = run_query("select sliced_at is not null and sliced_at > pulled_at from lacarte_state.runs "
        ~ "order by run_id desc limit 1").columns[0].values() -%}
    {%- if not built or not built[0] -%}
        {{ exceptions.raise_compiler_error("no complete incremental build since the last pull: run it again "
            ~ "(lacarte run --incremental); nothing was merged") }}
    {%- endif -%}
    {%- set acteur_count = run_query("select count(*) from lacarte_state.to_build").columns[0].values()[0] -%}
    {%- do run_query("analyze lacarte_state.to_build") -%}
    {%- do run_query("begin") -%}
    {#- A few thousand actors among millions: their rows are found by the indexes acteur_index
        made, which the planner's default cost of a random read (4, for spinning disks) would
        pass over for a full scan of every table. -#}
    {%- do run_query("set local random_page_cost = 1.1") -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- do run_query("update lacarte_state.runs set built_at = clock_timestamp() where run_id = (select max(run_id) from lacarte_state.runs)") -%}
    {%- do run_query("delete from lacarte_state.to_build") -%}
    {%- do run_query("commit") -%}
    {{ print("merge_slice: the rows of " ~ acteur_count ~ " actors replaced in " ~ models | length ~ " models") }}
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
