/*
 * eice.h - the EC2 Instance Connect Endpoint access plugin: the
 * endpoint of the instance's VPC, a presigned openTunnel WebSocket to
 * the instance's sshd, a one-time key pushed with SendSSHPublicKey, and
 * the ssh plugin's session run over that stream.  Not installed.
 */
#ifndef JC_EICE_H
#define JC_EICE_H

#include <stddef.h>
#include <stdint.h>

#include "jc_plugin.h"

#define EICE_SERVICE		"ec2-instance-connect"
#define EICE_MAX_TUNNEL_S	3600	/* AWS's limit for maxTunnelDuration */

extern const struct jc_host *eice_host;		/* set by init() */

#define eice_log(l, ...)	eice_host->log((l), "eice", __VA_ARGS__)

/* What DescribeInstances says of the instance. */
struct eice_inst {
	char	vpc[32];
	char	subnet[32];
	char	ip[64];			/* private IPv4 address */
	char	state[24];
};

/* One endpoint of DescribeInstanceConnectEndpoints. */
struct eice_ep {
	char	id[64];			/* eice-0123... */
	char	dns[256];
	char	vpc[32];
	char	subnet[32];
	char	state[32];		/* create-complete when usable */
};

/* ---- AWS (eice_aws.c) ------------------------------------------------- */

/*
 * The instance's VPC, subnet and private address.  Logs one line and
 * returns JC_ERR_NOTFOUND / _UNREACHABLE / an AWS error class.
 */
int	eice_describe_instance(const char *id, struct eice_inst *);

/*
 * The endpoint to use for the instance: want (eice.endpoint_id) when
 * set, else a usable one of its subnet, else of its VPC.  Logs one line
 * and returns JC_ERR_UNREACHABLE when there is none.
 */
int	eice_find_endpoint(const char *id, const struct eice_inst *,
	    const char *want, struct eice_ep *);

/* SendSSHPublicKey: pubkey logs in as user for 60 seconds.  Logged. */
int	eice_push_key(const char *id, const char *user, const char *pubkey);

/* Parsers, for the unit test: 0, or JC_ERR_PROTO. */
int	eice_parse_instance(const char *xml, size_t len, struct eice_inst *);
/* Up to max endpoints into eps; returns how many, or JC_ERR_PROTO. */
int	eice_parse_endpoints(const char *xml, size_t len, struct eice_ep *eps,
	    int max);

/* ---- the tunnel (eice_tunnel.c) ---------------------------------------- */

struct eice_tun;

/*
 * Open the presigned openTunnel WebSocket of ep to ip:port and pump it
 * to a socketpair: *fdp gets the other end (the caller owns it).  The
 * upgrade is waited for (running the loop) up to timeout_ms.  Logs one
 * line and returns JC_ERR_UNREACHABLE / _AWS_AUTH ... on failure.
 */
int	eice_tunnel_open(const struct eice_ep *ep, const char *ip, int port,
	    int max_s, int timeout_ms, int *fdp, struct eice_tun **out);
/* 0 while the tunnel carries bytes, else JC_ERR_CLOSED. */
int	eice_tunnel_status(const struct eice_tun *);
void	eice_tunnel_close(struct eice_tun *);

/* The presigned URL's query before signing, for the unit test. */
int	eice_tunnel_query(const struct eice_ep *ep, const char *ip, int port,
	    int max_s, char *out, size_t len);

#endif /* JC_EICE_H */
