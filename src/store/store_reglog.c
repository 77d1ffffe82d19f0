/*
 * The registration log: every change of a SIP binding, a put or a delete, is appended to a
 * file beside the database before the registrar answers, and the changes are folded into the
 * registration table in batches.
 *
 * Why not one SQLite commit per change: a binding is written through so that a restart or a
 * kill -9 loses none, and a commit (a WAL frame of a whole page, the WAL index, a share of
 * the checkpoints) was most of the CPU a REGISTER cost. One record of a few hundred bytes
 * costs one copy into the file's shared mapping. Once copied, the record is in the page
 * cache, which outlives the process just as SQLite's WAL does (synchronous=NORMAL does not
 * sync commits either).
 *
 * Why a mapping rather than pwrite: a pwrite per REGISTER was 8 % of its CPU, most of it
 * ext4 journalling the file's new modification time every few milliseconds; a store into a
 * mapped page updates it only when the page is first written after the kernel wrote it back.
 * What a mapping costs is how errors arrive: as SIGBUS rather than an error code. The file is
 * written out in full when it is made, so a store never needs a block; what is left is the
 * file being cut short behind ucmd's back or the disk failing to read a page back in, and
 * either also breaks the database beside it.
 *
 * The file: a header (magic, epoch, CRC-32) and records packed behind it, each with its size
 * and a CRC-32 over the epoch and the record. Reading stops at the first record that does not
 * check, so a record torn by a kill, or one left over from an earlier epoch, ends the log. Folding
 * applies the last record of each binding in one transaction (synchronous=FULL), then starts
 * the next epoch at the head of the file. A crash between that commit and the new header
 * only makes the next open fold the same records again, and since every record is a whole
 * binding or its removal, never a difference, that gives the same table.
 *
 * The log is folded when it is full, before the registrations are read (loading at start,
 * the API), and when the store closes. It belongs to one node: the file never leaves it.
 */
#include "store/store_int.h"

#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define REGLOG_MAGIC  "UCMREGL1"
#define REGLOG_HEADER 64
/* About 5,000 records between folds. A fold of that many new bindings took 40 ms here; with
 * 4 MiB, folds of 114 ms during 2000 new registrations a second made sipp retransmit. */
#define REGLOG_SIZE       (1u << 20)
#define REGLOG_MIN_SIZE   (64u << 10)
#define REGLOG_RECORD_MAX 2048

/* A refresh is a put like any other, whole; its op only tells the fold to try the row in place
 * first (refresh_row). */
enum reglog_op { REGLOG_PUT = 1, REGLOG_DELETE = 2, REGLOG_REFRESH = 3 };

struct store_reglog {
	int fd;
	uint64_t epoch;
	size_t tail;        /* where the next record goes */
	size_t size;        /* of the file, which never changes once made */
	unsigned char *map; /* the whole file, shared: appends are stores into it */
	char path[4096];
};

static int fail_errno(struct base_err *err, const char *what, const char *path)
{
	return base_err_set(err, BASE_E_INTERNAL, NULL, "%s registration log %s: %s", what, path,
	                    strerror(errno));
}

static uint32_t record_crc(uint64_t epoch, const unsigned char *body, size_t len)
{
	uLong crc = crc32(0L, (const Bytef *)&epoch, sizeof(epoch));
	return (uint32_t)crc32(crc, body, (uInt)len);
}

/* The strings of a record, in their order in the file. */
#define STRING_FIELD(name)                                                                         \
	{                                                                                          \
		offsetof(struct store_registration, name),                                         \
		    sizeof(((struct store_registration *)0)->name)                                 \
	}
static const struct {
	size_t offset, size;
} record_strings[] = {STRING_FIELD(aor),        STRING_FIELD(contact),   STRING_FIELD(device),
                      STRING_FIELD(instance),   STRING_FIELD(transport), STRING_FIELD(source),
                      STRING_FIELD(user_agent), STRING_FIELD(call_id)};
