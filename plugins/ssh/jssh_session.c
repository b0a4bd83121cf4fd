/*
 * jssh_session.c - SSH login: connect, host key check, authentication.
 *
 * A login to host:port runs in libssh's blocking mode with a timeout (it
 * is a handful of round trips); the session is then switched to
 * non-blocking and driven by the core loop (jssh_chan.c).  A login over a
 * given socket (JC_TF_FD, e.g. an SSM stream pumped by this same loop)
 * must not block: it runs non-blocking from the start and waits for its
 * socket by running the loop, so the other end keeps moving.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "compat.h"
#include "jssh.h"

/* $HOME, not the passwd entry: tests and sandboxes move HOME. */
static const char *
home_dir(void)
{
	const char *h = getenv("HOME");

	return (h != NULL && *h != '\0') ? h : "/";
}

/* ---- non-blocking login: wait for the socket by running the loop ---- */

#define NB_RETRY_MS	100	/* retry anyway: libssh may hold bytes */

static void
nb_prepare(void *arg, struct jc_pollset *ps, int64_t *deadline)
{
	struct jssh_sess *ss = arg;
	int64_t t = jssh_host->now_ms() + NB_RETRY_MS;
	short ev = POLLIN;

	if (ss->nb_ev != 0)
		ev = ss->nb_ev;
	else if (ssh_get_poll_flags(ss->s) & SSH_WRITE_PENDING)
		ev |= POLLOUT;
	ss->slot = jssh_host->ps_add(ps, ss->fd, ev);
	if (*deadline < 0 || t < *deadline)
		*deadline = t;
}

static void
nb_dispatch(void *arg, struct jc_pollset *ps)
{
	struct jssh_sess *ss = arg;

	(void)ps;
	/* Readable, writable or the retry time: try libssh again. */
	ss->nb_ready = 1;
}

static const struct jc_source_ops nb_ops = { nb_prepare, nb_dispatch };

/* 0 when libssh should be called again, else JC_ERR_TIMEOUT / _INTR. */
static int
nb_wait(struct jssh_sess *ss)
{
	int64_t left = ss->nb_end - jssh_host->now_ms();

	if (!ss->nb || left <= 0)
		return JC_ERR_TIMEOUT;
	ss->nb_ready = 0;
	if (jssh_host->loop_run(&ss->nb_ready, (int)left) == JC_ERR_INTR) {
		ss->intr = 1;
		return JC_ERR_INTR;
	}
	return 0;
}

/* The name a known_hosts line uses: host, or [host]:port off port 22. */
static void
kh_name(const char *host, int port, char *out, size_t n)
{
	if (port == 0 || port == 22)
		snprintf(out, n, "%s", host);
	else
		snprintf(out, n, "[%s]:%d", host, port);
}

/* Does one known_hosts host pattern (plain or |1|salt|hash) name `name`? */
static int
kh_match_one(const char *pat, size_t plen, const char *name)
{
	unsigned char salt[64], hash[64], mac[EVP_MAX_MD_SIZE];
	char sb[128], hb[128];
	const char *bar;
	unsigned int maclen = 0;
	int sl, hl;

	if (plen > 3 && strncmp(pat, "|1|", 3) == 0) {
		bar = memchr(pat + 3, '|', plen - 3);
		if (bar == NULL || (size_t)(bar - pat - 3) >= sizeof(sb) ||
		    (size_t)(pat + plen - bar - 1) >= sizeof(hb))
			return 0;
		snprintf(sb, sizeof(sb), "%.*s", (int)(bar - pat - 3), pat + 3);
		snprintf(hb, sizeof(hb), "%.*s", (int)(pat + plen - bar - 1),
		    bar + 1);
		sl = EVP_DecodeBlock(salt, (unsigned char *)sb, (int)strlen(sb));
		hl = EVP_DecodeBlock(hash, (unsigned char *)hb, (int)strlen(hb));
		if (sl < 20 || hl < 20)
			return 0;
		HMAC(EVP_sha1(), salt, 20, (const unsigned char *)name,
		    strlen(name), mac, &maclen);
		return maclen == 20 && memcmp(mac, hash, 20) == 0;
	}
	return strlen(name) == plen && strncasecmp(pat, name, plen) == 0;
}

