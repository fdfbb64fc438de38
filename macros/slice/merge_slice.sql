{#-
    dbt run-operation merge_slice   (after an incremental build: dbt run --vars '{slice: true}')

    Replaces, in every model, the rows of the actors the incremental build recomputed
    (lacarte_state.to_build) by the rows it built aside in slice_<schema>, in one transaction:
    first the rows of models that reach their actor through another model (meta.acteur.via),
    then those naming it directly, then the new rows. Readers see the old rows until commit.
    How a model names its actor is its config's meta.acteur (a column; {via, column, key}; or
    false for reference data, which an incremental build never changes).
-#}
{% macro merge_slice() %}
    {%- set models = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and 'publication' not in node.tags -%}
        {%- set rule = model_acteur_rule(node) -%}
        {%- if rule is not sameas false -%}
            {%- do models.append({'name': node.alias or node.name, 'schema': node.schema, 'rule': rule}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set schemas = {} -%}
    {%- for model in models -%}
        {%- do schemas.update({model.name: model.schema}) -%}
    {%- endfor -%}
    {%- set acteurs = "(select identifiant_unique from lacarte_state.to_build)" -%}
    {%- set deletes_via = [] -%}
    {%- set deletes = [] -%}
    {%- set inserts = [] -%}
    {%- for model in models | sort(attribute='name') -%}
        {%- set full = adapter.quote(model.schema) ~ "." ~ adapter.quote(model.name) -%}
        {%- set slice = adapter.quote('slice_' ~ model.schema) ~ "." ~ adapter.quote(model.name) -%}
        {%- set relation = adapter.get_relation(database=target.database, schema='slice_' ~ model.schema,
                                                 identifier=model.name) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error(slice ~ " is missing: run the incremental build first "
                ~ "(dbt run --exclude tag:publication --vars '{slice: true}'); nothing was merged") }}
        {%- endif -%}
        {%- if model.rule is mapping -%}
            {%- set via = model.rule.via -%}
            {%- set via_rule = model_acteur_rule(graph.nodes.values() | selectattr('name', 'equalto', via) | first) -%}
            {%- do deletes_via.append("delete from " ~ full ~ " where " ~ adapter.quote(model.rule.column) ~ " in (select "
                ~ adapter.quote(model.rule.key) ~ " from " ~ adapter.quote(schemas[via]) ~ "." ~ adapter.quote(via)
                ~ " where " ~ adapter.quote(via_rule) ~ " in " ~ acteurs ~ ")") -%}
        {%- else -%}
            {%- do deletes.append("delete from " ~ full ~ " where " ~ adapter.quote(model.rule) ~ " in " ~ acteurs) -%}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
        {%- do inserts.append("insert into " ~ full ~ " (" ~ columns | join(', ') ~ ") select " ~ columns | join(', ')
            ~ " from " ~ slice) -%}
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
    {%- for statement in deletes_via + deletes + inserts -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- do run_query("update lacarte_state.runs set built_at = clock_timestamp() where run_id = (select max(run_id) from lacarte_state.runs)") -%}
    {%- do run_query("delete from lacarte_state.to_build") -%}
    {%- do run_query("commit") -%}
    {{ print("merge_slice: the rows of " ~ acteur_count ~ " actors replaced in " ~ models | length ~ " models") }}
{% endmacro %}


{#- How a model names its actor: meta.acteur, else its publication's acteur_column. A model
    with neither is an error (an incremental build could not merge it). -#}
{% macro model_acteur_rule(node) %}
    {%- set meta = node.config.meta or {} -%}
    {%- set rule = meta.get('acteur', (meta.get('publish') or {}).get('acteur_column')) -%}
    {%- if rule is none -%}
        {{ exceptions.raise_compiler_error("model " ~ node.name ~ " has no meta.acteur: say which column names its "
            ~ "actor, {via: <model>, column: <its column>, key: <that model's key>}, or false for reference data") }}
    {%- endif -%}
    {{ return(rule) }}
{% endmacro %}
