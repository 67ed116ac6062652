/*
 * lead_llm.h
 *		The optional LLM step of lead qualification: its settings, its SQL
 *		helpers (src/pg/lead_llm.c) and its background worker
 *		(src/worker/lead_llm_worker.c).
 */
#ifndef ANTIBAN_PG_LEAD_LLM_H
#define ANTIBAN_PG_LEAD_LLM_H

#include "postgres.h"

/* lead_llm_guc.c */
extern char *antiban_lead_llm_url;
extern char *antiban_lead_llm_model;
extern int	antiban_lead_llm_timeout_ms;
extern int	antiban_lead_llm_daily_budget;
extern int	antiban_lead_llm_poll_ms;
extern void antiban_define_lead_llm_gucs(void);

/* lead_llm_worker.c */
extern void antiban_register_lead_llm(void);

#endif							/* ANTIBAN_PG_LEAD_LLM_H */
