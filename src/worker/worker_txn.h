/*
 * worker_txn.h
 *		Short transactions for antiban's background workers: begin with a
 *		snapshot and SPI, commit, and tell pg_stat_activity what happens;
 *		and what SIGTERM does to a statement in progress.
 */
#ifndef ANTIBAN_WORKER_TXN_H
#define ANTIBAN_WORKER_TXN_H

#include "postgres.h"

extern void worker_register(const char *name, const char *type, const char *function_name,
							Datum arg, int restart_seconds);
extern void worker_connect(const char *appname);
extern void worker_handle_signals(void);
extern void worker_wait_ms(int ms);
extern void worker_sigterm(SIGNAL_ARGS);
extern void worker_finish_statements_on_sigterm(void);
extern void worker_begin(const char *activity);
extern void worker_begin_to_finish(const char *activity);
extern void worker_commit(void);
extern bool worker_run_stoppable(const char *activity, void (*step) (void *arg), void *arg,
								 int deadline_ms);
extern bool worker_extension_present(void);
extern void worker_report_idle(const char *what);

#endif							/* ANTIBAN_WORKER_TXN_H */
