/*
 * reach_window.h
 *		A portfolio's messaging limit: unique recipients reached with
 *		business-initiated templates over a moving 24 hours.
 *
 * Meta counts a user while any such message to them lies in the last 24 h.
 * We keep, per recipient, the time of their latest counted message (in the
 * caller's recipient table) and here, per portfolio, how many recipients'
 * latest reach falls in each minute of the window.  Every operation is O(1)
 * amortised: advancing the window subtracts the minutes that fall out.
 * Minute granularity errs on the safe side: a recipient is released up to
 * one minute after Meta would release them, never before.
 */
#ifndef ANTIBAN_REACH_WINDOW_H
#define ANTIBAN_REACH_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define REACH_MINUTE_US		INT64_C(60000000)
/* 24 h plus the minute being written: the conservative window. */
#define REACH_WINDOW_SLOTS	1441
/* "No counted reach": recipients start here. */
#define REACH_NEVER			INT64_MIN

typedef struct ReachWindow
{
	int64_t		head_minute;	/* newest minute accounted for */
	int64_t		total;			/* recipients counted in the window */
	uint32_t	counts[REACH_WINDOW_SLOTS];
} ReachWindow;

extern void reach_window_init(ReachWindow *w, int64_t now);
extern void reach_window_advance(ReachWindow *w, int64_t now);
extern bool reach_window_counts(const ReachWindow *w, int64_t last_reach);
extern bool reach_window_record(ReachWindow *w, int64_t last_reach, int64_t now);
extern void reach_window_forget(ReachWindow *w, int64_t last_reach);
extern void reach_window_restore(ReachWindow *w, int64_t last_reach);
extern int64_t reach_window_ready_at(const ReachWindow *w, int64_t limit, int64_t now);
extern int64_t reach_window_expires_at(int64_t last_reach);

#endif							/* ANTIBAN_REACH_WINDOW_H */
