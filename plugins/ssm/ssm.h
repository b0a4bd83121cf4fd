/*
 * ssm.h - internals of the SSM access plugin (Session Manager spoken
 * directly: StartSession, WebSocket, data channel, smux v1).
 *
 * Not installed.  Unit tests and fuzz targets include it to reach the
 * codecs; everything here has hidden visibility in jc-ssm.so.  The wire
 * formats are described in PROTOCOL.ssm next to this file.
 */
#ifndef SSM_H
#define SSM_H

#include <stddef.h>
#include <stdint.h>

#include "jc_plugin.h"
#include "buf.h"

#define SSM_CLIENT_VERSION	"1.2.677.0"

/* ---- ClientMessage frames (ssm_msg.c) -------------------------------- */

#define SSM_HDR_LEN		116	/* HeaderLength, always */
#define SSM_FRAME_HDR		120	/* header + PayloadLength field */
#define SSM_TYPE_LEN		32

/* PayloadType */
#define SSM_PT_OUTPUT		1
#define SSM_PT_ERROR		2
#define SSM_PT_SIZE		3
#define SSM_PT_PARAMETER	4
#define SSM_PT_HS_REQUEST	5
#define SSM_PT_HS_RESPONSE	6
#define SSM_PT_HS_COMPLETE	7
#define SSM_PT_ENC_CHALLENGE	8
#define SSM_PT_ENC_RESPONSE	9
#define SSM_PT_FLAG		10
#define SSM_PT_STDERR		11
#define SSM_PT_EXITCODE		12

/* Flag payload codes (PayloadType 10) */
#define SSM_FLAG_DISCONNECT	1	/* DisconnectToPort */
#define SSM_FLAG_TERMINATE	2	/* TerminateSession */
#define SSM_FLAG_CONNECT_ERROR	3	/* ConnectToPortError */

#define SSM_MT_INPUT		"input_stream_data"
#define SSM_MT_OUTPUT		"output_stream_data"
#define SSM_MT_ACK		"acknowledge"
#define SSM_MT_CLOSED		"channel_closed"
#define SSM_MT_START_PUB	"start_publication"
#define SSM_MT_PAUSE_PUB	"pause_publication"

/* A decoded frame.  payload points into the frame it was decoded from. */
struct ssm_msg {
	char		 type[SSM_TYPE_LEN + 1]; /* trimmed MessageType */
	uint32_t	 hdrlen;		/* HeaderLength */
	uint32_t	 schema;		/* SchemaVersion */
	uint64_t	 created;	/* CreatedDate, ms since epoch */
	int64_t		 seq;			/* SequenceNumber */
	uint64_t	 flags;			/* Flags (nobody reads them) */
	unsigned char	 id[16];		/* MessageId, canonical order */
	unsigned char	 digest[32];		/* PayloadDigest as sent */
	uint32_t	 ptype;			/* PayloadType */
	uint32_t	 plen;			/* PayloadLength */
	const unsigned char *payload;	/* NB. borrowed from the frame */
};

/*
 * Decode and validate one frame of len bytes: at least 120 bytes,
 * HeaderLength 116, PayloadLength equal to what follows; and except for
 * start/pause_publication a non-empty MessageType, a non-zero CreatedDate
 * and, when there is a payload, its SHA-256 in PayloadDigest.  Returns 0
 * or JC_ERR_PROTO (the frame must then be dropped without an ack).
 */
int	ssm_msg_decode(const void *frame, size_t len, struct ssm_msg *m);
/* The same in two steps: every check but the digest, then the digest. */
int	ssm_msg_decode_hdr(const void *frame, size_t len, struct ssm_msg *m);
int	ssm_msg_check_digest(const struct ssm_msg *m);

/*
 * Fill the 120-byte header of frame, whose plen payload bytes already sit
 * at frame + SSM_FRAME_HDR, computing the payload digest.  type is at most
 * 32 characters (space padded); id is in canonical order.
 */
void	ssm_msg_seal(unsigned char *frame, const char *type, uint64_t created,
	    int64_t seq, uint64_t flags, const unsigned char id[16],
	    uint32_t ptype, uint32_t plen);

/*
 * Build a whole frame with a fresh MessageId and CreatedDate = now.
 * Returns a malloc'd frame (free()) and its length in *lenp, or NULL.
 */
unsigned char *ssm_msg_new(const char *type, int64_t seq, uint64_t flags,
	    uint32_t ptype, const void *payload, size_t plen, size_t *lenp);

/* Random bytes from a pool refilled by RAND_bytes: 0 / JC_ERR_INTERNAL. */
int	ssm_rand(void *buf, size_t n);
/* SHA-256 with the algorithm fetched once. */
void	ssm_sha256(const void *p, size_t n, unsigned char out[32]);
/* Free the cached digest state and wipe the random pool (fini). */
void	ssm_msg_cleanup(void);

