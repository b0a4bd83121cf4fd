/*
 * test_ssm.c - the SSM plugin's codecs and data structures, without a
 * network: the golden frames of ssm-protocol.md §4.1/§4.2 byte for byte,
 * the UUID half-swap, acks, the handshake variants, smux v1 framing, the
 * RTO formula, the reorder buffer and the outgoing queue, the version
 * table, the exec command wrapper (run through a real /bin/sh) and the
 * WebSocket client against a hand-written server on a socketpair.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "jc_plugin.h"
#include "../../plugins/ssm/ssm.h"

/* A string literal and its length. */
#define L(s)	(s), (sizeof(s) - 1)

/* §4.1: input_stream_data "hi", seq 0 */
static const unsigned char golden_hi[122] = {
	0x00, 0x00, 0x00, 0x74, 0x69, 0x6e, 0x70, 0x75,
	0x74, 0x5f, 0x73, 0x74, 0x72, 0x65, 0x61, 0x6d,
	0x5f, 0x64, 0x61, 0x74, 0x61, 0x20, 0x20, 0x20,
	0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
	0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x8f, 0x43, 0x43, 0x46, 0x64, 0x8f, 0x6b, 0x96,
	0xdf, 0x89, 0xdd, 0xa9, 0x01, 0xc5, 0x17, 0x6b,
	0x10, 0xa6, 0xd8, 0x39, 0x61, 0xdd, 0x3c, 0x1a,
	0xc8, 0x8b, 0x59, 0xb2, 0xdc, 0x32, 0x7a, 0xa4,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
	0x68, 0x69,
};

/* §4.2: the acknowledge header (payload: the JSON below) */
static const unsigned char golden_ack_hdr[120] = {
	0x00, 0x00, 0x00, 0x74, 0x61, 0x63, 0x6b, 0x6e,
	0x6f, 0x77, 0x6c, 0x65, 0x64, 0x67, 0x65, 0x20,
	0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
	0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
	0x20, 0x20, 0x20, 0x20, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
	0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	0x9a, 0x91, 0x76, 0xa8, 0xe3, 0x20, 0x5c, 0x39,
	0x88, 0x8d, 0xf3, 0xa9, 0xf7, 0xa6, 0x81, 0xbc,
	0xdf, 0xb7, 0xbb, 0xaf, 0xf5, 0x3e, 0x9c, 0x21,
	0xdd, 0xb8, 0xd9, 0xba, 0xb6, 0xf0, 0x5a, 0x12,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb0,
};

static const char golden_ack_json[] = "{\"AcknowledgedMessageType\":"
    "\"output_stream_data\",\"AcknowledgedMessageId\":"
    "\"00112233-4455-6677-8899-aabbccddeeff\","
    "\"AcknowledgedMessageSequenceNumber\":0,\"IsSequentialMessage\":true}";

