/*
 * webhook.h — antiban-receiver: Meta's two webhook calls.
 */
#ifndef RECEIVER_WEBHOOK_H
#define RECEIVER_WEBHOOK_H

#include "request.h"

#include <microhttpd.h>

/* GET: the subscription challenge. */
extern enum MHD_Result webhook_verify(struct MHD_Connection *conn, request *req);

/* POST, once the whole body is in req: store the event. */
extern enum MHD_Result webhook_ingest(struct MHD_Connection *conn, request *req);

/* Either of them, once the database has answered (req->job.outcome). */
extern enum MHD_Result webhook_answer(struct MHD_Connection *conn, request *req);

#endif							/* RECEIVER_WEBHOOK_H */
