/*
 * frequency_cap.h
 *		How often a person may receive business-initiated messages of one
 *		category: at most 'count' in any sliding window of 'window' (for
 *		example marketing 2 per 7 days).
 *
 * Meta caps marketing per user across all businesses (131049) and rates a
 * number by how people react to it; a cap of our own keeps any one person
 * from hearing from us too often long before that.  A person's recent
 * sends are kept in a small log per category (newest first), bounded so a
 * record fits in shared memory: a cap may count at most
 * FREQUENCY_LOG_SIZE sends.
 */
#ifndef ANTIBAN_FREQUENCY_CAP_H
#define ANTIBAN_FREQUENCY_CAP_H

#include <stdbool.h>
#include <stdint.h>

#define FREQUENCY_LOG_SIZE 4

/* The categories a cap can apply to (authentication and service never wait on one). */
typedef enum CapCategory
{
	CAP_MARKETING,
	CAP_UTILITY,
	CAP_CATEGORIES
} CapCategory;

/* Most recent sends, newest first; 0 marks an empty place. */
typedef struct FrequencyLog
{
	int64_t		at[FREQUENCY_LOG_SIZE];
} FrequencyLog;

typedef struct FrequencyCap
{
	int			count;			/* 0: no cap */
	int64_t		window;			/* microseconds */
} FrequencyCap;

typedef struct FrequencyCaps
{
	FrequencyCap cap[CAP_CATEGORIES];
} FrequencyCaps;

extern void frequency_log_init(FrequencyLog *log);

/* A send at 'at' (kept if it is among the FREQUENCY_LOG_SIZE newest). */
extern void frequency_log_record(FrequencyLog *log, int64_t at);

/*
 * Fold another log of the same person into 'into': the newest sends of
 * both, a send present in both counted once (merging is idempotent).
 */
extern void frequency_log_merge(FrequencyLog *into, const FrequencyLog *from);

/* How many logged sends fall in (now - window, now]. */
extern int	frequency_log_count(const FrequencyLog *log, int64_t window, int64_t now);

/*
 * The earliest time at or after 'now' when one more send keeps at most
 * cap->count in every window: 'now' when there is room (or no cap), else
 * the time the count-th newest send leaves the window.
 */
extern int64_t frequency_cap_ready_at(const FrequencyLog *log, const FrequencyCap *cap, int64_t now);

/*
 * Parse "marketing=2/7d, utility=5/1d" (units s, min, h, d; an empty
 * string: no caps).  Categories not named have no cap.  False with *why
 * set for anything else.
 */
extern bool frequency_caps_parse(const char *text, FrequencyCaps *out, const char **why);

#endif							/* ANTIBAN_FREQUENCY_CAP_H */
