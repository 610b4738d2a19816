with source as (

    select * from {{ source('stripe', 'charges') }}

),

renamed as (

    select
        id                                        as charge_id,
        metadata:quill_invoice_id::varchar        as invoice_id,
        status                                    as charge_status,
        amount                                    as amount_cents,
        coalesce(amount_refunded, 0)              as amount_refunded_cents,
        upper(currency)                           as currency,
        to_timestamp_ntz(created)                 as charged_at
    from source

)

select * from renamed
