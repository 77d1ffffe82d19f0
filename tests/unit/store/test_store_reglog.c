/* store: the registration log keeps every acknowledged binding change across a kill, and
 * never replays a change twice over a later one. */
#include "store_fixture.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEVICE "{\"name\":\"SEP001122334455\",\"type\":\"cisco_sip_phone\",\"lines\":[\"1001\"]}"

static void seed(struct fixture *f)
{
	fixture_ok(f, "directory-numbers", NULL, "{\"number\":\"1001\"}");
	fixture_ok(f, "devices", NULL, DEVICE);
}

static struct store_registration binding(const char *contact, uint32_t cseq, int64_t expires)
{
	int64_t now = base_time_now();
	struct store_registration r = {.aor = "1001",
	                               .device = "SEP001122334455",
	                               .transport = "udp",
	                               .source = "127.0.0.1:5062",
	                               .call_id = "c1",
	                               .cseq = cseq,
	                               .expires_at = now + expires,
	                               .registered_at = now};
	base_strlcpy(r.contact, contact, sizeof(r.contact));
	return r;
}

/* Runs work on the store in a child process that then dies without closing it, as a kill -9
 * would leave it: nothing folded, the log as the last write left it. The store is closed in
 * this process meanwhile, and is to be opened again by the caller. The child reports a failed
 * step by its exit status (a cmocka assertion there would run the rest of the tests twice). */
static bool in_child; /* a failed step exits instead of asserting */

static void in_killed_process(struct fixture *f, void (*work)(struct fixture *f))
{
	store_close(f->store);
	f->store = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		in_child = true;
		if (fixture_open(f) != 0)
			_exit(2);
		work(f);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

struct loaded {
	int n;
	uint32_t min_cseq;
	struct store_registration last;
};

static void collect(void *arg, const struct store_registration *r)
{
	struct loaded *l = arg;
	l->n++;
	if (l->n == 1 || r->cseq < l->min_cseq)
		l->min_cseq = r->cseq;
	l->last = *r;
}

/* Opens the store again and loads its bindings, as ucmd does at start. */
static struct loaded reopen_and_load(struct fixture *f)
{
	if (!f->store)
		assert_int_equal(fixture_open(f), 0);
	struct loaded l = {0};
	struct base_err err = {0};
	assert_int_equal(store_registration_load(f->store, base_time_now(), collect, &l, &err), 0);
	return l;
}

static void put(struct fixture *f, struct store_registration r)
{
	struct base_err err = {0};
	if (store_registration_put(f->store, &r, &err) == 0)
		return;
	if (in_child)
		_exit(3);
	fail_msg("store_registration_put: %s", err.message);
}

static void refresh_and_remove(struct fixture *f)
{
	put(f, binding("sip:1001@127.0.0.1:5062", 1, 600));
	put(f, binding("sip:1001@127.0.0.1:5062", 2, 3000));
	put(f, binding("sip:1001@127.0.0.1:5063", 1, 600));
	struct base_err err = {0};
	if (store_registration_delete(f->store, "1001", "sip:1001@127.0.0.1:5063", &err) != 0)
		_exit(3);
}

static void test_changes_survive_a_kill(void **state)
{
	struct fixture *f = *state;
	seed(f);
	in_killed_process(f, refresh_and_remove);
	struct loaded l = reopen_and_load(f);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.last.contact, "sip:1001@127.0.0.1:5062");
	assert_int_equal(l.last.cseq, 2);
	assert_true(l.last.expires_at > base_time_now() + 2000);
}

static void two_bindings(struct fixture *f)
{
	put(f, binding("sip:1001@127.0.0.1:5062", 1, 600));
	put(f, binding("sip:torn@127.0.0.1:5064", 1, 600));
}

/* A record whose bytes do not check (a write cut short) ends the log: what came before it
 * is kept, it and anything after it are not applied. */
static void test_torn_record_ends_the_log(void **state)
{
	struct fixture *f = *state;
	seed(f);
	in_killed_process(f, two_bindings);
	char path[160];
	snprintf(path, sizeof(path), "%s-registrations", f->db);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	static char image[64 << 10];
	ssize_t len = read(fd, image, sizeof(image));
	assert_true(len > 0);
	char *torn = memmem(image, (size_t)len, "sip:torn", 8);
	assert_non_null(torn);
	assert_int_equal(pwrite(fd, "sip:TORN", 8, torn - image), 8);
	close(fd);

	struct loaded l = reopen_and_load(f);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.last.contact, "sip:1001@127.0.0.1:5062");
}

static void one_binding(struct fixture *f)
{
	put(f, binding("sip:1001@127.0.0.1:5062", 1, 600));
}