/* Wall clock in ms since the Unix epoch (CreatedDate). */
uint64_t ssm_epoch_ms(void);

/* UUIDs: random v4, text form, parse, and the wire half-swap. */
void	ssm_uuid_new(unsigned char id[16]);
void	ssm_uuid_fmt(const unsigned char id[16], char out[37]);
int	ssm_uuid_parse(const char *s, unsigned char id[16]);	/* 0 / PROTO */
void	ssm_uuid_swap(const unsigned char in[16], unsigned char out[16]);

/*
 * The acknowledge payload for a message (compact JSON, field order as the
 * reference client).  Returns its length, or JC_ERR_INTERNAL when out is
 * too small or type holds characters that do not belong in a type name.
 */
int	ssm_ack_json(char *out, size_t n, const char *type,
	    const unsigned char id[16], int64_t seq);

/* AcknowledgedMessageSequenceNumber of an ack payload: 0 / JC_ERR_PROTO. */
int	ssm_ack_parse(const void *p, size_t n, int64_t *seq);

/*
 * Compare dotted numeric versions component by component.  Returns -1, 0
 * or 1, or SSM_VER_BAD when either is malformed or the two have different
 * numbers of components (the reference treats that as "not supported").
 */
#define SSM_VER_BAD	(-2)
int	ssm_version_cmp(const char *a, const char *b);

/* ---- handshake (ssm_msg.c) --------------------------------------------- */

#define SSM_HS_MAX_ACTIONS	8
#define SSM_ACT_SUCCESS		1
#define SSM_ACT_FAILED		2
#define SSM_ACT_UNSUPPORTED	3

struct ssm_hs_action {
	char		 type[48];	/* ActionType */
	int		 status;	/* SSM_ACT_* we answer */
	char		 error[160];	/* "" on success */
};

struct ssm_hs {
	char		 agent_version[32];	/* "" when absent */
	char		 session_type[40];	/* SessionType action */
	char		 prop_type[40];	/* Properties.type, "" if none */
	char		 prop_port[16];		/* Properties.portNumber */
	int		 kms;			/* KMSEncryption requested */
	int		 nact;
	struct ssm_hs_action act[SSM_HS_MAX_ACTIONS];
};

/*
 * Parse a HandshakeRequest and decide the answer to every action:
 * SessionType of a known type -> success; KMSEncryption -> failed (not
 * supported by this client); anything else -> unsupported.  Returns 0 or
 * JC_ERR_PROTO (not JSON, no action list, too many actions).
 */
int	ssm_hs_parse(const void *p, size_t n, struct ssm_hs *hs);

/* The HandshakeResponse JSON for hs; malloc'd (free()), or NULL. */
char	*ssm_hs_response(const struct ssm_hs *hs);

/* CustomerMessage of a HandshakeComplete ("" when none): 0 / PROTO. */
int	ssm_hs_complete(const void *p, size_t n, char *msg, size_t msglen);

/* Output of a channel_closed payload ("" when none): 0 / PROTO. */
int	ssm_closed_parse(const void *p, size_t n, char *out, size_t outlen);

/* "EXIT_CODE: n" -> n: 0 / JC_ERR_PROTO. */
int	ssm_exit_parse(const void *p, size_t n, int *code);

/* The OpenDataChannel text frame; malloc'd (wipe and free), or NULL. */
char	*ssm_open_json(const char *token, const char *client_id);

/*
 * Port mode from the handshake: *mux (smux v1) when type is
 * LocalPortForwarding and the agent is newer than 3.0.196.0, *keepalive
 * when mux and the agent is not newer than 3.1.1511.0, *raw (stdin/stdout
 * style, one stream) when there is no LocalPortForwarding type.
 */
void	ssm_port_mode(const struct ssm_hs *hs, int *mux, int *keepalive,
	    int *raw);

/* ---- smux v1 (ssm_smux.c) ------------------------------------------------ */

#define SMUX_VER		1
#define SMUX_SYN		0
#define SMUX_FIN		1
#define SMUX_PSH		2
#define SMUX_NOP		3
#define SMUX_HDR		8
#define SMUX_MAX_PSH		32768

struct ssm_smux_rx {
	unsigned char	 hdr[SMUX_HDR];	/* partial header */
	size_t		 hlen;		/* header bytes collected */
	uint32_t	 left;		/* PSH body bytes still to come */
	uint32_t	 sid;		/* stream of the current PSH */
};

struct ssm_smux_ev {
	int		 cmd;		/* SMUX_* */
	uint32_t	 sid;
	const unsigned char *data;	/* PSH: NB. points into the input */
	size_t		 len;		/* PSH: bytes available at data */
};

/* Write an smux v1 header. */
void	ssm_smux_hdr(unsigned char out[SMUX_HDR], int cmd, uint16_t len,
	    uint32_t sid);

