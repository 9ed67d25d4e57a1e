-- A consent's providers by consent: the webhooks' recipients of a consent's change and the
-- consent's own provider list are read by consent, which the primary key (provider, consent)
-- cannot serve without scanning every row.
CREATE INDEX exchange_consent_providers_by_consent ON exchange_consent_providers (consent);
