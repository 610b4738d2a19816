with invoices as (

    select * from {{ ref('stg_quill_app__invoices') }}

),

accounts as (

    -- inner join below drops invoices of test accounts
    select account_id, billing_entity from {{ ref('dim_accounts') }}

),

payments as (

    select
        invoice_id,
        sum(amount_cents - amount_refunded_cents) as amount_paid_cents,
        count(*)                                  as successful_charge_count
    from {{ ref('stg_stripe__charges') }}
    where charge_status = 'succeeded'
      and invoice_id is not null
    group by 1

),

fx as (

    select rate_month, currency, rate_to_usd
    from {{ ref('fx_rates') }}
    where rate_type = 'average'

),

latest_fx as (

    select currency, rate_to_usd
    from fx
    qualify row_number() over (partition by currency order by rate_month desc) = 1

),

joined as (

    select
        i.*,
        a.billing_entity,
        coalesce(p.amount_paid_cents, 0)          as amount_paid_cents,
        coalesce(p.successful_charge_count, 0)    as successful_charge_count,
        case
            when i.currency = 'USD' then 1.0
            else coalesce(fx.rate_to_usd, latest_fx.rate_to_usd)
        end                                       as fx_rate_to_usd
    from invoices as i
    inner join accounts as a
        on i.account_id = a.account_id
    left join payments as p
        on i.invoice_id = p.invoice_id
    left join fx
        on i.currency = fx.currency
       and date_trunc('month', coalesce(i.finalized_at, current_timestamp))::date = fx.rate_month
    left join latest_fx
        on i.currency = latest_fx.currency

),

final as (

    select
        invoice_id,
        invoice_number,
        account_id,
        billing_entity,
        currency,
        finalized_at                              as issued_at,
        due_date,
        paid_at,
        case
            when voided_at is not null then 'void'
            when marked_uncollectible_at is not null then 'uncollectible'
            when paid_at is not null then 'paid'
            when finalized_at is null then 'draft'
            when due_date < current_date then 'past_due'
            else 'open'
        end                                       as invoice_status,
        {{ cents_to_amount('subtotal_cents') }}   as subtotal_amount,
        {{ cents_to_amount('discount_cents') }}   as discount_amount,
        {{ cents_to_amount('tax_cents') }}        as tax_amount,
        {{ cents_to_amount('total_cents') }}      as total_amount,
        {{ cents_to_amount('amount_paid_cents') }} as amount_paid,
        fx_rate_to_usd,
        {{ cents_to_amount('total_cents') }} * fx_rate_to_usd       as total_amount_usd,
        {{ cents_to_amount('amount_paid_cents') }} * fx_rate_to_usd as amount_paid_usd,
        successful_charge_count,
        datediff('day', finalized_at, paid_at)    as days_to_pay
    from joined

)

select * from final