static const unsigned char id_a[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static const unsigned char id_b[16] = {
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
	0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
};

/* ---- frames ------------------------------------------------------------ */

static void
test_golden_input(void **st)
{
	unsigned char f[122];
	struct ssm_msg m;

	(void)st;
	memset(f, 0xee, sizeof(f));
	memcpy(f + SSM_FRAME_HDR, "hi", 2);
	ssm_msg_seal(f, "input_stream_data", 1700000000000ULL, 0, 0, id_a,
	    SSM_PT_OUTPUT, 2);
	assert_memory_equal(f, golden_hi, sizeof(golden_hi));
	/* and back */
	assert_int_equal(ssm_msg_decode(golden_hi, sizeof(golden_hi), &m), 0);
	assert_string_equal(m.type, "input_stream_data");
	assert_int_equal(m.hdrlen, 116);
	assert_int_equal(m.schema, 1);
	assert_int_equal(m.created, 1700000000000ULL);
	assert_int_equal(m.seq, 0);
	assert_int_equal(m.flags, 0);
	assert_memory_equal(m.id, id_a, 16);
	assert_int_equal(m.ptype, SSM_PT_OUTPUT);
	assert_int_equal(m.plen, 2);
	assert_memory_equal(m.payload, "hi", 2);
}

static void
test_golden_ack(void **st)
{
	unsigned char f[SSM_FRAME_HDR + 256], d[32];
	struct ssm_msg m;
	int64_t seq = -1;
	int n;

	(void)st;
	n = ssm_ack_json((char *)f + SSM_FRAME_HDR, 256, "output_stream_data",
	    id_a, 0);
	assert_int_equal(n, 176);
	assert_int_equal(sizeof(golden_ack_json) - 1, 176);
	assert_memory_equal(f + SSM_FRAME_HDR, golden_ack_json, 176);
	SHA256(f + SSM_FRAME_HDR, 176, d);
	assert_memory_equal(d, golden_ack_hdr + 80, 32);
	ssm_msg_seal(f, "acknowledge", 1700000000001ULL, 0, 3, id_b, 0, 176);
	assert_memory_equal(f, golden_ack_hdr, sizeof(golden_ack_hdr));
	assert_int_equal(ssm_msg_decode(f, SSM_FRAME_HDR + 176, &m), 0);
	assert_string_equal(m.type, "acknowledge");
	assert_int_equal(m.flags, 3);
	assert_memory_equal(m.id, id_b, 16);
	assert_int_equal(ssm_ack_parse(m.payload, m.plen, &seq), 0);
	assert_int_equal(seq, 0);
	/* a type name that could break the JSON is refused */
	assert_true(ssm_ack_json((char *)f, 256, "a\"b", id_a, 1) < 0);
	/* too small a buffer */
	assert_true(ssm_ack_json((char *)f, 100, "output_stream_data", id_a,
	    1) < 0);
}

static void
test_uuid(void **st)
{
	unsigned char w[16], back[16], id[16], id2[16];
	char s[37];

	(void)st;
	ssm_uuid_swap(id_a, w);
	assert_memory_equal(w, "\x88\x99\xaa\xbb\xcc\xdd\xee\xff"
	    "\x00\x11\x22\x33\x44\x55\x66\x77", 16);
	ssm_uuid_swap(w, back);
	assert_memory_equal(back, id_a, 16);
	ssm_uuid_fmt(id_a, s);
	assert_string_equal(s, "00112233-4455-6677-8899-aabbccddeeff");
	assert_int_equal(ssm_uuid_parse(s, id), 0);
	assert_memory_equal(id, id_a, 16);
	assert_int_equal(ssm_uuid_parse("00112233-4455-6677-8899-AABBCCDDEEFF",
	    id), 0);
	assert_memory_equal(id, id_a, 16);
	assert_int_equal(ssm_uuid_parse("00112233+4455-6677-8899-aabbccddeeff",
	    id), JC_ERR_PROTO);
	assert_int_equal(ssm_uuid_parse("0011223-4455-6677-8899-aabbccddeeff",
	    id), JC_ERR_PROTO);
	assert_int_equal(ssm_uuid_parse("00112233-4455-6677-8899-aabbccddeefg",
	    id), JC_ERR_PROTO);
	ssm_uuid_new(id);
	ssm_uuid_new(id2);
	assert_memory_not_equal(id, id2, 16);
	assert_int_equal(id[6] >> 4, 4);
	assert_int_equal(id[8] & 0xc0, 0x80);
}

static void
test_decode_checks(void **st)
{
	unsigned char f[200], g[200];
	struct ssm_msg m;
	size_t n;

	(void)st;
	memcpy(f, golden_hi, sizeof(golden_hi));
	assert_int_equal(ssm_msg_decode(f, 119, &m), JC_ERR_PROTO);
	assert_int_equal(ssm_msg_decode(f, 121, &m), JC_ERR_PROTO);
	f[3] = 0x75;					/* HeaderLength */
	assert_int_equal(ssm_msg_decode(f, 122, &m), JC_ERR_PROTO);
	f[3] = 0x74;
	f[121] = 'X';					/* digest */
	assert_int_equal(ssm_msg_decode(f, 122, &m), JC_ERR_PROTO);
	f[121] = 'i';
	memset(f + 40, 0, 8);				/* CreatedDate 0 */
	assert_int_equal(ssm_msg_decode(f, 122, &m), JC_ERR_PROTO);
	memcpy(f, golden_hi, sizeof(golden_hi));
	memset(f + 4, ' ', 32);				/* no type */
	assert_int_equal(ssm_msg_decode(f, 122, &m), JC_ERR_PROTO);
	memcpy(f, golden_hi, sizeof(golden_hi));
	f[10] = 0x01;					/* control char */
	assert_int_equal(ssm_msg_decode(f, 122, &m), JC_ERR_PROTO);
	/* the npm client: right-aligned behind NULs, still fine */
	memcpy(f, golden_hi, sizeof(golden_hi));
	memset(f + 4, 0, 32);
	memcpy(f + 4 + 32 - 17, "input_stream_data", 17);
	assert_int_equal(ssm_msg_decode(f, 122, &m), 0);
	assert_string_equal(m.type, "input_stream_data");
	/* publication messages skip every check, even the digest */
	memset(g, 0, sizeof(g));
	memcpy(g + 120, "xyz", 3);
	ssm_msg_seal(g, "pause_publication", 0, 0, 0, id_a, 0, 3);
	g[120] = 'q';
	assert_int_equal(ssm_msg_decode(g, 123, &m), 0);
	assert_string_equal(m.type, "pause_publication");
	/* an empty payload has no digest to check */
	ssm_msg_seal(g, "channel_closed", 5, 0, 0, id_a, 0, 0);
	memset(g + 80, 0x42, 32);
	assert_int_equal(ssm_msg_decode(g, 120, &m), 0);
	/* ssm_msg_new round trip */
	{
		unsigned char *x = ssm_msg_new("input_stream_data", 77, 0,
		    SSM_PT_FLAG, "\0\0\0\2", 4, &n);

		assert_non_null(x);
		assert_int_equal(n, 124);
		assert_int_equal(ssm_msg_decode(x, n, &m), 0);
		assert_int_equal(m.seq, 77);
		assert_int_equal(m.ptype, SSM_PT_FLAG);
		assert_true(m.created > 1700000000000ULL);
		free(x);
	}
}

static void
test_ack_parse(void **st)
{
	int64_t s;

	(void)st;
	assert_int_equal(ssm_ack_parse(L("{\"AcknowledgedMessageSequenceNumber"
	    "\":12345678901}"), &s), 0);
	assert_int_equal(s, 12345678901LL);
	assert_int_equal(ssm_ack_parse(L("{\"AcknowledgedMessageSequenceNumber"
	    "\":-1}"), &s), JC_ERR_PROTO);
	assert_int_equal(ssm_ack_parse(L("{\"AcknowledgedMessageSequenceNumber"
	    "\":1.5}"), &s), JC_ERR_PROTO);
	assert_int_equal(ssm_ack_parse(L("{\"AcknowledgedMessageSequenceNumber"
	    "\":\"3\"}"), &s), JC_ERR_PROTO);
	assert_int_equal(ssm_ack_parse("{}", 2, &s), JC_ERR_PROTO);
	/* the key inside a nested object or a string is not the field */
	assert_int_equal(ssm_ack_parse(L("{\"A\":{\"Acknowledged"
	    "MessageSequenceNumber\":5}}"), &s), JC_ERR_PROTO);
	assert_int_equal(ssm_ack_parse(L("{\"A\":\"x\\\",\"Acknowledged"
	    "MessageSequenceNumber\":6\"}"), &s), JC_ERR_PROTO);
	/* other members around it, and spaces cJSON accepts */
	assert_int_equal(ssm_ack_parse(L("{\"IsSequentialMessage\":true,"
	    "\"AcknowledgedMessageSequenceNumber\":7}"), &s), 0);
	assert_int_equal(s, 7);
	assert_int_equal(ssm_ack_parse(L("{ \"AcknowledgedMessageSequence"
	    "Number\" : 8 }"), &s), 0);
	assert_int_equal(s, 8);
	assert_int_equal(ssm_ack_parse("not json", 8, &s), JC_ERR_PROTO);
}

/* ---- versions and port modes ------------------------------------------- */

static void
test_versions(void **st)
{
	static const struct {
		const char *a, *b;
		int r;
	} t[] = {
		{ "3.0.196.0", "3.0.196.0", 0 },
		{ "3.0.197.0", "3.0.196.0", 1 },
		{ "3.0.196.0", "3.0.197.0", -1 },
		{ "3.1.1511.0", "3.0.196.0", 1 },
		{ "10.0.0.0", "9.9.9.9", 1 },
		{ "1.2.677.0", "1.2.331.0", 1 },
		{ "3.0.196", "3.0.196.0", SSM_VER_BAD },
		{ "", "1.0", SSM_VER_BAD },
		{ "3.x.1.0", "3.0.1.0", SSM_VER_BAD },
		{ "3..1.0", "3.0.1.0", SSM_VER_BAD },
		{ "1.0.0.0.", "1.0.0.0", SSM_VER_BAD },
		{ "1234567890.0", "1.0", SSM_VER_BAD },
	};
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(ssm_version_cmp(t[i].a, t[i].b), t[i].r);
}

static void
test_port_modes(void **st)
{
	static const struct {
		const char *agent, *type;
		int mux, ka, raw;
	} t[] = {
		{ "3.3.40.0", "LocalPortForwarding", 1, 0, 0 },
		{ "3.1.1512.0", "LocalPortForwarding", 1, 0, 0 },
		{ "3.1.1511.0", "LocalPortForwarding", 1, 1, 0 },
		{ "3.1.0.0", "LocalPortForwarding", 1, 1, 0 },
		{ "3.0.196.1", "LocalPortForwarding", 1, 1, 0 },
		{ "3.0.196.0", "LocalPortForwarding", 0, 0, 0 },
		{ "2.3.722.0", "LocalPortForwarding", 0, 0, 0 },
		{ "3.3", "LocalPortForwarding", 0, 0, 0 },
		{ "", "LocalPortForwarding", 0, 0, 0 },
		{ "3.3.40.0", "", 0, 0, 1 },
		{ "3.3.40.0", "RemotePortForwarding", 0, 0, 1 },
	};
	struct ssm_hs hs;
	int mux, ka, raw;
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&hs, 0, sizeof(hs));
		snprintf(hs.agent_version, sizeof(hs.agent_version), "%s",
		    t[i].agent);
		snprintf(hs.prop_type, sizeof(hs.prop_type), "%s", t[i].type);
		ssm_port_mode(&hs, &mux, &ka, &raw);
		assert_int_equal(mux, t[i].mux);
		assert_int_equal(ka, t[i].ka);
		assert_int_equal(raw, t[i].raw);
	}
}