/*
 * Parse from p[0..n).  *used receives the header bytes consumed.  Returns
 * 1 with an event, 0 when everything was consumed without one, or
 * JC_ERR_PROTO (version not 1, unknown command, a length on a frame that
 * carries none: the whole mux is dead).  For SMUX_PSH, ev->data points at
 * p + *used and the caller takes k <= ev->len bytes of it with
 * ssm_smux_took() (advancing its own offset by k too).
 */
int	ssm_smux_parse(struct ssm_smux_rx *, const unsigned char *p, size_t n,
	    struct ssm_smux_ev *ev, size_t *used);
void	ssm_smux_took(struct ssm_smux_rx *, size_t k);

/* ---- reliability (ssm_rel.c) ------------------------------------------- */

/* Round-trip estimator of the reference (Jacobson), in ms. */
struct ssm_rto {
	double		 rtt;		/* smoothed RTT */
	double		 rttvar;	/* RTT variation */
	int64_t		 rto;		/* current timeout */
};
#define SSM_RTO_INIT		200
#define SSM_RTO_MAX		1000
void	ssm_rto_init(struct ssm_rto *);
void	ssm_rto_sample(struct ssm_rto *, int64_t r_ms);

/*
 * How many frame bytes may wait for an ack: twice the path's
 * bandwidth-delay product (the best ack rate of recent intervals times the
 * smallest RTT seen), within [lo, hi].  It starts at lo; while the cap is
 * what limits the rate, rate x RTT equals the cap and it doubles every
 * interval, so a slow path reaches hi in a few round trips while a fast
 * local one keeps little in memory.
 */
struct ssm_pace {
	int64_t		 min_rtt;	/* ms, -1 until sampled */
	int64_t		 t0;		/* start of the rate interval */
	size_t		 acked;		/* bytes acked since t0 */
	double		 max_rate;	/* bytes per ms, decaying maximum */
	size_t		 lo, hi, cap;
};
#define SSM_PACE_TICK		10	/* ms, shortest rate interval */
void	ssm_pace_init(struct ssm_pace *, size_t lo, size_t hi, int64_t now);
/* bytes acked now; rtt_ms < 0 when the ack may be for a resend (Karn). */
void	ssm_pace_ack(struct ssm_pace *, size_t bytes, int64_t rtt_ms,
	    int64_t now);

/* Outgoing sequenced messages kept until acknowledged. */
struct ssm_txent {
	unsigned char	*frame;		/* NULL once acked */
	size_t		 len;
	int64_t		 first;		/* first send, monotonic ms */
	int64_t		 sent;		/* last (re)send, 0 = resend now */
	int		 attempts;	/* resends so far */
	int		 data;		/* counts against the window */
};

struct ssm_txq {
	struct ssm_txent *e;		/* ring of cap slots */
	size_t		 cap, head, count;
	int64_t		 base;		/* seq of e[head] */
	size_t		 unacked;	/* entries with a frame */
	size_t		 unacked_data;	/* ... that are data */
	size_t		 bytes;		/* frame bytes held */
	size_t		 maxcap;	/* ring never grows past this */
};

void	ssm_txq_init(struct ssm_txq *, size_t maxcap);
void	ssm_txq_free(struct ssm_txq *);
/* Room for one more entry (the ring may still grow)? */
int	ssm_txq_room(const struct ssm_txq *);
/*
 * Keep frame (ownership passes) as sequence number seq, which must be
 * base + count.  Returns 0 or JC_ERR_NOMEM (frame is then freed).
 */
int	ssm_txq_push(struct ssm_txq *, int64_t seq, unsigned char *frame,
	    size_t len, int data, int64_t now);
/*
 * An ack for seq: frees its frame.  Returns 1 and fills *a when it was
 * outstanding, 0 for an unknown or repeated ack.
 */
struct ssm_acked {
	int64_t		 sample_ms;	/* now - last send */
	size_t		 len;		/* frame bytes freed */
	int		 resent;	/* sent more than once (Karn) */
};
int	ssm_txq_ack(struct ssm_txq *, int64_t seq, int64_t now,
	    struct ssm_acked *a);
/* Entry for seq, or NULL. */
struct ssm_txent *ssm_txq_get(struct ssm_txq *, int64_t seq);

/* Incoming messages buffered in sequence order (reorder buffer). */
struct ssm_rxent {
	unsigned char	*p;		/* payload copy, NULL = empty slot */
	uint32_t	 len, off;	/* off: bytes already handed off */
	uint32_t	 ptype;
	int		 used;		/* slot holds a message */
};

struct ssm_rxq {
	struct ssm_rxent *e;		/* cap slots, seq % cap */
	size_t		 cap;
	int64_t		 expected;	/* next seq to hand off */
	size_t		 count, bytes, maxbytes;
};

