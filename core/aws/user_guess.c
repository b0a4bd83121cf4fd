/*
 * user_guess.c - the remote user when none is given: the AMI's usual
 * login user for EC2 instances (platform details, else DescribeImages,
 * cached by image id), "ubuntu" otherwise.
 *
 * The cache ($XDG_CACHE_HOME/jconnect/ami-users, 0600 in a 0700
 * directory) holds "IMAGE-ID TAB USER TAB WHAT" lines; USER "-" records
 * an AMI that names no known system.  An image id never changes what it
 * boots, so entries never expire.  A cache that is not ours is ignored.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aws.h"
#include "aws_answer.h"
#include "jc.h"
#include "log.h"
#include "target.h"
#include "user_guess.h"

#define CACHE_MAX	(64 * 1024)	/* bytes of cache read */
#define CACHE_KEEP	200		/* entries kept when writing */

static struct {
	char	*pending;		/* a->user waiting for the instance */
	size_t	 pendlen;
	char	 user[64];		/* the guessed user, "" when given */
} g;

/* Known systems: a word in the AMI's name, description or location. */
static const struct {
	const char	*word;
	const char	*user;
} systems[] = {
	{ "bitnami",		"bitnami" },	/* before the OS it runs on */
	{ "ubuntu",		"ubuntu" },
	{ "debian",		"admin" },
	{ "amzn",		"ec2-user" },	/* amzn2-ami-..., amzn-ami-... */
	{ "al2023",		"ec2-user" },
	{ "al2022",		"ec2-user" },
	{ "amazon linux",	"ec2-user" },
	{ "rhel",		"ec2-user" },
	{ "red hat",		"ec2-user" },
	{ "suse",		"ec2-user" },
	{ "sles",		"ec2-user" },
	{ "centos",		"centos" },
	{ "fedora",		"fedora" },
	{ "rocky",		"rocky" },
	{ "almalinux",		"ec2-user" },
};

/* Platform details that settle it without DescribeImages. */
static const struct {
	const char	*prefix;
	const char	*user;
} platforms[] = {
	{ "Red Hat",		"ec2-user" },	/* "Red Hat Enterprise Linux..." */
	{ "SUSE",		"ec2-user" },
	{ "Ubuntu Pro",		"ubuntu" },
};

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* word occurs in s at the start of s or after a non-alphanumeric byte. */
static int
has_word(const char *s, const char *word)
{
	size_t wl = strlen(word);
	const char *p;

	if (s == NULL)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((p == s || !is_alnum((unsigned char)p[-1])) &&
		    strncasecmp(p, word, wl) == 0)
			return 1;
	return 0;
}

const char *
jc_user_for_image(const char *platform_details, const char *name,
    const char *description, const char *location, const char **what)
{
	const char *texts[3] = { name, description, location };
	size_t i, k;

	for (i = 0; platform_details != NULL &&
	    i < sizeof(platforms) / sizeof(platforms[0]); i++)
		if (strncmp(platform_details, platforms[i].prefix,
		    strlen(platforms[i].prefix)) == 0) {
			if (what != NULL)
				*what = platform_details;
			return platforms[i].user;
		}
	for (k = 0; k < 3; k++)
		for (i = 0; i < sizeof(systems) / sizeof(systems[0]); i++)
			if (has_word(texts[k], systems[i].word)) {
				if (what != NULL)
					*what = texts[k];
				return systems[i].user;
			}
	return NULL;
}

void
jc_user_default(char *user, size_t n, const struct jc_tspec *spec)
{
	snprintf(user, n, "%s", JC_USER_FALLBACK);
	snprintf(g.user, sizeof(g.user), "%s", JC_USER_FALLBACK);
	g.pending = NULL;
	if (jc_target_is_aws(spec)) {
		g.pending = user;
		g.pendlen = n;
	} else
		jc_verbose("remote user %s: none given (USER@HOST, -l USER or "
		    "\"user\" in the config)", user);
}

const char *
jc_user_guessed(void)
{
	return g.user[0] != '\0' ? g.user : NULL;
}

