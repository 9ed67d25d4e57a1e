//! Random valid messages for the property tests: every field drawn from its whole valid range
//! (texts with characters XML must escape, CJK, amounts up to 18 digits, dates from year 1 to
//! 9999, time zones to ±14:00, optional elements present or not).

use bauhinia_core::money::{Currency, Money};
use bauhinia_fps::iso20022::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

pub fn text<const N: usize>() -> impl Strategy<Value = Text<N>> {
    let chars = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('0', '9'),
        1 => prop::sample::select(vec![' ', '&', '<', '>', '\'', '"', '-', '/', '中', '港', '€']),
    ];
    vec(chars, 1..=N.min(24)).prop_filter_map("a valid text", |chars| {
        Text::new(chars.into_iter().collect::<String>()).ok()
    })
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just(Currency::Hkd), Just(Currency::Cny)]
}

pub fn amount() -> impl Strategy<Value = Amount> {
    let minor = prop_oneof![0..1_000_000_i64, 0..=Amount::MINOR_MAX];
    (currency(), minor).prop_filter_map("an amount", |(currency, minor)| {
        Amount::new(Money::from_minor(minor, currency))
    })
}

fn date() -> impl Strategy<Value = Date> {
    (1..=9999_i32, 1..=12_u8, 1..=31_u8).prop_filter_map("a date", |(y, m, d)| {
        Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
    })
}

pub fn iso_date() -> impl Strategy<Value = IsoDate> {
    date().prop_map(IsoDate)
}

pub fn iso_date_time() -> impl Strategy<Value = IsoDateTime> {
    let nanos = prop_oneof![
        Just(0_u32),
        0..1_000_000_000_u32,
        (0..1000_u32).prop_map(|ms| ms * 1_000_000)
    ];
    let offset = of(
        (-14..=14_i8, prop::sample::select(vec![0_i8, 30, 45])).prop_filter_map(
            "an offset",
            |(h, m)| {
                let m = if h < 0 { -m } else { m };
                if h.abs() == 14 && m != 0 {
                    return None;
                }
                UtcOffset::from_hms(h, m, 0).ok()
            },
        ),
    );
    (date(), 0..24_u8, 0..60_u8, 0..60_u8, nanos, offset).prop_filter_map(
        "a date-time",
        |(date, h, m, s, nanos, offset)| {
            let time = Time::from_hms_nano(h, m, s, nanos).ok()?;
            Some(IsoDateTime {
                local: PrimitiveDateTime::new(date, time),
                offset,
            })
        },
    )
}

pub fn agent() -> impl Strategy<Value = Agent> {
    (0..1000_u32).prop_filter_map("a participant", |n| {
        ParticipantCode::parse(&format!("{n:03}"))
            .ok()
            .map(|participant| Agent { participant })
    })
}

pub fn party() -> impl Strategy<Value = Party> {
    of(text()).prop_map(|name| Party { name })
}

fn account_id() -> impl Strategy<Value = AccountId> {
    prop_oneof![
        "[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}"
            .prop_filter_map("an IBAN", |s| AccountId::iban(&s).ok()),
        text().prop_map(AccountId::Other),
    ]
}

fn proxy() -> impl Strategy<Value = Proxy> {
    let kind = prop::sample::select(vec![
        ProxyType::Mobile,
        ProxyType::Email,
        ProxyType::Hkid,
        ProxyType::FpsId,
    ]);
    (kind, text()).prop_map(|(kind, id)| Proxy { kind, id })
}

pub fn account() -> impl Strategy<Value = Account> {
    (account_id(), of(currency()), of(text()), of(proxy())).prop_map(
        |(id, currency, name, proxy)| Account {
            id,
            currency,
            name,
            proxy,
        },
    )
}

pub fn code_or_proprietary() -> impl Strategy<Value = CodeOrProprietary> {
    prop_oneof![
        text().prop_map(CodeOrProprietary::Code),
        text().prop_map(CodeOrProprietary::Proprietary)
    ]
}

pub fn reason_info() -> impl Strategy<Value = ReasonInfo> {
    (of(code_or_proprietary()), vec(text(), 0..3)).prop_map(|(reason, additional_info)| {
        ReasonInfo {
            reason,
            additional_info,
        }
    })
}

