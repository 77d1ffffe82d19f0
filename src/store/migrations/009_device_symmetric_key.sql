-- The manual symmetric key of legacy phones (7940G/7960G SIP: 128-bit, 7905G/7912G SIP:
-- 256-bit) that encrypts their configuration file. Sealed with the store key like digest
-- credentials: provisioning needs the key itself. Immutable once set (requirements E26).
ALTER TABLE device ADD COLUMN symmetric_key_secret TEXT;

INSERT INTO service_parameter(name, service, value, default_value, description) VALUES
	('legacy_rc4_config_encryption', 'Cisco TFTP', 'false', 'false',
		'Serve RC4-encrypted configuration files to 7905G/7912G phones (manual symmetric key). RC4 is broken (RFC 7465): leave false unless such phones must get secrets');
