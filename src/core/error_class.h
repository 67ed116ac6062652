/*
 * error_class.h
 *		What each Cloud API error code does, decided once, here: for the
 *		message (retry or fail), the number (pause it, slow it), the
 *		recipient (back off the pair, defer their marketing, opt them out),
 *		the health score (which count it feeds) and the people watching (which
 *		alert).  The sender's record step and the webhooks' failed statuses
 *		both act from this table (src/pg/error_consequences.c); SQL sees it as
 *		antiban.error_action() and antiban.meta_codes().
 */
#ifndef ANTIBAN_ERROR_CLASS_H
#define ANTIBAN_ERROR_CLASS_H

#include <stdbool.h>
#include <stdint.h>

#include "health.h"

/* What becomes of the message that met the error. */
typedef enum ErrorKind
{
	ERROR_TRANSIENT,			/* it may go again, after a backoff */
	ERROR_PERMANENT				/* it fails: it can not succeed as it is */
} ErrorKind;

/* What becomes of the number that met it. */
typedef enum PauseKind
{
	PAUSE_NONE,
	PAUSE_SOFT,					/* out of rotation, back by itself after
								 * antiban.pause_cooldown if its health allows */
	PAUSE_HARD					/* out of rotation until a person resumes it */
} PauseKind;

/* The antiban.alert_severity labels, and none. */
typedef enum AlertSeverity
{
	ALERT_NONE,
	ALERT_INFO,
	ALERT_WARNING,
	ALERT_CRITICAL
} AlertSeverity;

typedef struct ErrorClass
{
	int			code;
	int			last_code;		/* the row covers code..last_code (0: code) */
	ErrorKind	kind;
	int			max_attempts;	/* transient: 0 is the global maximum */
	int64_t		min_delay_us;	/* never retry the message sooner */
	PauseKind	pause;
	bool		slow_number;	/* congestion: one AIMD decrease (rate_control.c) */
	bool		recipient_backoff;	/* this pair waits 4^X s, its bucket drained */
	int64_t		defer_marketing_us; /* the person's marketing waits this long */
	bool		opt_out;		/* the person stopped marketing from us */
	HealthCounter counter;		/* the health count it feeds */
	const char *alert_kind;		/* NULL: no alert of its own */
	AlertSeverity severity;
	const char *meaning;
} ErrorClass;

extern ErrorClass error_classify(int code, int http_status);
extern int	error_table_size(void);
extern const ErrorClass *error_table_row(int i);
extern const char *error_summary(const ErrorClass *e);
extern const char *error_kind_name(ErrorKind k);
extern const char *pause_kind_name(PauseKind p);
extern const char *alert_severity_name(AlertSeverity s);

#endif							/* ANTIBAN_ERROR_CLASS_H */
