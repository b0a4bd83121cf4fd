/*
 * sshconfig.c - `jconnect ssh-config`: one Host block per target, printed
 * or installed in the user's ssh config.
 *
 * A block says what jconnect itself would do: the same user, key and
 * known_hosts file, and the host key under the name jconnect records (the
 * instance id for EC2 targets, "[i-...]:PORT" off port 22, as libssh
 * writes it), so ssh and jconnect never disagree about a host key.  Over
 * SSM the block's ProxyCommand is this very jconnect (`proxy`), with the
 * region, profile, config file and SSM options the resolution used; over
 * SSH it is the direct form, with no proxy in the way.
 *
 * --install rewrites the file like the key plugin rewrites
 * authorized_keys: read it once (refusing a link, another owner's file or
 * one others may write, as ssh refuses them), merge in memory (every
 * other byte kept), write a temporary file beside it with the same mode,
 * fsync, check that the file did not change meanwhile, rename over it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access.h"
#include "compat.h"
#include "config.h"
#include "log.h"
#include "request.h"
#include "sshconfig.h"

#define LINE_MAX_SSHCFG	4096
#define FILE_MAX	(4 << 20)
#define KEEPALIVE_DEF	5	/* ssh.keepalive's default */
#define KEEPALIVE_MISS	3	/* unanswered before the server is gone */


struct block {
	char	 name[256];
	char	*text;
};

/* p made absolute against the current directory (no file access). */
static int
abs_path(const char *p, char *out, size_t n)
{
	char cwd[2048];

	if (*p == '/')
		return snprintf(out, n, "%s", p) < (int)n ? 0 : -1;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return snprintf(out, n, "%s/%s", cwd, p) < (int)n ? 0 : -1;
}

/* Append " word" (a shell word) to the ProxyCommand in pc. */
static int
pc_word(char *pc, size_t n, const char *word)
{
	size_t o = strlen(pc);

	if (o + 2 > n)
		return -1;
	pc[o] = ' ';
	pc[o + 1] = '\0';
	return jc_sshcfg_shell_word(pc, n, word);
}

/*
 * The ProxyCommand that reaches the same instance over SSM: this binary,
 * `proxy`, and what the resolution depended on beyond the instance id.
 */
static int
proxy_command(const struct jc_access *a, char *pc, size_t n)
{
	char self[2048], path[2048], kv[600];
	const char *k, *v, *prof;
	ssize_t len;
	size_t i;

	if ((len = jc_exe_path(self, sizeof(self))) < 0) {
		jc_error("cannot find the path of this jconnect (%s) for the "
		    "ProxyCommand", strerror(errno));
		return JC_ERR_IO;
	}
	self[len] = '\0';
	*pc = '\0';
	if (jc_sshcfg_shell_word(pc, n, self) != 0)
		goto bad;
	if (pc_word(pc, n, "proxy") || pc_word(pc, n, "-q") ||
	    pc_word(pc, n, "--via") || pc_word(pc, n, a->via) ||
	    pc_word(pc, n, "--region") || pc_word(pc, n, a->inst.region))
		goto bad;
	/* AWS_PROFILE too: ssh may run where it is not set (an editor). */
	if ((prof = jc_opts.profile) == NULL)
		prof = getenv("AWS_PROFILE");
	if (prof != NULL && *prof != '\0' && (pc_word(pc, n, "--profile") ||
	    pc_word(pc, n, prof)))
		goto bad;
	if (jc_opts.config_file != NULL &&
	    (abs_path(jc_opts.config_file, path, sizeof(path)) != 0 ||
	    pc_word(pc, n, "-F") || pc_word(pc, n, path)))
		goto bad;
	if (jc_opts.plugin_dir != NULL &&
	    (abs_path(jc_opts.plugin_dir, path, sizeof(path)) != 0 ||
	    pc_word(pc, n, "--plugin-dir") || pc_word(pc, n, path)))
		goto bad;
	if (jc_opts.timeout_s > 0) {
		snprintf(kv, sizeof(kv), "%d", jc_opts.timeout_s);
		if (pc_word(pc, n, "--timeout") || pc_word(pc, n, kv))
			goto bad;
	}
	/* The options the SSM session and the AWS calls read. */
	for (i = 0; (k = jc_config_option_name(i)) != NULL; i++) {
		if (strncmp(k, "ssm.", 4) != 0 && strncmp(k, "aws.", 4) != 0)
			continue;
		if ((v = jc_config_option(k)) == NULL)
			continue;
		snprintf(kv, sizeof(kv), "%s=%s", k, v);
		if (pc_word(pc, n, "-o") || pc_word(pc, n, kv))
			goto bad;
	}
	if (strlen(pc) + 7 > n)
		goto bad;
	strcat(pc, " %h %p");
	return 0;
 bad:
	jc_error("cannot write a ProxyCommand for %s: a path or value has a "
	    "control character or is too long (jconnect at %s)", a->target,
	    self);
	return JC_ERR_USAGE;
}

