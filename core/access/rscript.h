/*
 * rscript.h - run a POSIX sh script on the remote through an access
 * plugin's exec, as another user when asked, and read back its output
 * sections.  Shared by the core's Jupyter steps (jupyter.c) and the keys
 * plugin (plugins/keys/keys_remote.c).
 *
 * A plugin reaches the core only through the host table, so this is a
 * small shared source rather than a host function: the core links it,
 * and the Makefile compiles it into each plugin with hidden visibility
 * (PCOMMON_OBJ), like buf.c.  It needs nothing else from the core.
 *
 * The contract: the exec command only picks the user and starts sh; the
 * script travels on stdin (nothing secret in a remote process list), or,
 * when stdin carries the script's own data, base64 in the command.  Its
 * output is cut into sections by marker lines "@@<nonce> <word> <args>"
 * that the script prints with M (JC_RS_SH_MARK); the nonce is random per
 * run, so no file content the script prints can forge a section.
 */
#ifndef JC_RSCRIPT_H
#define JC_RSCRIPT_H

#include <stddef.h>

#define JC_RS_NONCE_LEN		16	/* hex digits */

/*
 * The one way to become another user: when the session already is USER,
 * run INNER as is; else through `sudo -n -u USER -i INNER`.
 *   -n  never prompt: there is no terminal on an exec channel, so a
 *       password prompt could only hang until the timeout, and a password
 *       must never travel through a channel whose output jconnect parses.
 *       sudo fails at once instead (exit 1), and the caller says that
 *       passwordless sudo is needed.
 *   -i  a login shell of USER: USER's HOME, PATH and profile (where
 *       Jupyter and conda are found), and nothing of the session user's
 *       environment.  sudo -i quotes INNER's words for that shell with
 *       backslashes, but not '$', and a newline becomes a line
 *       continuation: hence a script in INNER goes base64.
 * USER and INNER are shell text: a quoted name or "$U".
 */
#define JC_RS_AS(user, inner)						\
	"if [ \"$(id -un)\" = " user " ]; then exec " inner "; "	\
	"else exec sudo -n -u " user " -i " inner "; fi"

/* The sh function M: prints a marker line "@@$N WORD ARGS" (after a
 * newline, so that a section body never runs into the next marker). */
#define JC_RS_SH_MARK	"M() { printf '\\n@@%s %s\\n' \"$N\" \"$*\"; }\n"

/* One section of a script's output. */
struct jc_rs_section {
	char		 word[16];	/* "file", "present", ... */
	char		 args[512];	/* rest of the marker line */
	const char	*body;		/* NB. borrowed from the exec output */
	size_t		 bodylen;
};

/* A fresh nonce: JC_RS_NONCE_LEN hex digits and a NUL.  0 or -1. */
int	jc_rs_nonce(char *buf, size_t n);

/* A user name that may stand bare on a command line (and in JC_RS_AS). */
int	jc_rs_user_ok(const char *u);

/*
 * The exec command that runs a script as run_as (NULL or "": the
 * session's user), per JC_RS_AS.  With args NULL the script is the
 * whole of stdin ("sh -s"; the caller passes it to exec).  With args
 * (shell words: $0, then the positional parameters) the script (script,
 * script_len) rides in the command, base64 as the SSM plugin's exec
 * already carries stdin, and stdin is left for the script's data.  A
 * run_as that is not jc_rs_user_ok() is single-quoted.  Returns 0, or -1
 * when dst (n bytes) is too small or memory is short.
 */
int	jc_rs_command(char *dst, size_t n, const char *run_as,
	    const char *script, size_t script_len, const char *args);

/* Append s to dst (n bytes) single-quoted for sh.  0, or -1 if too small. */
int	jc_rs_quote(char *dst, size_t n, const char *s);

/*
 * The next section of out (len bytes) from *off, for nonce: 1 with *sec
 * filled (the body runs to the next marker), or 0 at the end.
 */
int	jc_rs_next_section(const char *out, size_t len, const char *nonce,
	    size_t *off, struct jc_rs_section *sec);

#endif /* JC_RSCRIPT_H */