/* ---- handshake --------------------------------------------------------- */

static cJSON *
response_of(const struct ssm_hs *hs)
{
	char *s = ssm_hs_response(hs);
	cJSON *j;

	assert_non_null(s);
	j = cJSON_Parse(s);
	free(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j,
	    "ClientVersion")->valuestring, "1.2.677.0");
	return j;
}

static int
action_status(cJSON *resp, int i, const char **type, const char **err)
{
	cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(resp,
	    "ProcessedClientActions"), i);

	assert_non_null(a);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "ActionResult")));
	*type = cJSON_GetObjectItem(a, "ActionType")->valuestring;
	*err = cJSON_GetObjectItem(a, "Error")->valuestring;
	return (int)cJSON_GetObjectItem(a, "ActionStatus")->valuedouble;
}

static void
test_handshake_port(void **st)
{
	static const char req[] = "{\"AgentVersion\":\"3.3.40.0\","
	    "\"RequestedClientActions\":[{\"ActionType\":\"SessionType\","
	    "\"ActionParameters\":{\"SessionType\":\"Port\",\"Properties\":"
	    "{\"portNumber\":\"80\",\"type\":\"LocalPortForwarding\","
	    "\"localPortNumber\":\"0\"}}}]}";
	struct ssm_hs hs;
	const char *t, *e;
	cJSON *r;

	(void)st;
	assert_int_equal(ssm_hs_parse(req, sizeof(req) - 1, &hs), 0);
	assert_string_equal(hs.agent_version, "3.3.40.0");
	assert_string_equal(hs.session_type, "Port");
	assert_string_equal(hs.prop_type, "LocalPortForwarding");
	assert_string_equal(hs.prop_port, "80");
	assert_int_equal(hs.kms, 0);
	r = response_of(&hs);
	assert_int_equal(action_status(r, 0, &t, &e), SSM_ACT_SUCCESS);
	assert_string_equal(t, "SessionType");
	assert_string_equal(e, "");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "Errors")));
	cJSON_Delete(r);
}

