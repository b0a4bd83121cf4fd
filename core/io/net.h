/*
 * net.h - non-blocking socket helpers and the local port picker.
 */
#ifndef JC_NET_H
#define JC_NET_H

#include <stdint.h>

/* Set O_NONBLOCK and FD_CLOEXEC on fd.  Returns 0 or JC_ERR_IO. */
int	jc_net_nonblock(int fd);

/*
 * Listen on 127.0.0.1:port (port 0 = ephemeral).  On success *fdp is a
 * non-blocking listening socket and *portp the bound port.  Returns
 * JC_ERR_PORT when the port is in use, JC_ERR_IO otherwise.
 */
int	jc_net_listen(uint16_t port, int *fdp, uint16_t *portp);

/*
 * The port picker: `forced` (when non-zero), else `last` (the port this
 * target had last time, when non-zero and free), else the first free of
 * 8888, 8889, 8080, else an ephemeral port.  On success *fdp listens and
 * *portp is the port; `why` (>= 128 bytes) says which was taken and why
 * (e.g. "port 8889 (8888 in use)").  Forced but busy -> JC_ERR_PORT.
 */
int	jc_net_pick_port(uint16_t forced, uint16_t last, int *fdp,
	    uint16_t *portp, char *why, size_t whylen);

/* Non-blocking connect to 127.0.0.1:port; *fdp in progress or done. */
int	jc_net_connect_local(uint16_t port, int *fdp);

/* 1 when something accepts connections on 127.0.0.1:port. */
int	jc_net_port_busy(uint16_t port);

#endif /* JC_NET_H */