/* "IdentityFile PATH" and the like, PATH absolute and quoted for ssh. */
static int
file_line(FILE *f, const char *key, const char *file)
{
	char path[2048], arg[4200] = "";

	if (abs_path(file, path, sizeof(path)) != 0 ||
	    jc_sshcfg_file_arg(arg, sizeof(arg), path) != 0) {
		jc_error("%s \"%s\" cannot be written in an ssh config (a "
		    "control character, '\"' or '\\', or too long); rename "
		    "it", key, file);
		return JC_ERR_USAGE;
	}
	fprintf(f, "    %s %s\n", key, arg);
	return 0;
}

/*
 * A name from AWS or the target that goes into the file as is (HostName,
 * HostKeyAlias): nothing ssh_config or a shell would read differently.
 */
static int
token_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && strchr(".-_:", *s) == NULL)
			return 0;
	return 1;
}

/* Resolve target as jconnect would and write its block into b. */
static int
make_block(const char *target, struct block *b)
{
	struct jc_access a;
	char pc[LINE_MAX_SSHCFG], kh[300];
	const char *ka, *bad = NULL;
	size_t sz = 0;
	int r, keepalive = KEEPALIVE_DEF, port;
	FILE *f;

	jc_sshcfg_host_name(target, b->name, sizeof(b->name));
	if (*b->name == '\0') {
		jc_error("\"%s\" gives no usable ssh Host name", target);
		return JC_ERR_USAGE;
	}
	if ((r = jc_request_resolve(&a, target)) != 0)
		return r;
	if ((a.caps & JC_CAP_NEEDS_HOST) && *a.host == '\0') {
		jc_error("%s has no public address for SSH; use --via ssm "
		    "(Session Manager)", a.have_inst ? a.inst.id : a.target);
		return JC_ERR_UNREACHABLE;
	}
	if (a.have_inst && !token_ok(a.inst.id))
		bad = a.inst.id;
	else if ((a.caps & JC_CAP_NEEDS_HOST) && !token_ok(a.host))
		bad = a.host;
	if (bad != NULL) {
		jc_error("%s resolved to a name that cannot go into an ssh "
		    "config as is (\"%s\")", target, bad);
		return JC_ERR_PROTO;
	}
	/* A method that dials no host of its own is reached by jconnect proxy. */
	if (!(a.caps & JC_CAP_NEEDS_HOST) &&
	    (r = proxy_command(&a, pc, sizeof(pc))) != 0)
		return r;
	port = jc_opts.ssh_port;
	/* What jconnect's SSH client records: libssh's [host]:port form. */
	if (port != 0 && port != 22)
		snprintf(kh, sizeof(kh), "[%s]:%d", a.inst.id, port);
	else
		snprintf(kh, sizeof(kh), "%s", a.inst.id);
	if ((ka = jc_config_option("ssh.keepalive")) != NULL)
		keepalive = atoi(ka);
	if ((f = open_memstream(&b->text, &sz)) == NULL)
		return JC_ERR_NOMEM;
	fprintf(f, JC_SSHCFG_BEGIN "\n", b->name);
	fprintf(f, "# written by jconnect ssh-config; --install replaces "
	    "what is between these markers\n");
	fprintf(f, "Host %s\n", b->name);
	fprintf(f, "    HostName %s\n", !(a.caps & JC_CAP_NEEDS_HOST) ? a.inst.id :
	    a.host);
	if (port != 0)
		fprintf(f, "    Port %d\n", port);
	fprintf(f, "    User %s\n", a.user);
	if (jc_opts.identity != NULL) {
		if ((r = file_line(f, "IdentityFile", jc_opts.identity)) != 0)
			goto out;
		fprintf(f, "    IdentitiesOnly yes\n");
	}
	if (!(a.caps & JC_CAP_NEEDS_HOST))
		fprintf(f, "    ProxyCommand %s\n", pc);
	if (a.have_inst)
		fprintf(f, "    HostKeyAlias %s\n    CheckHostIP no\n", kh);
	fprintf(f, "    StrictHostKeyChecking %s\n",
	    jc_opts.host_key_check == JC_HKC_STRICT ? "yes" : "accept-new");
	if (jc_opts.known_hosts != NULL &&
	    (r = file_line(f, "UserKnownHostsFile", jc_opts.known_hosts)) != 0)
		goto out;
	if (keepalive > 0)
		fprintf(f, "    ServerAliveInterval %d\n    ServerAliveCountMax "
		    "%d\n", keepalive, KEEPALIVE_MISS);
	fprintf(f, JC_SSHCFG_END "\n", b->name);
 out:
	if (fclose(f) != 0 && r == 0)
		r = JC_ERR_NOMEM;
	if (r != 0) {
		free(b->text);
		b->text = NULL;
	}
	return r;
}