static void
test_handshake_variants(void **st)
{
	static const char ssh[] = "{\"AgentVersion\":\"3.3.40.0\","
	    "\"RequestedClientActions\":[{\"ActionType\":\"SessionType\","
	    "\"ActionParameters\":{\"SessionType\":\"Port\",\"Properties\":"
	    "{\"portNumber\":\"22\"}}}]}";
	static const char cmd[] = "{\"AgentVersion\":\"3.3.40.0\","
	    "\"RequestedClientActions\":[{\"ActionType\":\"SessionType\","
	    "\"ActionParameters\":{\"SessionType\":\"NonInteractiveCommands\","
	    "\"Properties\":{\"linux\":{\"commands\":\"id\"}}}}]}";
	static const char kms[] = "{\"AgentVersion\":\"3.3.40.0\","
	    "\"RequestedClientActions\":[{\"ActionType\":\"SessionType\","
	    "\"ActionParameters\":{\"SessionType\":\"Standard_Stream\","
	    "\"Properties\":{}}},{\"ActionType\":\"KMSEncryption\","
	    "\"ActionParameters\":{\"KMSKeyId\":\"arn:x\",\"Challenge\":"
	    "\"abc\"}}]}";
	static const char unk[] = "{\"RequestedClientActions\":[{"
	    "\"ActionType\":\"TeleportUser\",\"ActionParameters\":{}}]}";
	static const char badtype[] = "{\"RequestedClientActions\":[{"
	    "\"ActionType\":\"SessionType\",\"ActionParameters\":{"
	    "\"SessionType\":\"Holodeck\"}}]}";
	static const char noacts[] = "{\"AgentVersion\":\"3.3.40.0\"}";
	static const char many[] = "{\"RequestedClientActions\":[{},{},{},"
	    "{},{},{},{},{},{}]}";
	struct ssm_hs hs;
	const char *t, *e;
	cJSON *r, *errs;
	int mux, ka, raw;

	(void)st;
	/* AWS-StartSSHSession: no type -> raw stream */
	assert_int_equal(ssm_hs_parse(ssh, sizeof(ssh) - 1, &hs), 0);
	assert_string_equal(hs.prop_type, "");
	ssm_port_mode(&hs, &mux, &ka, &raw);
	assert_true(raw && !mux);
	/* non-interactive command */
	assert_int_equal(ssm_hs_parse(cmd, sizeof(cmd) - 1, &hs), 0);
	assert_string_equal(hs.session_type, "NonInteractiveCommands");
	assert_int_equal(hs.act[0].status, SSM_ACT_SUCCESS);
	/* KMS: failed with a clear error, reported in Errors too */
	assert_int_equal(ssm_hs_parse(kms, sizeof(kms) - 1, &hs), 0);
	assert_int_equal(hs.kms, 1);
	assert_int_equal(hs.nact, 2);
	r = response_of(&hs);
	assert_int_equal(action_status(r, 0, &t, &e), SSM_ACT_SUCCESS);
	assert_int_equal(action_status(r, 1, &t, &e), SSM_ACT_FAILED);
	assert_string_equal(t, "KMSEncryption");
	assert_non_null(strstr(e, "KMS"));
	errs = cJSON_GetObjectItem(r, "Errors");
	assert_true(cJSON_IsArray(errs));
	assert_int_equal(cJSON_GetArraySize(errs), 1);
	cJSON_Delete(r);
	/* unknown action: ActionStatus 3 (not the reference's ActionResult) */
	assert_int_equal(ssm_hs_parse(unk, sizeof(unk) - 1, &hs), 0);
	assert_string_equal(hs.agent_version, "");
	r = response_of(&hs);
	assert_int_equal(action_status(r, 0, &t, &e), SSM_ACT_UNSUPPORTED);
	assert_string_equal(t, "TeleportUser");
	assert_non_null(strstr(e, "TeleportUser"));
	cJSON_Delete(r);
	/* unknown session type: failed */
	assert_int_equal(ssm_hs_parse(badtype, sizeof(badtype) - 1, &hs), 0);
	assert_int_equal(hs.act[0].status, SSM_ACT_FAILED);
	assert_string_equal(hs.session_type, "");
	/* malformed */
	assert_int_equal(ssm_hs_parse(noacts, sizeof(noacts) - 1, &hs),
	    JC_ERR_PROTO);
	assert_int_equal(ssm_hs_parse(many, sizeof(many) - 1, &hs),
	    JC_ERR_PROTO);
	assert_int_equal(ssm_hs_parse("[1]", 3, &hs), JC_ERR_PROTO);
	assert_int_equal(ssm_hs_parse("{", 1, &hs), JC_ERR_PROTO);
}

static void
test_small_payloads(void **st)
{
	char s[64];
	int code;

	(void)st;
	assert_int_equal(ssm_hs_complete(L("{\"HandshakeTimeToComplete\":"
	    "12000000,\"CustomerMessage\":\"hello\"}"), s, sizeof(s)), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(ssm_hs_complete(L("{\"HandshakeTimeToComplete\":1}"),
	    s, sizeof(s)), 0);
	assert_string_equal(s, "");
	assert_int_equal(ssm_hs_complete("x", 1, s, sizeof(s)), JC_ERR_PROTO);
	assert_int_equal(ssm_closed_parse(L("{\"MessageType\":"
	    "\"channel_closed\",\"Output\":\"bye now\"}"), s, sizeof(s)), 0);
	assert_string_equal(s, "bye now");
	assert_int_equal(ssm_closed_parse("{}", 2, s, sizeof(s)), 0);
	assert_string_equal(s, "");
	assert_int_equal(ssm_exit_parse(L("EXIT_CODE: 0"), &code), 0);
	assert_int_equal(code, 0);
	assert_int_equal(ssm_exit_parse(L("EXIT_CODE: 127\n"), &code), 0);
	assert_int_equal(code, 127);
	assert_int_equal(ssm_exit_parse(L("EXIT_CODE:-1"), &code), 0);
	assert_int_equal(code, -1);
	assert_int_equal(ssm_exit_parse(L("EXIT_CODE: "), &code),
	    JC_ERR_PROTO);
	assert_int_equal(ssm_exit_parse(L("EXIT_CODE: 1x"), &code),
	    JC_ERR_PROTO);
	assert_int_equal(ssm_exit_parse(L("EXIT: 1"), &code), JC_ERR_PROTO);
	assert_int_equal(ssm_exit_parse(L("EXIT_CODE: 99999999999"), &code),
	    JC_ERR_PROTO);
}

static void
test_open_json(void **st)
{
	char *s = ssm_open_json("tok\"en\\\n", "40ba6a86-183b-4351-ac5c-"
	    "60762e84dcdb");
	unsigned char id[16];
	cJSON *j;

	(void)st;
	assert_non_null(s);
	j = cJSON_Parse(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j,
	    "MessageSchemaVersion")->valuestring, "1.0");
	assert_string_equal(cJSON_GetObjectItem(j, "TokenValue")->valuestring,
	    "tok\"en\\\n");
	assert_string_equal(cJSON_GetObjectItem(j, "ClientId")->valuestring,
	    "40ba6a86-183b-4351-ac5c-60762e84dcdb");
	assert_string_equal(cJSON_GetObjectItem(j,
	    "ClientVersion")->valuestring, "1.2.677.0");
	assert_int_equal(ssm_uuid_parse(cJSON_GetObjectItem(j,
	    "RequestId")->valuestring, id), 0);
	cJSON_Delete(j);
	free(s);
}

/* ---- smux -------------------------------------------------------------- */

static void
test_smux_frames(void **st)
{
	unsigned char h[8];

	(void)st;
	ssm_smux_hdr(h, SMUX_SYN, 0, 3);
	assert_memory_equal(h, "\x01\x00\x00\x00\x03\x00\x00\x00", 8);
	ssm_smux_hdr(h, SMUX_PSH, 8, 3);
	assert_memory_equal(h, "\x01\x02\x08\x00\x03\x00\x00\x00", 8);
	ssm_smux_hdr(h, SMUX_FIN, 0, 3);
	assert_memory_equal(h, "\x01\x01\x00\x00\x03\x00\x00\x00", 8);
	ssm_smux_hdr(h, SMUX_PSH, 32768, 0x01020305);
	assert_memory_equal(h, "\x01\x02\x00\x80\x05\x03\x02\x01", 8);
}

/*
 * Feed in pieces of `step` bytes, taking at most `take` bytes of each PSH
 * event; log events with consecutive PSH pieces of a stream joined.
 */
