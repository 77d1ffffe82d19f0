-- Certificates the system CA issued to devices and to application/end-user instances (LSCs),
-- by CAPF or EST. Rows are never deleted with their owner: a revoked certificate must stay on
-- the CRL until it expires, whatever happened to the device.
CREATE TABLE issued_certificate (
	id INTEGER PRIMARY KEY,
	serial TEXT NOT NULL UNIQUE COLLATE NOCASE,
	owner_type TEXT NOT NULL,
	owner TEXT NOT NULL COLLATE NOCASE,
	instance_id TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
	subject TEXT NOT NULL,
	key_type TEXT NOT NULL,
	key_bits INTEGER NOT NULL,
	not_before INTEGER NOT NULL,
	not_after INTEGER NOT NULL,
	sha256_fingerprint TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'valid',
	revoked_at INTEGER,
	revocation_reason TEXT,
	issued_at INTEGER NOT NULL,
	issued_by TEXT NOT NULL,
	pem TEXT NOT NULL
);
CREATE INDEX issued_certificate_owner ON issued_certificate(owner_type, owner, instance_id);
CREATE INDEX issued_certificate_status ON issued_certificate(status);

-- RSA keys below 2048 bits are refused unless this legacy switch is on (and 512 always).
INSERT INTO service_parameter(name, service, value, default_value, description) VALUES
	('allow_weak_rsa', 'Cisco Certificate Authority Proxy Function', 'false', 'false',
		'Accept 1024-bit RSA keys from phones that cannot make larger ones (legacy mode)'),
	('certificate_overlap_days', 'Cisco Certificate Authority Proxy Function', '7', '7',
		'Days a renewed role certificate stays trusted next to its successor');
