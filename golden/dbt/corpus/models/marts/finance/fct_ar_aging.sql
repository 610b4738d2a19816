{{
    config(
        materialized='incremental',
        unique_key=['as_of_date', 'invoice_id'],
        on_schema_change='append_new_columns'
    )
}}

-- One row per open invoice per day the model runs: the daily history of the receivables ledger.

with open_invoices as (

    select
        invoice_id,
        account_id,
        billing_entity,
        currency,
        due_date,
        total_amount_usd,
        amount_paid_usd
    from {{ ref('fct_invoices') }}
    where invoice_status in ('open', 'past_due')

),

aged as (

    select
        current_date                              as as_of_date,
        invoice_id,
        account_id,
        billing_entity,
        currency,
        due_date,
        total_amount_usd - amount_paid_usd        as open_amount_usd,
        greatest(datediff('day', due_date, current_date), 0) as days_past_due
    from open_invoices

),

bucketed as (

    select
        *,
        case
            when days_past_due = 0 then 'current'
            when days_past_due <= 30 then '1-30'
            when days_past_due <= 60 then '31-60'
            when days_past_due <= 90 then '61-90'
            else '90+'
        end                                       as aging_bucket,
        days_past_due > {{ var('ar_alert_days') }} as is_collections_alert
    from aged

)

select * from bucketed
{% if is_incremental() %}
where as_of_date > (select max(as_of_date) from {{ this }})
{% endif %}
