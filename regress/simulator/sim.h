/*
 * sim.h — shared declarations for antiban-sim, the WhatsApp Cloud API
 * simulator used by antiban's regression tests and benchmarks.
 *
 * Concurrency model: libmicrohttpd runs a small thread pool; the webhook
 * poster and the delay timer have one thread each.  All mutable simulator
 * state (numbers, limits, ledger, webhook queues, sink) is guarded by the
 * single mutex sim_lock.  Critical sections are kept short: JSON parsing and
 * response formatting happen outside it.
 */
#ifndef SIM_H
#define SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_VERSION "1.0"
/* Meta accepts webhook payloads up to 3 MB; we use the same cap for requests. */
#define SIM_MAX_BODY (3 * 1024 * 1024)

extern pthread_mutex_t sim_lock;

#define SIM_LOCK()   pthread_mutex_lock(&sim_lock)
#define SIM_UNLOCK() pthread_mutex_unlock(&sim_lock)

/* Command-line settings; the runtime copies live in the modules' state and
 * are restored from here by POST /_sim/reset. */
typedef struct sim_options
{
	const char *listen_addr;
	int			port;
	const char *port_file;
	const char *version_prefix; /* NULL: accept any /vNN.N/ or none */
	const char *token;			/* NULL: any non-empty bearer */
	int			threads;
	int64_t		default_throughput;
	double		fail_rate;
	double		error2_rate;
	double		slow_rate;
	int			slow_ms;
	double		drop_rate;
	double		lost_reply_rate;
	uint64_t	seed;
	bool		seed_given;
	const char *webhook_url;
	const char *app_secret;
	int			webhook_batch;
	int			webhook_delay_ms;
	int			webhook_concurrency;
	int			webhook_retry_ms;
	int			webhook_retry_max_ms;
	double		read_rate;
	const char *ledger_file;
	const char *config_file;
	char	   *config_text;	/* contents of --config, re-applied on reset */
	int64_t		mgmt_limit;
	bool		strict_numbers;
	int64_t		pair_capacity;
	double		pair_refill_seconds;
	int64_t		marketing_cap;
	int64_t		max_ledger;
	bool		verbose;
} sim_options;

extern sim_options sim_opts;

/* util.c */
void	   *xmalloc(size_t n);
void	   *xcalloc(size_t n, size_t size);
void	   *xrealloc(void *p, size_t n);
char	   *xstrdup(const char *s);
void		xfree_str(char **p);
void		xset_str(char **p, const char *s);
void		sim_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		sim_debug(const char *fmt,...) __attribute__((format(printf, 1, 2)));
int64_t		sim_mono_ms(void);
int64_t		sim_wall_ms(void);
void		sim_clock_advance(int64_t ms);
int64_t		sim_clock_offset(void);
size_t		utf8_chars(const char *s);
uint64_t	rng_next(uint64_t *state);
double		rng_double(uint64_t *state);
void		fbtrace_id(char out[24]);
bool		ascii_upper_eq(const char *a, const char *b);
void		str_lower(char *dst, const char *src, size_t dstlen);
size_t		digits_only(char *dst, const char *src, size_t dstlen);

#endif							/* SIM_H */
