-- Which digest algorithms phones are challenged with, most preferred first. Clients that
-- take the first challenge whatever its algorithm (many MD5-only phones do) need MD5 first.
INSERT INTO service_parameter(name, service, value, default_value, description) VALUES
	('sip_digest_algorithms', 'Cisco CallManager', 'SHA-256,MD5', 'SHA-256,MD5',
		'Digest algorithms offered to phones, most preferred first; others are refused');
