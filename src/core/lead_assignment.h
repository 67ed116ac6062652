/*
 * lead_assignment.h
 *		Which agent gets a lead, or why it waits in the queue, and a sentence
 *		saying so.
 *
 * The caller hands over the portfolio's agents as they are now (presence,
 * shift, open leads, capacity, assignments in the fairness window, wins on
 * leads of each score band) and one lead (score, language, products, the
 * person's previous owner).  assign_choose() filters, in this order:
 * active, language, products, online and on shift, capacity, fairness
 * limit; the first filter that leaves nobody is the queue reason.  Among
 * those left, the policy orders:
 *
 *	round_robin		furthest below its fair share of the window, then
 *					longest since its last assignment
 *	least_loaded	lowest open/capacity, then fair share, then turn
 *	score_aware		the tier the score asks for (senior for hot leads,
 *					junior for cold ones, so seniors keep room for hot
 *					ones), then the best smoothed win rate on leads of the
 *					same score band, then load, fair share, turn
 *
 * A returning person goes back to their owner whenever that owner could
 * take a lead at all (active, online, on shift, below capacity): the
 * relationship outranks languages, products, fairness and policy.
 *
 * Fair share: over the agents who could take this lead, each agent's share
 * of their assignments in the window is proportional to its weight; the
 * deficit (assigned minus share) is shown as "fairness -2" (two below).
 * The fairness limit (per window, at weight 100, scaled by weight) is a
 * hard cap, as Chatwoot's fair_distribution_limit and Odoo's
 * assignment_max are.
 */
#ifndef ANTIBAN_LEAD_ASSIGNMENT_H
#define ANTIBAN_LEAD_ASSIGNMENT_H

#include <stdbool.h>
#include <stdint.h>

#define ASSIGN_EXPLANATION_MAX 384
#define ASSIGN_SCORE_BANDS 5	/* 0-19, 20-39, 40-59, 60-79, 80-100 */
/* Pseudo-count pulling an agent's win rate toward the team's in a band. */
#define ASSIGN_CONVERSION_PRIOR 5.0

typedef enum AssignPolicy
{
	ASSIGN_ROUND_ROBIN,
	ASSIGN_LEAST_LOADED,
	ASSIGN_SCORE_AWARE
} AssignPolicy;

typedef enum AgentPresence
{
	PRESENCE_ONLINE,
	PRESENCE_AWAY,				/* keeps its leads, gets no new ones */
	PRESENCE_OFFLINE			/* gets no new leads; unanswered ones move */
} AgentPresence;

typedef enum AgentTier
{
	TIER_JUNIOR,
	TIER_STANDARD,
	TIER_SENIOR
} AgentTier;

typedef enum QueueReason
{
	QUEUE_NONE,					/* assigned */
	QUEUE_NO_AGENTS,			/* no active agent (but the one it leaves) */
	QUEUE_NO_LANGUAGE,			/* nobody speaks the lead's language */
	QUEUE_NO_PRODUCT,			/* nobody who speaks it covers its products */
	QUEUE_NOBODY_AVAILABLE,		/* matching agents are away, offline or off shift */
	QUEUE_ALL_FULL,				/* available matching agents are at capacity */
	QUEUE_FAIRNESS_LIMIT		/* those with room reached their fairness limit */
} QueueReason;

typedef struct ConversionCount
{
	int			won;
	int			closed;			/* won + lost */
} ConversionCount;

typedef struct AssignAgent
{
	int64_t		id;
	const char *name;
	bool		active;			/* false: taken out of rotation */
	AgentPresence presence;
	bool		on_shift;
	AgentTier	tier;
	int			open_leads;
	int			capacity;
	int			recent;			/* assignments in the fairness window */
	int			weight;			/* share of assignments, 100 = normal */
	int64_t		rotation;		/* rises with each assignment; 0 = never assigned */
	const char *const *languages;
	int			nlanguages;
	const char *const *products;	/* none: covers every product */
	int			nproducts;
	ConversionCount conversion[ASSIGN_SCORE_BANDS];
} AssignAgent;

typedef struct AssignLead
{
	int			score;			/* 0-100, or -1: not scored */
	const char *language;		/* NULL: any */
	const char *const *products;
	int			nproducts;
	int64_t		returning_owner;	/* the person's previous owner, 0: none */
	int64_t		exclude_agent;	/* the owner it is moved away from, 0: none */
} AssignLead;

typedef struct AssignRules
{
	AssignPolicy policy;
	int			fairness_limit; /* per window at weight 100; 0: none */
	int			senior_score;	/* scores from here want a senior */
	int			standard_score; /* from here a standard agent, below a junior */
} AssignRules;

typedef struct AssignChoice
{
	int			agent;			/* index into the agents, or -1: the lead waits */
	QueueReason reason;
	bool		returning;		/* went back to the person's owner */
	double		fairness;		/* the chosen agent's deficit before this lead */
	char		explanation[ASSIGN_EXPLANATION_MAX];	/* UTF-8 */
} AssignChoice;

extern void assign_choose(const AssignAgent *agents, int nagents, const AssignLead *lead,
						  const AssignRules *rules, AssignChoice *out);

/* Count an assignment in the agent's state, so the next choice sees it. */
extern void assign_record(AssignAgent *agent, int64_t rotation);

/* Could this agent take any lead now (active, online, on shift, below capacity)? */
extern bool assign_agent_has_room(const AssignAgent *agent);

/* "pt-BR" is spoken by an agent who speaks "pt" (and the other way round). */
extern bool assign_language_matches(const char *spoken, const char *wanted);
extern int	assign_score_band(int score);
extern AgentTier assign_wanted_tier(const AssignRules *rules, int score);

extern const char *assign_policy_name(AssignPolicy policy);
extern bool assign_policy_parse(const char *name, AssignPolicy *out);
extern const char *agent_presence_name(AgentPresence presence);
extern bool agent_presence_parse(const char *name, AgentPresence *out);
extern const char *agent_tier_name(AgentTier tier);
extern bool agent_tier_parse(const char *name, AgentTier *out);
extern const char *queue_reason_name(QueueReason reason);

#endif							/* ANTIBAN_LEAD_ASSIGNMENT_H */