static void
smux_feed(const unsigned char *p, size_t n, size_t step, size_t take,
    char *log, size_t loglen)
{
	struct ssm_smux_rx rx;
	struct ssm_smux_ev ev;
	size_t off = 0, end, used, k;
	long last = -1;
	int r;

	memset(&rx, 0, sizeof(rx));
	log[0] = '\0';
	while (off < n) {
		end = off + step < n ? off + step : n;
		while (off < end) {
			r = ssm_smux_parse(&rx, p + off, end - off, &ev, &used);
			assert_true(r >= 0);
			off += used;
			if (r == 0)
				break;
			if (ev.cmd == SMUX_PSH) {
				k = ev.len < take ? ev.len : take;
				if (last != (long)ev.sid)
					snprintf(log + strlen(log),
					    loglen - strlen(log), "P%u:",
					    ev.sid);
				snprintf(log + strlen(log),
				    loglen - strlen(log), "%.*s", (int)k,
				    ev.data);
				last = ev.sid;
				ssm_smux_took(&rx, k);
				off += k;
				continue;
			}
			snprintf(log + strlen(log), loglen - strlen(log),
			    "%s%c%u|", last >= 0 ? "|" : "", "SFPN"[ev.cmd],
			    ev.sid);
			last = -1;
		}
	}
	if (last >= 0)
		snprintf(log + strlen(log), loglen - strlen(log), "|");
}

static void
test_smux_parse(void **st)
{
	/* a SYN and a PSH in one payload (observed), a NOP, an empty PSH */
	static const unsigned char s1[] =
	    "\x01\x00\x00\x00\x03\x00\x00\x00"
	    "\x01\x02\x08\x00\x03\x00\x00\x00hello 0\n"
	    "\x01\x03\x00\x00\x00\x00\x00\x00"
	    "\x01\x02\x00\x00\x05\x00\x00\x00"
	    "\x01\x02\x03\x00\x05\x00\x00\x00" "abc"
	    "\x01\x01\x00\x00\x03\x00\x00\x00";
	struct ssm_smux_rx rx;
	struct ssm_smux_ev ev;
	char log[512];
	size_t step, used, i;

	(void)st;
	/* any cut, any partial take: the same events, the same bytes */
	for (step = 1; step <= 60; step++)
		for (i = 1; i <= 9; i += 4) {
			smux_feed(s1, sizeof(s1) - 1, step, i, log,
			    sizeof(log));
			assert_string_equal(log,
			    "S3|P3:hello 0\n|N0|P5:abc|F3|");
		}
	/* errors kill the mux */
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(ssm_smux_parse(&rx, (const unsigned char *)
	    "\x02\x00\x00\x00\x03\x00\x00\x00", 8, &ev, &used), JC_ERR_PROTO);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(ssm_smux_parse(&rx, (const unsigned char *)
	    "\x01\x04\x00\x00\x03\x00\x00\x00", 8, &ev, &used), JC_ERR_PROTO);
	memset(&rx, 0, sizeof(rx));
	assert_int_equal(ssm_smux_parse(&rx, (const unsigned char *)
	    "\x01\x00\x01\x00\x03\x00\x00\x00", 8, &ev, &used), JC_ERR_PROTO);
}

/* Reassemble every PSH byte of stream sid from a stream cut anywhere. */
static void
test_smux_bytes(void **st)
{
	unsigned char wire[4096], got[2048], want[2048];
	struct ssm_smux_rx rx;
	struct ssm_smux_ev ev;
	size_t n = 0, g = 0, w = 0, off, used, k, cut, i, len;
	uint32_t seed = 7;
	int r;

	(void)st;
	for (i = 0; i < 20; i++) {
		len = (i * 37) % 101;
		ssm_smux_hdr(wire + n, SMUX_PSH, (uint16_t)len,
		    3 + 2 * (i % 2));
		n += 8;
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245 + 12345;
			wire[n + k] = (unsigned char)(seed >> 16);
			if (i % 2 == 0)
				want[w++] = wire[n + k];
		}
		n += len;
	}
	for (cut = 1; cut < 50; cut += 7) {
		memset(&rx, 0, sizeof(rx));
		g = 0;
		for (off = 0; off < n;) {
			size_t end = off + cut < n ? off + cut : n;

			while (off < end) {
				r = ssm_smux_parse(&rx, wire + off, end - off,
				    &ev, &used);
				assert_true(r >= 0);
				off += used;
				if (r == 0)
					break;
				assert_int_equal(ev.cmd, SMUX_PSH);
				if (ev.sid == 3) {
					memcpy(got + g, ev.data, ev.len);
					g += ev.len;
				}
				ssm_smux_took(&rx, ev.len);
				off += ev.len;
			}
		}
		assert_int_equal(g, w);
		assert_memory_equal(got, want, w);
	}
}

/* ---- reliability ------------------------------------------------------- */

static void
test_rto(void **st)
{
	struct ssm_rto r;
	int i;

	(void)st;
	ssm_rto_init(&r);
	assert_int_equal(r.rto, 200);
	ssm_rto_sample(&r, 100);	/* rttvar 0, rtt 100 */
	assert_int_equal(r.rto, 110);	/* rtt + G */
	ssm_rto_sample(&r, 300);	/* rttvar 50, rtt 125 */
	assert_true(r.rttvar == 50.0);
	assert_true(r.rtt == 125.0);
	assert_int_equal(r.rto, 325);	/* rtt + 4 * rttvar */
	ssm_rto_sample(&r, 20000);
	assert_int_equal(r.rto, SSM_RTO_MAX);
	/* loopback: it settles near RTT + G, no other floor */
	ssm_rto_init(&r);
	for (i = 0; i < 60; i++)
		ssm_rto_sample(&r, 0);
	assert_true(r.rto >= 10 && r.rto < 20);
}

/*
 * The in-flight cap: doubles per interval while it is what limits the
 * rate, settles near twice the bandwidth-delay product, and never leaves
 * [lo, hi]; resent messages do not lower the RTT.
 */
