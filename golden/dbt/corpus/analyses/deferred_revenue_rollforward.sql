-- Deferred revenue roll-forward by month and subsidiary, straight from the general ledger.
-- Opening balance + billings (credits to deferred revenue) - revenue released (debits) = closing balance.
-- Compare the billings column with net billed revenue from fct_revenue_daily when reconciling at close;
-- differences of under 0.5% are usually timing (invoices finalized after the NetSuite sync cut-off).

with gl_lines as (

    select
        t.subsidiary,
        to_date(t.posting_period, 'Mon YYYY')     as period_month,
        l.account_number,
        coalesce(l.debit_amount, 0)               as debit_amount,
        coalesce(l.credit_amount, 0)              as credit_amount
    from {{ source('netsuite', 'transactions') }} as t
    inner join {{ source('netsuite', 'transaction_lines') }} as l
        on t.transaction_id = l.transaction_id

),

deferred_accounts as (

    select gl_account_number
    from {{ ref('gl_account_map') }}
    where finance_category = 'deferred_revenue'

),

monthly as (

    select
        subsidiary,
        period_month,
        sum(credit_amount)                        as billings,
        sum(debit_amount)                         as revenue_released
    from gl_lines
    where account_number in (select gl_account_number from deferred_accounts)
    group by 1, 2

),

rolled as (

    select
        *,
        sum(billings - revenue_released) over (
            partition by subsidiary order by period_month
            rows between unbounded preceding and 1 preceding
        )                                         as opening_balance
    from monthly

)

select
    subsidiary,
    period_month,
    coalesce(opening_balance, 0)                  as opening_balance,
    billings,
    revenue_released,
    coalesce(opening_balance, 0) + billings - revenue_released as closing_balance
from rolled
order by subsidiary, period_month
