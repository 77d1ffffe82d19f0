-- Integrity-only TLS (TLS_RSA_WITH_NULL_SHA) for devices in the Authenticated security mode
-- whose phones offer nothing else (softphones-and-cti-security requirement 42). Off by
-- default: it needs OpenSSL's security level 0 on the connections it lowers.
INSERT INTO service_parameter(name, service, value, default_value, description) VALUES
	('sip_tls_null_sha', 'Cisco CallManager', 'false', 'false',
		'Lets devices in Authenticated mode whose TLS offers no encrypting suite ucmd accepts use TLS_RSA_WITH_NULL_SHA (integrity, no encryption); other TLS clients are unaffected');