#define SSM_RX_STORED		0	/* kept: ack it */
#define SSM_RX_DUP		1	/* seen before: re-ack it */
#define SSM_RX_FULL		2	/* no room: drop, no ack */

/* Returns 0 or JC_ERR_NOMEM. */
int	ssm_rxq_init(struct ssm_rxq *, size_t cap, size_t maxbytes);
void	ssm_rxq_free(struct ssm_rxq *);
/* Store a copy of message seq.  Returns SSM_RX_* or JC_ERR_NOMEM. */
int	ssm_rxq_put(struct ssm_rxq *, int64_t seq, uint32_t ptype,
	    const void *p, size_t len);
/* The message at `expected`, or NULL. */
struct ssm_rxent *ssm_rxq_head(struct ssm_rxq *);
/* Drop the head and advance `expected`. */
void	ssm_rxq_pop(struct ssm_rxq *);

/* ---- WebSocket (ssm_ws.c) ---------------------------------------------- */

struct ssm_ws;

/* A complete message (text or binary); p is valid during the call. */
typedef void ssm_ws_msg_fn(void *arg, int text, const unsigned char *p,
	    size_t n);

/* Low-level byte transport (libcurl connect-only, or an fd in tests). */
struct ssm_ws_io {
	/* >0 bytes, 0 = EOF, -1 = would block, -2 = error */
	long	(*recv)(void *ctx, void *buf, size_t n);
	long	(*send)(void *ctx, const void *buf, size_t n);
	void	*ctx;
};

#define SSM_WS_UPGRADING	0	/* waiting for the 101 answer */
#define SSM_WS_OPEN		1
#define SSM_WS_CLOSED		2	/* closed by the peer or failed */
#define SSM_WS_CONNECTING	3	/* TCP/TLS/proxy connect under way */

/*
 * Dial url (ws:// or wss://, the http(s) form is used with libcurl) with
 * certificate checks (cafile, when not NULL, is the CA file to trust) and
 * $HTTPS_PROXY honoured.  TCP/TLS/proxy set-up is
 * libcurl's connect, waited for here and bounded by timeout_ms; the HTTP
 * upgrade then completes in ssm_ws_run().  on_msg is called for every message.
 * Returns 0 and *out, or JC_ERR_UNREACHABLE / JC_ERR_NOMEM (logged at
 * debug level; the caller decides what to tell the user, in why).
 */
int	ssm_ws_dial(const char *url, const char *cafile, int timeout_ms,
	    ssm_ws_msg_fn *on_msg, void *arg, struct ssm_ws **out, char *why,
	    size_t whylen);

/*
 * The same without waiting: returns 0 and *out in SSM_WS_CONNECTING
 * (messages may be queued already).  Each loop pass, the channel adds
 * the connect's sockets and timer with ssm_ws_connect_prepare and runs
 * ssm_ws_connect_step, which moves to SSM_WS_UPGRADING, or fails with
 * JC_ERR_UNREACHABLE (the reason in ssm_ws_why; state SSM_WS_CLOSED).
 */
int	ssm_ws_dial_start(const char *url, const char *cafile, int timeout_ms,
	    ssm_ws_msg_fn *on_msg, void *arg, struct ssm_ws **out, char *why,
	    size_t whylen);
void	ssm_ws_connect_prepare(struct ssm_ws *, struct jc_pollset *,
	    int64_t *deadline);
int	ssm_ws_connect_step(struct ssm_ws *, struct jc_pollset *);
const char *ssm_ws_why(const struct ssm_ws *);

/*
 * The same over a caller-supplied transport; host/path go into the
 * upgrade request.  For tests and fuzzing.  Returns 0 or JC_ERR_NOMEM.
 */
int	ssm_ws_new_io(const struct ssm_ws_io *io, int fd, const char *host,
	    const char *path, ssm_ws_msg_fn *on_msg, void *arg,
	    struct ssm_ws **out);

/* Close the transport and free.  NULL is a no-op. */
void	ssm_ws_free(struct ssm_ws *);

int	ssm_ws_fd(const struct ssm_ws *);
int	ssm_ws_state(const struct ssm_ws *);
/* poll events the socket needs now (POLLIN, plus POLLOUT to flush). */
short	ssm_ws_events(const struct ssm_ws *);
/* 1 when bytes are already buffered locally: dispatch again at once. */
int	ssm_ws_pending(const struct ssm_ws *);

/*
 * Read (when rx is non-zero, up to a per-call budget) and write.  on_msg
 * runs from here.  Returns 0 while the socket is usable, else
 * JC_ERR_CLOSED (peer closed, see ssm_ws_close_info) or JC_ERR_PROTO /
 * JC_ERR_IO; the state is then SSM_WS_CLOSED.
 */
int	ssm_ws_run(struct ssm_ws *, int rx);

