{#
    Turn an integer amount in minor units (cents) into a decimal amount.
    Only correct for two-decimal currencies; Quillmark bills in USD and EUR only.
#}
{% macro cents_to_amount(column_name, scale=2) -%}
    round(({{ column_name }} / 100.0)::numeric(18, {{ scale }}), {{ scale }})
{%- endmacro %}