/* Deletes the device, taking its binding with it, and makes it again: a binding logged
 * before must not come back. */
static void remake_device(struct fixture *f)
{
	struct base_err err = {0};
	if (store_delete(f->store, store_kind_find("devices"), "SEP001122334455", &test_actor,
	                 &err) != 0)
		_exit(3);
	if (fixture_write(f, "devices", NULL, DEVICE, NULL, &err) != 0)
		_exit(4);
}

static void test_folded_records_are_not_replayed(void **state)
{
	struct fixture *f = *state;
	seed(f);
	in_killed_process(f, one_binding);
	in_killed_process(f, remake_device); /* its open folded the binding in */
	assert_int_equal(reopen_and_load(f).n, 0);
}

/* A device deleted while bindings of it are only in the log takes them with it, even when a
 * device of the same name is made again before the log is folded. */
static void test_deleted_device_takes_logged_bindings(void **state)
{
	struct fixture *f = *state;
	seed(f);
	put(f, binding("sip:1001@127.0.0.1:5062", 1, 600));
	fixture_ok(
	    f, "devices", NULL,
	    "{\"name\":\"SEP0011223344AA\",\"type\":\"cisco_sip_phone\",\"lines\":[\"1001\"]}");
	struct store_registration taken = binding("sip:1001@127.0.0.1:5063", 1, 600);
	put(f, taken);
	assert_int_equal(reopen_and_load(f).n, 2); /* folded */
	/* The second device takes the first one's contact over, then is deleted. */
	base_strlcpy(taken.device, "SEP0011223344AA", sizeof(taken.device));
	base_strlcpy(taken.contact, "sip:1001@127.0.0.1:5062", sizeof(taken.contact));
	taken.refresh = true; /* a wrong hint: the row there is the other device's */
	put(f, taken);
	struct base_err err = {0};
	const struct store_kind *devices = store_kind_find("devices");
	assert_int_equal(store_delete(f->store, devices, "SEP0011223344AA", &test_actor, &err), 0);
	put(f, binding("sip:1001@127.0.0.1:5064", 1, 600));
	assert_int_equal(store_delete(f->store, devices, "SEP001122334455", &test_actor, &err), 0);
	fixture_ok(f, "devices", NULL, DEVICE);
	assert_int_equal(reopen_and_load(f).n, 0);
}

/* A binding refreshed after its row was folded: the fold updates the row in place, every
 * field a refresh can change included. */
static void test_refresh_updates_the_folded_row(void **state)
{
	struct fixture *f = *state;
	seed(f);
	put(f, binding("sip:1001@127.0.0.1:5062", 1, 600));
	assert_int_equal(reopen_and_load(f).n, 1); /* folded: the row is there */
	struct store_registration r = binding("sip:1001@127.0.0.1:5062", 7, 3000);
	base_strlcpy(r.source, "127.0.0.1:5099", sizeof(r.source));
	base_strlcpy(r.user_agent, "Cisco-CP8865/14.2", sizeof(r.user_agent));
	base_strlcpy(r.call_id, "c2", sizeof(r.call_id));
	base_strlcpy(r.instance, "urn:uuid:00000000-0000-0000-0000-00112233445a",
	             sizeof(r.instance));
	r.refresh = true;
	put(f, r);
	store_close(f->store);
	f->store = NULL;
	struct loaded l = reopen_and_load(f);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.last.cseq, 7);
	assert_int_equal(l.last.expires_at, r.expires_at);
	assert_string_equal(l.last.source, r.source);
	assert_string_equal(l.last.user_agent, r.user_agent);
	assert_string_equal(l.last.call_id, "c2");
	assert_string_equal(l.last.instance, r.instance);
	assert_string_equal(l.last.device, "SEP001122334455");
}

/* More changes than the log holds: it is folded as it fills, and the last change of each
 * binding wins. */
static void test_full_log_is_folded(void **state)
{
	struct fixture *f = *state;
	seed(f);
	char contact[64];
	for (uint32_t i = 1; i <= 40000; i++) {
		snprintf(contact, sizeof(contact), "sip:1001@127.0.0.1:%u", 10000 + i % 100);
		struct store_registration r = binding(contact, i, 600 + i);
		r.refresh = i > 100;
		put(f, r);
	}
	struct loaded l = reopen_and_load(f);
	assert_int_equal(l.n, 100);
	assert_int_equal(l.min_cseq, 40000 - 99);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_changes_survive_a_kill),          T(test_torn_record_ends_the_log),
	    T(test_folded_records_are_not_replayed), T(test_deleted_device_takes_logged_bindings),
	    T(test_refresh_updates_the_folded_row),  T(test_full_log_is_folded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
