/*
 * queue.h — antiban-receiver: requests waiting for the database, and the
 * threads that take them to it many at a time.
 *
 * A request whose body is in (or a verification GET) becomes a job; its
 * connection is suspended, so the HTTP threads go on serving others while
 * the database works.  A batcher thread takes every ingest job waiting (up
 * to --batch) into one call of antiban.ingest_webhooks, one transaction,
 * one durable commit; each job's outcome is set and its done() called,
 * which resumes the connection for the answer.
 */
#ifndef RECEIVER_QUEUE_H
#define RECEIVER_QUEUE_H

#include "job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Starts the batcher threads, one per database connection.  batch_max:
 * most POSTs in one call; queue_max: most jobs waiting before 503.
 */
extern bool queue_start(int threads, int batch_max, int queue_max);

/*
 * Adds a job, first calling suspend(arg) under the queue's lock so that
 * no batcher can finish it before its connection is suspended.  False
 * (nothing called) when the queue is full or stopping: answer 503.
 */
extern bool queue_push(job *j, void (*suspend) (void *arg), void *arg);

/* Jobs waiting longer than QUEUE_WAIT_MS are finished DB_UNAVAILABLE. */
extern void queue_expire(void);

/* Jobs waiting now. */
extern int	queue_length(void);

/*
 * Refuses new jobs, finishes the waiting ones DB_UNAVAILABLE, and waits
 * for the batches under way.
 */
extern void queue_stop(void);

#endif							/* RECEIVER_QUEUE_H */
