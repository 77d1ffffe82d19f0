/*
 * libFuzzer target: the decoding of REST API request bodies, and what happens to a decoded
 * body next: the store's input checks for every kind of record. Any input must give a clean
 * error or a record, never a crash, a leak or undefined behaviour.
 */
#include "admin/admin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *store;

static void open_store(void)
{
	char dir[] = "/tmp/ucm-fuzz-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	char db[64], key[64];
	snprintf(db, sizeof(db), "%s/ucm.db", dir);
	snprintf(key, sizeof(key), "%s/store.key", dir);
	struct base_err err = {0};
	base_log_set_level(BASE_LOG_ERROR);
	if (store_open(&store, db, key, &err) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store)
		open_store();
	json_t *body = NULL;
	struct base_err err = {0};
	if (admin_request_decode((const char *)data, size, &body, &err) != 0)
		return 0;
	/* The first byte picks the kind, so the fuzzer explores every kind's rules. The store
	 * rolls back refused writes; accepted ones are kept, which only grows the state the
	 * later inputs meet. */
	size_t nkinds = 0;
	while (store_kinds[nkinds])
		nkinds++;
	const struct store_kind *kind = store_kinds[size ? data[0] % nkinds : 0];
	struct store_actor actor = {"fuzz", "fuzz"};
	json_t *out = NULL;
	if (store_kind_allows(kind, "create"))
		store_create(store, kind, body, &actor, &out, &err);
	json_decref(out);
	json_decref(body);
	return 0;
}
