/*
 * opt_out.h
 *		Kept for src/pg/webhook.c: opt_out_text() now lives in stop_request.c
 *		(a STOP verdict for free text).
 */
#ifndef ANTIBAN_OPT_OUT_H
#define ANTIBAN_OPT_OUT_H

#include "stop_request.h"

#endif							/* ANTIBAN_OPT_OUT_H */
