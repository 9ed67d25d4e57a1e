-- 智方便 residents. The HKID is never stored in clear: `hkid_lookup` is a keyed hash (HMAC with
-- a key derived from the master key) for finding a resident by HKID, and `hkid_sealed` is the
-- number encrypted (XChaCha20-Poly1305, bound to the resident id) for release with consent.
CREATE TABLE identity_residents (
    id TEXT PRIMARY KEY NOT NULL,
    hkid_lookup BLOB NOT NULL UNIQUE CHECK (length(hkid_lookup) = 32),
    hkid_sealed BLOB NOT NULL,
    english_name TEXT NOT NULL,
    chinese_name TEXT,
    date_of_birth TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('F', 'M')),
    mobile TEXT,
    email TEXT,
    residential_address TEXT NOT NULL CHECK (json_valid(residential_address)),
    postal_address TEXT CHECK (postal_address IS NULL OR json_valid(postal_address)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