/*
 * First line of `file` whose host field names `name` (1-based), or 0.
 * Used to tell the user exactly which line to fix on a mismatch.
 */
static int
kh_find_line(const char *file, const char *name)
{
	char line[8192];
	const char *p, *end, *comma;
	FILE *f;
	int n = 0, found = 0;

	if ((f = fopen(file, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		n++;
		p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (*p == '@')		/* @cert-authority, @revoked */
			p = strpbrk(p, " \t") ? strpbrk(p, " \t") + 1 : p;
		end = p + strcspn(p, " \t\n");
		while (p < end && !found) {
			comma = memchr(p, ',', (size_t)(end - p));
			if (comma == NULL)
				comma = end;
			if (kh_match_one(p, (size_t)(comma - p), name))
				found = n;
			p = comma + 1;
		}
	}
	fclose(f);
	return found;
}

/* SHA256 fingerprint of the server key, for messages. */
static void
server_fp(ssh_session s, char *out, size_t n, const char **type)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	snprintf(out, n, "?");
	*type = "?";
	if (ssh_get_server_publickey(s, &key) != SSH_OK)
		return;
	*type = ssh_key_type_to_char(ssh_key_type(key));
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) == 0) {
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash,
		    hlen);
		if (fp != NULL)
			snprintf(out, n, "%s", fp);
		ssh_string_free_char(fp);
		ssh_clean_pubkey_hash(&hash);
	}
	ssh_key_free(key);
}

static int
check_host_key(struct jssh_sess *ss, const struct jc_target *t,
    const char *khfile)
{
	char name[300], fp[128];
	const char *type;
	int line, state;

	kh_name(t->host_key_alias ? t->host_key_alias : t->host, t->port,
	    name, sizeof(name));
	server_fp(ss->s, fp, sizeof(fp), &type);
	state = ssh_session_is_known_server(ss->s);
	switch (state) {
	case SSH_KNOWN_HOSTS_OK:
		jssh_log(JC_LOG_DEBUG, "host key for %s matches %s", name,
		    khfile);
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		line = kh_find_line(khfile, name);
		jssh_host->log(JC_LOG_ERROR, "ssh",
		    "REMOTE HOST KEY CHANGED for %s (now %s %s): someone may be "
		    "intercepting the connection, or the host was rebuilt. If "
		    "you trust the new key, remove the old one: line %d of %s "
		    "(ssh-keygen -R '%s' -f %s)", name, type, fp, line, khfile,
		    name, khfile);
		return JC_ERR_HOSTKEY;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (t->host_key_check == JC_HKC_STRICT) {
			jssh_host->log(JC_LOG_ERROR, "ssh",
			    "host key for %s (%s %s) is not in %s and "
			    "--host-key-check is strict; add it with "
			    "ssh-keyscan or use --host-key-check accept-new",
			    name, type, fp, khfile);
			return JC_ERR_HOSTKEY;
		}
		if (ssh_session_update_known_hosts(ss->s) != SSH_OK) {
			jssh_host->log(JC_LOG_ERROR, "ssh",
			    "cannot record the host key of %s in %s: %s", name,
			    khfile, ssh_get_error(ss->s));
			return JC_ERR_IO;
		}
		chmod(khfile, 0600);
		jssh_host->log(JC_LOG_INFO, "ssh",
		    "permanently added %s (%s %s) to %s", name, type, fp,
		    khfile);
		return 0;
	default:
		jssh_host->log(JC_LOG_ERROR, "ssh",
		    "cannot check the host key of %s against %s: %s", name,
		    khfile, ssh_get_error(ss->s));
		return JC_ERR_HOSTKEY;
	}
}

