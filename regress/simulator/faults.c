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
/* Set when any fault rate is non-zero, so requests can skip the lock and
 * the RNG entirely in the common fault-free case.  Skipping draws while
 * inactive keeps runs deterministic: the RNG only moves when faults are on. */
static bool active;
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
	faults_changed();
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

/* Call after changing sim_fault_cfg (sim_lock held). */
void
faults_changed(void)
{
	const sim_faults *f = &sim_fault_cfg;
	bool		on = f->fail_rate > 0 || f->error2_rate > 0 || f->drop_rate > 0 ||
		f->lost_reply_rate > 0 || (f->slow_rate > 0 && f->slow_ms > 0);

	__atomic_store_n(&active, on, __ATOMIC_RELEASE);
}

bool
faults_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}