static void
test_pace(void **st)
{
	struct ssm_pace p;
	int64_t t = 1000;
	size_t prev;
	int i;

	(void)st;
	ssm_pace_init(&p, 512 * 1024, 4 << 20, t);
	assert_int_equal(p.cap, 512 * 1024);
	/* A 50 ms path, window-limited: a cap's worth acked per RTT. */
	for (i = 0; i < 3; i++) {
		prev = p.cap;
		ssm_pace_ack(&p, prev, 50, t + 50);
		ssm_pace_ack(&p, prev, 50, t + 100);
		t += 100;
		assert_int_equal(p.cap, i < 2 ? 2 * prev : 4 << 20);
	}
	assert_int_equal(p.min_rtt, 50);
	/* A resend's short sample is not the path's RTT. */
	ssm_pace_ack(&p, 1000, -1, t + 1);
	assert_int_equal(p.min_rtt, 50);
	/* Idle for a while: the cap sinks back, but never below lo. */
	for (i = 0; i < 40; i++) {
		t += 1000;
		ssm_pace_ack(&p, 1000, 50, t);
	}
	assert_int_equal(p.cap, 512 * 1024);
	/* A fast local path (0 ms counts as 1): 200 MB/s needs 400 kB. */
	ssm_pace_init(&p, 64 * 1024, 4 << 20, 0);
	for (t = 1; t <= 200; t++)
		ssm_pace_ack(&p, 200 * 1000, 0, t);
	assert_true(p.cap >= 390 * 1000 && p.cap <= 410 * 1000);
}

static void
test_txq(void **st)
{
	struct ssm_txq q;
	struct ssm_acked a;
	int i;

	(void)st;
	ssm_txq_init(&q, 1000);
	for (i = 0; i < 600; i++)	/* grows past its first 256 slots */
		assert_int_equal(ssm_txq_push(&q, 10 + i, malloc(8), 8,
		    i % 3 != 0, 1000), 0);
	assert_int_equal(q.unacked, 600);
	assert_int_equal(q.unacked_data, 400);
	assert_int_equal(q.bytes, 4800);
	/* wrong sequence number: refused, frame freed */
	assert_int_equal(ssm_txq_push(&q, 5, malloc(8), 8, 1, 1000),
	    JC_ERR_NOMEM);
	/* out-of-order acks; the front slides only past acked entries */
	assert_int_equal(ssm_txq_ack(&q, 11, 1050, &a), 1);
	assert_int_equal(a.sample_ms, 50);
	assert_int_equal(a.len, 8);
	assert_false(a.resent);
	assert_int_equal(ssm_txq_ack(&q, 11, 1060, &a), 0);	/* repeat */
	assert_int_equal(ssm_txq_ack(&q, 5000, 1060, &a), 0);	/* unknown */
	assert_int_equal(q.base, 10);
	assert_int_equal(ssm_txq_ack(&q, 10, 1070, &a), 1);
	assert_int_equal(q.base, 12);
	assert_int_equal(q.count, 598);
	assert_non_null(ssm_txq_get(&q, 12));
	assert_null(ssm_txq_get(&q, 11));
	/* a resend moves the send time; the sample is from the last send */
	ssm_txq_get(&q, 12)->sent = 1500;
	ssm_txq_get(&q, 12)->attempts = 1;
	assert_int_equal(ssm_txq_ack(&q, 12, 1530, &a), 1);
	assert_int_equal(a.sample_ms, 30);
	assert_true(a.resent);
	for (i = 13; i < 610; i++)
		assert_int_equal(ssm_txq_ack(&q, i, 2000, &a), 1);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.unacked, 0);
	assert_int_equal(q.unacked_data, 0);
	assert_int_equal(q.bytes, 0);
	assert_true(ssm_txq_room(&q));
	/* never past maxcap */
	for (i = 0; i < 1000; i++)
		assert_int_equal(ssm_txq_push(&q, 610 + i, malloc(1), 1, 1, 1),
		    0);
	assert_false(ssm_txq_room(&q));
	assert_int_equal(ssm_txq_push(&q, 1610, malloc(1), 1, 1, 1),
	    JC_ERR_NOMEM);
	ssm_txq_free(&q);
}

static void
test_rxq(void **st)
{
	struct ssm_rxq q;
	struct ssm_rxent *e;

	(void)st;
	assert_int_equal(ssm_rxq_init(&q, 8, 20), 0);
	assert_null(ssm_rxq_head(&q));
	assert_int_equal(ssm_rxq_put(&q, 2, 1, "cc", 2), SSM_RX_STORED);
	assert_int_equal(ssm_rxq_put(&q, 1, 1, "bb", 2), SSM_RX_STORED);
	assert_int_equal(ssm_rxq_put(&q, 2, 1, "cc", 2), SSM_RX_DUP);
	assert_null(ssm_rxq_head(&q));			/* 0 missing */
	assert_int_equal(ssm_rxq_put(&q, 8, 1, "x", 1), SSM_RX_FULL);
	assert_int_equal(ssm_rxq_put(&q, 7, 1, "0123456789abcdefg", 17),
	    SSM_RX_FULL);				/* bytes */
	assert_int_equal(ssm_rxq_put(&q, 7, 1, "hh", 2), SSM_RX_STORED);
	/* the head is always taken, whatever the byte count */
	assert_int_equal(ssm_rxq_put(&q, 0, 5, "0123456789abcdefghij", 20),
	    SSM_RX_STORED);
	e = ssm_rxq_head(&q);
	assert_non_null(e);
	assert_int_equal(e->ptype, 5);
	assert_int_equal(e->len, 20);
	ssm_rxq_pop(&q);
	assert_memory_equal(ssm_rxq_head(&q)->p, "bb", 2);
	ssm_rxq_pop(&q);
	assert_memory_equal(ssm_rxq_head(&q)->p, "cc", 2);
	ssm_rxq_pop(&q);
	assert_null(ssm_rxq_head(&q));
	assert_int_equal(q.expected, 3);
	assert_int_equal(ssm_rxq_put(&q, 1, 1, "bb", 2), SSM_RX_DUP);
	assert_int_equal(ssm_rxq_put(&q, 10, 1, "k", 1), SSM_RX_STORED);
	assert_int_equal(q.count, 2);
	ssm_rxq_free(&q);
}

/* ---- exec command ------------------------------------------------------ */

/*
 * Run cmd as the agent does: split into words (here by the shell's own
 * rules, which the agent's shlex follows for quotes and backslashes),
 * check it is exactly `sh -c SCRIPT`, exec the words with no shell
 * around them and stdin on /dev/null.
 */
