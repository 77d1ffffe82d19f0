/*
 * A chained hash table from strings to pointers. It doubles when the load passes one entry per
 * bucket, so the cost of a lookup does not grow with the table. Keys are hashed with SipHash
 * under a key drawn for each table: many of them come from the network (a Via branch, a
 * source address), and with a fixed hash a peer could send keys that all share one chain.
 */
#include "base/base.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint32_t hash;
	void *value;
	char key[]; /* copied, NUL-terminated */
};

struct base_hash {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	unsigned char secret[16]; /* the SipHash key */
};

static uint32_t hash_key(const struct base_hash *h, const char *key)
{
	return (uint32_t)base_siphash13(h->secret, key, strlen(key));
}

struct base_hash *base_hash_new(void)
{
	struct base_hash *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	arc4random_buf(h->secret, sizeof(h->secret)); /* from getrandom; it cannot fail */
	h->nbuckets = 64;
	h->buckets = calloc(h->nbuckets, sizeof(*h->buckets));
	if (!h->buckets) {
		free(h);
		return NULL;
	}
	return h;
}

void base_hash_free(struct base_hash *h, void (*free_value)(void *value))
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct entry *e = h->buckets[i];
		while (e) {
			struct entry *next = e->next;
			if (free_value)
				free_value(e->value);
			free(e);
			e = next;
		}
	}
	free(h->buckets);
	free(h);
}

static void grow(struct base_hash *h)
{
	size_t n = h->nbuckets * 2;
	struct entry **buckets = calloc(n, sizeof(*buckets));
	if (!buckets)
		return; /* keep working, only slower */
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct entry *e = h->buckets[i];
		while (e) {
			struct entry *next = e->next;
			e->next = buckets[e->hash & (n - 1)];
			buckets[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(h->buckets);
	h->buckets = buckets;
	h->nbuckets = n;
}

static struct entry **find(const struct base_hash *h, const char *key, uint32_t hash)
{
	struct entry **p = &h->buckets[hash & (h->nbuckets - 1)];
	while (*p && ((*p)->hash != hash || strcmp((*p)->key, key) != 0))
		p = &(*p)->next;
	return p;
}

int base_hash_put(struct base_hash *h, const char *key, void *value, void **old)
{
	uint32_t hash = hash_key(h, key);
	struct entry **p = find(h, key, hash);
	if (*p) {
		if (old)
			*old = (*p)->value;
		(*p)->value = value;
		return 0;
	}
	if (old)
		*old = NULL;
	size_t len = strlen(key);
	struct entry *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -1;
	memcpy(e->key, key, len + 1);
	e->hash = hash;
	e->value = value;
	e->next = NULL;
	*p = e;
	if (++h->count > h->nbuckets)
		grow(h);
	return 0;
}

void *base_hash_get(const struct base_hash *h, const char *key)
{
	struct entry *e = *find(h, key, hash_key(h, key));
	return e ? e->value : NULL;
}

void *base_hash_remove(struct base_hash *h, const char *key)
{
	struct entry **p = find(h, key, hash_key(h, key));
	struct entry *e = *p;
	if (!e)
		return NULL;
	*p = e->next;
	void *value = e->value;
	free(e);
	h->count--;
	return value;
}

size_t base_hash_count(const struct base_hash *h)
{
	return h->count;
}

void base_hash_foreach(struct base_hash *h, void (*fn)(void *arg, const char *key, void *value),
                       void *arg)
{
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct entry *e = h->buckets[i];
		while (e) {
			struct entry *next = e->next; /* fn may remove e */
			fn(arg, e->key, e->value);
			e = next;
		}
	}
}
