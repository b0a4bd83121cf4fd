/*
 * keys_local.c - the user's public keys on this machine: .pub files, the
 * ssh-agent (its wire protocol, spoken directly over $SSH_AUTH_SOCK), the
 * key behind -i, and a new ed25519 pair made like ssh-keygen would.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "compat.h"
#include "keys.h"

#define AGENT_MAX_MSG	(256u << 10)	/* identities answer size cap */
#define AGENT_TIMEOUT_MS 5000

static const char *const default_pubs[] = {
	"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub",
};

int
keys_local_sshdir(char *buf, size_t n)
{
	const char *home = getenv("HOME");
	struct passwd *pw;
	int w;

	if (home == NULL || *home == '\0') {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
			return JC_ERR_IO;
		home = pw->pw_dir;
	}
	w = snprintf(buf, n, "%s/.ssh", home);
	return w < 0 || (size_t)w >= n ? JC_ERR_IO : 0;
}

/* Read a whole small regular file; 0, JC_ERR_IO (errno set), NOMEM. */
static int
slurp(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *b = NULL;
	size_t off = 0;
	ssize_t n;
	int fd, r = JC_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_NOCTTY)) < 0)
		return JC_ERR_IO;
	if (fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)KEYS_MAX_PUBFILE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto out;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, b + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	b[off] = '\0';
	*out = b;
	*outlen = off;
	b = NULL;
	r = 0;
 out:
	free(b);
	close(fd);
	return r;
}

int
keys_local_pubfile(const struct jc_host *h, const char *path,
    struct keys_list *l)
{
	struct keys_pub k;
	char *data = NULL;
	const char *p, *nl, *end;
	size_t len, i;
	int r, added = 0, lineno = 0, seen = 0;

	if ((r = slurp(path, &data, &len)) != 0) {
		if (r == JC_ERR_IO)
			h->log(JC_LOG_ERROR, "keys", "cannot read %s: %s", path,
			    errno == EINVAL ? "not a regular file" :
			    strerror(errno));
		return r;
	}
	if (strstr(data, "PRIVATE KEY-----") != NULL) {
		h->log(JC_LOG_ERROR, "keys", "%s is a private key; give its "
		    "public half (%s.pub)", path, path);
		r = JC_ERR_USAGE;
		goto out;
	}
	end = data + len;
	for (p = data; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		for (i = 0; p + i < nl && (p[i] == ' ' || p[i] == '\t' ||
		    p[i] == '\r'); i++)
			;
		if (p + i == nl || p[i] == '#')
			continue;
		r = keys_pub_parse(p, (size_t)(nl - p), &k);
		if (r == JC_ERR_NOMEM)
			goto out;
		if (r != 0) {
			h->log(JC_LOG_ERROR, "keys", "%s line %d is not an "
			    "OpenSSH public key", path, lineno);
			r = JC_ERR_USAGE;
			goto out;
		}
		seen++;
		if (keys_pub_is_cert(&k)) {
			h->log(JC_LOG_WARN, "keys", "%s line %d is a "
			    "certificate, not a key; skipped", path, lineno);
			keys_pub_clear(&k);
			continue;
		}
		if ((r = keys_pub_set_origin(&k, path)) != 0) {
			keys_pub_clear(&k);
			goto out;
		}
		if ((r = keys_list_add(l, &k)) < 0) {
			h->log(JC_LOG_ERROR, "keys", "more than %d keys",
			    KEYS_MAX_KEYS);
			goto out;
		}
		added += r;
	}
	if (seen == 0) {
		h->log(JC_LOG_ERROR, "keys", "%s holds no public key", path);
		r = JC_ERR_USAGE;
		goto out;
	}
	r = added;
 out:
	free(data);
	return r;
}

