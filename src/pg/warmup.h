/*
 * warmup.h
 *		The warm-up schedule's adapter (see warmup.c).
 */
#ifndef ANTIBAN_PG_WARMUP_H
#define ANTIBAN_PG_WARMUP_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "core/warmup.h"

/* A number's warm-up as antiban.number_signals() reports it. */
typedef struct WarmupRow
{
	int64		id;
	WarmupState state;
	int64		cap;			/* as last written; 0: none */
	TimestampTz full_until;		/* 0: not full */
} WarmupRow;

extern WarmupParams antiban_warmup_params(void);
extern const char *warmup_evaluate(const WarmupRow *w, const WarmupInput *in,
								   bool warming, bool may_graduate, bool *graduated);

#endif							/* ANTIBAN_PG_WARMUP_H */