pub fn remittance() -> impl Strategy<Value = Remittance> {
    vec(text(), 0..3).prop_map(|unstructured| Remittance { unstructured })
}

fn original_message() -> impl Strategy<Value = OriginalMessage> {
    (text(), text(), of(iso_date_time())).prop_map(|(message_id, message_name, created)| {
        OriginalMessage {
            message_id,
            message_name,
            created,
        }
    })
}

fn one_or_more<T: std::fmt::Debug>(
    item: impl Strategy<Value = T>,
) -> impl Strategy<Value = OneOrMore<T>> {
    vec(item, 1..4).prop_filter_map("non-empty", OneOrMore::new)
}

fn charge_bearer() -> impl Strategy<Value = ChargeBearer> {
    prop::sample::select(ChargeBearer::ALL.to_vec())
}

fn settlement_header() -> impl Strategy<Value = SettlementHeader> {
    (
        text(),
        iso_date_time(),
        of(iso_date()),
        of(agent()),
        of(agent()),
    )
        .prop_map(
            |(message_id, created, settlement_date, instructing_agent, instructed_agent)| {
                SettlementHeader {
                    message_id,
                    created,
                    settlement_date,
                    instructing_agent,
                    instructed_agent,
                }
            },
        )
}

fn payment_id() -> impl Strategy<Value = PaymentId> {
    (of(text()), text(), text()).prop_map(|(instruction_id, end_to_end_id, transaction_id)| {
        PaymentId {
            instruction_id,
            end_to_end_id,
            transaction_id,
        }
    })
}

fn credit_transfer_transaction() -> impl Strategy<Value = CreditTransferTransaction> {
    let ids = (
        payment_id(),
        amount(),
        of(iso_date()),
        of(iso_date_time()),
        charge_bearer(),
    );
    let agents = (of(agent()), of(agent()), agent(), agent());
    let parties = (
        party(),
        of(account()),
        party(),
        of(account()),
        of(remittance()),
    );
    (ids, agents, parties).prop_map(
        |(
            (payment_id, amount, settlement_date, accepted, charge_bearer),
            (instructing_agent, instructed_agent, debtor_agent, creditor_agent),
            (debtor, debtor_account, creditor, creditor_account, remittance),
        )| CreditTransferTransaction {
            payment_id,
            amount,
            settlement_date,
            accepted,
            charge_bearer,
            instructing_agent,
            instructed_agent,
            debtor,
            debtor_account,
            debtor_agent,
            creditor_agent,
            creditor,
            creditor_account,
            remittance,
        },
    )
}

pub fn credit_transfer() -> impl Strategy<Value = CreditTransfer> {
    (
        settlement_header(),
        one_or_more(credit_transfer_transaction()),
    )
        .prop_map(|(header, transactions)| CreditTransfer {
            header,
            transactions,
        })
}

fn report_header() -> impl Strategy<Value = ReportHeader> {
    (text(), iso_date_time(), of(agent()), of(agent())).prop_map(
        |(message_id, created, instructing_agent, instructed_agent)| ReportHeader {
            message_id,
            created,
            instructing_agent,
            instructed_agent,
        },
    )
}

fn payment_status() -> impl Strategy<Value = PaymentStatus> {
    prop::sample::select(PaymentStatus::ALL.to_vec())
}

fn original_group_status() -> impl Strategy<Value = OriginalGroupStatus> {
    let count = 0..1_000_000_000_000_000_u64;
    (
        text(),
        text(),
        of(iso_date_time()),
        of(count),
        of(payment_status()),
        vec(reason_info(), 0..3),
    )
        .prop_map(
            |(message_id, message_name, created, number_of_transactions, status, reasons)| {
                OriginalGroupStatus {
                    message_id,
                    message_name,
                    created,
                    number_of_transactions,
                    status,
                    reasons,
                }
            },
        )
}

