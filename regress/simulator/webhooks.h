/*
 * webhooks.h — status webhooks (sent, delivered, read, failed) posted to
 * --webhook-url in Meta's envelope, signed with X-Hub-Signature-256, from
 * a dedicated libcurl thread that retries until the receiver answers 2xx.
 */
#ifndef WEBHOOKS_H
#define WEBHOOKS_H

#include <stdbool.h>

#include "ledger.h"
#include "sbuf.h"

typedef struct wh_settings
{
	char	   *url;			/* NULL: webhooks off */
	char	   *secret;			/* app secret for the signature */
	int			batch;			/* max statuses per POST */
	int			delay_ms;		/* before each status */
	double		read_rate;		/* share of delivered messages also read */
	int			concurrency;	/* POSTs in flight */
	int			retry_ms;		/* first retry delay, doubled per attempt */
	int			retry_max_ms;
} wh_settings;

extern wh_settings sim_wh;

/* All below except start/stop expect sim_lock held. */
void		webhooks_init(void);
void		webhooks_clear(void);
void		webhooks_enqueue(sim_msg *m);
void		webhooks_summary(sbuf *b);
void		webhooks_reset_settings(void);
void		webhook_sign(const char *secret, const char *body, size_t len, char out[72]);
bool		webhooks_start(void);
void		webhooks_stop(void);

#endif							/* WEBHOOKS_H */
