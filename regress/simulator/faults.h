/*
 * faults.h — request-level fault injection (500s, 503s, slow answers,
 * dropped connections, lost replies) with a seeded RNG.
 */
#ifndef FAULTS_H
#define FAULTS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_faults
{
	double		fail_rate;		/* HTTP 500, code 131000 */
	double		error2_rate;	/* HTTP 503, code 2 */
	double		slow_rate;		/* answer slow_ms late */
	int			slow_ms;
	double		drop_rate;		/* close before processing, no answer */
	double		lost_reply_rate;	/* process, then close without answer */
} sim_faults;

typedef enum fault_kind
{
	FAULT_NONE,
	FAULT_DROP,
	FAULT_FAIL,
	FAULT_ERROR2
} fault_kind;

typedef struct fault_draw
{
	fault_kind	kind;
	int			delay_ms;
	bool		lost_reply;
} fault_draw;

extern sim_faults sim_fault_cfg;

void		faults_init(void);
void		faults_draw(fault_draw *d);
double		faults_uniform(void);
bool		faults_active(void);
void		faults_changed(void);

#endif							/* FAULTS_H */
