/*
 * template_fit.h — does a template send fit the template as configured
 * (its components, in the shape GET /message_templates returns)?
 */
#ifndef TEMPLATE_FIT_H
#define TEMPLATE_FIT_H

#include <json-c/json.h>
#include <stddef.h>

/* 0, or Meta's error code with details. */
int			template_fit(json_object *shape, json_object *send_components, char *details, size_t len);

#endif							/* TEMPLATE_FIT_H */
