/*
 * lead_assign.h
 *		The adapters between antiban's lead tables and src/core's
 *		lead_assignment.c and business_hours.c.
 *
 * lead_assign_hours.c	an agent's weekly shifts read in its time zone from
 *						PostgreSQL's tz database
 * lead_assign_roster.c	a portfolio's agents, locked in id order, with their
 *						load, fair-share counts and win rates
 * lead_assign_write.c	assignments, queue entries and missed SLAs written
 *						in batches
 * lead_assign.c		the runs (leads given, the queue, the sweep of
 *						unanswered leads) and their SQL entry points
 *
 * Lock order, everywhere: a lead a caller names is locked first (waiting);
 * then the portfolio's assignment lock (antiban.lock_lead_assignment);
 * leads found while holding it are claimed with SKIP LOCKED, never waited
 * for.  Two runs on one portfolio are therefore serialized, and each counts
 * load after taking the lock, so capacity holds.
 */
#ifndef ANTIBAN_LEAD_ASSIGN_H
#define ANTIBAN_LEAD_ASSIGN_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"

#include "core/business_hours.h"
#include "core/lead_assignment.h"

/* The portfolio's row of antiban.lead_routing (created with defaults when missing). */
typedef struct Routing
{
	AssignRules rules;
	int64		first_response_sla; /* microseconds of business time */
	int64		fairness_window;	/* microseconds */
	int64		queue_aging;	/* microseconds of waiting worth one score point */
	int64		conversion_window;	/* microseconds */
	char	   *first_response_sla_text;	/* as people read it: "15 min" */
} Routing;

typedef struct AgentHours
{
	pg_tz	   *zone;
	WeeklySchedule schedule;
} AgentHours;

typedef struct Roster
{
	int64		portfolio_id;
	TimestampTz now;
	int			n;
	AssignAgent *agents;		/* in id order */
	AgentHours *hours;			/* same order */
	int64		rotation;		/* the latest assignment id seen, then counted up */
} Roster;

/* lead_assign_hours.c */
extern pg_tz *lead_hours_zone(const char *name);
extern void lead_hours_load(AgentHours *hours, int64 *agent_ids, int n);
extern bool lead_hours_on_shift(const AgentHours *h, TimestampTz at);
extern TimestampTz lead_hours_deadline(const AgentHours *h, TimestampTz start, int64 business);

/* lead_assign_roster.c */
struct Privileged;
extern void lead_privileged_begin(struct Privileged *p);
extern Routing routing_load(int64 portfolio_id);
extern void roster_lock(int64 portfolio_id);
extern void roster_load(Roster *r, int64 portfolio_id, TimestampTz now, const Routing *routing);
extern int	roster_find(const Roster *r, int64 agent_id);
extern bool roster_has_room(const Roster *r);
extern Datum text_array_datum(const char *const *items, int n);
extern char **text_array_items(Datum array, int *n);

/* lead_assign_write.c: one batch of decisions, written by lead_batch_flush() */
typedef struct LeadBatch LeadBatch;

typedef enum MoveCause
{
	CAUSE_ASSIGN,				/* assign_lead, or a new qualified lead */
	CAUSE_QUEUE,				/* drained from the queue */
	CAUSE_SLA_MISSED,			/* first response overdue */
	CAUSE_AGENT_OFFLINE,
	CAUSE_AGENT_INACTIVE,
	CAUSE_OFF_SHIFT
} MoveCause;

typedef struct Assignment
{
	int64		lead_id;
	int64		agent_id;
	int64		previous_agent_id;	/* 0: none */
	int64		previous_assignment;	/* 0: none */
	MoveCause	cause;
	const char *policy;			/* a policy name, or "returning" */
	const char *explanation;
	int			score;			/* -1: none */
	int			open_leads;		/* before this lead */
	int			capacity;
	double		fairness;
	TimestampTz sla_due_at;		/* DT_NOEND: no SLA clock */
} Assignment;

extern const char *move_cause_name(MoveCause cause);
extern LeadBatch *lead_batch_new(int64 portfolio_id, TimestampTz now);
extern void lead_batch_assign(LeadBatch *b, const Assignment *a);
extern void lead_batch_queue(LeadBatch *b, int64 lead_id, QueueReason reason, const char *explanation);
extern void lead_batch_missed(LeadBatch *b, int64 lead_id, int64 assignment_id, int64 owner,
							  const char *detail);
extern int	lead_batch_size(const LeadBatch *b);
/* Writes everything batched; returns the first assignment's id (0 if none). */
extern int64 lead_batch_flush(LeadBatch *b);

#endif							/* ANTIBAN_LEAD_ASSIGN_H */
