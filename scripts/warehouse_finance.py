"""The demo warehouse's finance tables, derived from the subscription tables build_warehouse.py writes first.

Invoices (fct_invoice_lines grouped by invoice) are paid by card or ACH through Lumen Payments, or by direct ACH or
wire; that gives payment attempts, Lumen balance transactions, fees, disputes, refunds, collections and month-end
AR. The revenue schedule recognises the invoice lines (subscriptions ratably per day, usage in the month before it
is billed, setup fees over 24 months); deferred and unbilled balances, the GL P&L and cash burn follow from it.
Retention cohorts come from fct_mrr. A separate seeded random stream, so the subscription tables' rows never change.

Policies followed: annual plans are refunded in full only inside the refund window (14 days before 2025-07-01,
30 days from then; the service start date is day 1), and a refund stops the subscription's revenue and reverses
what was recognised through refunds_and_credits; Lumen fees (2.9% + USD 0.30 per domestic card charge, +1.5%
international, 0.8% ACH capped at USD 5, USD 15 per dispute returned when won); allowance rates by aging bucket
(1/3/10/25/50%); write-off 180 days past due. Amounts are in USD (invoice lines already are); no sales tax.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SEED = 20250102
DATA_END = date(2025, 12, 31)
POLICY_2025 = date(2025, 7, 1)  # the refund window grew from 14 to 30 days on this date

TABLES = {
    "fct_invoice_collections": "invoice_id VARCHAR, due_date DATE, payment_terms VARCHAR, payment_method VARCHAR, "
                               "amount_due_usd DECIMAL(18,2), collected_by_due_month_end_usd DECIMAL(18,2)",
    "fct_ar_balances_daily": "ar_invoice_day_id VARCHAR, invoice_id VARCHAR, customer_id VARCHAR, balance_date DATE, "
                             "aging_bucket VARCHAR, payment_terms VARCHAR, plan_tier VARCHAR, currency VARCHAR, "
                             "legal_entity VARCHAR, open_balance_usd DECIMAL(18,2), allowance_rate DECIMAL(6,4)",
    "fct_payment_attempts": "payment_attempt_id VARCHAR, customer_id VARCHAR, attempted_at DATE, outcome VARCHAR, "
                            "decline_reason VARCHAR, attempt_source VARCHAR, card_brand VARCHAR, card_region VARCHAR",
    "fct_lumen_balance_transactions": "balance_transaction_line_id VARCHAR, customer_id VARCHAR, payout_id VARCHAR, "
                                      "activity_date DATE, available_on DATE, reporting_category VARCHAR, "
                                      "payment_method VARCHAR, card_region VARCHAR, legal_entity VARCHAR, "
                                      "amount_usd DECIMAL(18,2)",
    "fct_lumen_fees": "fee_line_id VARCHAR, balance_transaction_line_id VARCHAR, fee_date DATE, fee_type VARCHAR, "
                      "fee_category VARCHAR, gl_account VARCHAR, payment_method VARCHAR, card_region VARCHAR, "
                      "legal_entity VARCHAR, fee_amount_usd DECIMAL(18,2)",
    "fct_lumen_disputes": "dispute_id VARCHAR, customer_id VARCHAR, charge_balance_transaction_line_id VARCHAR, "
                          "opened_at DATE, closed_at DATE, status VARCHAR, is_accepted BOOLEAN, "
                          "payment_method VARCHAR, reason VARCHAR, legal_entity VARCHAR, "
                          "disputed_amount_usd DECIMAL(18,2)",
    "refunds": "invoice_line_id VARCHAR, refund_date DATE",  # scratch: drives the revenue schedule, dropped after
    "payments": "invoice_id VARCHAR, paid_on DATE, amount_usd DECIMAL(18,2)",  # scratch: cash in, for cash burn
}
AGING = ((0, "current", 0.01), (30, "1_30", 0.03), (60, "31_60", 0.10), (90, "61_90", 0.25), (10**6, "over_90", 0.50))
DECLINES = ("insufficient_funds", "expired_card", "do_not_honor", "suspected_fraud")
REASONS = ("fraudulent", "product_not_received", "subscription_canceled", "duplicate", "credit_not_processed",
           "general")


def month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def business_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        count -= day.weekday() < 5
    return day


def add_finance_tables(con: Any, scratch: Path) -> list[str]:
    """Create the finance tables on `con` (which already holds fct_mrr and fct_invoice_lines); returns their names."""
    rng = random.Random(SEED)
    tiers = dict(con.execute("select customer_id, any_value(plan_tier) from fct_mrr group by 1").fetchall())
    lines = con.execute(
        "select invoice_line_id, invoice_id, customer_id, invoice_date, line_type, billing_interval, payment_terms, "
        "currency, legal_entity, cast(amount_excl_tax_usd as double) from fct_invoice_lines order by invoice_line_id"
    ).fetchall()
    invoices: dict[str, dict[str, Any]] = {}
    for line_id, invoice, customer, day, kind, interval, terms, currency, entity, amount in lines:
        found = invoices.setdefault(invoice, {"id": invoice, "customer": customer, "day": day, "terms": terms,
                                              "currency": currency, "entity": entity, "amount": 0.0, "annual": []})
        found["amount"] += amount
        if kind == "subscription" and interval == "annual":
            found["annual"].append((line_id, amount))
    methods: dict[str, str] = {}
    for customer in sorted(tiers):
        tier = tiers[customer]
        options = {"starter": (("card", 1.0),), "growth": (("card", 0.5), ("ach_lumen", 0.3), ("ach_direct", 0.2)),
                   "enterprise": (("wire", 0.6), ("ach_direct", 0.4))}[tier]
        methods[customer] = rng.choices([o[0] for o in options], [o[1] for o in options])[0]
    brands = {c: rng.choices(("visa", "mastercard", "amex", "other"), (55, 30, 12, 3))[0] for c in sorted(tiers)}
    rows: dict[str, list[list[object]]] = {table: [] for table in TABLES}
    fee_seq = 0

    def fee(line_id: str, day: date, kind: str, amount: float, method: str, region: str | None, entity: str) -> None:
        nonlocal fee_seq
        fee_seq += 1
        category = "dispute" if kind.startswith("dispute") else "processing"
        rows["fct_lumen_fees"].append([f"fee_{fee_seq:06d}", line_id, day, kind, category,
                                       "6120" if category == "dispute" else "6110", method, region, entity,
                                       f"{amount:.2f}"])

    def lumen(line_id: str, customer: str, day: date, category: str, amount: float, method: str,
              region: str | None, entity: str) -> None:
        rows["fct_lumen_balance_transactions"].append([line_id, customer, None, day, business_days_after(day, 2),
                                                       category, method, region, entity, f"{amount:.2f}"])

    for invoice in sorted((i for i in invoices.values() if i["amount"] > 0), key=lambda i: i["id"]):
        customer, day, amount, entity = invoice["customer"], invoice["day"], round(invoice["amount"], 2), \
            invoice["entity"]
        method = methods[customer]
        due = day + timedelta(days={"due_on_receipt": 0, "net_30": 30, "net_45": 45}[invoice["terms"]])
        paid: date | None
        region = None
        if method == "card":
            region = "domestic" if invoice["currency"] == "USD" else "international"
            paid, attempt_day = None, day
            for n in range(4):
                outcome = rng.choices(("authorized", "declined", "error"), (88, 11, 1))[0]
                source = "invoice_autopay" if n == 0 else "dunning_retry"
                rows["fct_payment_attempts"].append([f"pa_{invoice['id']}_{n}", customer, attempt_day, outcome,
                                                     rng.choice(DECLINES) if outcome == "declined" else None,
                                                     source, brands[customer], region])
                if outcome == "authorized":
                    paid = attempt_day
                    break
                attempt_day += timedelta(days=3)
            if paid is None:  # dunning failed: paid late by bank transfer, or never
                paid = due + timedelta(days=rng.randrange(20, 120)) if rng.random() < 0.8 else None
        else:
            delay = rng.choices((rng.randrange(-10, 1), rng.randrange(1, 31), rng.randrange(31, 91),
                                 rng.randrange(91, 151), None), (70, 20, 7, 2, 1))[0]
            paid = None if delay is None else max(day, due + timedelta(days=delay))
        if method in ("card", "ach_lumen") and paid is not None and paid <= DATA_END:
            charge = f"txn_{invoice['id']}_ch"
            kind = "card" if method == "card" else "ach"
            lumen(charge, customer, paid, "charge", amount, kind, region, entity)
            if kind == "card":
                fee(charge, paid, "card_percentage", amount * 0.029, kind, region, entity)
                fee(charge, paid, "card_fixed", 0.30, kind, region, entity)
                if region == "international":
                    fee(charge, paid, "international_surcharge", amount * 0.015, kind, region, entity)
            else:
                fee(charge, paid, "ach_percentage", min(amount * 0.008, 5.0), kind, region, entity)
            if kind == "card" and rng.random() < 0.008:
                opened = paid + timedelta(days=rng.randrange(20, 60))
                if opened <= DATA_END:
                    dispute_id = f"dp_{invoice['id']}"
                    closed = opened + timedelta(days=rng.randrange(20, 60))
                    accepted = rng.random() < 0.2
                    status = "lost" if accepted else rng.choice(("won", "lost"))
                    if closed > DATA_END and not accepted:
                        closed, status = None, rng.choice(("needs_response", "under_review"))
                    rows["fct_lumen_disputes"].append([dispute_id, customer, charge, opened, closed, status,
                                                       accepted, "card", rng.choice(REASONS), entity,
                                                       f"{amount:.2f}"])
                    line = f"txn_{dispute_id}"
                    lumen(line, customer, opened, "dispute", -amount, kind, region, entity)
                    fee(line, opened, "dispute_fee", 15.0, kind, None, entity)
                    if status == "won" and closed is not None:
                        lumen(f"{line}_rev", customer, closed, "dispute_reversal", amount, kind, region, entity)
                        fee(f"{line}_rev", closed, "dispute_fee_return", -15.0, kind, None, entity)
            for line_id, fee_amount in invoice["annual"]:
                if rng.random() < 0.15:  # the customer asks to cancel on day `asked` of the term
                    asked = day + timedelta(days=rng.randrange(0, 45))
                    window = 30 if asked >= POLICY_2025 else 14
                    refund_on = asked + timedelta(days=1)
                    if (asked - day).days < window and refund_on <= DATA_END and refund_on >= paid:
                        rows["refunds"].append([line_id, refund_on])
                        lumen(f"txn_{line_id}_re", customer, refund_on, "refund", -round(fee_amount, 2), kind,
                              region, entity)
        if paid is not None:
            rows["payments"].append([invoice["id"], paid, f"{amount:.2f}"])
        if due <= DATA_END:
            by_month_end = amount if paid is not None and paid <= month_end(due) else 0.0
            rows["fct_invoice_collections"].append([invoice["id"], due, invoice["terms"], method, f"{amount:.2f}",
                                                    f"{by_month_end:.2f}"])
        written_off = due + timedelta(days=180)
        snapshot = month_end(day)
        while snapshot <= DATA_END and (paid is None or paid > snapshot) and snapshot < written_off:
            late = (snapshot - due).days
            _, bucket, rate = next(a for a in AGING if late <= a[0])
            rows["fct_ar_balances_daily"].append([f"{invoice['id']}_{snapshot:%Y%m%d}", invoice["id"], customer,
                                                  snapshot, bucket, invoice["terms"], tiers[customer],
                                                  invoice["currency"], entity, f"{amount:.2f}", rate])
            snapshot = month_end(snapshot + timedelta(days=1))
    _payouts(rows["fct_lumen_balance_transactions"], rows["fct_lumen_fees"])
    for table, data in rows.items():
        csv_path = scratch / f"{table}.csv"
        with csv_path.open("w", newline="") as handle:
            csv.writer(handle).writerows(data)
        columns = ", ".join(f"'{c.split()[0]}': '{' '.join(c.split()[1:])}'" for c in TABLES[table].split(", "))
        con.execute(f"create table {table} ({TABLES[table]})")
        con.execute(f"insert into {table} select * from read_csv('{csv_path}', header=false, nullstr='', "
                    f"columns={{{columns}}}) order by 1")
    for statement in SQL_TABLES.values():
        con.execute(statement)
    # deferred balances came from the schedule's future rows; revenue is recognised only up to the data's end
    con.execute(f"delete from fct_revenue_schedule where recognition_date > date '{DATA_END}'")
    con.execute("drop table refunds; drop table payments")
    return [t for t in TABLES if t not in ("refunds", "payments")] + list(SQL_TABLES)


def _payouts(transactions: list[list[object]], fees: list[list[object]]) -> None:
    """Each Monday, per legal entity: the fees on last week's available lines as one fee line, then the payout."""
    owed: dict[str, float] = {}
    for line in fees:
        owed[str(line[1])] = owed.get(str(line[1]), 0.0) + float(str(line[9]))
    weeks: dict[tuple[date, str], list[float]] = {}
    for line in transactions:
        available = line[4]
        assert isinstance(available, date)
        monday = available + timedelta(days=7 - available.weekday())
        if monday <= DATA_END:
            line[2] = f"po_{line[8]}_{monday:%Y%m%d}"
            week = weeks.setdefault((monday, str(line[8])), [0.0, 0.0])
            week[0] += float(str(line[9]))
            week[1] += owed.get(str(line[0]), 0.0)
    for (monday, entity), (amount, fee_total) in sorted(weeks.items()):
        payout = f"po_{entity}_{monday:%Y%m%d}"
        transactions.append([f"txn_{payout}_fee", None, payout, monday, monday, "fee", None, None, entity,
                             f"{-fee_total:.2f}"])
        transactions.append([f"txn_{payout}", None, payout, monday, monday, "payout", None, None, entity,
                             f"{-(amount - fee_total):.2f}"])


