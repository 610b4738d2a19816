-- Billed revenue per day, account and invoice currency. See the net_revenue docs block for the definition.
-- Invoices come through fct_invoices so that test accounts, drafts and void invoices are already handled.

with invoices as (

    select
        i.invoice_id,
        i.account_id,
        i.currency,
        i.finalized_at,
        i.discount_cents
    from {{ ref('stg_quill_app__invoices') }} as i
    inner join {{ ref('fct_invoices') }} as f
        on i.invoice_id = f.invoice_id
    where f.invoice_status not in ('draft', 'void')

),

lines as (

    select invoice_id, line_type, amount_cents
    from {{ ref('stg_quill_app__invoice_line_items') }}

),

gross as (

    select
        date_trunc('day', inv.finalized_at)::date as revenue_date,
        inv.account_id,
        inv.currency,
        sum(l.amount_cents)                       as gross_cents,
        sum(case when l.line_type = 'implementation' then l.amount_cents else 0 end) as services_cents
    from invoices as inv
    inner join lines as l
        on inv.invoice_id = l.invoice_id
    group by 1, 2, 3

),

discounts as (

    select
        date_trunc('day', finalized_at)::date     as revenue_date,
        account_id,
        currency,
        sum(discount_cents)                       as discount_cents
    from invoices
    group by 1, 2, 3

),

refunds as (

    -- dated on the refund, not on the original invoice
    select
        date_trunc('day', r.refunded_at)::date    as revenue_date,
        inv.account_id,
        r.currency,
        sum(r.amount_cents)                       as refund_cents
    from {{ ref('stg_stripe__refunds') }} as r
    inner join {{ ref('stg_stripe__charges') }} as c
        on r.charge_id = c.charge_id
    inner join invoices as inv
        on c.invoice_id = inv.invoice_id
    where r.refund_status = 'succeeded'
    group by 1, 2, 3

),

spine as (

    select revenue_date, account_id, currency from gross
    union
    select revenue_date, account_id, currency from refunds

),

combined as (

    select
        s.revenue_date,
        s.account_id,
        s.currency,
        coalesce(g.gross_cents, 0)                as gross_cents,
        coalesce(g.services_cents, 0)             as services_cents,
        coalesce(d.discount_cents, 0)             as discount_cents,
        coalesce(r.refund_cents, 0)               as refund_cents
    from spine as s
    left join gross as g
        on s.revenue_date = g.revenue_date and s.account_id = g.account_id and s.currency = g.currency
    left join discounts as d
        on s.revenue_date = d.revenue_date and s.account_id = d.account_id and s.currency = d.currency
    left join refunds as r
        on s.revenue_date = r.revenue_date and s.account_id = r.account_id and s.currency = r.currency

),

fx as (

    select rate_month, currency, rate_to_usd
    from {{ ref('fx_rates') }}
    where rate_type = 'average'

),

converted as (

    select
        c.revenue_date,
        c.account_id,
        c.currency,
        {{ cents_to_amount('c.gross_cents') }}    as gross_revenue,
        {{ cents_to_amount('c.services_cents') }} as services_revenue,
        {{ cents_to_amount('c.discount_cents') }} as discounts,
        {{ cents_to_amount('c.refund_cents') }}   as refunds,
        {{ cents_to_amount('c.gross_cents - c.refund_cents - c.discount_cents') }} as net_revenue,
        case when c.currency = 'USD' then 1.0 else fx.rate_to_usd end as fx_rate_to_usd
    from combined as c
    left join fx
        on c.currency = fx.currency
       and date_trunc('month', c.revenue_date) = fx.rate_month

)

select
    revenue_date,
    account_id,
    currency,
    gross_revenue,
    services_revenue,
    discounts,
    refunds,
    net_revenue,
    fx_rate_to_usd,
    gross_revenue * fx_rate_to_usd                as gross_revenue_usd,
    discounts * fx_rate_to_usd                    as discounts_usd,
    refunds * fx_rate_to_usd                      as refunds_usd,
    net_revenue * fx_rate_to_usd                  as net_revenue_usd
from converted
