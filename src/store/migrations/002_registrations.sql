-- SIP registrations, written through by the registrar so that a restart or a crash loses
-- none. One row per binding: a contact of a device registered for one of its lines.
CREATE TABLE registration (
	id INTEGER PRIMARY KEY,
	aor TEXT NOT NULL COLLATE NOCASE,
	contact TEXT NOT NULL,
	device TEXT NOT NULL COLLATE NOCASE REFERENCES device(name) ON DELETE CASCADE,
	instance TEXT NOT NULL DEFAULT '',
	transport TEXT NOT NULL,
	source TEXT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	call_id TEXT NOT NULL,
	cseq INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	registered_at INTEGER NOT NULL,
	UNIQUE (aor, contact)
);
CREATE INDEX registration_device ON registration(device);
