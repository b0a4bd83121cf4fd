/*
 * log.h - leveled logging to stderr ("jconnect: [plugin] message").
 * stdout is reserved for results and relayed bytes.
 */
#ifndef JC_LOG_H
#define JC_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "jc_plugin.h"

extern int jc_log_lvl;			/* current level, JC_LOG_* */

/* Set the level (JC_LOG_ERROR for -q ... JC_LOG_TRACE for -vvv). */
void	jc_log_set_level(int level);

/* Log one line at level; prefix is a plugin name or NULL for the core. */
void	jc_log(int level, const char *prefix, const char *fmt, ...)
	    JC_PRINTF(3, 4);
void	jc_vlog(int level, const char *prefix, const char *fmt, va_list ap)
	    JC_PRINTF(3, 0);

/*
 * Between these, a line at default verbosity that was said already since
 * jc_log_once_begin is said again only at -v (a reconnect's attempts).
 */
void	jc_log_once_begin(void);
void	jc_log_once_end(void);

/*
 * Copy s into dst (size n) with secrets masked: the value after
 * "token=", "Authorization:", "X-Amz-Security-Token:", "TokenValue"
 * and "SecretAccessKey" becomes "***".  Returns dst.
 */
char	*jc_log_redact(const char *s, char *dst, size_t n);

/*
 * Copy s into dst (size n) safe for a terminal, like OpenSSH's "safe"
 * printing: newline, CR and tab become \n \r \t; other control bytes,
 * DEL, C1 controls and bytes that are not valid UTF-8 become \xNN; valid
 * UTF-8 text is kept.  Truncates at a whole character.  Returns dst.
 * jc_log applies it to every line; use it for remote text that goes
 * elsewhere (stdout).
 */
char	*jc_log_safe(const char *s, char *dst, size_t n);

/*
 * Length (1-4) of the printable UTF-8 character at s, or 0 for a control
 * character (C0, DEL, C1), an invalid or overlong sequence, or the NUL.
 */
size_t	jc_log_utf8len(const char *s);

#define JC_LOG_AT(l, ...) do {						\
	if (jc_log_lvl >= (l))						\
		jc_log((l), NULL, __VA_ARGS__);				\
} while (0)
#define jc_error(...)	JC_LOG_AT(JC_LOG_ERROR, __VA_ARGS__)
#define jc_warn(...)	JC_LOG_AT(JC_LOG_WARN, __VA_ARGS__)
#define jc_info(...)	JC_LOG_AT(JC_LOG_INFO, __VA_ARGS__)
#define jc_verbose(...)	JC_LOG_AT(JC_LOG_VERBOSE, __VA_ARGS__)
#define jc_debug(...)	JC_LOG_AT(JC_LOG_DEBUG, __VA_ARGS__)
#define jc_trace(...)	JC_LOG_AT(JC_LOG_TRACE, __VA_ARGS__)

#endif /* JC_LOG_H */