/* Queue one message (copied).  Returns 0 or JC_ERR_NOMEM / _CLOSED. */
int	ssm_ws_send(struct ssm_ws *, int text, const void *p, size_t n);
/*
 * Write what is framed now, without waiting for the next ssm_ws_run (acks
 * must not wait behind a long read).  A write error closes the socket;
 * the next ssm_ws_run reports it.
 */
void	ssm_ws_flush(struct ssm_ws *);
/* Bytes queued but not yet written to the socket. */
size_t	ssm_ws_backlog(const struct ssm_ws *);
/* Queue a ping with payload "keepalive". */
int	ssm_ws_ping(struct ssm_ws *);
/* Monotonic ms when bytes last came from the peer (0: never). */
int64_t	ssm_ws_last_rx(const struct ssm_ws *);
/*
 * Close code and reason the peer sent (0 / "" when none); a refused
 * upgrade gives its HTTP status (100-599) as the code.
 */
void	ssm_ws_close_info(const struct ssm_ws *, int *code, char *reason,
	    size_t n);

/*
 * Parse the server's answer to the upgrade request held in buf[0..len).
 * Returns 1 when more bytes are needed, 0 when it is a valid 101 answer
 * for key (the header length is stored in *hdrlen), or JC_ERR_PROTO
 * (with a short reason in why).
 */
int	ssm_ws_parse_upgrade(const char *buf, size_t len, const char *key,
	    size_t *hdrlen, char *why, size_t whylen);

/* ---- the plugin -------------------------------------------------------- */

extern const struct jc_host *ssm_host;		/* set by init() */
extern const struct jc_plugin ssm_plugin;	/* for static links (tests) */

/* What SSM knows of instance id (ssm_probe.c); the parse alone for tests. */
int	ssm_p_probe(void *state, const char *id, struct jc_probe *pr);
int	ssm_probe_parse(const char *json, const char *id, struct jc_probe *pr);

#define ssm_log(l, ...) do {						\
	if (ssm_host != NULL && ssm_host->log_level() >= (l))		\
		ssm_host->log((l), "ssm", __VA_ARGS__);			\
} while (0)

#define SSM_SESSIONS_DEFAULT	4	/* ssm.sessions, from measurement */
#define SSM_SESSIONS_MAX	16

struct ssm_opts {
	size_t		 chunk;		/* ssm.chunk_size: payload bytes */
	size_t		 window;	/* ssm.window: unacked data msgs */
	int		 reconnect_ms;	/* ssm.reconnect_s: resume budget */
	int		 keepalive_ms;	/* ssm.smux_keepalive_ms (10 s) */
	int		 ping_ms;	/* ssm.ping_s (60 s) */
	int		 dead_ms;	/* ssm.dead_s: a ping unanswered this
					   long means a dead path */
	int		 give_up_ms;	/* unacked message resent this long */
	int		 connect_ms;	/* WebSocket connect + upgrade */
	int		 handshake_ms;	/* from open to HandshakeComplete */
	int		 sessions;	/* ssm.sessions: port sessions per
					   destination */
	int		 idle_ms;	/* ssm.session_idle_s: close an idle
					   extra one after this */
};

struct ssm_sess;
struct ssm_chan;
struct ssm_term;

struct ssm_start {
	char		 sid[160];	/* SessionId */
	char		*token;		/* TokenValue (secret: wipe) */
	char		*url;		/* StreamUrl */
};

/* Session-level (ssm.c) */
struct ssm_sess {
	char		 target[64];	/* instance id */
	char		 client_id[37];	/* one per process run */
	struct ssm_opts	 o;
	struct ssm_chan	*chans;		/* port, proxy and exec channels */
	struct ssm_start spare;		/* from connect(), until used */
	char		 spare_doc[64];
	char		 spare_port[8];
	int64_t		 spare_until;
	int		 dead;		/* 0, or sticky JC_ERR_* */
	int		 closing;

	/* the pool of port sessions (ssm_pool.c) */
	struct jc_source *pool_src;	/* ramp and idle timers */
	struct ssm_chan	*starting;	/* its StartSession is in flight */
	int64_t		 next_start;	/* no StartSession before this */
	int		 throttled;	/* ThrottlingExceptions in a row */
	int		 failures;	/* other failures in a row */
	struct ssm_term	*terms;		/* TerminateSession in flight */

	/*
	 * Set by the layers above the channel, so that it calls them
	 * only through these.  take_spare (ssm.c): the session connect()
	 * started, offered to each channel opened with StartSession
	 * (0: moved into *st; 1: none that fits).  port_ended (ssm_pool.c):
	 * a port channel ended or failed, its unstarted streams move on.
	 */
	int		(*take_spare)(struct ssm_sess *, const char *doc,
			    const char *const *params, struct ssm_start *st);
	void		(*port_ended)(struct ssm_chan *);
};

/* API calls (ssm_api.c) */

