/*
 * faults.c — see faults.h.  Guarded by sim_lock.
 *
 * Every Graph request draws the same five numbers in the same order, so a
 * given --seed and request sequence always injects the same faults.  The
 * webhook read-rate uses a second stream so webhook timing cannot perturb
 * the request faults.
 */
#include "faults.h"
#include "ledger.h"
#include "sim.h"

#include <time.h>
#include <unistd.h>

sim_faults	sim_fault_cfg;
static uint64_t request_rng;
static uint64_t webhook_rng;

void
faults_init(void)
{
	uint64_t	seed = sim_opts.seed_given ? sim_opts.seed :
		((uint64_t) time(NULL) << 16) ^ (uint64_t) getpid();

	sim_fault_cfg.fail_rate = sim_opts.fail_rate;
	sim_fault_cfg.error2_rate = sim_opts.error2_rate;
	sim_fault_cfg.slow_rate = sim_opts.slow_rate;
	sim_fault_cfg.slow_ms = sim_opts.slow_ms;
	sim_fault_cfg.drop_rate = sim_opts.drop_rate;
	sim_fault_cfg.lost_reply_rate = sim_opts.lost_reply_rate;
	request_rng = seed;
	webhook_rng = seed ^ 0x5bd1e9955bd1e995ULL;
}

void
faults_draw(fault_draw *d)
{
	double		drop = rng_double(&request_rng),
				fail = rng_double(&request_rng),
				err2 = rng_double(&request_rng),
				slow = rng_double(&request_rng),
				lost = rng_double(&request_rng);

	d->kind = FAULT_NONE;
	d->delay_ms = 0;
	d->lost_reply = false;
	if (drop < sim_fault_cfg.drop_rate)
	{
		d->kind = FAULT_DROP;
		sim_ledger.dropped++;
		return;
	}
	if (fail < sim_fault_cfg.fail_rate)
	{
		d->kind = FAULT_FAIL;
		sim_ledger.fault_fail++;
		sim_ledger.errors_injected++;
	}
	else if (err2 < sim_fault_cfg.error2_rate)
	{
		d->kind = FAULT_ERROR2;
		sim_ledger.fault_error2++;
		sim_ledger.errors_injected++;
	}
	if (slow < sim_fault_cfg.slow_rate && sim_fault_cfg.slow_ms > 0)
	{
		d->delay_ms = sim_fault_cfg.slow_ms;
		sim_ledger.slowed++;
	}
	if (lost < sim_fault_cfg.lost_reply_rate)
	{
		d->lost_reply = true;
		sim_ledger.lost_replies++;
	}
}

double
faults_uniform(void)
{
	return rng_double(&webhook_rng);
}