#define RECORD_NSTRINGS (sizeof(record_strings) / sizeof(record_strings[0]))
#define RECORD_FIXED    29 /* size, CRC, op, CSeq, expiry, registration time */

/* Layout of a record: u32 size, u32 CRC of what follows, u8 op, u32 CSeq, i64 expiry, i64
 * registration time, then the strings, each as u16 length and bytes. Host byte order. */
static size_t record_encode(enum reglog_op op, const struct store_registration *r, uint64_t epoch,
                            unsigned char out[REGLOG_RECORD_MAX])
{
	out[8] = (unsigned char)op;
	memcpy(out + 9, &r->cseq, 4);
	memcpy(out + 13, &r->expires_at, 8);
	memcpy(out + 21, &r->registered_at, 8);
	size_t n = RECORD_FIXED;
	for (size_t i = 0; i < RECORD_NSTRINGS; i++) {
		const char *v = (const char *)r + record_strings[i].offset;
		uint16_t len = (uint16_t)strnlen(v, record_strings[i].size - 1);
		memcpy(out + n, &len, 2);
		memcpy(out + n + 2, v, len);
		n += 2 + (size_t)len;
	}
	uint32_t size = (uint32_t)n, crc = record_crc(epoch, out + 8, n - 8);
	memcpy(out, &size, 4);
	memcpy(out + 4, &crc, 4);
	return n;
}

int store_reglog_decode(const unsigned char *buf, size_t len, uint64_t epoch, size_t *off,
                        struct store_registration *r, int *op)
{
	if (*off > len || len - *off < RECORD_FIXED)
		return 0;
	const unsigned char *p = buf + *off;
	uint32_t size, crc;
	memcpy(&size, p, 4);
	memcpy(&crc, p + 4, 4);
	if (size < RECORD_FIXED || size > REGLOG_RECORD_MAX || size > len - *off ||
	    record_crc(epoch, p + 8, size - 8) != crc ||
	    (p[8] != REGLOG_PUT && p[8] != REGLOG_DELETE && p[8] != REGLOG_REFRESH))
		return 0;
	memset(r, 0, sizeof(*r));
	*op = p[8] == REGLOG_DELETE ? REGLOG_DELETE : REGLOG_PUT;
	r->refresh = p[8] == REGLOG_REFRESH;
	memcpy(&r->cseq, p + 9, 4);
	memcpy(&r->expires_at, p + 13, 8);
	memcpy(&r->registered_at, p + 21, 8);
	size_t n = RECORD_FIXED;
	for (size_t i = 0; i < RECORD_NSTRINGS; i++) {
		uint16_t len16;
		if (size - n < 2)
			return 0;
		memcpy(&len16, p + n, 2);
		if (len16 >= record_strings[i].size || size - n - 2 < len16)
			return 0;
		memcpy((char *)r + record_strings[i].offset, p + n + 2, len16);
		n += 2 + (size_t)len16;
	}
	if (n != size || !r->aor[0] || !r->contact[0])
		return 0;
	*off += size;
	return 1;
}

/* Starts `epoch` at the head of the log. Until the header is written the log keeps its
 * epoch and its records, which stay valid: they are already folded, and folding them again
 * changes nothing. */