/*
 * StartSession for target with document doc and parameters given as
 * NULL-terminated name/value pairs.  Reason is "jconnect".  Returns 0 and
 * fills *st (free with ssm_start_clear), or a JC_ERR_* after logging one
 * clear line (TargetNotConnected -> JC_ERR_UNREACHABLE).
 */
int	ssm_api_start(const char *target, const char *doc,
	    const char *const *params, struct ssm_start *st);
/*
 * The same; with probe set, AccessDenied and InvalidDocument (a policy or
 * account without this document) are logged at verbose level only and
 * return SSM_PROBE_REFUSED (positive: not an error for connect()).
 */
#define SSM_PROBE_REFUSED	1
int	ssm_api_start_ex(const char *target, const char *doc,
	    const char *const *params, struct ssm_start *st, int probe);
/*
 * ResumeSession: a new token for sid in *token (wipe and free).  Returns
 * 0, JC_ERR_CLOSED when the session is gone (no token, DoesNotExist), or
 * another JC_ERR_* for a failure worth retrying.
 */
int	ssm_api_resume(const char *sid, char **token);
/*
 * The same in two steps, the call not waited for (ABI 1.3): start it
 * (0 or a JC_ERR_*; done() follows from the loop), then read the answer
 * done() got, with the returns of ssm_api_resume.
 */
int	ssm_api_resume_start(const char *sid, jc_aws_done_fn *done, void *arg,
	    struct jc_aws_call **callp);
int	ssm_api_resume_answer(const char *sid, int r, const char *out,
	    const struct jc_aws_error *err, char **token);
/* TerminateSession; failures are logged at debug level only. */
void	ssm_api_terminate(const char *sid);
void	ssm_start_clear(struct ssm_start *);
/* The SessionId, TokenValue and StreamUrl of a StartSession answer. */
int	ssm_api_parse_start(const char *out, const char *target,
	    struct ssm_start *st);
/* The request body of StartSession (cJSON_free), or NULL. */
char	*ssm_api_start_body(const char *target, const char *doc,
	    const char *const *params);
/*
 * TerminateSession without waiting when the host can (ABI 1.3) and the
 * session is not closing, else at once.  Calls still in flight when the
 * session closes are made again, waited for (ssm_api_terms_flush).
 */
void	ssm_api_terminate_bg(struct ssm_sess *, const char *sid);
void	ssm_api_terms_flush(struct ssm_sess *);

/* Data channel (ssm_chan.c) */
#define SSM_K_PORT		1	/* port forwarding (mux/basic) */
#define SSM_K_RAW		2	/* one raw stream (ProxyCommand) */
#define SSM_K_EXEC		3	/* NonInteractiveCommand */

#define SSM_C_OPENING		0	/* WebSocket up, handshake running */
#define SSM_C_READY		1	/* HandshakeComplete seen */
#define SSM_C_RESUMING		2	/* WebSocket lost, resuming */
#define SSM_C_ENDED		3	/* channel_closed or our close */
#define SSM_C_FAILED		4	/* fatal error (ch->error) */
#define SSM_C_QUEUED		5	/* extra: waits for its StartSession */
#define SSM_C_STARTING		6	/* extra: StartSession in flight */

struct ssm_stream;

/*
 * What differs by kind of channel (as OpenSSH's channels.c keeps
 * channel_pre and channel_post per channel type).  Each kind defines its
 * table (ssm_port.c, ssm_exec.c) and hands it to the channel it opens;
 * ssm_chan.c calls a kind only through it.  A NULL operation is nothing
 * to do.
 */
struct ssm_chan_kind {
	int	 kind;			/* SSM_K_* */
	const char *const *types;	/* session types the agent may open */
	int	 talks_first;		/* may start without a handshake */
	int	 quiet;			/* its ends logged at DEBUG */
	int	 stop_flag;		/* told to stop on release */
	int	 silent_end_fails;	/* ended before any byte: unreachable */
	int	 warn_refusal;		/* ended with a reason, no byte: warn */
	int	 drops_late;		/* data after its end is dropped */
	/* The handshake is done: read the mode it chose. */
	void	 (*mode)(struct ssm_chan *);
	void	 (*ready)(struct ssm_chan *);
	/* Payload of an in-order message.  Returns bytes taken or <0. */
	long	 (*deliver)(struct ssm_chan *, uint32_t,
		    const unsigned char *, size_t);
	/* Write what gathered for local consumers this pass. */
	void	 (*flush)(struct ssm_chan *);
	void	 (*prepare)(struct ssm_chan *, struct jc_pollset *,
		    int64_t *);
	void	 (*dispatch)(struct ssm_chan *, struct jc_pollset *);
	/* The channel ended or failed. */
	void	 (*end)(struct ssm_chan *);
	/* The channel is being released: free the kind's own state. */
	void	 (*release)(struct ssm_chan *);
};