fn transaction_status() -> impl Strategy<Value = TransactionStatus> {
    let ids = (
        of(text()),
        of(original_message().prop_map(OriginalGroup)),
        of(text()),
        of(text()),
        of(text()),
    );
    let status = (
        of(payment_status()),
        vec(reason_info(), 0..3),
        of(iso_date_time()),
        of(text()),
    );
    (ids, status, of(agent()), of(agent())).prop_map(
        |(
            (
                status_id,
                original_group,
                original_instruction_id,
                original_end_to_end_id,
                original_transaction_id,
            ),
            (status, reasons, accepted, clearing_reference),
            instructing_agent,
            instructed_agent,
        )| TransactionStatus {
            status_id,
            original_group,
            original_instruction_id,
            original_end_to_end_id,
            original_transaction_id,
            status,
            reasons,
            accepted,
            clearing_reference,
            instructing_agent,
            instructed_agent,
        },
    )
}

pub fn status_report() -> impl Strategy<Value = StatusReport> {
    (
        report_header(),
        vec(original_group_status(), 0..3),
        vec(transaction_status(), 0..4),
    )
        .prop_map(|(header, groups, transactions)| StatusReport {
            header,
            groups,
            transactions,
        })
}

fn return_transaction() -> impl Strategy<Value = ReturnTransaction> {
    let ids = (
        of(text()),
        of(original_message().prop_map(OriginalGroup)),
        of(text()),
        of(text()),
        of(text()),
    );
    let money = (of(amount()), amount(), of(iso_date()), of(charge_bearer()));
    (
        ids,
        money,
        of(agent()),
        of(agent()),
        vec(reason_info(), 0..3),
    )
        .prop_map(
            |(
                (
                    return_id,
                    original_group,
                    original_instruction_id,
                    original_end_to_end_id,
                    original_transaction_id,
                ),
                (original_amount, returned_amount, settlement_date, charge_bearer),
                instructing_agent,
                instructed_agent,
                reasons,
            )| ReturnTransaction {
                return_id,
                original_group,
                original_instruction_id,
                original_end_to_end_id,
                original_transaction_id,
                original_amount,
                returned_amount,
                settlement_date,
                charge_bearer,
                instructing_agent,
                instructed_agent,
                reasons,
            },
        )
}

pub fn payment_return() -> impl Strategy<Value = PaymentReturn> {
    (settlement_header(), one_or_more(return_transaction())).prop_map(|(header, transactions)| {
        PaymentReturn {
            header,
            transactions,
        }
    })
}

fn direct_debit_transaction() -> impl Strategy<Value = DirectDebitTransaction> {
    let payment = (
        payment_id(),
        amount(),
        of(iso_date()),
        charge_bearer(),
        text(),
        of(iso_date()),
    );
    let creditor = (party(), of(account()), agent(), of(agent()), of(agent()));
    let debtor = (party(), account(), agent(), of(remittance()));
    (payment, creditor, debtor).prop_map(
        |(
            (payment_id, amount, settlement_date, charge_bearer, mandate_id, mandate_signed),
            (creditor, creditor_account, creditor_agent, instructing_agent, instructed_agent),
            (debtor, debtor_account, debtor_agent, remittance),
        )| DirectDebitTransaction {
            payment_id,
            amount,
            settlement_date,
            charge_bearer,
            mandate_id,
            mandate_signed,
            creditor,
            creditor_account,
            creditor_agent,
            instructing_agent,
            instructed_agent,
            debtor,
            debtor_account,
            debtor_agent,
            remittance,
        },
    )
}

pub fn direct_debit() -> impl Strategy<Value = DirectDebit> {
    (settlement_header(), one_or_more(direct_debit_transaction())).prop_map(
        |(header, transactions)| DirectDebit {
            header,
            transactions,
        },
    )
}

fn frequency() -> impl Strategy<Value = Frequency> {
    let code = || prop::sample::select(FrequencyCode::ALL.to_vec());
    prop_oneof![
        code().prop_map(Frequency::Every),
        (code(), 1..1_000_000_000_u32)
            .prop_map(|(period, count)| Frequency::PerPeriod { period, count }),
    ]
}