/* Like ssh(1): refuse nothing, but warn loudly about an exposed key. */
static void
warn_key_mode(const char *file)
{
	struct stat st;

	if (stat(file, &st) == 0 && (st.st_mode & 077) != 0)
		jssh_host->log(JC_LOG_WARN, "ssh",
		    "WARNING: private key %s is readable by others "
		    "(mode %04o); fix it with: chmod 600 %s", file,
		    (unsigned)(st.st_mode & 07777), file);
}

/* Try one private key file; 1 = logged in, 0 = refused, <0 = error. */
static int
auth_file(struct jssh_sess *ss, const char *file, int explicit)
{
	ssh_key key = NULL;
	int rc;

	if (access(file, R_OK) != 0) {
		if (explicit)
			jssh_log(ss->errlvl, "cannot read identity file %s: %s",
			    file, strerror(errno));
		return explicit ? JC_ERR_UNREACHABLE : 0;
	}
	warn_key_mode(file);
	rc = ssh_pki_import_privkey_file(file, NULL, NULL, NULL, &key);
	if (rc != SSH_OK) {
		jssh_log(explicit ? JC_LOG_WARN : JC_LOG_VERBOSE,
		    "cannot load %s (passphrase-protected keys must be added "
		    "to ssh-agent with ssh-add)", file);
		return 0;
	}
	while ((rc = ssh_userauth_publickey(ss->s, NULL, key)) ==
	    SSH_AUTH_AGAIN && nb_wait(ss) == 0)
		;
	ssh_key_free(key);
	if (rc == SSH_AUTH_SUCCESS) {
		jssh_log(JC_LOG_VERBOSE, "logged in with %s", file);
		return 1;
	}
	if (rc == SSH_AUTH_ERROR || rc == SSH_AUTH_AGAIN)
		return JC_ERR_UNREACHABLE;
	jssh_log(JC_LOG_VERBOSE, "key %s refused", file);
	return 0;
}

/*
 * None of the user's keys: a throwaway ed25519 key made here, kept in
 * memory only, whose public half the caller authorizes for a while.
 */