/* The kinds: port, raw (ssm_port.c) and exec (ssm_exec.c). */
extern const struct ssm_chan_kind ssm_port_kind;
extern const struct ssm_chan_kind ssm_raw_kind;
extern const struct ssm_chan_kind ssm_exec_kind;

struct ssm_chan {
	struct ssm_sess	*s;		/* NB. borrowed */
	const struct ssm_chan_kind *ops; /* its kind's operations */
	int		 kind;		/* SSM_K_*, ops->kind */
	/* How its StartSession went (ssm_chan_start): 0, THROTTLED, err. */
	void		(*on_started)(struct ssm_chan *, int r);
	int		 state;		/* SSM_C_* */
	int		 error;		/* JC_ERR_* when FAILED */
	char		 why[256];	/* channel_closed text / error */
	char		 doc[64];	/* document name */
	struct ssm_start st;		/* SessionId, token, StreamUrl */
	struct ssm_ws	*ws;
	struct jc_source *src;
	int		 ws_slot;
	int		 ws_ok;		/* a WebSocket reached OPEN once */
	int		 in_dispatch;
	int		 terminated;	/* TerminateSession called */
	int		 bad_frames;	/* invalid frames dropped */
	uint64_t	 resent;	/* retransmissions */
	int		 resumes;	/* successful ResumeSession */
	int		 extra;		/* opened by the pool, not the first */
	int		 warm;		/* opened ahead of its first stream */
	int		 was_ready;	/* reached READY once */
	struct jc_aws_call *call;	/* StartSession in flight */
	int64_t		 idle_since;	/* no live stream since (0: busy) */
	uint64_t	 nstreams_total; /* streams it ever carried */

	/* sequencing */
	int64_t		 next_seq;	/* our next sequence number */
	struct ssm_txq	 tx;
	struct ssm_rxq	 rx;
	struct ssm_rto	 rto;
	struct ssm_pace	 pace;		/* in-flight byte cap */
	int		 paused;	/* pause_publication in force */
	int		 rx_blocked;	/* handler refused the head */
	size_t		 unflushed;	/* bytes handled since acks left */

	/* handshake */
	struct ssm_hs	 hs;
	int		 hs_seen;	/* HandshakeRequest handled */
	int		 mux, keepalive, raw;

	/* timers (monotonic ms; 0 = off) */
	int64_t		 hs_deadline;
	int64_t		 dial_deadline;	/* WebSocket upgrade */
	int64_t		 next_ping;
	int64_t		 ping_sent;	/* an unanswered ping's time, or 0 */
	int64_t		 next_resend;
	int64_t		 resume_at;	/* next resume attempt */
	int64_t		 resume_until;	/* give up after this */
	int		 resume_delay;
	int		 resume_state;	/* state to go back to */
	int64_t		 next_nop;	/* smux keepalive */
	int64_t		 last_frame;	/* smux frame received */
	int64_t		 opened;	/* channel creation */

	/* port sessions */
	char		 host[256];	/* destination as the agent sees it */
	uint16_t	 port;
	struct ssm_stream *streams;
	struct ssm_stream *rr;		/* round-robin start */
	struct ssm_smux_rx smux;
	uint32_t	 next_sid;
	int		 nstreams;
	int		 connect_errors;
	uint64_t	 rx_bytes;	/* bytes from the far side */
	int		 said_accepted;

	/* exec */
	char		*out, *err;
	size_t		 outlen, errlen, outcap, errcap;
	int		 truncated;
	int		 status;	/* exit code, -1 unknown */
	int		 got_exit;
	volatile int	 done;		/* exec finished (or failed) */

	struct ssm_chan	*next;
};

/* One local connection of a port session. */
struct ssm_stream {
	struct ssm_chan	*ch;		/* NB. borrowed */
	int		 sp;		/* plugin end of the socketpair */
	uint32_t	 sid;		/* smux id (mux mode) */
	int		 syn_sent;	/* SYN went out (or basic: active) */
	int		 local_eof;	/* read 0 from sp */
	int		 fin_sent;	/* FIN (or DisconnectToPort) out */
	int		 remote_fin;	/* FIN received */
	int		 shut;		/* sp write side shut down */
	int		 gone;		/* sp unusable (peer closed) */
	int		 dead;		/* to be freed */
	int		 in_slot, out_slot;
	int		 readable;	/* POLLIN seen this pass */
	int64_t		 eof_at;	/* when local EOF was seen */
	int64_t		 last_rx;	/* raw: agent bytes last came */
	struct jc_buf	 tosock;	/* agent -> sp, bounded */
	struct jc_buf	 fromsock;	/* sp -> agent read-ahead */
	struct ssm_stream *next;
};

/*
 * Open a channel: StartSession(doc, params), dial, send OpenDataChannel.
 * The handshake completes in the loop.  Returns 0 and *out (already
 * linked into s->chans) or a JC_ERR_* after logging one clear line.
 */
