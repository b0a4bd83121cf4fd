/*
 * ssm_msg.h - the data channel's wire: ClientMessage frames, acks, UUIDs, the
 * handshake (ssm_msg.c).  The formats are in PROTOCOL.ssm.
 */
#ifndef SSM_MSG_H
#define SSM_MSG_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* SSM_MSG_H */
