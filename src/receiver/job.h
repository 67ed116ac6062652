/*
 * job.h — antiban-receiver: a request's part for the database, and the
 * database's answer.  Plain C: the request struct includes it.
 */
#ifndef RECEIVER_JOB_H
#define RECEIVER_JOB_H

#include <stddef.h>
#include <stdint.h>

typedef enum db_outcome
{
	DB_UNAVAILABLE,				/* no connection, or any database error */
	DB_REFUSED,					/* verify: wrong token; ingest: bad signature */
	DB_ACCEPTED,				/* verify: token right; ingest: stored */
} db_outcome;

typedef enum job_kind
{
	JOB_INGEST,					/* a POST: body and signature header */
	JOB_VERIFY,					/* Meta's GET handshake: the verify token */
} job_kind;

typedef struct job
{
	job_kind	kind;
	const char *body;			/* JOB_INGEST; NULL when empty */
	size_t		len;
	const char *text;			/* JOB_INGEST: signature (NULL: none); JOB_VERIFY: token */
	db_outcome	outcome;		/* set before done() is called */
	int64_t		queued_ms;		/* monotonic */
	/* called once the outcome is set; the job may be gone when it returns */
	void		(*done) (struct job *j);
	struct job *next;
} job;

#endif							/* RECEIVER_JOB_H */