fn occurrences() -> impl Strategy<Value = Occurrences> {
    let sequence = prop::sample::select(SequenceType::ALL.to_vec());
    (sequence, of(frequency()), of(iso_date()), of(iso_date())).prop_map(
        |(sequence, frequency, first_collection, final_collection)| Occurrences {
            sequence,
            frequency,
            first_collection,
            final_collection,
        },
    )
}

fn mandate() -> impl Strategy<Value = Mandate> {
    let terms = (
        of(text()),
        text(),
        of(occurrences()),
        any::<bool>(),
        of(amount()),
        of(amount()),
    );
    let creditor = (party(), of(account()), of(agent()));
    let debtor = (party(), of(account()), of(agent()), of(text()));
    (terms, creditor, debtor).prop_map(
        |(
            (mandate_id, request_id, occurrences, tracking, collection_amount, max_amount),
            (creditor, creditor_account, creditor_agent),
            (debtor, debtor_account, debtor_agent, reference),
        )| Mandate {
            mandate_id,
            request_id,
            occurrences,
            tracking,
            collection_amount,
            max_amount,
            creditor,
            creditor_account,
            creditor_agent,
            debtor,
            debtor_account,
            debtor_agent,
            reference,
        },
    )
}

fn mandate_reason() -> impl Strategy<Value = MandateReason> {
    (code_or_proprietary(), vec(text(), 0..3)).prop_map(|(reason, additional_info)| MandateReason {
        reason,
        additional_info,
    })
}

fn original_mandate() -> impl Strategy<Value = OriginalMandateId> {
    text().prop_map(OriginalMandateId)
}

pub fn mandate_initiation() -> impl Strategy<Value = MandateInitiation> {
    (report_header(), one_or_more(mandate()))
        .prop_map(|(header, mandates)| MandateInitiation { header, mandates })
}

pub fn mandate_amendment() -> impl Strategy<Value = MandateAmendment> {
    let details = (
        of(original_message()),
        mandate_reason(),
        mandate(),
        original_mandate(),
    )
        .prop_map(|(original_message, reason, mandate, original_mandate)| {
            MandateAmendmentDetails {
                original_message,
                reason,
                mandate,
                original_mandate,
            }
        });
    (report_header(), one_or_more(details))
        .prop_map(|(header, amendments)| MandateAmendment { header, amendments })
}

pub fn mandate_cancellation() -> impl Strategy<Value = MandateCancellation> {
    let details = (of(original_message()), mandate_reason(), original_mandate()).prop_map(
        |(original_message, reason, original_mandate)| MandateCancellationDetails {
            original_message,
            reason,
            original_mandate,
        },
    );
    (report_header(), one_or_more(details)).prop_map(|(header, cancellations)| {
        MandateCancellation {
            header,
            cancellations,
        }
    })
}

pub fn mandate_acceptance() -> impl Strategy<Value = MandateAcceptance> {
    let result = (any::<bool>(), of(code_or_proprietary()), vec(text(), 0..3)).prop_map(
        |(accepted, reject_reason, additional_info)| AcceptanceResult {
            accepted,
            reject_reason,
            additional_info,
        },
    );
    let details = (of(original_message()), result, original_mandate()).prop_map(
        |(original_message, result, original_mandate)| MandateAcceptanceDetails {
            original_message,
            result,
            original_mandate,
        },
    );
    (report_header(), one_or_more(details))
        .prop_map(|(header, reports)| MandateAcceptance { header, reports })
}

fn statement_header() -> impl Strategy<Value = StatementHeader> {
    (text(), iso_date_time()).prop_map(|(message_id, created)| StatementHeader {
        message_id,
        created,
    })
}

fn date_or_date_time() -> impl Strategy<Value = DateOrDateTime> {
    prop_oneof![
        iso_date().prop_map(DateOrDateTime::Date),
        iso_date_time().prop_map(DateOrDateTime::DateTime)
    ]
}

fn credit_debit() -> impl Strategy<Value = CreditDebit> {
    prop::sample::select(CreditDebit::ALL.to_vec())
}

fn balance() -> impl Strategy<Value = Balance> {
    (
        code_or_proprietary(),
        amount(),
        credit_debit(),
        date_or_date_time(),
    )
        .prop_map(|(kind, amount, credit_debit, date)| Balance {
            kind,
            amount,
            credit_debit,
            date,
        })
}