static char *
run_sh(const char *cmd, size_t *len)
{
	static const char agent[] = "eval \"set -- $JC_CMD\"; "
	    "[ $# = 3 ] && [ \"$1\" = sh ] && [ \"$2\" = -c ] || exit 99; "
	    "exec \"$@\" </dev/null";
	char *out = calloc(1, 1 << 20);
	int p[2], st;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv("JC_CMD", cmd, 1);
		execl("/bin/sh", "sh", "-c", agent, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*len = 0;
	while ((n = read(p[0], out + *len, (1 << 20) - *len - 1)) > 0)
		*len += (size_t)n;
	close(p[0]);
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 99);
	return out;
}

static void
test_exec_command(void **st)
{
	unsigned char in[3000];
	char *c, *out;
	size_t i, n;

	(void)st;
	c = ssm_exec_command("echo 'a b'", NULL, 0);
	assert_string_equal(c, "sh -c 'echo '\\''a b'\\'''");
	out = run_sh(c, &n);
	assert_string_equal(out, "a b\n");
	free(out);
	free(c);
	/* every byte value survives the trip through the shell */
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 31 + (i >> 7));
	c = ssm_exec_command("cat; printf \"%s\" \"it's\"", in, sizeof(in));
	assert_null(strchr(c, '\n'));
	out = run_sh(c, &n);
	assert_int_equal(n, sizeof(in) + 4);
	assert_memory_equal(out, in, sizeof(in));
	assert_memory_equal(out + sizeof(in), "it's", 4);
	free(out);
	free(c);
	/* too much input for one argument */
	assert_null(ssm_exec_command("cat", in, 70 * 1024));
}

/* ---- WebSocket --------------------------------------------------------- */