static int write_header(struct store_reglog *log, uint64_t epoch, struct base_err *err)
{
	unsigned char h[REGLOG_HEADER] = {0};
	memcpy(h, REGLOG_MAGIC, 8);
	memcpy(h + 8, &epoch, 8);
	uint32_t crc = (uint32_t)crc32(0L, h, 16);
	memcpy(h + 16, &crc, 4);
	if (pwrite(log->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return fail_errno(err, "cannot write the header of the", log->path);
	log->epoch = epoch;
	log->tail = REGLOG_HEADER;
	return 0;
}

static int read_header(struct store_reglog *log, struct base_err *err)
{
	unsigned char h[REGLOG_HEADER];
	if (pread(log->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return fail_errno(err, "cannot read the", log->path);
	uint32_t crc;
	memcpy(&crc, h + 16, 4);
	if (memcmp(h, REGLOG_MAGIC, 8) != 0 || crc != (uint32_t)crc32(0L, h, 16))
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "registration log %s is damaged (bad header); move it away to "
		                    "start without the registration changes it holds",
		                    log->path);
	memcpy(&log->epoch, h + 8, 8);
	return 0;
}

/* Makes a rename in the directory of `path` durable. */
static int sync_directory(const char *path, struct base_err *err)
{
	char dir[4096];
	base_strlcpy(dir, path, sizeof(dir));
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail_errno(err, "cannot open the directory of the", path);
	int rc = fsync(fd);
	close(fd);
	return rc == 0 ? 0 : fail_errno(err, "cannot sync the directory of the", path);
}

/* A new log is written out in full once, so that appending later only overwrites blocks
 * the file already has: no block allocation and no size change in the hot path. It is made
 * under another name and renamed into place whole, so that a crash meanwhile leaves no log
 * without its header. */
static int create_file(struct store_reglog *log, struct base_err *err)
{
	char tmp[sizeof(log->path) + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", log->path);
	log->fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log->fd < 0)
		return fail_errno(err, "cannot create the", tmp);
	static const unsigned char zeros[65536];
	for (size_t at = 0; at < REGLOG_SIZE; at += sizeof(zeros))
		if (pwrite(log->fd, zeros, sizeof(zeros), (off_t)at) != (ssize_t)sizeof(zeros))
			return fail_errno(err, "cannot fill the", tmp);
	log->size = REGLOG_SIZE;
	if (write_header(log, 1, err) != 0)
		return -1;
	if (fdatasync(log->fd) != 0)
		return fail_errno(err, "cannot sync the", tmp);
	if (rename(tmp, log->path) != 0)
		return fail_errno(err, "cannot rename the", tmp);
	return sync_directory(log->path, err);
}

static int open_file(struct store_reglog *log, struct base_err *err)
{
	log->fd = open(log->path, O_RDWR | O_CLOEXEC);
	if (log->fd < 0)
		return errno == ENOENT ? create_file(log, err)
		                       : fail_errno(err, "cannot open the", log->path);
	struct stat st;
	if (fstat(log->fd, &st) != 0)
		return fail_errno(err, "cannot inspect the", log->path);
	if ((size_t)st.st_size < REGLOG_MIN_SIZE)
		return base_err_set(err, BASE_E_INTERNAL, NULL,
		                    "registration log %s is damaged (%lld bytes); move it away to "
		                    "start without the registration changes it holds",
		                    log->path, (long long)st.st_size);
	log->size = (size_t)st.st_size;
	if (read_header(log, err) != 0)
		return -1;
	log->tail = log->size; /* unknown until read: the fold reads up to the last record */
	return 0;
}

int store_reglog_open(struct store *s, const char *db_path, struct base_err *err)
{
	struct store_reglog *log = calloc(1, sizeof(*log));
	if (!log)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	log->fd = -1;
	snprintf(log->path, sizeof(log->path), "%s-registrations", db_path);
	s->reglog = log;
	if (open_file(log, err) != 0)
		return -1;
	/* Populated now, so that no append waits for a page to be read in. */
	void *map =
	    mmap(NULL, log->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, log->fd, 0);
	if (map == MAP_FAILED)
		return fail_errno(err, "cannot map the", log->path);
	log->map = map;
	return store_reglog_fold(s, err);
}

static int append(struct store *s, enum reglog_op op, const struct store_registration *r,
                  struct base_err *err)
{
	struct store_reglog *log = s->reglog;
	unsigned char rec[REGLOG_RECORD_MAX];
	size_t n = record_encode(op, r, log->epoch, rec);
	if (log->tail + n > log->size) {
		if (store_reglog_fold(s, err) != 0)
			return -1;
		n = record_encode(op, r, log->epoch, rec); /* in the new epoch */
	}
	memcpy(log->map + log->tail, rec, n);
	log->tail += n;
	return 0;
}

int store_registration_put(struct store *s, const struct store_registration *r,
                           struct base_err *err)
{
	return append(s, r->refresh ? REGLOG_REFRESH : REGLOG_PUT, r, err);
}

int store_registration_delete(struct store *s, const char *aor, const char *contact,
                              struct base_err *err)
{
	struct store_registration r;
	memset(&r, 0, sizeof(r));
	base_strlcpy(r.aor, aor, sizeof(r.aor));
	base_strlcpy(r.contact, contact, sizeof(r.contact));
	return append(s, REGLOG_DELETE, &r, err);
}

/* ---- folding ---- */

/* A binding's key, as the table's UNIQUE (aor COLLATE NOCASE, contact) sees it. */
static void binding_key(const struct store_registration *r, char *key, size_t size)
{
	size_t n = 0;
	for (const char *c = r->aor; *c && n + 1 < size; c++)
		key[n++] = (char)tolower((unsigned char)*c);
	if (n + 1 < size)
		key[n++] = '\n';
	base_strlcpy(key + n, r->contact, size - n);
}

static int apply_delete(struct store *s, const struct store_registration *r, struct base_err *err)
{
	sqlite3_stmt *st =
	    store_db_stmt_at(s, &s->registration_delete_stmt,
	                     "DELETE FROM registration WHERE aor = ?1 AND contact = ?2", err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->aor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->contact, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, err, "folding a registration removal");
}

static void bind_registration(sqlite3_stmt *st, const struct store_registration *r)
{
	const char *texts[] = {r->aor,       r->contact, r->device,     r->instance,
	                       r->transport, r->source,  r->user_agent, r->call_id};
	for (int i = 0; i < 8; i++)
		sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->cseq);
	sqlite3_bind_int64(st, 10, r->expires_at);
	sqlite3_bind_int64(st, 11, r->registered_at);
}

/* Most records refresh a binding whose row is there for the same device. Such a row is updated
 * in place: leaving the device out of the SET spares the foreign-key check on it, and
 * leaving out the insert spares a failed one; it costs a third of the upsert below. Tried
 * only for records the registrar marked as refreshes: for a new binding it would be a lookup
 * for nothing. 1 when it was that, 0 when the upsert must do it, -1 on error. */
static int refresh_row(struct store *s, const struct store_registration *r, struct base_err *err)
{
	sqlite3_stmt *st = store_db_stmt_at(
	    s, &s->registration_refresh_stmt,
	    "UPDATE registration SET instance = ?4, transport = ?5, source = ?6, user_agent = ?7, "
	    "call_id = ?8, cseq = ?9, expires_at = ?10 WHERE aor = ?1 AND contact = ?2 AND "
	    "device = ?3",
	    err);
	if (!st)
		return -1;
	bind_registration(st, r);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, err, "folding a registration refresh");
	return sqlite3_changes(s->db) > 0;
}

static int apply_put(struct store *s, const struct store_registration *r, int *orphans,
                     struct base_err *err)
{
	int refreshed = r->refresh ? refresh_row(s, r, err) : 0;
	if (refreshed != 0)
		return refreshed < 0 ? -1 : 0;
	sqlite3_stmt *st = store_db_stmt_at(
	    s, &s->registration_put_stmt,
	    "INSERT INTO registration(aor, contact, device, instance, transport, source, "
	    "user_agent, call_id, cseq, expires_at, registered_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(aor, contact) DO UPDATE SET device = ?3, "
	    "instance = ?4, transport = ?5, source = ?6, user_agent = ?7, call_id = ?8, cseq = "
	    "?9, expires_at = ?10",
	    err);
	if (!st)
		return -1;
	bind_registration(st, r);
	int rc = sqlite3_step(st);
	int code = sqlite3_extended_errcode(s->db);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	/* The binding's device is gone. Configuration transactions fold the log before they
	 * run, so only a database changed behind ucmd's back gets here: the binding goes the way
	 * the device's other bindings went, whichever device its row had before. */
	if (code == SQLITE_CONSTRAINT_FOREIGNKEY) {
		(*orphans)++;
		return apply_delete(s, r, err);
	}
	return store_db_fail(s, err, "folding a registration");
}

struct fold {
	struct store *s;
	const unsigned char *buf; /* the log image */
	size_t len;
	uint64_t epoch;
	struct base_hash *last; /* binding key -> offset + 1 of its last record */
	int orphans;
	int rc;
	struct base_err *err;
};

/* Notes where each binding's last record starts; sets *end to where the log ends. */
static int note_last_records(struct fold *f, size_t *end)
{
	size_t off = REGLOG_HEADER, at = off;
	struct store_registration r;
	int op;
	char key[sizeof(r.aor) + sizeof(r.contact) + 1];
	while (store_reglog_decode(f->buf, f->len, f->epoch, &off, &r, &op)) {
		binding_key(&r, key, sizeof(key));
		if (base_hash_put(f->last, key, (void *)(uintptr_t)(at + 1), NULL) != 0)
			return base_err_set(f->err, BASE_E_INTERNAL, NULL, "out of memory");
		at = off;
	}
	*end = at;
	return 0;
}

/* Applies one binding's last record (a base_hash_foreach callback). Each record is a whole
 * binding or its removal, so bindings are independent of each other and the order the table
 * hands them out in does not matter; only the last records are decoded a second time. */
static void apply_last_record(void *arg, const char *key, void *value)
{
	(void)key;
	struct fold *f = arg;
	size_t off = (uintptr_t)value - 1;
	struct store_registration r;
	int op;
	if (f->rc != 0)
		return;
	if (!store_reglog_decode(f->buf, f->len, f->epoch, &off, &r, &op))
		f->rc = base_err_set(f->err, BASE_E_INTERNAL, NULL,
		                     "registration log %s changed while it was folded",
		                     f->s->reglog->path);
	else
		f->rc = op == REGLOG_PUT ? apply_put(f->s, &r, &f->orphans, f->err)
		                         : apply_delete(f->s, &r, f->err);
}

/* Ends the fold's transaction: commits after work that returned 0, rolls back otherwise. Not
 * store_db_commit: bindings are not configuration, and a new configuration generation would
 * empty the caches built from it. */
static int end_fold(struct store *s, int rc, struct base_err *err)
{
	if (rc == 0 && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = store_db_fail(s, err, "committing the registration log");
	if (rc != 0)
		store_db_rollback(s);
	sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	return rc;
}

static int fold_records(struct store *s, const unsigned char *buf, size_t len, struct base_err *err)
{
	struct store_reglog *log = s->reglog;
	struct fold f = {.s = s,
	                 .buf = buf,
	                 .len = len,
	                 .epoch = log->epoch,
	                 .last = base_hash_new(),
	                 .err = err};
	if (!f.last)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
	size_t end = REGLOG_HEADER;
	int rc = note_last_records(&f, &end);
	if (rc == 0 && end > REGLOG_HEADER && (rc = store_db_begin_immediate(s, err)) == 0) {
		base_hash_foreach(f.last, apply_last_record, &f);
		rc = end_fold(s, f.rc, err);
	}
	base_hash_free(f.last, NULL);
	if (rc != 0)
		return -1;
	if (f.orphans)
		base_log(BASE_LOG_INFO, "store", "%d logged bindings of deleted devices removed",
		         f.orphans);
	return write_header(log, log->epoch + 1, err);
}

int store_reglog_fold(struct store *s, struct base_err *err)
{
	struct store_reglog *log = s->reglog;
	if (!log || !log->map || log->tail <= REGLOG_HEADER)
		return 0;
	return fold_records(s, log->map, log->tail, err);
}

void store_reglog_close(struct store *s)
{
	struct store_reglog *log = s->reglog;
	if (!log)
		return;
	struct base_err err = {0};
	if (store_reglog_fold(s, &err) != 0)
		base_log(BASE_LOG_WARN, "store", "registration log kept for the next start: %s",
		         err.message);
	if (log->map)
		munmap(log->map, log->size);
	if (log->fd >= 0)
		close(log->fd);
	free(log);
	s->reglog = NULL;
}
