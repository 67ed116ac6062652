/*
 * jsonb_view.h
 *		A JsonView (core/payload.h) over jsonb.
 */
#ifndef ANTIBAN_JSONB_VIEW_H
#define ANTIBAN_JSONB_VIEW_H

#include "utils/jsonb.h"

#include "core/payload.h"

extern JsonView jsonb_view(Jsonb *root);

#endif							/* ANTIBAN_JSONB_VIEW_H */
