{% snapshot snap_quill_app__subscriptions %}

{#
    History of subscription changes (seats, plan, price, status), used to rebuild MRR for past months.
    We use the check strategy rather than timestamp: Engineering's bulk price migrations update rows
    without bumping updated_at, and the timestamp strategy silently missed the 2024 repricing.
#}

{{
    config(
        unique_key='id',
        strategy='check',
        check_cols=['plan_id', 'quantity', 'unit_price_cents', 'status', 'billing_interval'],
        invalidate_hard_deletes=True,
    )
}}

select * from {{ source('quill_app', 'subscriptions') }}

{% endsnapshot %}
