/*
 * queue.c — antiban-receiver: requests waiting for the database, and the
 * threads that take them to it many at a time.
 *
 * Batching is natural: a batcher that comes back from the database takes
 * everything that arrived meanwhile, so at a trickle each POST gets its own
 * transaction and under load the transactions grow (up to --batch POSTs or
 * BATCH_MAX_BYTES) instead of queueing one commit each.  The queue is
 * bounded (--queue jobs, QUEUE_MAX_BYTES of bodies): past that, and for a
 * job that waited QUEUE_WAIT_MS, the answer is 503 and Meta retries later.
 */
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static job *head,
		   *tail;
static int	length;
static size_t bytes;
static bool stopping;
static int	batch_max,
			queue_max;
static pthread_t *batchers;
static int	nbatchers;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the first job off the queue; under the lock. */
static job *
pop(void)
{
	job		   *j = head;

	head = j->next;
	if (!head)
		tail = NULL;
	j->next = NULL;
	length--;
	bytes -= j->len;
	metrics_queue_length(length);
	return j;
}

static void
finish(job *j, db_outcome outcome)
{
	j->outcome = outcome;
	j->done(j);
}

bool
queue_push(job *j, void (*suspend) (void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	if (stopping || length >= queue_max || bytes + j->len > QUEUE_MAX_BYTES)
	{
		pthread_mutex_unlock(&lock);
		return false;
	}
	suspend(arg);
	j->queued_ms = now_ms();
	j->next = NULL;
	if (tail)
		tail->next = j;
	else
		head = j;
	tail = j;
	length++;
	bytes += j->len;
	metrics_queue_length(length);
	pthread_cond_signal(&arrived);
	pthread_mutex_unlock(&lock);
	return true;
}

/*
 * The next piece of work, in arrival order: one verification, or the
 * ingest jobs at the head of the queue (up to batch_max and
 * BATCH_MAX_BYTES, at least one).  0 once stopping and empty.
 */
static int
take(job **out)
{
	int			n = 0;
	size_t		taken = 0;

	pthread_mutex_lock(&lock);
	while (!head && !stopping)
		pthread_cond_wait(&arrived, &lock);
	if (head && head->kind == JOB_VERIFY)
		out[n++] = pop();
	else
		while (head && head->kind == JOB_INGEST && n < batch_max &&
			   (n == 0 || taken + head->len <= BATCH_MAX_BYTES))
		{
			taken += head->len;
			out[n++] = pop();
		}
	pthread_mutex_unlock(&lock);
	return n;
}

static void
run_ingest(job **jobs, int n)
{
	const char **bodies = malloc(sizeof(char *) * n);
	const char **signatures = malloc(sizeof(char *) * n);
	size_t	   *lens = malloc(sizeof(size_t) * n);
	db_outcome *outcomes = malloc(sizeof(db_outcome) * n);

	if (!bodies || !signatures || !lens || !outcomes)
		abort();				/* out of memory */
	for (int i = 0; i < n; i++)
	{
		bodies[i] = jobs[i]->body;
		lens[i] = jobs[i]->len;
		signatures[i] = jobs[i]->text;
	}
	db_ingest_batch(n, bodies, lens, signatures, outcomes);
	metrics_batch(n);
	for (int i = 0; i < n; i++)
		finish(jobs[i], outcomes[i]);
	free(bodies);
	free(signatures);
	free(lens);
	free(outcomes);
}

static void *
batcher(void *arg)
{
	job		  **jobs = malloc(sizeof(job *) * batch_max);
	int			n;

	(void) arg;
	if (!jobs)
		abort();
	while ((n = take(jobs)) > 0)
	{
		if (jobs[0]->kind == JOB_VERIFY)
			finish(jobs[0], db_verify(jobs[0]->text));
		else
			run_ingest(jobs, n);
	}
	free(jobs);
	return NULL;
}

bool
queue_start(int threads, int batch, int max_jobs)
{
	batch_max = batch;
	queue_max = max_jobs;
	batchers = calloc(threads, sizeof(pthread_t));
	if (!batchers)
		return false;
	for (nbatchers = 0; nbatchers < threads; nbatchers++)
		if (pthread_create(&batchers[nbatchers], NULL, batcher, NULL) != 0)
		{
			log_line("cannot start database thread %d: out of resources", nbatchers + 1);
			queue_stop();
			return false;
		}
	return true;
}

void
queue_expire(void)
{
	job		   *expired = NULL;
	int64_t		cutoff = now_ms() - QUEUE_WAIT_MS;
	int			n = 0;

	pthread_mutex_lock(&lock);
	while (head && head->queued_ms < cutoff)
	{
		job		   *j = pop();

		j->next = expired;
		expired = j;
		n++;
	}
	pthread_mutex_unlock(&lock);
	if (n > 0)
		log_line("%d requests waited %d ms for the database: answered 503", n, QUEUE_WAIT_MS);
	while (expired)
	{
		job		   *j = expired;

		expired = j->next;
		finish(j, DB_UNAVAILABLE);
	}
}

int
queue_length(void)
{
	int			n;

	pthread_mutex_lock(&lock);
	n = length;
	pthread_mutex_unlock(&lock);
	return n;
}

void
queue_stop(void)
{
	job		   *left = NULL;

	pthread_mutex_lock(&lock);
	stopping = true;
	while (head)
	{
		job		   *j = pop();

		j->next = left;
		left = j;
	}
	pthread_cond_broadcast(&arrived);
	pthread_mutex_unlock(&lock);
	while (left)
	{
		job		   *j = left;

		left = j->next;
		finish(j, DB_UNAVAILABLE);
	}
	for (int i = 0; i < nbatchers; i++)
		pthread_join(batchers[i], NULL);
	free(batchers);
	batchers = NULL;
	nbatchers = 0;
}
