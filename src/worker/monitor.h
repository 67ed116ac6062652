/*
 * monitor.h
 *		The monitor background worker: health and modes, early warnings,
 *		Graph API polls within Meta's management rate limit, alert delivery.
 */
#ifndef ANTIBAN_MONITOR_H
#define ANTIBAN_MONITOR_H

#include "pg/antiban.h"

/* monitor_poll.c: poll every WABA that is due; returns the calls made. */
extern int	monitor_poll_due(void);

/* monitor_alerts.c: post undelivered alerts to antiban.alert_webhook_url. */
extern int	monitor_deliver_alerts(void);

#endif							/* ANTIBAN_MONITOR_H */
