/*
 * jupyter_log.h - the parser of Jupyter logs and of the URLs they
 * announce (jupyter_log.c).  Pure, fuzzed.
 */
#ifndef JC_JUPYTER_LOG_H
#define JC_JUPYTER_LOG_H

#include <stddef.h>

#include "jupyter_url.h"

/*
 * Parse a Jupyter log (any generation in jupyter.md): the URL announced
 * after the last "is running at" banner, else the last URL line.  Fills
 * *out (token_masked when the log prints "...", password_only when the
 * URL has no token).  Returns 0, JC_ERR_JUPYTER when no server is
 * announced or the last one logged its shutdown.  NUL bytes and junk are
 * skipped.
 */
int	jc_jupyter_log_parse(const char *buf, size_t len,
	    struct jc_jupyter *out);

/*
 * Parse one announced URL (http, https, http+unix; hosts as in
 * jupyter.md incl. "(host or 127.0.0.1)" and bare IPv6) into *out.
 * Returns 0 or JC_ERR_PROTO.
 */
int	jc_jupyter_url_parse(const char *url, size_t len,
	    struct jc_jupyter *out);

/* Free the compiled log patterns (they are compiled on first use). */
void	jc_jupyter_log_fini(void);

#endif /* JC_JUPYTER_LOG_H */
