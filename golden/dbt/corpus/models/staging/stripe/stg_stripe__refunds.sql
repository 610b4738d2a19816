with source as (

    select * from {{ source('stripe', 'refunds') }}

),

renamed as (

    select
        id                                        as refund_id,
        charge                                    as charge_id,
        reason                                    as refund_reason,
        status                                    as refund_status,
        amount                                    as amount_cents,
        upper(currency)                           as currency,
        to_timestamp_ntz(created)                 as refunded_at
    from source

)

select * from renamed