fn references() -> impl Strategy<Value = References> {
    (
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
        of(text()),
    )
        .prop_map(
            |(
                message_id,
                account_servicer_reference,
                instruction_id,
                end_to_end_id,
                transaction_id,
                mandate_id,
                clearing_reference,
            )| References {
                message_id,
                account_servicer_reference,
                instruction_id,
                end_to_end_id,
                transaction_id,
                mandate_id,
                clearing_reference,
            },
        )
}

fn transaction_details() -> impl Strategy<Value = TransactionDetails> {
    (
        of(references()),
        of(amount()),
        of(credit_debit()),
        of(remittance()),
        of(text()),
    )
        .prop_map(
            |(references, amount, credit_debit, remittance, additional_info)| TransactionDetails {
                references,
                amount,
                credit_debit,
                remittance,
                additional_info,
            },
        )
}

fn entry() -> impl Strategy<Value = Entry> {
    let code =
        (text(), text(), text()).prop_map(|(domain, family, sub_family)| BankTransactionCode {
            domain,
            family,
            sub_family,
        });
    let head = (
        of(text()),
        amount(),
        credit_debit(),
        code_or_proprietary(),
        of(date_or_date_time()),
    );
    let tail = (
        of(date_or_date_time()),
        of(text()),
        code,
        vec(transaction_details(), 0..3),
        of(text()),
    );
    (head, tail).prop_map(
        |(
            (reference, amount, credit_debit, status, booking_date),
            (
                value_date,
                account_servicer_reference,
                bank_transaction_code,
                details,
                additional_info,
            ),
        )| Entry {
            reference,
            amount,
            credit_debit,
            status,
            booking_date,
            value_date,
            account_servicer_reference,
            bank_transaction_code,
            details,
            additional_info,
        },
    )
}

fn period() -> impl Strategy<Value = Period> {
    (iso_date_time(), iso_date_time()).prop_map(|(from, to)| Period { from, to })
}

fn sequence_number() -> impl Strategy<Value = u64> {
    0..=999_999_999_999_999_999_u64
}

pub fn statement() -> impl Strategy<Value = Statement> {
    let head = (
        text(),
        of(sequence_number()),
        of(iso_date_time()),
        of(period()),
        account(),
    );
    let body = (one_or_more(balance()), vec(entry(), 0..3), of(text()));
    let stmt = (head, body).prop_map(
        |(
            (id, electronic_sequence, created, period, account),
            (balances, entries, additional_info),
        )| {
            AccountStatement {
                id,
                electronic_sequence,
                created,
                period,
                account,
                balances,
                entries,
                additional_info,
            }
        },
    );
    (statement_header(), one_or_more(stmt))
        .prop_map(|(header, statements)| Statement { header, statements })
}

pub fn notification() -> impl Strategy<Value = Notification> {
    let head = (
        text(),
        of(sequence_number()),
        of(iso_date_time()),
        of(period()),
        account(),
    );
    let ntfctn = (head, vec(entry(), 0..3), of(text())).prop_map(
        |((id, electronic_sequence, created, period, account), entries, additional_info)| {
            AccountNotification {
                id,
                electronic_sequence,
                created,
                period,
                account,
                entries,
                additional_info,
            }
        },
    );
    (statement_header(), one_or_more(ntfctn)).prop_map(|(header, notifications)| Notification {
        header,
        notifications,
    })
}

/// Any message.
pub fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        credit_transfer().prop_map(Message::CreditTransfer),
        status_report().prop_map(Message::StatusReport),
        payment_return().prop_map(Message::PaymentReturn),
        direct_debit().prop_map(Message::DirectDebit),
        mandate_initiation().prop_map(Message::MandateInitiation),
        mandate_amendment().prop_map(Message::MandateAmendment),
        mandate_cancellation().prop_map(Message::MandateCancellation),
        mandate_acceptance().prop_map(Message::MandateAcceptance),
        statement().prop_map(Message::Statement),
        notification().prop_map(Message::Notification),
    ]
}