static int
auth_throwaway(struct jssh_sess *ss, const struct jc_target *t)
{
	ssh_key key = NULL;
	char *b64 = NULL, *line = NULL;
	size_t n;
	int rc, r = JC_ERR_UNREACHABLE;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
		jssh_log(ss->errlvl, "cannot make a throwaway key");
		goto out;
	}
	n = strlen(b64) + 64;
	if ((line = malloc(n)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	snprintf(line, n, "ssh-ed25519 %s jconnect-throwaway", b64);
	if ((r = t->authorize_key(t->authorize_arg, line)) != 0)
		goto out;
	while ((rc = ssh_userauth_publickey(ss->s, NULL, key)) ==
	    SSH_AUTH_AGAIN && nb_wait(ss) == 0)
		;
	if (rc == SSH_AUTH_SUCCESS) {
		jssh_log(JC_LOG_VERBOSE, "logged in to %s with a throwaway "
		    "key", ss->label);
		r = 0;
	} else {
		jssh_log(ss->errlvl, "%s refused the throwaway key too%s%s",
		    ss->label, rc == SSH_AUTH_ERROR ? ": " : "",
		    rc == SSH_AUTH_ERROR ? ssh_get_error(ss->s) : "");
		r = JC_ERR_UNREACHABLE;
	}
 out:
	free(line);
	ssh_string_free_char(b64);
	ssh_key_free(key);
	return r;
}

static int
authenticate(struct jssh_sess *ss, const struct jc_target *t)
{
	static const char *defaults[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	char path[1024], tried[2048] = "";
	size_t i;
	int r;

	/* "none" first: it fetches the allowed methods and may just work. */
	while ((r = ssh_userauth_none(ss->s, NULL)) == SSH_AUTH_AGAIN &&
	    nb_wait(ss) == 0)
		;
	if (r == SSH_AUTH_SUCCESS)
		return 0;
	/* Over a given socket, say so here: the caller has a fallback. */
	if (ss->nb && (r == SSH_AUTH_ERROR || r == SSH_AUTH_AGAIN)) {
		jssh_log(ss->errlvl, "%s ended the login: %s", ss->label,
		    r == SSH_AUTH_AGAIN ? "timed out" : ssh_get_error(ss->s));
		return JC_ERR_UNREACHABLE;
	}
	if (t->identity != NULL) {
		if ((r = auth_file(ss, t->identity, 1)) != 0)
			return r > 0 ? 0 : r;
		snprintf(tried, sizeof(tried), "%s", t->identity);
	}
	if (getenv("SSH_AUTH_SOCK") != NULL) {
		while ((r = ssh_userauth_agent(ss->s, NULL)) ==
		    SSH_AUTH_AGAIN && nb_wait(ss) == 0)
			;
		if (r == SSH_AUTH_SUCCESS) {
			jssh_log(JC_LOG_VERBOSE, "logged in with an ssh-agent key");
			return 0;
		}
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried),
		    "%sssh-agent keys", *tried ? ", " : "");
	}
	/* The default keys only when no -i was given, like ssh -i ... */
	if (t->identity == NULL) {
		for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			snprintf(path, sizeof(path), "%s/.ssh/%s", home_dir(),
			    defaults[i]);
			if (access(path, F_OK) != 0)
				continue;
			if ((r = auth_file(ss, path, 0)) != 0)
				return r > 0 ? 0 : r;
			snprintf(tried + strlen(tried),
			    sizeof(tried) - strlen(tried), "%s%s",
			    *tried ? ", " : "", path);
		}
	}
	if (ss->nb && JC_TARGET_HAS(t, authorize_key) &&
	    t->authorize_key != NULL) {
		if (*tried != '\0')
			jssh_log(JC_LOG_VERBOSE, "%s refused the key(s) tried: "
			    "%s", ss->label, tried);
		return auth_throwaway(ss, t);
	}
	if (*tried == '\0')
		jssh_log(ss->errlvl,
		    "no key to log in to %s: pass the instance's key with "
		    "-i KEY.pem, or load one into ssh-agent", ss->label);
	else
		jssh_log(ss->errlvl,
		    "%s refused the key(s) tried: %s; check the user (-l) and "
		    "that the key is the instance's key pair", ss->label,
		    tried);
	return JC_ERR_UNREACHABLE;
}

/* Compression: asked for by the caller, or ssh.compression=yes. */
static int
want_compression(const struct jc_target *t)
{
	const char *opt = jssh_host->option("ssh.compression");

	if (opt != NULL && strcmp(opt, "no") == 0)
		return 0;
	if (JC_TARGET_HAS(t, flags) && (t->flags & JC_TF_COMPRESS))
		return 1;
	return opt != NULL && strcmp(opt, "yes") == 0;
}

/*
 * The TCP connect of the direct path, waited for in the loop, so Ctrl-C
 * ends it at once (libssh's own connect blocks up to the timeout).
 * Returns the socket, or -1 after a log line.
 */
static int
tcp_connect(struct jssh_sess *ss, const char *host, int port)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct pollfd p;
	socklen_t len;
	char ps[8];
	int fd = -1, err = 0, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((rc = getaddrinfo(host, ps, &hints, &res)) != 0) {
		jssh_host->log(JC_LOG_ERROR, "ssh", "cannot connect to %s: "
		    "%s; check the host name", ss->label, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && !ss->intr; ai = ai->ai_next) {
		fd = jc_socket(ai->ai_family, ai->ai_socktype |
		    JC_SOCK_NONBLOCK | JC_SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
		ss->fd = fd;
		ss->nb_ev = POLLOUT;
		while (err == EINPROGRESS) {
			p.fd = fd;
			p.events = POLLOUT;
			if (poll(&p, 1, 0) == 1) {
				len = sizeof(err);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
				    &len) != 0)
					err = errno;
				break;
			}
			if ((rc = nb_wait(ss)) != 0)
				err = rc == JC_ERR_INTR ? EINTR : ETIMEDOUT;
		}
		ss->nb_ev = 0;
		ss->fd = -1;
		if (err == 0)
			break;
		close(fd);
		fd = -1;
		if (err == EINTR)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0 && err != EINTR)
		jssh_host->log(JC_LOG_ERROR, "ssh", "cannot connect to %s: %s; "
		    "check the address, that port %d is open to you (security "
		    "group), and that the instance is running", ss->label,
		    strerror(err ? err : ECONNREFUSED), port);
	return fd;
}

