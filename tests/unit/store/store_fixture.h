/* A fresh store in a temporary directory for each test, and helpers to drive it with JSON. */
#ifndef UCM_TEST_STORE_FIXTURE_H
#define UCM_TEST_STORE_FIXTURE_H

#include "store/store.h"

/* cmocka needs these first, in this order. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
	char dir[64];
	char db[128];
	char key[128];
	struct store *store;
};

static const struct store_actor test_actor = {"tester", "unit-test"};

static inline int fixture_open(struct fixture *f)
{
	struct base_err err = {0};
	snprintf(f->db, sizeof(f->db), "%s/ucm.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/store.key", f->dir);
	if (store_open(&f->store, f->db, f->key, &err) != 0) {
		fprintf(stderr, "store_open: %s\n", err.message);
		return -1;
	}
	return 0;
}

static inline int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/ucm-store-test-XXXXXX");
	if (!mkdtemp(f->dir) || fixture_open(f) != 0)
		return -1;
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Runs a create (key NULL) or update of `kind` with the JSON text `body`. */
static inline int fixture_write(struct fixture *f, const char *kind, const char *key,
                                const char *body, json_t **out, struct base_err *err)
{
	json_error_t jerr;
	json_t *in = json_loads(body, 0, &jerr);
	if (!in) {
		fprintf(stderr, "bad test JSON: %s: %s\n", body, jerr.text);
		return -2;
	}
	json_t *result = NULL;
	const struct store_kind *k = store_kind_find(kind);
	int rc = key ? store_update(f->store, k, key, in, &test_actor, &result, err)
	             : store_create(f->store, k, in, &test_actor, &result, err);
	json_decref(in);
	if (out)
		*out = result;
	else
		json_decref(result);
	return rc;
}

static inline void fixture_ok(struct fixture *f, const char *kind, const char *key,
                              const char *body)
{
	struct base_err err = {0};
	if (fixture_write(f, kind, key, body, NULL, &err) != 0)
		fail_msg("%s %s %s failed: %s (%s)", kind, key ? key : "create", body, err.message,
		         err.field);
}

/* Everything of a kind, for comparing before and after a refused write. */
static inline json_t *fixture_snapshot(struct fixture *f, const char *kind)
{
	struct store_query q = {.limit = 1000};
	json_t *items = NULL;
	long total = 0;
	struct base_err err = {0};
	assert_int_equal(store_list(f->store, store_kind_find(kind), &q, &items, &total, &err), 0);
	return items;
}

static inline long fixture_audit_count(struct fixture *f)
{
	struct store_query q = {.limit = 1};
	json_t *items = NULL;
	long total = 0;
	assert_int_equal(
	    store_list(f->store, store_kind_find("audit-log"), &q, &items, &total, NULL), 0);
	json_decref(items);
	return total;
}

#endif
