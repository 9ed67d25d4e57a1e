//! The one table of stable error codes. Every error a client can see maps to exactly one row:
//! a machine code that never changes meaning, the HTTP status it travels with, and a one-line
//! title. Services add rows here rather than inventing codes in handlers.

use axum::http::StatusCode;

macro_rules! error_codes {
    ($( $variant:ident => ($code:literal, $status:ident, $title:literal), )*) => {
        /// A stable, documented error code. The string form (`ErrorCode::code`) is public API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            /// Every code, in table order (used by the documentation page and tests).
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The machine-readable code, e.g. `funding.profile_invalid`.
            pub const fn code(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status this error travels with.
            pub const fn status(self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::$status, )* }
            }

            /// A one-line, human-readable meaning (English; the problem `title`).
            pub const fn title(self) -> &'static str {
                match self { $( ErrorCode::$variant => $title, )* }
            }
        }
    };
}

error_codes! {
    MalformedJson => ("request.malformed_json", BAD_REQUEST, "The request body is not well-formed JSON."),
    UnsupportedMediaType => ("request.unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The request body must be sent as application/json."),
    BodyTooLarge => ("request.body_too_large", PAYLOAD_TOO_LARGE, "The request body is larger than this endpoint accepts."),
    UnknownField => ("request.unknown_field", UNPROCESSABLE_ENTITY, "The request has a field this endpoint does not know."),
    InvalidField => ("request.invalid_field", UNPROCESSABLE_ENTITY, "A field of the request has an invalid value or type."),
    InvalidQuery => ("request.invalid_query", BAD_REQUEST, "The query string has an invalid parameter."),
    NotFound => ("request.not_found", NOT_FOUND, "No resource exists at this address."),
    MethodNotAllowed => ("request.method_not_allowed", METHOD_NOT_ALLOWED, "This method is not allowed on this resource."),
    Timeout => ("request.timeout", REQUEST_TIMEOUT, "The request took too long and was abandoned."),
    RateLimited => ("request.rate_limited", TOO_MANY_REQUESTS, "Too many requests from this address; retry after the time given in Retry-After."),
    Internal => ("internal", INTERNAL_SERVER_ERROR, "An unexpected error occurred; it has been logged."),
    StoreUnavailable => ("store.unavailable", SERVICE_UNAVAILABLE, "The database is not available right now."),
    CorpidInvalid => ("corpid.invalid", UNPROCESSABLE_ENTITY, "The CorpID request is invalid; `errors` names each field at fault. Nothing changed."),
    CorpidBusinessNotFound => ("corpid.business_not_found", NOT_FOUND, "No business with this BRN is visible to the caller (unknown, or the caller does not represent it, or it is not active)."),
    CorpidBusinessExists => ("corpid.business_exists", CONFLICT, "A business with this Business Registration number is already registered; nothing changed."),
    CorpidBusinessState => ("corpid.business_state", CONFLICT, "The business's status does not allow this change (suspend an active business, reactivate a suspended one, dissolve either; a dissolved business is final)."),
    CorpidNotAdministrator => ("corpid.not_administrator", FORBIDDEN, "Only an administrator of the business may change its representatives, delegations, licences or signing policy; nothing changed."),
    CorpidRoleExists => ("corpid.role_exists", CONFLICT, "The resident already holds a role for this business (one role per resident); change that role instead."),
    CorpidRepresentativeNotFound => ("corpid.representative_not_found", NOT_FOUND, "The resident does not represent this business."),
    CorpidLastAdministrator => ("corpid.last_administrator", CONFLICT, "The business's last administrator cannot be revoked or given another role; appoint another administrator first."),
    CorpidResidentNotFound => ("corpid.resident_not_found", NOT_FOUND, "No 智方便 resident is registered with this HKID."),
    CorpidDelegationNotFound => ("corpid.delegation_not_found", NOT_FOUND, "No delegation with this id concerns the business."),
    CorpidDelegationExists => ("corpid.delegation_exists", CONFLICT, "The agent already holds a delegation from this business that has not ended; revoke it first."),
    CorpidDelegationState => ("corpid.delegation_state", CONFLICT, "The delegation is already revoked or has ended; nothing changed."),
    CorpidLicenceNotFound => ("corpid.licence_not_found", NOT_FOUND, "The business keeps no licence with this id."),
    CorpidLicenceExists => ("corpid.licence_exists", CONFLICT, "The business already keeps a licence with this issuer and number."),
    CorpidLicenceLimit => ("corpid.licence_limit", CONFLICT, "The business keeps the most licences allowed (200); remove one first."),
    CorpidSigningRequestInvalid => ("corpid.signing_request_invalid", UNPROCESSABLE_ENTITY, "The company signing request is invalid (BRN, type personal/corporate/integrated, document name, SHA-256 hash); `errors` names each field. Nothing changed."),
    CorpidSigningRequestNotFound => ("corpid.signing_request_not_found", NOT_FOUND, "No company signing request with this id is open to you."),
    CorpidSigningRequestNotPending => ("corpid.signing_request_not_pending", CONFLICT, "The company signing request has already been signed, rejected or cancelled."),
    CorpidSigningRequestExpired => ("corpid.signing_request_expired", CONFLICT, "The company signing request expired before enough signatories approved."),
    CorpidSigningRoleInsufficient => ("corpid.signing_role_insufficient", FORBIDDEN, "Only the business's administrators and authorised signatories approve its signatures; a user may not. Refused and audited."),
    CorpidSigningNotRepresentative => ("corpid.signing_not_representative", FORBIDDEN, "You do not represent the business this request is for (never, or no longer). Refused and audited."),
    CorpidSigningDelegationEnded => ("corpid.signing_delegation_ended", FORBIDDEN, "You acted for this business only through a delegation that has ended or was revoked. Refused and audited."),
    CorpidSigningAlreadyApproved => ("corpid.signing_already_approved", CONFLICT, "You have already approved this request; a second approval must come from another signatory. Refused and audited."),
    CorpidSigningBusinessInactive => ("corpid.signing_business_inactive", CONFLICT, "The business is suspended or dissolved: it signs nothing, and its company certificate is revoked."),
    CorpidSignatureMalformed => ("corpid.signature_malformed", UNPROCESSABLE_ENTITY, "The signature is not a Bauhinia company signature (JWS JSON general serialization, ES256, x5c)."),
    ExchangeParticipantInvalid => ("exchange.participant_invalid", UNPROCESSABLE_ENTITY, "The participant's registration details are invalid."),
    ExchangeParticipantExists => ("exchange.participant_exists", CONFLICT, "A participant with this id is already registered."),
    ExchangeParticipantNotFound => ("exchange.participant_not_found", NOT_FOUND, "No participant of the data exchange has this id."),
    ExchangeParticipantSuspended => ("exchange.participant_suspended", FORBIDDEN, "The participant is suspended from the data exchange."),
    ExchangeParticipantRole => ("exchange.participant_role", FORBIDDEN, "The participant is not registered for this role (data provider or data consumer)."),
    ExchangeParticipantKeyUnknown => ("exchange.participant_key_unknown", UNAUTHORIZED, "The participant has no current signing key with this key id."),
    ExchangeProductNotFound => ("exchange.product_not_found", NOT_FOUND, "No data product has this id."),
    ExchangeSandboxInvalid => ("exchange.sandbox_invalid", UNPROCESSABLE_ENTITY, "The sandbox request is invalid (product, provider or date range)."),
    ExchangeFetchInvalid => ("exchange.fetch_invalid", UNPROCESSABLE_ENTITY, "The data request is invalid (provider, products, dates or key material); `errors` names each member at fault."),
    ExchangeRateLimited => ("exchange.rate_limited", TOO_MANY_REQUESTS, "A rate limit of the gateway is reached (`reason`: participant, consent or address); retry after the time given in Retry-After."),
    ExchangeProviderUnavailable => ("exchange.provider_unavailable", BAD_GATEWAY, "The data provider could not be reached or did not answer; the use was recorded, retry later."),
    ExchangeConsentArtefactInvalid => ("exchange.consent_artefact_invalid", FORBIDDEN, "The consent's signed artefact does not verify or no longer matches its terms; no data moves under it (the operator has been alerted through the audit)."),
    FundingSchemeNotFound => ("funding.scheme_not_found", NOT_FOUND, "No funding scheme has this id."),
    FundingProfileInvalid => ("funding.profile_invalid", UNPROCESSABLE_ENTITY, "The applicant profile is invalid."),
    ExchangeConsentInvalid => ("exchange.consent_invalid", UNPROCESSABLE_ENTITY, "The consent request is invalid; `errors` names each field at fault."),
    ExchangeConsentNotFound => ("exchange.consent_not_found", NOT_FOUND, "No consent has this id."),
    ExchangeConsentPending => ("exchange.consent_pending", FORBIDDEN, "The consent has not been approved by its owner yet."),
    ExchangeConsentPaused => ("exchange.consent_paused", FORBIDDEN, "The consent is paused by its owner; no data may be fetched under it until it is resumed."),
    ExchangeConsentRevoked => ("exchange.consent_revoked", FORBIDDEN, "The consent was revoked by its owner."),
    ExchangeConsentExpired => ("exchange.consent_expired", FORBIDDEN, "The consent has expired."),
    ExchangeConsentRejected => ("exchange.consent_rejected", FORBIDDEN, "The consent was rejected by its owner."),
    ExchangeConsentNotYetValid => ("exchange.consent_not_yet_valid", FORBIDDEN, "The consent's validity period has not started yet."),
    ExchangeConsentWrongConsumer => ("exchange.consent_wrong_consumer", FORBIDDEN, "The consent was given to another data consumer."),
    ExchangeConsentProduct => ("exchange.consent_product", FORBIDDEN, "A data product requested is not covered by the consent."),
    ExchangeConsentProvider => ("exchange.consent_provider", FORBIDDEN, "The data provider asked is not named by the consent."),
    ExchangeConsentDateRange => ("exchange.consent_date_range", FORBIDDEN, "The dates requested fall outside the consent's date range."),
    ExchangeConsentFrequency => ("exchange.consent_frequency", TOO_MANY_REQUESTS, "The consent's frequency limit is reached; retry after the time given in Retry-After."),
    ExchangeConsentNotOwner => ("exchange.consent_not_owner", FORBIDDEN, "Only the consent's owner (or the company's named representative) may do this."),
    ExchangeConsentState => ("exchange.consent_state", CONFLICT, "The consent's current status does not allow this change."),
    ExchangePortalLoginFailed => ("exchange.portal_login_failed", BAD_REQUEST, "Signing in to the portal failed (the login's state, the code or the ID token was refused); start again."),
    ExchangePortalCsrf => ("exchange.portal_csrf", FORBIDDEN, "The form was not sent from the portal's own page (its origin or anti-forgery token does not match); reload the page and try again."),
    IdentityResidentInvalid => ("identity.resident_invalid", UNPROCESSABLE_ENTITY, "The resident's registration details are invalid."),
    IdentityResidentExists => ("identity.resident_exists", CONFLICT, "A resident with this HKID is already registered."),
    IdentityResidentNotFound => ("identity.resident_not_found", NOT_FOUND, "No resident has this id."),
    IdentityServiceInvalid => ("identity.service_invalid", UNPROCESSABLE_ENTITY, "The service registration is invalid."),
    IdentityServiceNotFound => ("identity.service_not_found", NOT_FOUND, "No service has this client id."),
    AdminUnauthorized => ("admin.unauthorized", UNAUTHORIZED, "This administrative endpoint needs a valid administrator token (Authorization: Bearer)."),
    IdentityFieldInvalid => ("identity.field_invalid", UNPROCESSABLE_ENTITY, "A field of the request is not valid; `errors` names it."),
    IdentityEnrolmentInvalid => ("identity.enrolment_invalid", FORBIDDEN, "The HKID and enrolment code do not match an unused, unexpired enrolment code."),
    IdentityPasskeyInvalid => ("identity.passkey_invalid", FORBIDDEN, "The passkey's answer could not be verified."),
    IdentityCeremonyExpired => ("identity.ceremony_expired", GONE, "The passkey ceremony is unknown, already finished or expired; start again."),
    IdentityLocked => ("identity.locked", TOO_MANY_REQUESTS, "Too many failed attempts: this is locked for a while; retry after the time given in Retry-After."),
    FpsParticipantNotFound => ("fps.participant_not_found", NOT_FOUND, "No FPS participant has this code."),
    FpsParticipantExists => ("fps.participant_exists", CONFLICT, "An FPS participant with this code is already registered."),
    FpsParticipantInvalid => ("fps.participant_invalid", UNPROCESSABLE_ENTITY, "The participant registration is invalid; `errors` names the fields."),
    FpsUnauthorized => ("fps.unauthorized", UNAUTHORIZED, "This endpoint needs a participant's API token or the administrator token (Authorization: Bearer)."),
    FpsForbidden => ("fps.forbidden", FORBIDDEN, "This participant may not make this request (a participant debits only its own settlement account)."),
    FpsTransferInvalid => ("fps.transfer_invalid", UNPROCESSABLE_ENTITY, "The transfer request is invalid; `errors` names the fields. Nothing was recorded."),
    FpsTransferRefused => ("fps.transfer_refused", UNPROCESSABLE_ENTITY, "The ledger refused the transfer; `reason` says why. The id now stands for this refusal."),
    FpsTransferIdConflict => ("fps.transfer_id_conflict", CONFLICT, "This transfer id was already used for a different request; nothing changed."),
    FpsTransferNotFound => ("fps.transfer_not_found", NOT_FOUND, "No transfer has this id."),
    FpsIso20022Invalid => ("fps.iso20022_invalid", BAD_REQUEST, "The ISO 20022 document is not valid; `reason` is the kind of fault and `detail` names the element by path. Nothing was recorded."),
    FpsStatementTooLarge => ("fps.statement_too_large", UNPROCESSABLE_ENTITY, "The day has more movements than one statement carries (100,000); read them with the transfers API."),
    FpsLedgerUnavailable => ("fps.ledger_unavailable", SERVICE_UNAVAILABLE, "The ledger could not commit; nothing of the request happened. Retry with the same ids."),
    FpsWebhookInvalid => ("fps.webhook_invalid", UNPROCESSABLE_ENTITY, "The webhook subscription is invalid (an address that is not https, or http to a loopback host; an unknown event type or format); `errors` names the fields."),
    FpsWebhookNotFound => ("fps.webhook_not_found", NOT_FOUND, "This participant has no webhook subscription with this id."),
    FpsWebhookLimit => ("fps.webhook_limit", CONFLICT, "This participant already has the most webhook subscriptions allowed (10); delete one first."),
    FpsWebhookDeliveryNotFound => ("fps.webhook_delivery_not_found", NOT_FOUND, "This webhook subscription has no delivery with this id."),
    IdentityUnauthenticated => ("identity.unauthenticated", UNAUTHORIZED, "Sign in with a passkey first."),
    IdentityLastPasskey => ("identity.last_passkey", CONFLICT, "This is the resident's only passkey: add another before removing it."),
    IdentityPasskeyNotFound => ("identity.passkey_not_found", NOT_FOUND, "The signed-in resident has no passkey with this id."),
    IdentityPasskeyExists => ("identity.passkey_exists", CONFLICT, "This passkey is already registered."),
    IdentityTooManyPasskeys => ("identity.too_many_passkeys", CONFLICT, "The resident holds as many passkeys as allowed: remove one first."),
    IdentityCrossOrigin => ("identity.cross_origin", FORBIDDEN, "The request was sent from another site's page; sign-in state changes only from this site."),
    IdentityBusy => ("identity.busy", SERVICE_UNAVAILABLE, "Too many sign-ins are in progress; retry in a minute."),
    SigningRequestInvalid => ("signing.request_invalid", UNPROCESSABLE_ENTITY, "The signing request is invalid: a document name and a SHA-256 document hash are needed."),
    SigningRequestNotFound => ("signing.request_not_found", NOT_FOUND, "No signing request with this id is open to you."),
    SigningRequestNotPending => ("signing.request_not_pending", CONFLICT, "The signing request has already been approved, rejected or cancelled."),
    SigningRequestExpired => ("signing.request_expired", CONFLICT, "The signing request expired before the resident decided."),
    SigningNotEnrolled => ("signing.not_enrolled", CONFLICT, "The resident has no valid signing certificate; enrol a signing key first."),
    SigningSignatureMalformed => ("signing.signature_malformed", UNPROCESSABLE_ENTITY, "The signature is not a Bauhinia document signature (compact JWS, ES256, with x5c)."),
    BankInvalid => ("bank.invalid", UNPROCESSABLE_ENTITY, "The banking request is invalid; `errors` names the fields. Nothing changed."),
    BankAccountNotFound => ("bank.account_not_found", NOT_FOUND, "No open account has this number (or it is not the caller's)."),
    BankPayeeNotFound => ("bank.payee_not_found", NOT_FOUND, "No FPS proxy or open account answers to this payee."),
    BankNotHosted => ("bank.not_hosted", CONFLICT, "This participant's books are not kept by this installation."),
    BankPaymentIdConflict => ("bank.payment_id_conflict", CONFLICT, "This payment id was used for a different payment; nothing changed."),
    BankRequestNotFound => ("bank.request_not_found", NOT_FOUND, "No request to pay with this id was made by or addressed to the caller."),
    BankRequestState => ("bank.request_state", CONFLICT, "The request to pay is no longer pending (paid, declined, cancelled or expired); nothing changed."),
    BankMandateNotFound => ("bank.mandate_not_found", NOT_FOUND, "No mandate with this id is on the caller's accounts (or known to the hosted banks)."),
    BankMandateState => ("bank.mandate_state", CONFLICT, "The mandate's status does not allow this (only an active mandate is collected under; see `detail`); nothing changed."),
    ExchangeSignatureMissing => ("exchange.signature_missing", UNAUTHORIZED, "The request has no detached JWS signature (header `x-jws-signature`); every request between participants and the gateway is signed."),
    ExchangeSignatureMalformed => ("exchange.signature_malformed", UNAUTHORIZED, "The detached JWS is malformed (not `header..signature`, a header member missing, unknown or mistyped, or a `crit` extension)."),
    ExchangeSignatureAlgorithm => ("exchange.signature_algorithm", UNAUTHORIZED, "The detached JWS uses an algorithm other than ES256 (`none` and HMAC are never accepted)."),
    ExchangeSignatureUnknownKey => ("exchange.signature_unknown_key", UNAUTHORIZED, "The detached JWS names a key (`kid`) that is not registered for an active participant."),
    ExchangeSignatureInvalid => ("exchange.signature_invalid", UNAUTHORIZED, "The detached JWS does not verify: the body, the header or the signature was altered, or another key signed it."),
    ExchangeSignatureBinding => ("exchange.signature_binding", UNAUTHORIZED, "The detached JWS was made for another request (its HTTP method, path or answered request id differ)."),
    ExchangeRequestStale => ("exchange.request_stale", UNAUTHORIZED, "The signature's `iat` is more than 5 minutes from the gateway's clock; sign the request again."),
    ExchangeRequestReplayed => ("exchange.request_replayed", CONFLICT, "This key already signed a request with this `jti` within the last 5 minutes; a replay is refused."),
    ExchangeEnvelopeMalformed => ("exchange.envelope_malformed", UNPROCESSABLE_ENTITY, "The key material or encrypted envelope is malformed; `detail` names the member (see docs/exchange-encryption.md)."),
    ExchangeDecryptionFailed => ("exchange.decryption_failed", UNPROCESSABLE_ENTITY, "The envelope does not decrypt with this key, nonce and associated data (wrong key, or altered ciphertext, nonce or consent binding)."),
    ExchangeWebhookUrlInvalid => ("exchange.webhook_url_invalid", UNPROCESSABLE_ENTITY, "The webhook endpoint is not an https URL (http only to localhost or a loopback address), carries credentials or a fragment, or is longer than 2048 bytes."),
    ExchangeWebhookNoEndpoint => ("exchange.webhook_no_endpoint", CONFLICT, "The participant has no webhook endpoint: set one before replaying its dead letters."),
    ExchangeWebhookDeadLetterNotFound => ("exchange.webhook_dead_letter_not_found", NOT_FOUND, "No dead letter (a delivery whose every attempt failed) has this id."),
    ExchangeAdminInvalid => ("exchange.admin_invalid", UNPROCESSABLE_ENTITY, "The operator's request is invalid; `errors` names the fields. Nothing changed."),
    FpsQrInvalid => ("fps.qr_invalid", UNPROCESSABLE_ENTITY, "The payload is not a valid Hong Kong common QR code for FPS; `reason`, `field` and `position` say what is wrong and where."),
    FpsQrRequestInvalid => ("fps.qr_request_invalid", UNPROCESSABLE_ENTITY, "The QR code's fields are invalid; `errors` names each."),
    FpsProxyInvalid => ("fps.proxy_invalid", UNPROCESSABLE_ENTITY, "The proxy request is invalid (a malformed mobile number, email address, FPS ID or HKID, account reference, name or consent); `errors` names the fields."),
    FpsProxyNotFound => ("fps.proxy_not_found", NOT_FOUND, "No active default registration has this proxy (or, for a change, this participant has no registration of it)."),
    FpsProxyExists => ("fps.proxy_exists", CONFLICT, "This participant has already registered this proxy; change it instead."),
    FpsProxyForbidden => ("fps.proxy_forbidden", FORBIDDEN, "This caller may not make this proxy request (HKID lookups are for payroll in bulk only; the operator neither registers nor looks up proxies)."),
    FpsRequestNotFound => ("fps.request_not_found", NOT_FOUND, "No request to pay with this id concerns this participant."),
    FpsRequestInvalid => ("fps.request_invalid", UNPROCESSABLE_ENTITY, "The request to pay is invalid; `errors` names the fields. Nothing was recorded."),
    FpsRequestState => ("fps.request_state", CONFLICT, "The request to pay is no longer pending (paid, declined, cancelled or expired), or is being paid with another transfer."),
    FpsRequestConflict => ("fps.request_conflict", CONFLICT, "This id was already used for a different request to pay, mandate, debit, return or refund; nothing changed."),
    FpsFlowForbidden => ("fps.flow_forbidden", FORBIDDEN, "This participant may not act on this request, mandate, debit or transfer in this way (or the caller is the operator)."),
    FpsMandateNotFound => ("fps.mandate_not_found", NOT_FOUND, "No eDDA mandate with this id concerns this participant."),
    FpsMandateInvalid => ("fps.mandate_invalid", UNPROCESSABLE_ENTITY, "The mandate is invalid; `errors` names the fields. Nothing was recorded."),
    FpsMandateState => ("fps.mandate_state", CONFLICT, "The mandate's status does not allow this (e.g. confirming an active mandate, debiting a suspended one)."),
    FpsMandateLimitExceeded => ("fps.mandate_limit_exceeded", UNPROCESSABLE_ENTITY, "The debit exceeds the mandate's per-debit or per-period limit; nothing was collected."),
    FpsDebitInvalid => ("fps.debit_invalid", UNPROCESSABLE_ENTITY, "The direct debit is invalid (amount, currency, reference, collection date outside the mandate); `errors` names the fields."),
    FpsReturnInvalid => ("fps.return_invalid", UNPROCESSABLE_ENTITY, "The return or refund is invalid (the original is not a settled transfer to this participant, or a field is wrong); `errors` names the fields."),
    FpsReturnExceedsOriginal => ("fps.return_exceeds_original", UNPROCESSABLE_ENTITY, "The amount exceeds what remains of the original transfer after its earlier returns and refunds."),
    OpendataDatastoreNotFound => ("opendata.datastore_not_found", NOT_FOUND, "No resource with this id has rows in the datastore (only CSV and JSON resources are ingested)."),
    OpendataDatastoreForbidden => ("opendata.datastore_forbidden", FORBIDDEN, "The resource's dataset is private or deleted; its rows are not published."),
    OpendataDumpFormat => ("opendata.dump_format", BAD_REQUEST, "A datastore dump is written as csv or json; `format` is neither."),
    OpendataCatalogPage => ("opendata.catalog_page", BAD_REQUEST, "The DCAT catalogue's `page` is a whole number from 1."),
    OpendataArchiveParameterInvalid => ("opendata.archive_parameter_invalid", BAD_REQUEST, "A parameter of the historical archive API is missing or invalid (dates are YYYYMMDD, times YYYYMMDD-HHMM, Hong Kong time); `errors` names it."),
    OpendataArchiveFileNotFound => ("opendata.archive_file_not_found", NOT_FOUND, "The archive has no version of that file at or before that time."),
    OpendataTokenInvalid => ("opendata.token_invalid", UNPROCESSABLE_ENTITY, "The API token request is invalid (publisher, name, organisations); `errors` names the fields. No token was issued."),
    OpendataTokenNotFound => ("opendata.token_not_found", NOT_FOUND, "No open data API token has that id."),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Lets tests and callers compare with the public string form.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_namespaced() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate code {}", code.code());
            assert!(
                code.code() == "internal" || code.code().contains('.'),
                "{}",
                code.code()
            );
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }
}