# Tables computed in SQL from the ones above (and from fct_mrr, fct_invoice_lines, fct_bookings).
SQL_TABLES = {
    "dim_calendar": "create table dim_calendar as select cast(d as date) as date_day "
                    "from range(date '2015-01-01', date '2036-01-01', interval 1 day) t(d)",
    # subscriptions ratably per service day (a month, or 12 months for annual plans; a refund stops them),
    # usage in the month before it is billed, setup fees over 24 months, credit notes and refunds as negatives
    "fct_revenue_schedule": """
        create table fct_revenue_schedule as
        with tiers as (select customer_id, any_value(plan_tier) as plan_tier from fct_mrr group by 1),
        terms as (
            select l.*, t.plan_tier, r.refund_date,
                   case when line_type = 'setup_fee' then l.invoice_date + interval 24 month
                        when billing_interval = 'annual' then l.invoice_date + interval 12 month
                        else l.invoice_date + interval 1 month end as term_end
            from fct_invoice_lines l join tiers t using (customer_id)
            left join refunds r using (invoice_line_id)
            where line_type in ('subscription', 'setup_fee')),
        ratable as (
            select invoice_line_id, customer_id, cast(d as date) as recognition_date,
                   case line_type when 'setup_fee' then 'setup_fee' else 'subscription' end as revenue_stream,
                   case line_type when 'setup_fee' then 'ratable_customer_life' else 'ratable_daily' end
                       as recognition_method,
                   plan_tier, legal_entity,
                   amount_excl_tax_usd / datediff('day', invoice_date, term_end) as amount
            from terms, range(invoice_date, least(term_end, coalesce(refund_date, term_end)), interval 1 day) s(d)),
        reversed as (
            select invoice_line_id, customer_id, refund_date as recognition_date, 'refunds_and_credits',
                   'ratable_daily', plan_tier, legal_entity,
                   -amount_excl_tax_usd / datediff('day', invoice_date, term_end)
                       * datediff('day', invoice_date, refund_date)
            from terms where refund_date is not null),
        other as (
            select invoice_line_id, customer_id,
                   case line_type when 'usage' then cast(date_trunc('month', invoice_date) - interval 1 day as date)
                                  else invoice_date end,
                   case line_type when 'usage' then 'usage' else 'refunds_and_credits' end,
                   case line_type when 'usage' then 'usage_in_month' else 'ratable_daily' end,
                   t.plan_tier, legal_entity, amount_excl_tax_usd
            from fct_invoice_lines join tiers t using (customer_id) where line_type in ('usage', 'credit_note'))
        select invoice_line_id || '_' || strftime(recognition_date, '%Y%m%d') || '_' || revenue_stream
                   as revenue_schedule_line_id,
               customer_id, invoice_line_id, recognition_date, revenue_stream, recognition_method, plan_tier,
               legal_entity, cast(amount as decimal(18,6)) as recognized_amount_usd
        from (select * from ratable union all select * from reversed union all select * from other)
        order by 1""",
    # month-end balances: invoiced but not yet recognised (deferred), recognised but not yet invoiced (usage)
    "fct_contract_balances_daily": """
        create table fct_contract_balances_daily as
        with ends as (select cast(d + interval 1 month - interval 1 day as date) as balance_date
                      from range(date '2023-12-01', date '2026-01-01', interval 1 month) t(d)),
        lines as (select invoice_line_id, invoice_date from fct_invoice_lines),
        deferred as (
            select s.customer_id, e.balance_date, s.revenue_stream, s.legal_entity,
                   case when s.recognition_date <= e.balance_date + interval 12 month then 'current'
                        else 'non_current' end as balance_term,
                   sum(s.recognized_amount_usd) as deferred_usd, 0 as unbilled_usd
            from fct_revenue_schedule s join lines l using (invoice_line_id)
            join ends e on l.invoice_date <= e.balance_date and s.recognition_date > e.balance_date
            where s.revenue_stream in ('subscription', 'setup_fee')
            group by all),
        unbilled as (
            select s.customer_id, e.balance_date, 'usage', s.legal_entity, 'current', 0, sum(s.recognized_amount_usd)
            from fct_revenue_schedule s join lines l using (invoice_line_id)
            join ends e on s.recognition_date <= e.balance_date and l.invoice_date > e.balance_date
            where s.revenue_stream = 'usage'
            group by all)
        select customer_id || '_' || revenue_stream || '_' || balance_term || '_' || strftime(balance_date, '%Y%m%d')
                   as contract_day_id,
               customer_id, balance_date, revenue_stream, balance_term, legal_entity,
               cast(deferred_usd as decimal(18,2)) as deferred_revenue_usd,
               cast(unbilled_usd as decimal(18,2)) as unbilled_revenue_usd
        from (select * from deferred union all select * from unbilled) order by 1""",
    # per measurement month, the customers with MRR twelve months earlier; a churn inside the window is a churn
    "fct_retention_cohorts": """
        create table fct_retention_cohorts as
        with months as (select cast(d as date) as measurement_month
                        from range(date '2024-12-01', date '2026-01-01', interval 1 month) t(d)),
        starts as (
            select m.measurement_month, f.customer_id, f.plan_tier, f.region, f.currency, f.mrr_usd as starting
            from months m join fct_mrr f on f.snapshot_month = m.measurement_month - interval 12 month
            where f.mrr_usd > 0),
        scored as (
            select s.*, coalesce(now.mrr_usd, 0) as ending,
                   (select count(distinct snapshot_month) from fct_mrr w where w.customer_id = s.customer_id
                      and w.mrr_usd > 0 and w.snapshot_month > s.measurement_month - interval 12 month
                      and w.snapshot_month <= s.measurement_month) as active_months
            from starts s left join fct_mrr now
              on now.customer_id = s.customer_id and now.snapshot_month = s.measurement_month)
        select customer_id || '_' || strftime(measurement_month, '%Y%m') as cohort_member_id, customer_id,
               measurement_month, cast(measurement_month - interval 12 month as date) as cohort_month,
               plan_tier as starting_plan_tier, region, currency,
               starting as starting_mrr_usd,
               cast(case when active_months = 12 and ending > starting then ending - starting else 0 end
                    as decimal(18,2)) as expansion_mrr_usd,
               cast(case when active_months = 12 and ending < starting then starting - ending else 0 end
                    as decimal(18,2)) as contraction_mrr_usd,
               cast(case when active_months < 12 then starting else 0 end as decimal(18,2)) as churned_mrr_usd
        from scored order by 1""",
    # the GL ties to the revenue schedule; costs follow revenue, headcount and new bookings
    "fct_gl_pnl_lines": """
        create table fct_gl_pnl_lines as
        with revenue as (
            select cast(date_trunc('month', recognition_date) as date) as period, legal_entity, revenue_stream,
                   sum(recognized_amount_usd) as amount
            from fct_revenue_schedule where recognition_date between '2024-01-01' and '2025-12-31' group by all),
        months as (select period, legal_entity, sum(amount) as revenue,
                          datediff('month', date '2024-01-01', period) as n
                   from revenue group by all),
        booked as (select cast(date_trunc('month', booking_date) as date) as period,
                          sum(first_year_subscription_value_usd) as acv from fct_bookings group by 1),
        costs(account_number, account_category, account_subcategory, department, cost_behavior, share, fixed) as (
            values ('5000', 'cost_of_revenue', 'hosting', 'engineering', 'variable', 0.11, 4000),
                   ('5100', 'cost_of_revenue', 'support', 'customer_support', 'fixed', 0.05, 9000),
                   ('6110', 'cost_of_revenue', 'payment_processing', 'g_and_a', 'variable', 0.02, 0),
                   ('6000', 'operating_expense', 'salaries', 'engineering', 'fixed', 0.0, 260000),
                   ('6000', 'operating_expense', 'salaries', 'product', 'fixed', 0.0, 80000),
                   ('6000', 'operating_expense', 'salaries', 'sales', 'fixed', 0.0, 150000),
                   ('6000', 'operating_expense', 'salaries', 'marketing', 'fixed', 0.0, 60000),
                   ('6300', 'operating_expense', 'advertising', 'marketing', 'variable', 0.06, 0),
                   ('6510', 'operating_expense', 'facilities', 'g_and_a', 'fixed', 0.0, 40000),
                   ('6600', 'operating_expense', 'professional_fees', 'g_and_a', 'fixed', 0.02, 15000))
        select 'gl_' || strftime(period, '%Y%m') || '_' || legal_entity || '_' || account_number || '_' || department
                   as gl_line_id, period as accounting_period,
               cast(period + interval 1 month + interval 4 day as date) as posting_date,
               account_number, account_category, account_subcategory, department, cost_behavior, legal_entity,
               cast(amount as decimal(18,2)) as amount_usd
        from (
            select period, legal_entity, case revenue_stream when 'subscription' then '4000' when 'usage' then '4100'
                   when 'setup_fee' then '4200' else '4900' end as account_number, 'revenue' as account_category,
                   revenue_stream as account_subcategory, 'none' as department, 'none' as cost_behavior, amount
            from revenue
            union all
            select m.period, m.legal_entity, c.account_number, c.account_category, c.account_subcategory,
                   c.department, c.cost_behavior,
                   m.revenue * c.share + c.fixed * (1 + m.n / 200.0) * case m.legal_entity
                       when 'brightline_inc' then 0.7 else 0.15 end
            from months m, costs c
            union all  -- commissions: 10% of first-year value booked, in the entity that books most of it
            select b.period, 'brightline_inc', '6200', 'operating_expense', 'commissions', 'sales', 'variable',
                   b.acv * 0.10
            from booked b where b.period between '2024-01-01' and '2025-12-01')
        order by 1""",
    # cash consumed: GL costs plus capitalised software, less cash collected on invoices (by legal entity)
    "fct_cash_burn_monthly": """
        create table fct_cash_burn_monthly as
        with costs as (select accounting_period as cash_month, legal_entity, sum(amount_usd) as spent
                       from fct_gl_pnl_lines where account_category <> 'revenue' group by all),
        entities as (select distinct invoice_id, legal_entity from fct_invoice_lines),
        cash as (select cast(date_trunc('month', p.paid_on) as date) as cash_month, e.legal_entity,
                        sum(p.amount_usd) as received
                 from payments p join entities e using (invoice_id) group by all)
        select legal_entity || '_' || strftime(cash_month, '%Y%m') as cash_burn_month_id, cash_month, legal_entity,
               cast(spent + case legal_entity when 'brightline_inc' then 25000 else 5000 end
                    - coalesce(received, 0) as decimal(18,2)) as net_burn_usd
        from costs left join cash using (cash_month, legal_entity) order by 1""",
}