static void
test_ws_upgrade_parse(void **st)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81";
	char why[160], big[20000];
	size_t hl = 0;

	(void)st;
	assert_int_equal(ssm_ws_parse_upgrade(ok, sizeof(ok) - 1, key, &hl,
	    why, sizeof(why)), 0);
	assert_int_equal(hl, sizeof(ok) - 2);
	assert_int_equal(ssm_ws_parse_upgrade(ok, 40, key, &hl, why,
	    sizeof(why)), 1);
	assert_int_equal(ssm_ws_parse_upgrade(L("HTTP/1.1 403 Forbidden\r\n"
	    "Content-Length: 0\r\n\r\n"), key, &hl, why, sizeof(why)),
	    JC_ERR_PROTO);
	assert_non_null(strstr(why, "403 Forbidden"));
	assert_int_equal(ssm_ws_parse_upgrade(L("HTTP/1.1 101 OK\r\n"
	    "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Accept: wrong=\r\n\r\n"), key, &hl, why,
	    sizeof(why)), JC_ERR_PROTO);
	assert_non_null(strstr(why, "Accept"));
	assert_int_equal(ssm_ws_parse_upgrade(L("HTTP/1.1 101 OK\r\n"
	    "upgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
	    "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
	    key, &hl, why, sizeof(why)), 0);
	assert_int_equal(ssm_ws_parse_upgrade(L("HTTP/1.1 101 OK\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"), key,
	    &hl, why, sizeof(why)), JC_ERR_PROTO);
	assert_int_equal(ssm_ws_parse_upgrade(L("HTTP/1.1 101 OK\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
	    key, &hl, why, sizeof(why)), JC_ERR_PROTO);
	memset(big, 'a', sizeof(big));
	assert_int_equal(ssm_ws_parse_upgrade(big, sizeof(big), key, &hl, why,
	    sizeof(why)), JC_ERR_PROTO);
}

static long
fd_recv(void *ctx, void *buf, size_t n)
{
	ssize_t r = read(*(int *)ctx, buf, n);

	if (r < 0)
		return errno == EAGAIN ? -1 : -2;
	return (long)r;
}

static long
fd_send(void *ctx, const void *buf, size_t n)
{
	ssize_t r = send(*(int *)ctx, buf, n, MSG_NOSIGNAL);

	if (r < 0)
		return errno == EAGAIN ? -1 : -2;
	return (long)r;
}

struct got {
	int		 n, text;
	size_t		 len;
	unsigned char	 last[70000];
};

static void
on_msg(void *arg, int text, const unsigned char *p, size_t n)
{
	struct got *g = arg;

	g->n++;
	g->text = text;
	g->len = n;
	memcpy(g->last, p, n < sizeof(g->last) ? n : sizeof(g->last));
}

/* Read one client frame (masked) from fd: returns opcode, payload. */
static int
server_read(int fd, unsigned char *out, size_t *len)
{
	unsigned char h[14], mask[4];
	uint64_t n;
	size_t hl = 2, i, got = 0;
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t r;

	while (got < 2 && poll(&p, 1, 2000) > 0 &&
	    (r = read(fd, h + got, 2 - got)) > 0)
		got += (size_t)r;
	assert_int_equal(got, 2);
	assert_true(h[1] & 0x80);	/* clients mask */
	n = h[1] & 0x7f;
	if (n == 126)
		hl = 4;
	else if (n == 127)
		hl = 10;
	while (got < hl + 4 && poll(&p, 1, 2000) > 0 &&
	    (r = read(fd, h + got, hl + 4 - got)) > 0)
		got += (size_t)r;
	if (hl == 4)
		n = (uint64_t)h[2] << 8 | h[3];
	else if (hl == 10)
		for (n = 0, i = 2; i < 10; i++)
			n = n << 8 | h[i];
	memcpy(mask, h + hl, 4);
	for (got = 0; got < n && poll(&p, 1, 2000) > 0;) {
		r = read(fd, out + got, (size_t)n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	for (i = 0; i < n; i++)
		out[i] ^= mask[i % 4];
	*len = (size_t)n;
	return h[0] & 0x0f;
}

static void
test_ws_session(void **st)
{
	static const char first[] = "\x82\x05hello";
	char req[2048], *k, key[64], resp[512], why[8];
	unsigned char buf[70000], acc[40];
	struct ssm_ws_io io = { fd_recv, fd_send, NULL };
	struct ssm_ws *ws;
	struct got *g = calloc(1, sizeof(*g));
	size_t n = 0, len, i;
	int sv[2], code, srv, cli;
	ssize_t r;

	(void)st;
	(void)why;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cli = sv[0];
	srv = sv[1];
	fcntl(cli, F_SETFL, O_NONBLOCK);
	io.ctx = &cli;
	assert_int_equal(ssm_ws_new_io(&io, cli, "example.com:8443",
	    "/v1/data-channel/s-1?role=publish_subscribe", on_msg, g, &ws),
	    0);
	assert_int_equal(ssm_ws_state(ws), SSM_WS_UPGRADING);
	assert_int_equal(ssm_ws_fd(ws), cli);
	/* queued before the upgrade: goes out after it */
	assert_int_equal(ssm_ws_send(ws, 1, "{\"open\":1}", 10), 0);
	assert_int_equal(ssm_ws_run(ws, 1), 0);
	while (n < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL) {
		r = read(srv, req + n, sizeof(req) - 1 - n);
		assert_true(r > 0);
		n += (size_t)r;
		req[n] = '\0';
	}
	assert_non_null(strstr(req, "GET /v1/data-channel/s-1?role="
	    "publish_subscribe HTTP/1.1\r\n"));
	assert_non_null(strstr(req, "Host: example.com:8443\r\n"));
	assert_non_null(strstr(req, "Sec-WebSocket-Version: 13\r\n"));
	k = strstr(req, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	snprintf(key, sizeof(key), "%.24s", k + 19);
	/* the accept value, computed independently of the client */
	{
		unsigned char d[20];
		char cat[128];

		snprintf(cat, sizeof(cat), "%s258EAFA5-E914-47DA-95CA-"
		    "C5AB0DC85B11", key);
		SHA1((unsigned char *)cat, strlen(cat), d);
		EVP_EncodeBlock(acc, d, 20);
	}
	/* the 101 and the first frame in one write */
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching "
	    "Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	memcpy(resp + n, first, sizeof(first) - 1);
	assert_int_equal(write(srv, resp, n + sizeof(first) - 1),
	    (ssize_t)(n + sizeof(first) - 1));
	for (i = 0; i < 50 && g->n == 0; i++) {
		assert_int_equal(ssm_ws_run(ws, 1), 0);
		usleep(1000);
	}
	assert_int_equal(ssm_ws_state(ws), SSM_WS_OPEN);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->text, 0);
	assert_memory_equal(g->last, "hello", 5);
	/* the text frame queued before the upgrade */
	assert_int_equal(server_read(srv, buf, &len), 1);
	assert_memory_equal(buf, "{\"open\":1}", 10);
	/* a big binary message (64-bit length form) */
	for (i = 0; i < 70000; i++)
		buf[i] = (unsigned char)i;
	assert_int_equal(ssm_ws_send(ws, 0, buf, 70000), 0);
	assert_true(ssm_ws_backlog(ws) > 0);
	assert_int_equal(ssm_ws_run(ws, 0), 0);
	assert_int_equal(server_read(srv, g->last, &len), 2);
	assert_int_equal(len, 70000);
	assert_memory_equal(g->last, buf, 70000);
	/* our keepalive ping, and a pong for the server's ping */
	assert_int_equal(ssm_ws_ping(ws), 0);
	assert_int_equal(ssm_ws_run(ws, 0), 0);
	assert_int_equal(server_read(srv, buf, &len), 9);
	assert_memory_equal(buf, "keepalive", 9);
	assert_int_equal(write(srv, "\x89\x02hi", 4), 4);
	for (i = 0; i < 20; i++)
		(void)ssm_ws_run(ws, 1);
	assert_int_equal(server_read(srv, buf, &len), 10);
	assert_memory_equal(buf, "hi", 2);
	/* MGS says Bye */
	assert_int_equal(write(srv, "\x88\x05\x03\xe8" "Bye", 7), 7);
	code = 0;
	for (i = 0; i < 20 && code == 0; i++)
		code = ssm_ws_run(ws, 1);
	assert_int_equal(code, JC_ERR_CLOSED);
	assert_int_equal(ssm_ws_state(ws), SSM_WS_CLOSED);
	ssm_ws_close_info(ws, &code, resp, sizeof(resp));
	assert_int_equal(code, 1000);
	assert_string_equal(resp, "Bye");
	assert_int_equal(ssm_ws_send(ws, 0, "x", 1), JC_ERR_CLOSED);
	ssm_ws_free(ws);
	close(srv);
	free(g);
}

static void
test_ws_bad_answer(void **st)
{
	struct ssm_ws_io io = { fd_recv, fd_send, NULL };
	struct ssm_ws *ws;
	int sv[2], cli, r = 0, i;

	(void)st;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cli = sv[0];
	fcntl(cli, F_SETFL, O_NONBLOCK);
	io.ctx = &cli;
	assert_int_equal(ssm_ws_new_io(&io, cli, "h", "/", NULL, NULL, &ws),
	    0);
	assert_int_equal(write(sv[1], "HTTP/1.1 403 Forbidden\r\n\r\n", 26),
	    26);
	for (i = 0; i < 10 && r == 0; i++)
		r = ssm_ws_run(ws, 1);
	assert_int_equal(r, JC_ERR_PROTO);
	assert_int_equal(ssm_ws_state(ws), SSM_WS_CLOSED);
	ssm_ws_free(ws);
	ssm_ws_free(NULL);
	/* EOF before any answer */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cli = sv[0];
	fcntl(cli, F_SETFL, O_NONBLOCK);
	assert_int_equal(ssm_ws_new_io(&io, cli, "h", "/", NULL, NULL, &ws),
	    0);
	close(sv[1]);
	r = 0;
	for (i = 0; i < 10 && r == 0; i++)
		r = ssm_ws_run(ws, 1);
	assert_true(r == JC_ERR_CLOSED || r == JC_ERR_IO);
	ssm_ws_free(ws);
	close(cli);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_input),
		cmocka_unit_test(test_golden_ack),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_decode_checks),
		cmocka_unit_test(test_ack_parse),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_port_modes),
		cmocka_unit_test(test_handshake_port),
		cmocka_unit_test(test_handshake_variants),
		cmocka_unit_test(test_small_payloads),
		cmocka_unit_test(test_open_json),
		cmocka_unit_test(test_smux_frames),
		cmocka_unit_test(test_smux_parse),
		cmocka_unit_test(test_smux_bytes),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_pace),
		cmocka_unit_test(test_txq),
		cmocka_unit_test(test_rxq),
		cmocka_unit_test(test_exec_command),
		cmocka_unit_test(test_ws_upgrade_parse),
		cmocka_unit_test(test_ws_session),
		cmocka_unit_test(test_ws_bad_answer),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
