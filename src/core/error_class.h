/*
 * error_class.h
 *		What a Cloud API error means for the message, the recipient and the
 *		number: classified once, here, for every code antiban knows.
 */
#ifndef ANTIBAN_ERROR_CLASS_H
#define ANTIBAN_ERROR_CLASS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ErrorAction
{
	ERROR_TRANSIENT,			/* retry with exponential backoff and jitter */
	ERROR_PERMANENT,			/* this message can not succeed as it is */
	ERROR_RECIPIENT_BACKOFF,	/* 131056: this pair only, 4^X seconds */
	ERROR_RETRY_NEXT_DAY,		/* 131049: not before 24 h, never counted as delivered */
	ERROR_SLOW_NUMBER,			/* 130429: retry, and slow the number down */
	ERROR_PAUSE_NUMBER			/* ban or account risk: pause the number, alert a person */
} ErrorAction;

typedef struct ErrorClass
{
	int			code;
	ErrorAction action;
	int			max_attempts;	/* for transient errors; 0: the global maximum */
	int64_t		min_delay_us;	/* never retry sooner than this */
	const char *meaning;
} ErrorClass;

extern ErrorClass error_classify(int code, int http_status);
extern const char *error_action_name(ErrorAction a);
extern bool error_is_account_signal(ErrorAction a);

#endif							/* ANTIBAN_ERROR_CLASS_H */
