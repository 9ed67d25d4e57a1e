-- Corporate login (the `corpid` scope): the business a resident chose to act for is kept on
-- the grant, so every token issued from it can re-check with the business directory that the
-- resident still represents it, and on the consent receipt with the BRN and role shown to the
-- resident (never an HKID). The directory's own tables are another crate's.
ALTER TABLE identity_grants ADD COLUMN corp_business_id TEXT;
ALTER TABLE identity_grants ADD COLUMN corp_brn TEXT;
ALTER TABLE identity_consents ADD COLUMN corp_business_id TEXT;
ALTER TABLE identity_consents ADD COLUMN corp_brn TEXT;
ALTER TABLE identity_consents ADD COLUMN corp_role TEXT;
