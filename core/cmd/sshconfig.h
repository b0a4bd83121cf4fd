/*
 * sshconfig.h - `jconnect ssh-config`: Host blocks for ~/.ssh/config so
 * that ssh, scp, rsync and VS Code reach a target the way jconnect does
 * (same user, key, host key name; over SSM through `jconnect proxy`),
 * printed or installed between markers in the user's ssh config.
 */
#ifndef JC_SSHCONFIG_H
#define JC_SSHCONFIG_H

#include <stddef.h>

/* The subcommand (argv: the positional arguments only). */
int	jc_cmd_ssh_config(int argc, char **argv);

/* ---- pure helpers (sshconfig_merge.c; unit tests call them) ---------- */

/*
 * The Host name for a target: the alias name, or TARGET without user@
 * and without the stack:/name: prefix, every byte outside [A-Za-z0-9._-]
 * made '-'.  Written into out (n bytes); "" when nothing is left.
 */
void	jc_sshcfg_host_name(const char *target, char *out, size_t n);

/*
 * Append s to out (n bytes) as one shell word that survives both
 * ssh_config's %-expansion of ProxyCommand (% doubled) and sh, bash,
 * zsh and fish (single quotes when needed).  Returns 0, or -1 when it
 * does not fit or s holds a control character ssh_config cannot carry.
 */
int	jc_sshcfg_shell_word(char *out, size_t n, const char *s);

/*
 * Append path to out (n bytes) as one ssh_config argument of a file
 * option (IdentityFile, UserKnownHostsFile): % doubled, double quotes
 * when it has a blank.  Returns 0, or -1 when it does not fit or holds a
 * character ssh_config cannot carry ('"', '\\', control characters).
 */
int	jc_sshcfg_file_arg(char *out, size_t n, const char *path);

/*
 * Put the marked block of Host `name` into an ssh config.  block is the
 * whole block, markers included, lines ending in "\n" (the file's CRLF
 * style is applied).  An existing block of that name (from its begin to
 * its end marker) is replaced in place; a new one goes before the first
 * Host or Match line (and the comment lines right above it), since a
 * Host block after `Host *` or inside a Match gets their settings first;
 * with none, at the end.  Every other byte is kept.  Returns 0 with a
 * malloc'ed *out (NUL-terminated) and *changed (JC_SSHCFG_SAME, _UPDATED
 * or _ADDED), JC_ERR_NOMEM, or
 * JC_ERR_USAGE with the reason in why (a begin marker without its end,
 * or twice).
 */
int	jc_sshcfg_merge(const char *old, size_t oldlen, const char *name,
	    const char *block, char **out, size_t *outlen, int *changed,
	    char *why, size_t whylen);

#define JC_SSHCFG_SAME		0
#define JC_SSHCFG_UPDATED	1
#define JC_SSHCFG_ADDED		2

/* The marker lines of a block, without line ending. */
#define JC_SSHCFG_BEGIN	"# >>> jconnect %s >>>"
#define JC_SSHCFG_END	"# <<< jconnect %s <<<"

#endif /* JC_SSHCONFIG_H */