/* ---- install ---------------------------------------------------------- */

/*
 * Read path (a regular file of ours that only we may write; missing is
 * fine: *data NULL).  st gets its identity and mode.
 */
static int
read_config(const char *path, char **data, size_t *len, struct stat *st,
    int *exists)
{
	struct stat fst;
	char *buf = NULL;
	size_t o = 0;
	ssize_t n;
	int fd;

	*data = NULL;
	*len = 0;
	*exists = 0;
	if (lstat(path, st) != 0) {
		if (errno == ENOENT)
			return 0;
		jc_error("cannot read %s: %s", path, strerror(errno));
		return JC_ERR_IO;
	}
	if (S_ISLNK(st->st_mode)) {
		jc_error("%s is a symbolic link; jconnect does not replace "
		    "links: give the file it points to with --file", path);
		return JC_ERR_USAGE;
	}
	if (!S_ISREG(st->st_mode)) {
		jc_error("%s is not a regular file", path);
		return JC_ERR_USAGE;
	}
	if (st->st_uid != geteuid() && st->st_uid != 0) {
		jc_error("%s belongs to another user (uid %ld); ssh refuses "
		    "it too", path, (long)st->st_uid);
		return JC_ERR_USAGE;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		jc_error("%s is group- or world-writable, which ssh refuses "
		    "(\"Bad owner or permissions\"); run chmod go-w %s first",
		    path, path);
		return JC_ERR_USAGE;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		jc_error("cannot read %s: %s", path, strerror(errno));
		return JC_ERR_IO;
	}
	if (fstat(fd, &fst) != 0 || fst.st_dev != st->st_dev ||
	    fst.st_ino != st->st_ino || fst.st_size > FILE_MAX) {
		close(fd);
		jc_error("%s changed while jconnect read it, or is larger than "
		    "%d MiB; try again", path, FILE_MAX >> 20);
		return JC_ERR_IO;
	}
	if ((buf = malloc((size_t)fst.st_size + 1)) == NULL) {
		close(fd);
		return JC_ERR_NOMEM;
	}
	while (o < (size_t)fst.st_size &&
	    (n = read(fd, buf + o, (size_t)fst.st_size - o)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			jc_error("cannot read %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return JC_ERR_IO;
		}
		o += (size_t)n;
	}
	close(fd);
	buf[o] = '\0';
	*data = buf;
	*len = o;
	*exists = 1;
	return 0;
}

/* Is path still exactly what was read (same file, same bytes)? */
static int
unchanged(const char *path, const char *old, size_t oldlen,
    const struct stat *was, int existed)
{
	struct stat st;
	char *now;
	size_t len;
	int same, exists;

	if (read_config(path, &now, &len, &st, &exists) != 0)
		return 0;
	same = exists == existed && (!exists || (st.st_ino == was->st_ino &&
	    st.st_dev == was->st_dev && len == oldlen &&
	    memcmp(now, old, len) == 0));
	free(now);
	return same;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write data over path through a temporary file beside it. */
static int
replace_file(const char *path, const char *data, size_t len, mode_t mode,
    const char *old, size_t oldlen, const struct stat *was, int existed)
{
	char dir[2048], tmp[2200], base[512], cp[2048];
	int fd, dfd, e;

	snprintf(cp, sizeof(cp), "%s", path);
	snprintf(dir, sizeof(dir), "%s", dirname(cp));
	snprintf(cp, sizeof(cp), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(cp));
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.jconnect.XXXXXX", dir, base) >=
	    (int)sizeof(tmp))
		return JC_ERR_USAGE;
	if ((fd = mkstemp(tmp)) < 0) {
		jc_error("cannot create a temporary file in %s: %s", dir,
		    strerror(errno));
		return JC_ERR_IO;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		jc_error("cannot write %s: %s; %s is unchanged", tmp,
		    strerror(e), path);
		return JC_ERR_IO;
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(tmp);
		jc_error("cannot write %s: %s; %s is unchanged", tmp,
		    strerror(e), path);
		return JC_ERR_IO;
	}
	/* Someone else's edit since we read it must not be lost. */
	if (!unchanged(path, old, oldlen, was, existed)) {
		unlink(tmp);
		jc_error("%s changed while jconnect was writing it; nothing "
		    "was written, try again", path);
		return JC_ERR_IO;
	}
	if (rename(tmp, path) != 0) {
		e = errno;
		unlink(tmp);
		jc_error("cannot replace %s: %s", path, strerror(e));
		return JC_ERR_IO;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* The file --install writes: --file, else ~/.ssh/config (made 0700). */
static int
config_path(char *out, size_t n)
{
	const char *home = getenv("HOME");
	char dir[2048];

	if (jc_opts.ssh_config_file != NULL)
		return abs_path(jc_opts.ssh_config_file, out, n) == 0 ? 0 :
		    JC_ERR_USAGE;
	if (home == NULL || *home != '/') {
		jc_error("HOME is not set; give the ssh config file with "
		    "--file");
		return JC_ERR_USAGE;
	}
	snprintf(dir, sizeof(dir), "%.2000s/.ssh", home);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		jc_error("cannot create %s: %s", dir, strerror(errno));
		return JC_ERR_IO;
	}
	if (snprintf(out, n, "%.2000s/config", dir) >= (int)n)
		return JC_ERR_USAGE;
	return 0;
}

static int
install(struct block *bl, size_t nb)
{
	char path[2048], why[600], *old = NULL, *cur = NULL, *next;
	size_t oldlen = 0, curlen, nextlen, i;
	struct stat st;
	int r, existed, what[64];

	if ((r = config_path(path, sizeof(path))) != 0)
		return r;
	if ((r = read_config(path, &old, &oldlen, &st, &existed)) != 0)
		return r;
	curlen = oldlen;
	for (i = 0; i < nb && i < 64; i++) {
		r = jc_sshcfg_merge(i == 0 ? old : cur, i == 0 ? oldlen :
		    curlen, bl[i].name, bl[i].text, &next, &nextlen, &what[i],
		    why, sizeof(why));
		if (r == JC_ERR_USAGE)
			jc_error("%s: %s; nothing was written", path, why);
		if (r != 0)
			goto out;
		free(cur);
		cur = next;
		curlen = nextlen;
	}
	if (curlen != oldlen || memcmp(cur, old ? old : "", curlen) != 0) {
		if ((r = replace_file(path, cur, curlen, existed ?
		    st.st_mode & 07777 : 0600, old, oldlen, &st,
		    existed)) != 0)
			goto out;
	}
	for (i = 0; i < nb && i < 64; i++)
		jc_info(what[i] == JC_SSHCFG_SAME ? "Host %s in %s is up to "
		    "date" : what[i] == JC_SSHCFG_UPDATED ? "updated Host %s "
		    "in %s" : "added Host %s to %s", bl[i].name, path);
 out:
	free(old);
	free(cur);
	return r;
}

/* ---- the command ------------------------------------------------------ */

int
jc_cmd_ssh_config(int argc, char **argv)
{
	struct block bl[64];
	struct jc_opts saved = jc_opts;
	const char *alias;
	size_t nb = 0, i;
	int r = 0, first = 0;

	memset(bl, 0, sizeof(bl));
	if (jc_opts.all_aliases && argc > 0) {
		jc_error("give either --all-aliases or a TARGET, not both");
		return JC_ERR_USAGE;
	}
	if (!jc_opts.all_aliases && argc != 1) {
		jc_error("ssh-config needs a TARGET or --all-aliases; see "
		    "jconnect help ssh-config");
		return JC_ERR_USAGE;
	}
	if (jc_opts.ssh_config_file != NULL && !jc_opts.install) {
		jc_error("--file names the file --install writes; add "
		    "--install");
		return JC_ERR_USAGE;
	}
	if (!jc_opts.all_aliases) {
		if ((r = make_block(argv[0], &bl[0])) != 0)
			return r;
		nb = 1;
	} else {
		for (i = 0; (alias = jc_config_alias_name(i)) != NULL; i++) {
			if (nb == 64) {
				jc_error("more than 64 aliases; give them one "
				    "by one");
				r = JC_ERR_USAGE;
				goto out;
			}
			/* Each alias starts from the command line alone. */
			jc_opts = saved;
			if ((r = make_block(alias, &bl[nb])) != 0) {
				jc_warn("alias %s: no Host block (see the "
				    "error above)", alias);
				if (first == 0)
					first = r;
				continue;
			}
			nb++;
		}
		jc_opts = saved;
		r = 0;
		if (i == 0) {
			jc_error("the config file has no aliases; see "
			    "jconnect aliases");
			return JC_ERR_USAGE;
		}
	}
	if (jc_opts.install)
		r = install(bl, nb);
	else
		for (i = 0; i < nb; i++)
			printf("%s%s", i > 0 ? "\n" : "", bl[i].text);
	if (r == 0)
		r = first;
 out:
	for (i = 0; i < nb; i++)
		free(bl[i].text);
	return r;
}
