/*
 * ssm.h - the SSM access plugin (Session Manager spoken directly:
 * StartSession, WebSocket, data channel, smux v1), all its layers.
 *
 * Not installed.  The plugin entry, unit tests and fuzz targets include
 * it; the plugin's own files include the header of each layer they use,
 * and each layer only those below it:
 *
 *   ssm.c (session) -> ssm_pool -> ssm_port, ssm_exec -> ssm_chan
 *     -> ssm_ws, ssm_msg, ssm_rel, ssm_smux, ssm_api -> ssm_sess
 *
 * A channel calls its kind, the pool and the session back only through
 * the pointers they gave it (struct ssm_chan_kind, ssm_sess.take_spare
 * and .port_ended, the on_started of ssm_chan_start).  Everything here
 * has hidden visibility in jc-ssm.so.  The wire formats are described in
 * PROTOCOL.ssm next to this file.
 */
#ifndef SSM_H
#define SSM_H

#include "ssm_host.h"
#include "ssm_msg.h"
#include "ssm_smux.h"
#include "ssm_rel.h"
#include "ssm_ws.h"
#include "ssm_sess.h"
#include "ssm_api.h"
#include "ssm_chan.h"
#include "ssm_port.h"
#include "ssm_exec.h"
#include "ssm_pool.h"
#include "ssm_probe.h"

extern const struct jc_plugin ssm_plugin;	/* for static links (tests) */

#endif /* SSM_H */
