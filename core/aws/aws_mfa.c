/*
 * aws_mfa.c - asking for an MFA code on the terminal.
 *
 * Before a tunnel is up the question waits for the answer (nothing else
 * runs yet).  Once it is up, a role whose MFA session runs out is asked
 * for beside it: the prompt stays on the terminal while the loop moves
 * the tunnel's bytes, and the code is handed over when Enter comes, so
 * a notebook in use does not freeze until somebody looks at the
 * terminal.  The code is a one-time secret: never echoed, wiped after
 * use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "aws_int.h"
#include "aws_mfa.h"
#include "compat.h"
#include "log.h"
#include "loop.h"

int
jc_aws_mfa_tty(void)
{
	const char *name;
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) != -1)
		return fd;
	if (isatty(2) && (name = ttyname(2)) != NULL)
		return open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	return -1;
}

/* Echo off, whole lines; 1 when *old must be put back. */
static int
quiet(int fd, struct termios *old)
{
	struct termios t;

	if (tcgetattr(fd, old) != 0)
		return 0;
	t = *old;
	t.c_lflag &= ~(tcflag_t)ECHO;
	t.c_lflag |= ICANON;
	return tcsetattr(fd, TCSAFLUSH, &t) == 0;
}

static void
prompt(int fd, const char *profile, const char *serial)
{
	dprintf(fd, "MFA code for %s (profile %s): ", serial, profile);
}

/* Six digits, or a one-line error in err. */
static int
check_code(const char *code, const char *profile, struct jc_aws_error *err)
{
	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return jc_aws_fail(err, JC_ERR_AWS_AUTH, "the MFA code for "
		    "profile %s must be the 6 digits your device shows",
		    profile);
	return 0;
}

int
jc_aws_mfa_read(int fd, const char *profile, const char *serial,
    char *code, size_t len, struct jc_aws_error *err)
{
	struct termios old;
	size_t n = 0;
	ssize_t k;
	char ch;
	int r = 0, restore;

	restore = quiet(fd, &old);
	prompt(fd, profile, serial);
	for (;;) {
		k = read(fd, &ch, 1);
		if (k < 0 && errno == EINTR) {
			if (jc_loop_stopping()) {
				r = JC_ERR_INTR;
				break;
			}
			continue;
		}
		if (k <= 0 || ch == '\n' || ch == '\r')
			break;
		if (n + 1 < len)
			code[n++] = ch;
	}
	code[n] = '\0';
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	if (r == 0)
		r = check_code(code, profile, err);
	return r;
}

/* ---- beside a running tunnel ------------------------------------------ */

static struct {
	int		 on;		/* jc_aws_mfa_beside(1) */
	int		 fd;		/* the terminal while asking, else -1 */
	int		 slot;
	int		 restore;
	struct termios	 old;
	struct jc_source *src;
	char		 profile[128];
	char		 serial[256];
	jc_aws_mfa_typed_fn *typed;
} ask = { .fd = -1, .slot = -1 };

static void
ask_close(void)
{
	if (ask.fd == -1)
		return;
	if (ask.restore)
		tcsetattr(ask.fd, TCSAFLUSH, &ask.old);
	dprintf(ask.fd, "\n");
	close(ask.fd);
	ask.fd = -1;
	jc_source_del(ask.src);
	ask.src = NULL;
}

static void
ask_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	(void)arg;
	(void)deadline;
	ask.slot = ask.fd != -1 ? jc_ps_add(ps, ask.fd, POLLIN) : -1;
}

/* A whole line came (echo off, canonical mode): the code, or nothing. */
static void
ask_dispatch(void *arg, struct jc_pollset *ps)
{
	struct jc_aws_error err;
	char line[64], profile[128], serial[256];
	jc_aws_mfa_typed_fn *typed = ask.typed;
	ssize_t k;

	(void)arg;
	if (ask.slot < 0 || jc_ps_revents(ps, ask.slot) == 0)
		return;
	k = read(ask.fd, line, sizeof(line) - 1);
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	line[k > 0 ? k : 0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(profile, sizeof(profile), "%s", ask.profile);
	snprintf(serial, sizeof(serial), "%s", ask.serial);
	ask_close();
	if (k <= 0) {		/* the terminal went away */
		jc_warn("no MFA code for profile %s: the terminal closed",
		    profile);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (check_code(line, profile, &err) != 0) {
		jc_error("%s", err.message);
		(void)jc_aws_mfa_ask(profile, serial, typed);
	} else
		typed(profile, serial, line);
	jc_wipe(line, sizeof(line));
}

static const struct jc_source_ops ask_ops = { ask_prepare, ask_dispatch };

void
jc_aws_mfa_beside(int on)
{
	ask.on = on;
	if (!on)
		ask_close();
}

int
jc_aws_mfa_beside_on(void)
{
	return ask.on;
}

int
jc_aws_mfa_ask(const char *profile, const char *serial,
    jc_aws_mfa_typed_fn *typed)
{
	if (ask.fd != -1)
		return 0;	/* asked already; the answer will come */
	if ((ask.fd = jc_aws_mfa_tty()) == -1)
		return -1;
	if ((ask.src = jc_source_add(&ask_ops, NULL)) == NULL) {
		close(ask.fd);
		ask.fd = -1;
		return -1;
	}
	snprintf(ask.profile, sizeof(ask.profile), "%s", profile);
	snprintf(ask.serial, sizeof(ask.serial), "%s", serial);
	ask.typed = typed;
	ask.restore = quiet(ask.fd, &ask.old);
	dprintf(ask.fd, "\njconnect: the MFA session of profile %s needs a "
	    "new code; the tunnel carries on meanwhile\n", profile);
	prompt(ask.fd, profile, serial);
	return 0;
}