/* The public half of an unencrypted private key file, through libssh. */
static int
derive_pub(const char *path, struct keys_pub *k)
{
	ssh_key priv = NULL, pub = NULL;
	char *b64 = NULL, *line = NULL;
	const char *type;
	size_t n;
	int r = JC_ERR_NOTFOUND;

	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &priv) !=
	    SSH_OK || ssh_pki_export_privkey_to_pubkey(priv, &pub) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK ||
	    (type = ssh_key_type_to_char(ssh_key_type(pub))) == NULL)
		goto out;
	n = strlen(type) + strlen(b64) + 2;
	if ((line = malloc(n)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	snprintf(line, n, "%s %s", type, b64);
	if ((r = keys_pub_parse(line, strlen(line), k)) == JC_ERR_PROTO)
		r = JC_ERR_NOTFOUND;
 out:
	free(line);
	ssh_string_free_char(b64);
	ssh_key_free(pub);
	ssh_key_free(priv);
	return r;
}

int
keys_local_identity(const char *path, struct keys_pub *k)
{
	struct keys_pub t;
	char pubpath[4096], *data = NULL;
	const char *nl;
	size_t len;
	int r;

	memset(&t, 0, sizeof(t));
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    sizeof(pubpath))
		return JC_ERR_NOTFOUND;
	r = slurp(pubpath, &data, &len);
	if (r == JC_ERR_NOMEM)
		return r;
	if (r == 0) {
		nl = memchr(data, '\n', len);
		r = keys_pub_parse(data, nl ? (size_t)(nl - data) : len, &t);
		free(data);
		if (r == 0 && (r = keys_pub_set_origin(&t, pubpath)) == 0) {
			*k = t;
			return 0;
		}
		keys_pub_clear(&t);
		if (r == JC_ERR_NOMEM)
			return r;
	}
	if ((r = derive_pub(path, &t)) != 0)
		return r;
	if ((r = keys_pub_set_origin(&t, path)) != 0) {
		keys_pub_clear(&t);
		return r;
	}
	*k = t;
	return 0;
}