void
jc_user_set_guessed(const char *user)
{
	snprintf(g.user, sizeof(g.user), "%s", user != NULL ? user : "");
}

/* ---- cache ------------------------------------------------------------ */

/* $XDG_CACHE_HOME/jconnect (or ~/.cache/jconnect); 0 or -1. */
static int
cache_dir(char *dir, size_t n)
{
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int w;

	if (x != NULL && *x == '/')
		w = snprintf(dir, n, "%s/jconnect", x);
	else if (h != NULL && *h == '/')
		w = snprintf(dir, n, "%s/.cache/jconnect", h);
	else
		return -1;
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* A directory or file we may trust: ours, not writable by others. */
static int
ours(const struct stat *st)
{
	return st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

/* The whole cache file, NUL-terminated, or NULL. */
static char *
cache_read(const char *dir)
{
	char path[PATH_MAX], *buf;
	struct stat st;
	ssize_t r;
	size_t o = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/ami-users", dir) >=
	    (int)sizeof(path))
		return NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !ours(&st) ||
	    (buf = malloc(CACHE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (o < CACHE_MAX &&
	    (r = read(fd, buf + o, CACHE_MAX - o)) > 0)
		o += (size_t)r;
	close(fd);
	buf[o] = '\0';
	return buf;
}

/* A user name as the table writes it, or "-". */
static int
user_ok(const char *u)
{
	const char *p;

	if (*u == '\0' || strlen(u) > 32)
		return 0;
	for (p = u; *p != '\0'; p++)
		if (!is_alnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			return 0;
	return 1;
}

/* The entry for id in the cache text: 1 and user/what filled, else 0. */
static int
cache_find(const char *text, const char *id, char *user, size_t ulen,
    char *what, size_t wlen)
{
	const char *p, *t1, *t2, *nl;
	size_t il = strlen(id);

	for (p = text; p != NULL && *p != '\0'; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;			/* a cut last line is no entry */
		if (strncmp(p, id, il) != 0 || p[il] != '\t')
			continue;
		t1 = p + il + 1;
		if ((t2 = memchr(t1, '\t', (size_t)(nl - t1))) == NULL)
			continue;
		snprintf(user, ulen, "%.*s", (int)(t2 - t1), t1);
		snprintf(what, wlen, "%.*s", (int)(nl - t2 - 1), t2 + 1);
		return user_ok(user);
	}
	return 0;
}

/* Make dir (0700) when missing; 0 when it exists and is ours. */
static int
cache_mkdir(const char *dir)
{
	char parent[PATH_MAX], *slash;
	struct stat st;

	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !ours(&st))
		return -1;
	return 0;
}

/* Add (or replace) one entry; failures only cost the next lookup. */
static void
cache_put(const char *id, const char *user, const char *what)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	char *old = NULL, *p, *nl;
	size_t il = strlen(id), lines = 0, skip = 0;
	FILE *f = NULL;
	int fd;

	if (cache_dir(dir, sizeof(dir)) != 0 || cache_mkdir(dir) != 0)
		return;
	if (snprintf(path, sizeof(path), "%s/ami-users", dir) >=
	    (int)sizeof(path) || snprintf(tmp, sizeof(tmp),
	    "%s/.ami-users.XXXXXX", dir) >= (int)sizeof(tmp))
		return;
	old = cache_read(dir);
	/* Keep the newest CACHE_KEEP - 1 whole lines of the old file. */
	for (p = old; p != NULL && (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		lines++;
	if (lines >= CACHE_KEEP)
		skip = lines - (CACHE_KEEP - 1);
	if ((fd = mkstemp(tmp)) == -1)
		goto out;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	for (p = old; p != NULL && (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		if (skip > 0) {
			skip--;
			continue;
		}
		if (strncmp(p, id, il) == 0 && p[il] == '\t')
			continue;
		fwrite(p, 1, (size_t)(nl - p + 1), f);
	}
	fprintf(f, "%s\t%s\t%s\n", id, user, what);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
 out:
	free(old);
}

/* ---- DescribeImages --------------------------------------------------- */

/*
 * Look the AMI up: 0 with *img filled, JC_ERR_NOTFOUND when EC2 does not
 * know it (deregistered, not shared with us), JC_ERR_INTR, or another
 * error with *err set.
 */
static int
describe_image(const char *id, struct jc_aws_image *img,
    struct jc_aws_error *err)
{
	char form[256], enc[96], *out = NULL;
	struct jc_xml *root = NULL;
	int r;

	memset(err, 0, sizeof(*err));
	if (jc_aws_form_escape(enc, sizeof(enc), id) != 0)
		return JC_ERR_USAGE;
	snprintf(form, sizeof(form), "Action=DescribeImages&Version=2016-11-15"
	    "&ImageId.1=%s", enc);
	if ((r = jc_aws_query("ec2", form, &out, err)) != 0) {
		if (strncmp(err->code, "InvalidAMIID.", 13) == 0)
			return JC_ERR_NOTFOUND;
		return r;
	}
	r = jc_xml_parse(out, strlen(out), &root);
	free(out);
	if (r == 0)
		r = jc_aws_ec2_image(root, id, img);
	jc_xml_free(root);
	if (r == JC_ERR_PROTO)
		snprintf(err->message, sizeof(err->message), "EC2 answered "
		    "DescribeImages with something else");
	return r;
}

int
jc_user_infer(const struct jc_instance *in)
{
	struct jc_aws_image img;
	struct jc_aws_error err;
	char dir[PATH_MAX], user[64] = "", what[256] = "", *cache = NULL;
	const char *u, *w = NULL;
	char *buf = g.pending;
	size_t n = g.pendlen;
	int r;

	g.pending = NULL;
	if (buf == NULL || in == NULL)
		return 0;
	/* The instance may say it already (RHEL, SUSE, Ubuntu Pro). */
	if ((u = jc_user_for_image(in->platform_details, NULL, NULL, NULL,
	    &w)) != NULL) {
		snprintf(buf, n, "%s", u);
		jc_verbose("remote user %s: the usual login user on %s (the "
		    "platform of %s)", u, w, in->id);
		goto out;
	}
	if (in->image_id[0] == '\0' || strcmp(in->platform, "windows") == 0) {
		jc_verbose("remote user %s: none given, and %s names no AMI "
		    "to learn it from", buf, in->id);
		goto out;
	}
	if (cache_dir(dir, sizeof(dir)) == 0 &&
	    (cache = cache_read(dir)) != NULL &&
	    cache_find(cache, in->image_id, user, sizeof(user), what,
	    sizeof(what))) {
		jc_debug("AMI %s: login user %s (cached)", in->image_id, user);
	} else {
		r = describe_image(in->image_id, &img, &err);
		if (r == JC_ERR_INTR) {
			free(cache);
			return r;
		}
		if (r != 0 && r != JC_ERR_NOTFOUND) {
			jc_verbose("remote user %s: none given, and the AMI %s "
			    "of %s cannot be read (%s); pass -l USER if that "
			    "is wrong", buf, in->image_id, in->id,
			    jc_aws_explain(&err));
			goto out;
		}
		u = r == 0 ? jc_user_for_image(img.platform_details, img.name,
		    img.description, img.location, &w) : NULL;
		snprintf(user, sizeof(user), "%s", u != NULL ? u : "-");
		snprintf(what, sizeof(what), "%s", u != NULL ? w : r == 0 ?
		    img.name : "(unknown to EC2)");
		cache_put(in->image_id, user, what);
	}
	if (strcmp(user, "-") != 0 && user[0] != '\0') {
		snprintf(buf, n, "%s", user);
		jc_verbose("remote user %s: the usual login user of AMI %s "
		    "(%s)", buf, in->image_id, what);
	} else
		jc_verbose("remote user %s: none given, and AMI %s (%s) is "
		    "no system jconnect knows; pass -l USER if %s is wrong",
		    buf, in->image_id, what, buf);
 out:
	snprintf(g.user, sizeof(g.user), "%s", buf);
	free(cache);
	return 0;
}
