-- The configuration plane: users, groups, devices, lines, profiles, parameters, audit log.
-- Keys are case-insensitive (NOCASE): a device name becomes a file name, a user ID a login.

CREATE TABLE user_group (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	builtin INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE end_user (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	email TEXT NOT NULL DEFAULT '',
	primary_extension TEXT COLLATE NOCASE,
	password_secret TEXT,
	pin_secret TEXT,
	digest_credentials_secret TEXT,
	digest_ha1_md5 TEXT,
	digest_ha1_sha256 TEXT
);

CREATE TABLE app_user (
	id INTEGER PRIMARY KEY,
	user_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	password_secret TEXT,
	digest_credentials_secret TEXT,
	digest_ha1_md5 TEXT,
	digest_ha1_sha256 TEXT,
	accept_presence_subscription INTEGER NOT NULL DEFAULT 0,
	accept_out_of_dialog_refer INTEGER NOT NULL DEFAULT 0,
	accept_unsolicited_notification INTEGER NOT NULL DEFAULT 0,
	accept_replaces_header INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE directory_number (
	id INTEGER PRIMARY KEY,
	number TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	alerting_name TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sip_profile (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	builtin INTEGER NOT NULL DEFAULT 0,
	timer_register_delta INTEGER NOT NULL,
	timer_register_expires INTEGER NOT NULL,
	timer_keep_alive_expires INTEGER NOT NULL,
	timer_subscribe_expires INTEGER NOT NULL,
	timer_subscribe_delta INTEGER NOT NULL
);

CREATE TABLE phone_security_profile (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	builtin INTEGER NOT NULL DEFAULT 0,
	device_type TEXT NOT NULL,
	device_security_mode TEXT NOT NULL,
	transport TEXT NOT NULL,
	tftp_encrypted_config INTEGER NOT NULL,
	enable_digest_authentication INTEGER NOT NULL,
	exclude_digest_credentials INTEGER NOT NULL,
	nonce_validity_time INTEGER NOT NULL,
	capf_authentication_mode TEXT NOT NULL,
	key_size INTEGER NOT NULL,
	sip_phone_port INTEGER NOT NULL
);

CREATE TABLE device (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	type TEXT NOT NULL,
	model TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	owner_user_id TEXT COLLATE NOCASE REFERENCES end_user(user_id),
	phone_security_profile TEXT NOT NULL COLLATE NOCASE REFERENCES phone_security_profile(name),
	sip_profile TEXT NOT NULL COLLATE NOCASE REFERENCES sip_profile(name),
	digest_user TEXT COLLATE NOCASE REFERENCES end_user(user_id),
	cisco_support_field TEXT NOT NULL DEFAULT '',
	capf_certificate_operation TEXT NOT NULL,
	capf_authentication_mode TEXT NOT NULL,
	capf_authentication_string TEXT,
	capf_key_size INTEGER NOT NULL,
	capf_operation_completes_by INTEGER,
	capf_operation_status TEXT NOT NULL,
	lsc_status TEXT NOT NULL DEFAULT 'not_installed',
	pc_port TEXT NOT NULL,
	settings_access TEXT NOT NULL,
	gratuitous_arp TEXT NOT NULL,
	pc_voice_vlan_access TEXT NOT NULL,
	web_access TEXT NOT NULL,
	disable_speakerphone INTEGER NOT NULL,
	disable_speakerphone_and_headset INTEGER NOT NULL
);
CREATE INDEX device_owner ON device(owner_user_id);
CREATE INDEX device_profile ON device(phone_security_profile);

-- A device's line appearances, in order; one directory number may appear on many devices.
CREATE TABLE device_line (
	device TEXT NOT NULL COLLATE NOCASE REFERENCES device(name) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	directory_number TEXT NOT NULL COLLATE NOCASE REFERENCES directory_number(number),
	PRIMARY KEY (device, position),
	UNIQUE (device, directory_number)
);
CREATE INDEX device_line_dn ON device_line(directory_number);

-- "Users Associated with Line": per line appearance.
CREATE TABLE device_line_user (
	device TEXT NOT NULL COLLATE NOCASE,
	position INTEGER NOT NULL,
	user_id TEXT NOT NULL COLLATE NOCASE REFERENCES end_user(user_id) ON DELETE CASCADE,
	PRIMARY KEY (device, position, user_id),
	FOREIGN KEY (device, position) REFERENCES device_line(device, position) ON DELETE CASCADE
);

CREATE TABLE end_user_group (
	user_id TEXT NOT NULL COLLATE NOCASE REFERENCES end_user(user_id) ON DELETE CASCADE,
	group_name TEXT NOT NULL COLLATE NOCASE REFERENCES user_group(name) ON DELETE CASCADE,
	PRIMARY KEY (user_id, group_name)
);

CREATE TABLE end_user_device (
	user_id TEXT NOT NULL COLLATE NOCASE REFERENCES end_user(user_id) ON DELETE CASCADE,
	device TEXT NOT NULL COLLATE NOCASE REFERENCES device(name) ON DELETE CASCADE,
	PRIMARY KEY (user_id, device)
);

CREATE TABLE app_user_group (
	user_id TEXT NOT NULL COLLATE NOCASE REFERENCES app_user(user_id) ON DELETE CASCADE,
	group_name TEXT NOT NULL COLLATE NOCASE REFERENCES user_group(name) ON DELETE CASCADE,
	PRIMARY KEY (user_id, group_name)
);

CREATE TABLE app_user_device (
	user_id TEXT NOT NULL COLLATE NOCASE REFERENCES app_user(user_id) ON DELETE CASCADE,
	device TEXT NOT NULL COLLATE NOCASE REFERENCES device(name) ON DELETE CASCADE,
	PRIMARY KEY (user_id, device)
);

CREATE TABLE sip_trunk_security_profile (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	builtin INTEGER NOT NULL DEFAULT 0,
	device_security_mode TEXT NOT NULL,
	incoming_transport TEXT NOT NULL,
	outgoing_transport TEXT NOT NULL,
	enable_digest_authentication INTEGER NOT NULL,
	nonce_validity_time INTEGER NOT NULL,
	x509_subject_name TEXT NOT NULL DEFAULT '',
	incoming_port INTEGER NOT NULL,
	enable_application_level_authorization INTEGER NOT NULL,
	accept_presence_subscription INTEGER NOT NULL,
	accept_out_of_dialog_refer INTEGER NOT NULL,
	accept_unsolicited_notification INTEGER NOT NULL,
	accept_replaces_header INTEGER NOT NULL
);

CREATE TABLE sip_trunk (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	description TEXT NOT NULL DEFAULT '',
	destination_address TEXT NOT NULL,
	destination_port INTEGER NOT NULL,
	sip_trunk_security_profile TEXT NOT NULL COLLATE NOCASE
		REFERENCES sip_trunk_security_profile(name),
	sip_profile TEXT NOT NULL COLLATE NOCASE REFERENCES sip_profile(name)
);

CREATE TABLE capf_profile (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	user_type TEXT NOT NULL,
	user_id TEXT NOT NULL COLLATE NOCASE,
	instance_id TEXT NOT NULL COLLATE NOCASE,
	capf_certificate_operation TEXT NOT NULL,
	capf_authentication_mode TEXT NOT NULL,
	capf_authentication_string TEXT,
	capf_key_size INTEGER NOT NULL,
	capf_operation_completes_by INTEGER,
	capf_operation_status TEXT NOT NULL,
	UNIQUE (user_type, user_id, instance_id)
);

CREATE TABLE enterprise_parameter (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	value TEXT NOT NULL,
	default_value TEXT NOT NULL,
	description TEXT NOT NULL
);

CREATE TABLE service_parameter (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE COLLATE NOCASE,
	service TEXT NOT NULL,
	value TEXT NOT NULL,
	default_value TEXT NOT NULL,
	description TEXT NOT NULL
);

-- Device actions asked for by administrators, carried out by provisioning and call control.
CREATE TABLE device_action (
	id INTEGER PRIMARY KEY,
	device TEXT NOT NULL COLLATE NOCASE REFERENCES device(name) ON DELETE CASCADE,
	action TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending',
	requested_at INTEGER NOT NULL,
	requested_by TEXT NOT NULL
);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	time INTEGER NOT NULL,
	actor TEXT NOT NULL,
	source TEXT NOT NULL,
	action TEXT NOT NULL,
	resource TEXT NOT NULL,
	record_key TEXT NOT NULL,
	before TEXT,
	after TEXT
);
CREATE INDEX audit_log_record ON audit_log(resource, record_key);

INSERT INTO user_group(name, description, builtin) VALUES
	('Standard CCM Super Users', 'Administrators: full access to the administration API', 1),
	('Standard CCM End Users', 'End users of phones and Jabber clients', 1),
	('Standard CTI Enabled', 'Users allowed to use CTI', 1),
	('Standard CTI Secure Connection', 'CTI over TLS between the application and the server', 1),
	('Standard CTI Allow Control of All Devices', 'CTI control of every device', 1),
	('Standard CTI Allow Reception of SRTP Key Material', 'CTI applications that receive SRTP keys', 1);

INSERT INTO sip_profile(name, description, builtin, timer_register_delta, timer_register_expires,
		timer_keep_alive_expires, timer_subscribe_expires, timer_subscribe_delta) VALUES
	('Standard SIP Profile', 'Default SIP profile for phones and desktop clients', 1,
		5, 3600, 120, 120, 5),
	('Standard SIP Profile for Mobile Device', 'Keeps mobile clients registered in the background', 1,
		120, 720, 720, 21600, 15);

INSERT INTO phone_security_profile(name, description, builtin, device_type, device_security_mode,
		transport, tftp_encrypted_config, enable_digest_authentication, exclude_digest_credentials,
		nonce_validity_time, capf_authentication_mode, key_size, sip_phone_port) VALUES
	('Cisco SIP Phone - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'cisco_sip_phone', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_null_string', 2048, 5060),
	('Cisco Unified Client Services Framework - Standard SIP Non-Secure Profile',
		'Built-in non-secure profile', 1,
		'csf', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060),
	('Cisco Dual Mode for iPhone - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'tct', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060),
	('Cisco Dual Mode for Android - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'bot', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060),
	('Cisco Jabber for Tablet - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'tab', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060),
	('CTI Remote Device - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'cti_remote_device', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060),
	('Cisco Multiplatform Phone - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'mpp', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060),
	('Third-party SIP Device - Standard SIP Non-Secure Profile', 'Built-in non-secure profile', 1,
		'generic_sip', 'non_secure', 'tcp_udp', 0, 0, 0, 600, 'by_authentication_string', 2048, 5060);

INSERT INTO sip_trunk_security_profile(name, description, builtin, device_security_mode,
		incoming_transport, outgoing_transport, enable_digest_authentication, nonce_validity_time,
		incoming_port, enable_application_level_authorization, accept_presence_subscription,
		accept_out_of_dialog_refer, accept_unsolicited_notification, accept_replaces_header) VALUES
	('Non Secure SIP Trunk Profile', 'Built-in non-secure trunk profile', 1, 'non_secure',
		'tcp_udp', 'tcp', 0, 600, 5060, 0, 0, 0, 0, 0);

INSERT INTO enterprise_parameter(name, value, default_value, description) VALUES
	('organization_top_level_domain', '', '',
		'DNS domain of the cluster; must be set before TCT, BOT or TAB devices are created'),
	('cluster_security_mode', 'non_secure', 'non_secure',
		'non_secure: every device connects non-secure; mixed: each device as its security profile says'),
	('capf_operation_expires_in_days', '7', '7',
		'Default number of days within which a CAPF operation must complete'),
	('cluster_id', 'StandAloneCluster', 'StandAloneCluster',
		'Name of the cluster, used as realm in SIP trunk challenges'),
	('enable_dependency_records', 'true', 'true',
		'Show which records use a profile');

INSERT INTO service_parameter(name, service, value, default_value, description) VALUES
	('sip_station_realm', 'Cisco CallManager', 'ccmsipline', 'ccmsipline',
		'Realm of SIP digest challenges to phones'),
	('sip_dual_mode_alert_timer', 'Cisco CallManager', '4500', '4500',
		'Milliseconds before a call to a dual-mode client also rings its mobile number'),
	('sip_station_udp_port_throttle_threshold', 'Cisco CallManager', '50', '50',
		'SIP packets per second accepted from one address'),
	('capf_certificate_issuer_to_endpoint', 'Cisco Certificate Authority Proxy Function',
		'Cisco Certificate Authority Proxy Function', 'Cisco Certificate Authority Proxy Function',
		'Who signs the certificates CAPF issues'),
	('capf_certificate_validity_years', 'Cisco Certificate Authority Proxy Function', '5', '5',
		'Validity of certificates CAPF issues, in years'),
	('capf_max_key_generation_retries', 'Cisco Certificate Authority Proxy Function', '3', '3',
		'How often a phone may retry key generation'),
	('capf_wrong_authentication_string_limit', 'Cisco Certificate Authority Proxy Function', '3', '3',
		'Wrong authentication strings after which an operation is locked'),
	('admin_failed_login_limit', 'Cisco AXL Web Service', '5', '5',
		'Failed administrator logins from one address per minute before it is throttled');