/* Write or read exactly n bytes with a deadline; 0 or -1. */
static int
agent_io(int fd, void *buf, size_t n, int writing)
{
	struct pollfd pfd;
	unsigned char *p = buf;
	ssize_t w;

	while (n > 0) {
		pfd.fd = fd;
		pfd.events = writing ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, AGENT_TIMEOUT_MS) <= 0)
			return -1;
		w = writing ? write(fd, p, n) : read(fd, p, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
keys_local_agent(const struct jc_host *h, struct keys_list *l)
{
	static const unsigned char req[5] = { 0, 0, 0, 1, 11 };
	struct sockaddr_un sa;
	const char *sock = getenv("SSH_AUTH_SOCK");
	unsigned char hdr[4], *msg = NULL;
	uint32_t n;
	int fd = -1, r = JC_ERR_IO;

	if (sock == NULL || *sock == '\0')
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		h->log(JC_LOG_ERROR, "keys", "SSH_AUTH_SOCK is too long");
		return JC_ERR_IO;
	}
	memcpy(sa.sun_path, sock, strlen(sock));
	if ((fd = jc_socket(AF_UNIX, SOCK_STREAM | JC_SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		h->log(JC_LOG_ERROR, "keys", "cannot reach the ssh-agent at "
		    "%s: %s", sock, strerror(errno));
		goto out;
	}
	if (agent_io(fd, (void *)(uintptr_t)req, sizeof(req), 1) != 0 ||
	    agent_io(fd, hdr, sizeof(hdr), 0) != 0) {
		h->log(JC_LOG_ERROR, "keys", "the ssh-agent at %s did not "
		    "answer", sock);
		goto out;
	}
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (n == 0 || n > AGENT_MAX_MSG) {
		h->log(JC_LOG_ERROR, "keys", "the ssh-agent sent a %u-byte "
		    "answer", (unsigned)n);
		r = JC_ERR_PROTO;
		goto out;
	}
	if ((msg = malloc(n)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	if (agent_io(fd, msg, n, 0) != 0) {
		h->log(JC_LOG_ERROR, "keys", "the ssh-agent answer was cut "
		    "short");
		goto out;
	}
	if ((r = keys_agent_parse(msg, n, l)) < 0)
		h->log(JC_LOG_ERROR, "keys", "cannot parse the ssh-agent's "
		    "list of keys");
 out:
	free(msg);
	if (fd >= 0)
		close(fd);
	return r;
}

int
keys_local_defaults(const struct jc_host *h, struct keys_list *l)
{
	char dir[4096], path[4200];
	size_t i;
	int r, n = 0;

	if (keys_local_sshdir(dir, sizeof(dir)) != 0)
		return 0;
	for (i = 0; i < sizeof(default_pubs) / sizeof(default_pubs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, default_pubs[i]);
		if (access(path, F_OK) != 0)
			continue;
		if ((r = keys_local_pubfile(h, path, l)) < 0)
			return r;
		n += r;
	}
	return n;
}

/* Create path with exactly mode and write data to it; 0 or -1 (errno). */
static int
write_new(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) != 0 ||
	    (size_t)write(fd, data, len) != len || fsync(fd) != 0) {
		e = errno != 0 ? errno : EIO;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

int
keys_local_generate(const struct jc_host *h, struct keys_list *l)
{
	struct keys_pub k;
	ssh_key key = NULL, pub = NULL;
	char dir[4096], priv[4200], pubpath[4210], host[256], *b64 = NULL;
	char *pem = NULL, *line = NULL;
	const char *user = getenv("USER");
	struct passwd *pw;
	size_t n;
	int r = JC_ERR_IO;

	memset(&k, 0, sizeof(k));
	if (keys_local_sshdir(dir, sizeof(dir)) != 0) {
		h->log(JC_LOG_ERROR, "keys", "no home directory to put a key "
		    "in");
		return JC_ERR_IO;
	}
	snprintf(priv, sizeof(priv), "%s/id_ed25519", dir);
	snprintf(pubpath, sizeof(pubpath), "%s/id_ed25519.pub", dir);
	if (access(priv, F_OK) == 0 || access(pubpath, F_OK) == 0) {
		h->log(JC_LOG_ERROR, "keys", "%s already exists; not "
		    "replacing it (make its .pub with: ssh-keygen -y -f %s > "
		    "%s)", access(priv, F_OK) == 0 ? priv : pubpath, priv,
		    pubpath);
		return JC_ERR_IO;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		h->log(JC_LOG_ERROR, "keys", "cannot create %s: %s", dir,
		    strerror(errno));
		return JC_ERR_IO;
	}
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &pem) !=
	    SSH_OK || ssh_pki_export_privkey_to_pubkey(key, &pub) != SSH_OK ||
	    ssh_pki_export_pubkey_base64(pub, &b64) != SSH_OK) {
		h->log(JC_LOG_ERROR, "keys", "cannot generate an ed25519 key");
		r = JC_ERR_INTERNAL;
		goto out;
	}
	/* ssh-keygen's default comment: user@host. */
	if (user == NULL && (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	n = strlen(b64) + strlen(user ? user : "") + strlen(host) + 32;
	if ((line = malloc(n)) == NULL) {
		r = JC_ERR_NOMEM;
		goto out;
	}
	snprintf(line, n, "ssh-ed25519 %s %s@%s\n", b64, user ? user : "user",
	    host);
	if ((r = keys_pub_parse(line, strlen(line), &k)) != 0 ||
	    (r = keys_pub_set_origin(&k, pubpath)) != 0)
		goto out;
	if (write_new(priv, pem, strlen(pem), 0600) != 0) {
		h->log(JC_LOG_ERROR, "keys", "cannot write %s: %s", priv,
		    strerror(errno));
		r = JC_ERR_IO;
		goto out;
	}
	if (write_new(pubpath, line, strlen(line), 0644) != 0) {
		h->log(JC_LOG_ERROR, "keys", "cannot write %s: %s", pubpath,
		    strerror(errno));
		unlink(priv);
		r = JC_ERR_IO;
		goto out;
	}
	h->log(JC_LOG_INFO, "keys", "generated a new ed25519 key: %s "
	    "(private, 0600) and %s", priv, pubpath);
	if ((r = keys_list_add(l, &k)) > 0)
		r = 0;
 out:
	keys_pub_clear(&k);
	if (pem != NULL) {
		jc_wipe(pem, strlen(pem));
		ssh_string_free_char(pem);
	}
	ssh_string_free_char(b64);
	free(line);
	ssh_key_free(pub);
	ssh_key_free(key);
	return r;
}