/* ssh_connect, non-blocking when over a given socket. */
static int
handshake(struct jssh_sess *ss, int port)
{
	int rc;

	while ((rc = ssh_connect(ss->s)) == SSH_AGAIN && nb_wait(ss) == 0)
		;
	if (rc == SSH_OK)
		return 0;
	if (ss->intr)
		return JC_ERR_INTR;
	if (ss->nb)
		jssh_log(ss->errlvl, "no SSH login through %s: %s", ss->label,
		    rc == SSH_AGAIN ? "the server did not answer in time" :
		    ssh_get_error(ss->s));
	else
		jssh_host->log(JC_LOG_ERROR, "ssh",
		    "cannot connect to %s: %s; check the address, that port %d "
		    "is open to you (security group), and that the instance "
		    "is running", ss->label, ssh_get_error(ss->s), port);
	return JC_ERR_UNREACHABLE;
}

int
jssh_connect(const struct jc_target *t, struct jssh_sess **out)
{
	struct jssh_sess *ss = NULL;
	char khfile[1200], sshdir[1100];
	const char *opt;
	long timeout;
	int port = t->port ? t->port : 22, r = JC_ERR_INTERNAL, off = 0;
	int verbosity = SSH_LOG_NOLOG, fd = -1;

	if (JC_TARGET_HAS(t, fd) && (t->flags & JC_TF_FD))
		fd = t->fd;
	if ((ss = calloc(1, sizeof(*ss))) == NULL) {
		if (fd != -1)
			close(fd);
		return JC_ERR_NOMEM;
	}
	ss->fd = -1;
	ss->nb = fd != -1;
	ss->errlvl = ss->nb ? JC_LOG_VERBOSE : JC_LOG_ERROR;
	snprintf(ss->label, sizeof(ss->label), "%s@%s:%d", t->user, t->host,
	    port);
	if ((ss->s = ssh_new()) == NULL) {
		if (fd != -1)
			close(fd);
		r = JC_ERR_NOMEM;
		goto out;
	}
	snprintf(sshdir, sizeof(sshdir), "%s/.ssh", home_dir());
	if (t->known_hosts != NULL)
		snprintf(khfile, sizeof(khfile), "%s", t->known_hosts);
	else
		snprintf(khfile, sizeof(khfile), "%s/known_hosts", sshdir);
	timeout = t->timeout_ms > 0 ? (t->timeout_ms + 999) / 1000 : 20;
	if (jssh_host->log_level() >= JC_LOG_TRACE)
		verbosity = SSH_LOG_PROTOCOL;
	/* Deterministic: no ~/.ssh/config or /etc/ssh/ssh_config surprises. */
	ssh_options_set(ss->s, SSH_OPTIONS_PROCESS_CONFIG, &off);
	ssh_options_set(ss->s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	/* From here on libssh owns fd: ssh_free closes it. */
	if ((fd != -1 && ssh_options_set(ss->s, SSH_OPTIONS_FD, &fd) != 0) ||
	    ssh_options_set(ss->s, SSH_OPTIONS_HOST, t->host) != 0 ||
	    ssh_options_set(ss->s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(ss->s, SSH_OPTIONS_USER, t->user) != 0 ||
	    ssh_options_set(ss->s, SSH_OPTIONS_SSH_DIR, sshdir) != 0 ||
	    ssh_options_set(ss->s, SSH_OPTIONS_KNOWNHOSTS, khfile) != 0 ||
	    ssh_options_set(ss->s, SSH_OPTIONS_TIMEOUT, &timeout) != 0) {
		jssh_host->log(JC_LOG_ERROR, "ssh", "bad SSH options for %s: %s",
		    ss->label, ssh_get_error(ss->s));
		r = JC_ERR_USAGE;
		goto out;
	}
	if ((opt = jssh_host->option("ssh.ciphers")) != NULL) {
		ssh_options_set(ss->s, SSH_OPTIONS_CIPHERS_C_S, opt);
		ssh_options_set(ss->s, SSH_OPTIONS_CIPHERS_S_C, opt);
	}
	if (want_compression(t) &&
	    ssh_options_set(ss->s, SSH_OPTIONS_COMPRESSION, "yes") != 0) {
		jssh_host->log(JC_LOG_ERROR, "ssh", "cannot ask for "
		    "compression: %s", ssh_get_error(ss->s));
		r = JC_ERR_USAGE;
		goto out;
	}
	if ((opt = jssh_host->option("ssh.global_known_hosts")) != NULL)
		ssh_options_set(ss->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, opt);
	/* Every login runs in the loop: other sources move, Ctrl-C ends it. */
	ss->nb_end = jssh_host->now_ms() + timeout * 1000;
	if ((ss->nb_src = jssh_host->source_add(&nb_ops, ss)) == NULL) {
		if (fd != -1)
			close(fd);
		r = JC_ERR_NOMEM;
		goto out;
	}
	if (fd == -1) {
		ss->nb = 1;
		if ((fd = tcp_connect(ss, t->host, port)) < 0) {
			r = ss->intr ? JC_ERR_INTR : JC_ERR_UNREACHABLE;
			goto out;
		}
		if (ssh_options_set(ss->s, SSH_OPTIONS_FD, &fd) != 0) {
			close(fd);
			r = JC_ERR_INTERNAL;
			goto out;
		}
	}
	ss->fd = fd;
	ssh_set_blocking(ss->s, 0);
	jssh_log(JC_LOG_VERBOSE, "connecting to %s%s", ss->label,
	    ss->nb ? " over the given stream" : "");
	if ((r = handshake(ss, port)) != 0)
		goto out;
	/* Known-hosts lookups use the alias (e.g. the instance id). */
	if (t->host_key_alias != NULL &&
	    ssh_options_set(ss->s, SSH_OPTIONS_HOST, t->host_key_alias) != 0) {
		r = JC_ERR_INTERNAL;
		goto out;
	}
	if ((r = check_host_key(ss, t, khfile)) != 0)
		goto out;
	if ((r = authenticate(ss, t)) != 0)
		goto out;
	if (ss->nb_src != NULL) {
		jssh_host->source_del(ss->nb_src);
		ss->nb_src = NULL;
	}
	/* A silent path (another network) is dead after 3 unanswered. */
	ss->keepalive_ms = 5000;
	if ((opt = jssh_host->option("ssh.keepalive")) != NULL)
		ss->keepalive_ms = atoi(opt) * 1000;
	ssh_set_blocking(ss->s, 0);
	ss->fd = ssh_get_fd(ss->s);
	if ((r = jssh_pump_start(ss)) != 0)
		goto out;
	jssh_log(JC_LOG_VERBOSE, "logged in to %s%s", ss->label,
	    want_compression(t) ? " (compression asked for)" : "");
	*out = ss;
	ss = NULL;
	r = 0;
 out:
	/* Cut short by Ctrl-C or stop: not the server's fault. */
	if (r != 0 && ss != NULL && ss->intr)
		r = JC_ERR_INTR;
	jssh_close(ss);
	return r;
}

void
jssh_close(struct jssh_sess *ss)
{
	if (ss == NULL)
		return;
	jssh_pump_stop(ss);
	if (ss->nb_src != NULL)
		jssh_host->source_del(ss->nb_src);
	if (ss->s != NULL) {
		/*
		 * Over a given socket the peer may be pumped by this very
		 * loop: a blocking goodbye could wait for ever.
		 */
		if (ssh_is_connected(ss->s)) {
			if (!ss->nb)
				ssh_set_blocking(ss->s, 1);
			ssh_disconnect(ss->s);
		}
		ssh_free(ss->s);
	}
	if (ss->counter != NULL)
		free(ss->counter);
	free(ss);
}