int	ssm_chan_open(struct ssm_sess *s, const struct ssm_chan_kind *kind,
	    const char *doc, const char *const *params,
	    struct ssm_chan **out);
/*
 * An extra port session of the pool: linked into s->chans in state
 * SSM_C_QUEUED, with a loop source but no Session Manager session yet;
 * ssm_chan_start() begins its StartSession without waiting.
 */
int	ssm_chan_new_queued(struct ssm_sess *s,
	    const struct ssm_chan_kind *kind, const char *doc,
	    struct ssm_chan **out);
/*
 * StartSession for a queued channel through host->aws_json_start, then
 * the WebSocket dialled from the loop.  on_started (when not NULL) hears
 * how it went: 0, SSM_START_THROTTLED or an error.  Returns 0 or a
 * JC_ERR_* (not started).
 */
#define SSM_START_THROTTLED	1
int	ssm_chan_start(struct ssm_chan *, const char *const *params,
	    void (*on_started)(struct ssm_chan *, int r));
/* A stream for host:port through the pool (ssm_pool.c). */
int	ssm_pool_stream(struct ssm_sess *, const char *host, uint16_t port,
	    int flags, int *fdp);
/* Start a channel to host:port before its first stream (JC_STREAM_WARM). */
int	ssm_pool_warm(struct ssm_sess *, const char *host, uint16_t port);
int	ssm_pool_init(struct ssm_sess *);
void	ssm_pool_fini(struct ssm_sess *);
/* Open a port or raw channel to host:port, waiting (ssm_port.c). */
int	ssm_open_port_chan(struct ssm_sess *, const char *host, uint16_t port,
	    int raw, struct ssm_chan **out);
int	ssm_open_chan_stream(struct ssm_sess *, const char *host,
	    uint16_t port, int raw, int flags, int *fdp);
/* Parameters of a port session to host:port; ps holds the port text. */
const char *ssm_port_doc(const char *host, uint16_t port, int raw,
	    const char *pr[9], char ps[8]);
int	ssm_is_loopback(const char *host);

/*
 * Close: Terminate flag for port sessions, TerminateSession, WebSocket
 * down, streams closed; unlinks from s->chans and frees.
 */
void	ssm_chan_free(struct ssm_chan *);
/* Free what a finished channel holds (source, socket, streams), not it. */
void	ssm_chan_release(struct ssm_chan *);
/*
 * Queue one sequenced input_stream_data message.  data messages count
 * against the window.  Returns 0 or JC_ERR_NOMEM / JC_ERR_CLOSED.
 */
int	ssm_chan_send(struct ssm_chan *, uint32_t ptype, const void *p,
	    size_t n, int data);
/*
 * The same for a data message built in place: frame is malloc'd with
 * SSM_FRAME_HDR bytes of room before its plen payload bytes; ownership
 * passes in every case.
 */
int	ssm_chan_send_frame(struct ssm_chan *, unsigned char *frame,
	    size_t plen, uint32_t ptype);
/* A consumer has room again: hand off what the reorder buffer holds. */
void	ssm_chan_kick(struct ssm_chan *);
/* Room for another data message (window, ring, socket backlog)? */
int	ssm_chan_can_send(const struct ssm_chan *);
/* Mark the channel failed with err and a reason; logged once. */
void	ssm_chan_fail(struct ssm_chan *, int err, const char *fmt, ...)
	    JC_PRINTF(3, 4);

/* Port sessions (ssm_port.c); the rest is in ssm_port_kind. */
/* 1 when streams still have bytes to deliver locally. */
int	ssm_port_busy(const struct ssm_chan *);
/* New local stream; returns 0 and the core's socketpair end in *fdp. */
int	ssm_port_stream(struct ssm_chan *, int flags, int *fdp);
/* Streams not yet freed. */
int	ssm_port_live(const struct ssm_chan *);
/* ... and not finishing (FIN sent): the pool's load measure. */
int	ssm_port_active(const struct ssm_chan *);
/*
 * Unlink the streams of ch that never reached the agent (no SYN sent,
 * nothing read from them): they may go to another channel.
 */
struct ssm_stream *ssm_port_detach_unstarted(struct ssm_chan *ch);
/* Link a detached stream to ch. */
void	ssm_port_attach(struct ssm_chan *ch, struct ssm_stream *st);

/* Exec (ssm_exec.c); delivery is in ssm_exec_kind. */
int	ssm_exec_run(struct ssm_sess *, const char *cmd, const void *in,
	    size_t inlen, int timeout_ms, struct jc_exec_result *res);
void	ssm_exec_free(struct jc_exec_result *);
/* The command actually sent: stdin wrapped in base64 (malloc'd). */
char	*ssm_exec_command(const char *cmd, const void *in, size_t inlen);

#endif /* SSM_H */
