/*
 * ssm_smux.h - smux v1 framing (ssm_smux.c).
 */
#ifndef SSM_SMUX_H
#define SSM_SMUX_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* SSM_SMUX_H */
