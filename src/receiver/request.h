/*
 * request.h — antiban-receiver: what is kept about one HTTP request.
 */
#ifndef RECEIVER_REQUEST_H
#define RECEIVER_REQUEST_H

#include "config.h"
#include "job.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct request
{
	struct timespec started;	/* CLOCK_MONOTONIC, at the end of the headers */
	char		method[LOG_METHOD_MAX];	/* sanitized, for the log */
	char		path[LOG_PATH_MAX];	/* sanitized, without the query string */
	int			status;			/* HTTP status queued; 0 = none yet */
	char	   *body;			/* raw POST body, NULL until the first byte */
	size_t		len;
	size_t		cap;
	size_t		received;		/* body bytes read, kept or not */
	bool		too_large;		/* over --max-body: nothing more is kept */
	struct MHD_Connection *conn;	/* suspended while job waits */
	job			job;			/* the database's part, when it has one */
	bool		answered_by_db; /* job.outcome is set: answer it */
} request;

#endif							/* RECEIVER_REQUEST_H */
