/*
 * delay.c — see delay.h.  A binary min-heap of (due time, connection)
 * under its own mutex; the timer thread sleeps on a condition variable
 * until the earliest entry is due.
 */
#include "delay.h"
#include "sim.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <time.h>

typedef struct delayed
{
	int64_t		due;			/* CLOCK_MONOTONIC ms (no sim offset) */
	struct MHD_Connection *conn;
} delayed;

static pthread_mutex_t dlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dcond;
static pthread_t thread;
static delayed *heap;
static size_t nheap;
static size_t heap_cap;
static bool stopping;
static bool started;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
heap_swap(size_t a, size_t b)
{
	delayed		t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
}

static void
heap_push(delayed d)
{
	size_t		i;

	if (nheap == heap_cap)
	{
		heap_cap = heap_cap ? heap_cap * 2 : 64;
		heap = xrealloc(heap, heap_cap * sizeof(delayed));
	}
	i = nheap++;
	heap[i] = d;
	while (i > 0 && heap[(i - 1) / 2].due > heap[i].due)
	{
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static delayed
heap_pop(void)
{
	delayed		top = heap[0];
	size_t		i = 0;

	heap[0] = heap[--nheap];
	for (;;)
	{
		size_t		l = 2 * i + 1,
					r = l + 1,
					m = i;

		if (l < nheap && heap[l].due < heap[m].due)
			m = l;
		if (r < nheap && heap[r].due < heap[m].due)
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	return top;
}

static void
wait_until(int64_t due)
{
	struct timespec ts = {.tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000};

	pthread_cond_timedwait(&dcond, &dlock, &ts);
}

static void *
timer_main(void *arg)
{
	(void) arg;
	pthread_mutex_lock(&dlock);
	while (!stopping)
	{
		if (nheap == 0)
			pthread_cond_wait(&dcond, &dlock);
		else if (heap[0].due > now_ms())
			wait_until(heap[0].due);
		else
			MHD_resume_connection(heap_pop().conn);
	}
	while (nheap > 0)
		MHD_resume_connection(heap_pop().conn);
	pthread_mutex_unlock(&dlock);
	return NULL;
}

bool
delay_start(void)
{
	pthread_condattr_t attr;

	/* Timed waits on the monotonic clock, matching now_ms(). */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&dcond, &attr);
	pthread_condattr_destroy(&attr);
	stopping = false;
	if (pthread_create(&thread, NULL, timer_main, NULL) != 0)
		return false;
	started = true;
	return true;
}

void
delay_add(struct MHD_Connection *c, int ms)
{
	pthread_mutex_lock(&dlock);
	if (stopping)
		MHD_resume_connection(c);
	else
	{
		heap_push((delayed) {.due = now_ms() + ms, .conn = c});
		pthread_cond_signal(&dcond);
	}
	pthread_mutex_unlock(&dlock);
}

void
delay_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&dlock);
	stopping = true;
	pthread_cond_signal(&dcond);
	pthread_mutex_unlock(&dlock);
	pthread_join(thread, NULL);
	free(heap);
	heap = NULL;
	nheap = heap_cap = 0;
	started = false;
}
