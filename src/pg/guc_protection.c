/*
 * guc_protection.c
 *		antiban.* parameters of protection: the health score's window, the
 *		mode controller, the warm-up schedule, the monitor's schedule and
 *		alert delivery.
 *
 * All reload on SIGHUP; the monitor re-reads them on its next tick.
 */
#include "pg/antiban.h"

#include "utils/guc.h"

#include "core/health.h"

bool		antiban_protection = true;
int			antiban_monitor_interval_ms = 10000;
int			antiban_health_window_s = 3600;
int			antiban_recovery_half_life_s = 1800;
int			antiban_throttle_below = 70;
int			antiban_pause_below = 30;
int			antiban_resume_at = 60;
double		antiban_aimd_decrease = 0.5;
double		antiban_aimd_increase = 0.1;
int			antiban_aimd_interval_s = 300;
int			antiban_aimd_probe_interval_s = 30;
int			antiban_pause_cooldown_s = 1800;
int			antiban_recovery_ramp_s = 7200;
int			antiban_poll_interval_ms = 300000;
int			antiban_mgmt_requests_per_hour = 200;
char	   *antiban_alert_webhook_url = NULL;
int			antiban_template_hold_s = 300;
char	   *antiban_health_weights = NULL;
int			antiban_warmup_start_daily = 250;
double		antiban_warmup_growth = 2.0;
int			antiban_warmup_max_daily = 100000;
int			antiban_warmup_gate_health = 80;
int			antiban_warmup_spread_s = 8 * 3600;

/* A weights setting that does not parse is refused with the reason. */
static bool
check_health_weights(char **newval, void **extra, GucSource source)
{
	HealthWeights w = health_weights_default();
	char		err[160];

	if (health_weights_apply(&w, *newval, err, sizeof(err)))
		return true;
	GUC_check_errdetail("%s.", err);
	GUC_check_errhint("Write name=value pairs separated by commas, e.g. 'quality_red=60, spam_cap=50'; the names are listed in the README.");
	return false;
}

/* The weights in force: the defaults, then antiban.health_weights, then antiban.recovery_half_life. */
HealthWeights
antiban_health_weights_in_force(void)
{
	HealthWeights w = health_weights_default();
	char		err[160];

	if (!health_weights_apply(&w, antiban_health_weights, err, sizeof(err)))
		w = health_weights_default();	/* cannot happen: the check hook refused it */
	w.recovery_half_life_s = antiban_recovery_half_life_s;
	return w;
}

static void
define_controller_settings(void)
{
	DefineCustomBoolVariable("antiban.protection",
							 "Let health move numbers between modes and rates (off: a naive sender, for comparison).",
							 "Off, antiban still scores numbers, but never throttles, pauses or ramps them by itself.",
							 &antiban_protection, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("antiban.health_weights",
							   "Health score weights that differ from the defaults, as name=value pairs.",
							   "For example 'quality_red=60, spam_cap=50'; every weight is in the README's health table.",
							   &antiban_health_weights, "", PGC_SIGHUP, 0, check_health_weights, NULL, NULL);
	DefineCustomIntVariable("antiban.throttle_below",
							"Health under which a number is throttled.",
							NULL, &antiban_throttle_below, 70, 0, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.pause_below",
							"Health under which a number is paused.",
							NULL, &antiban_pause_below, 30, 0, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.resume_at",
							"Health a paused number needs (after antiban.pause_cooldown) to start recovering.",
							NULL, &antiban_resume_at, 60, 0, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("antiban.aimd_decrease",
							 "Multiplicative decrease of a number's rate on a bad signal.",
							 NULL, &antiban_aimd_decrease, 0.5, 0.01, 0.99, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("antiban.aimd_increase",
							 "Additive increase of a throttled number's rate per clean antiban.aimd_interval.",
							 NULL, &antiban_aimd_increase, 0.1, 0.001, 1.0, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.aimd_interval",
							"Clean time a throttled number needs for each increase of its rate.",
							NULL, &antiban_aimd_interval_s, 300, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.aimd_probe_interval",
							"Clean time for each increase of a rate cut by congestion (130429), while under the rate at which Meta answered it.",
							"A throughput answer costs a retry, not a ban: the number climbs back quickly to just under what Meta allowed, then by antiban.aimd_interval beyond it.",
							&antiban_aimd_probe_interval_s, 30, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.pause_cooldown",
							"Shortest automatic pause (a pause for a ban or restriction waits for a person).",
							NULL, &antiban_pause_cooldown_s, 1800, 0, 7 * 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.recovery_ramp",
							"How long a recovering number takes to ramp from 10 % back to its full rate.",
							NULL, &antiban_recovery_ramp_s, 7200, 1, 30 * 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

static void
define_monitor_settings(void)
{
	DefineCustomIntVariable("antiban.monitor_interval",
							"How often the monitor scores numbers, checks early warnings and delivers alerts.",
							NULL, &antiban_monitor_interval_ms, 10000, 100, 3600000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.health_window",
							"The recent window in which error rates are counted.",
							NULL, &antiban_health_window_s, 3600, 60, 7 * 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.recovery_half_life",
							"Error penalties halve every this long without a new bad event.",
							NULL, &antiban_recovery_half_life_s, 1800, 1, 7 * 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.poll_interval",
							"How often the monitor polls each WABA's numbers and templates from the Graph API.",
							NULL, &antiban_poll_interval_ms, 300000, 100, 86400000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.mgmt_requests_per_hour",
							"Graph API management calls the monitor makes per WABA per rolling hour, at most.",
							"Meta allows 200 per hour per WABA (5,000 with a registered number); keep below it.",
							&antiban_mgmt_requests_per_hour, 200, 1, 5000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* a Slack or Teams incoming-webhook URL is itself a credential */
	DefineCustomStringVariable("antiban.alert_webhook_url",
							   "Post each alert here as Slack-compatible JSON (empty: do not post).",
							   "Shown to superusers only: an incoming-webhook URL is a credential.",
							   &antiban_alert_webhook_url, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.template_hold",
							"How long a message whose template is paused or in review waits before it is looked at again.",
							NULL, &antiban_template_hold_s, 300, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

static void
define_warmup_settings(void)
{
	DefineCustomIntVariable("antiban.warmup_start_daily",
							"Messages per moving 24 h a warming number may send on its first day.",
							NULL, &antiban_warmup_start_daily, 250, 1, 10000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("antiban.warmup_growth",
							 "Factor by which a warming number's daily cap grows with each day that counts.",
							 NULL, &antiban_warmup_growth, 2.0, 1.01, 10.0, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.warmup_max_daily",
							"Daily cap at which a warming number graduates to active.",
							NULL, &antiban_warmup_max_daily, 100000, 1, 10000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.warmup_gate_health",
							"Health a warming number needs at the end of a day for the day to count (else it is repeated).",
							NULL, &antiban_warmup_gate_health, 80, 0, 100, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("antiban.warmup_spread",
							"A warming number sends its daily cap over at least this long: its rate is the cap divided by it.",
							NULL, &antiban_warmup_spread_s, 8 * 3600, 60, 86400, PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

void
antiban_define_protection_gucs(void)
{
	define_controller_settings();
	define_warmup_settings();
	define_monitor_settings();
}
