/*
 * The worker pool: a mutex-protected job queue served by a few threads, and a completion
 * list drained on the loop thread. A worker that finishes a job moves it to the completion
 * list and writes to an eventfd; the loop's read event on that fd then calls done() for
 * every finished job. One eventfd write may cover many jobs: the counter only wakes the
 * loop, the list says what finished.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/net.h"

#define DEFAULT_QUEUE_MAX 1024
#define MAX_THREADS       64

struct job {
	net_work_fn work;
	net_work_fn done;
	void *arg;
	struct job *next;
};

/* A singly linked FIFO. */
struct job_list {
	struct job *head;
	struct job *tail;
};

struct net_work_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job_list queued;   /* waiting for a worker */
	struct job_list finished; /* waiting for done() on the loop */
	unsigned pending;         /* queued + running + finished, under lock */
	unsigned queue_max;
	bool stopping;
	int efd;
	struct event *ev;
	pthread_t *threads;
	unsigned nthreads;
};

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail) {
		l->tail->next = j;
	} else {
		l->head = j;
	}
	l->tail = j;
}

static struct job *list_pop(struct job_list *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head) {
			l->tail = NULL;
		}
	}
	return j;
}

/* Takes the whole list, so done() callbacks run without the lock held and may submit. */
static struct job *list_take(struct job_list *l)
{
	struct job *j = l->head;

	l->head = l->tail = NULL;
	return j;
}

static void *worker_main(void *arg)
{
	struct net_work_pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct job *j = list_pop(&pool->queued);

		if (!j) {
			if (pool->stopping) {
				break;
			}
			pthread_cond_wait(&pool->wake, &pool->lock);
			continue;
		}
		pthread_mutex_unlock(&pool->lock);
		j->work(j->arg);
		pthread_mutex_lock(&pool->lock);
		bool was_empty = pool->finished.head == NULL;
		list_push(&pool->finished, j);
		if (was_empty) {
			/* Wake the loop once per batch; it drains the whole list. */
			uint64_t one = 1;
			ssize_t n = write(pool->efd, &one, sizeof(one));
			(void)n; /* EAGAIN only when the counter is near 2^64: already awake */
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static void run_finished(struct net_work_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	struct job *j = list_take(&pool->finished);
	pthread_mutex_unlock(&pool->lock);
	while (j) {
		struct job *next = j->next;

		j->done(j->arg);
		free(j);
		pthread_mutex_lock(&pool->lock);
		pool->pending--;
		pthread_mutex_unlock(&pool->lock);
		j = next;
	}
}

static void on_wake(evutil_socket_t fd, short events, void *arg)
{
	uint64_t count;
	ssize_t n = read(fd, &count, sizeof(count));

	(void)events;
	(void)n; /* EAGAIN: another wake-up already emptied the counter; drain anyway */
	run_finished(arg);
}

int net_work_pool_new(struct net_work_pool **out, struct event_base *base, unsigned threads,
                      unsigned queue_max, struct base_err *err)
{
	struct net_work_pool *pool;
	char buf[128];

	*out = NULL;
	if (threads < 1 || threads > MAX_THREADS) {
		return base_err_set(err, BASE_E_INVALID, "threads",
		                    "a worker pool needs 1 to %d threads", MAX_THREADS);
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "worker pool: out of memory");
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pool->queue_max = queue_max ? queue_max : DEFAULT_QUEUE_MAX;
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "worker pool: eventfd: %s",
		             strerror_r(errno, buf, sizeof(buf)));
		goto fail;
	}
	pool->ev = event_new(base, pool->efd, EV_READ | EV_PERSIST, on_wake, pool);
	if (!pool->ev || event_add(pool->ev, NULL) != 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "worker pool: cannot watch its eventfd");
		goto fail;
	}
	pool->threads = calloc(threads, sizeof(*pool->threads));
	if (!pool->threads) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "worker pool: out of memory");
		goto fail;
	}
	for (; pool->nthreads < threads; pool->nthreads++) {
		int rc = pthread_create(&pool->threads[pool->nthreads], NULL, worker_main, pool);

		if (rc != 0) {
			base_err_set(err, BASE_E_INTERNAL, NULL,
			             "worker pool: cannot start a thread: %s",
			             strerror_r(rc, buf, sizeof(buf)));
			goto fail;
		}
	}
	*out = pool;
	return 0;

fail:
	net_work_pool_free(pool);
	return -1;
}

int net_work_submit(struct net_work_pool *pool, net_work_fn work, net_work_fn done, void *arg,
                    struct base_err *err)
{
	struct job *j;

	if (!work || !done) {
		return base_err_set(err, BASE_E_INVALID, NULL,
		                    "worker pool: a job needs work and done");
	}
	j = malloc(sizeof(*j));
	if (!j) {
		return base_err_set(err, BASE_E_INTERNAL, NULL, "worker pool: out of memory");
	}
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&pool->lock);
	if (pool->pending >= pool->queue_max || pool->stopping) {
		pthread_mutex_unlock(&pool->lock);
		free(j);
		return base_err_set(err, BASE_E_THROTTLED, NULL,
		                    "the server is busy with %u jobs; try again later",
		                    pool->queue_max);
	}
	pool->pending++;
	list_push(&pool->queued, j);
	pthread_cond_signal(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

unsigned net_work_pending(const struct net_work_pool *pool)
{
	struct net_work_pool *p = (struct net_work_pool *)pool;
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->pending;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void net_work_pool_free(struct net_work_pool *pool)
{
	if (!pool) {
		return;
	}
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->nthreads; i++) {
		pthread_join(pool->threads[i], NULL);
	}
	/* With no thread left (none started, or all joined), run what is still queued here so
	 * that every job still gets its done(). */
	struct job *j;

	while ((j = list_pop(&pool->queued))) {
		j->work(j->arg);
		list_push(&pool->finished, j);
	}
	run_finished(pool);
	if (pool->ev) {
		event_free(pool->ev);
	}
	if (pool->efd >= 0) {
		close(pool->efd);
	}
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	free(pool->threads);
	free(pool);
}
