/*
 * delay.h — answering slow requests without blocking the server: the
 * connection is suspended and a timer thread resumes it when due.
 */
#ifndef DELAY_H
#define DELAY_H

#include <stdbool.h>

struct MHD_Connection;

bool		delay_start(void);
/* c must already be suspended; it is resumed after ms milliseconds. */
void		delay_add(struct MHD_Connection *c, int ms);
/* Resume everything still waiting and stop the timer thread. */
void		delay_stop(void);

#endif							/* DELAY_H */
