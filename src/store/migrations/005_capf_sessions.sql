-- CAPF enrollment state beyond what administrators set. Wrong authentication strings are
-- counted against the string they were given for (by its SHA-256), so a newly set or
-- generated string starts with a clean count without anyone having to reset it.
CREATE TABLE capf_attempt (
	kind TEXT NOT NULL,
	name TEXT NOT NULL COLLATE NOCASE,
	string_digest TEXT NOT NULL,
	wrong_strings INTEGER NOT NULL,
	PRIMARY KEY (kind, name)
);

-- The kind of key a device or application instance is asked to generate: RSA of
-- capf_key_size bits, or ECDSA on P-256 or P-384 where the device supports it.
ALTER TABLE device ADD COLUMN capf_key_type TEXT NOT NULL DEFAULT 'rsa';
ALTER TABLE capf_profile ADD COLUMN capf_key_type TEXT NOT NULL DEFAULT 'rsa';
