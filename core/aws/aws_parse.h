/*
 * aws_parse.h - parsers of AWS answers and AWS configuration: a small XML
 * tree over expat (namespaces ignored), error decoding of the three error
 * shapes, credential JSON (credential_process, IMDS), the shared ini files and
 * endpoint overrides.  No I/O here except getenv(), so every function
 * can be unit-tested and fuzzed.
 */
#ifndef JC_AWS_PARSE_H
#define JC_AWS_PARSE_H

#include <stddef.h>
#include <time.h>

#include "jc_plugin.h"

/* ---- XML ------------------------------------------------------------- */

#define JC_XML_MAX_DEPTH	64		/* deeper documents: refused */
#define JC_XML_MAX_NODES	200000		/* elements per document */
#define JC_XML_MAX_TEXT		(1u << 20)	/* bytes of text per element */

/* One element.  The whole tree is owned by its root. */
struct jc_xml {
	char		*name;		/* local name: any "prefix:" removed */
	char		*text;		/* character data, NULL when none */
	size_t		 textlen;
	size_t		 textcap;	/* allocated bytes of text */
	struct jc_xml	*parent;
	struct jc_xml	*child;		/* first child */
	struct jc_xml	*last;		/* last child (appending) */
	struct jc_xml	*next;		/* next sibling */
};

/*
 * Parse len bytes of XML.  Namespaces are ignored (an element's prefix is
 * dropped and xmlns attributes are not looked at); a DOCTYPE is refused,
 * so no entity can expand.  On success *out is the root element (free
 * with jc_xml_free).  Returns 0, JC_ERR_PROTO (not well-formed, too deep,
 * too big) or JC_ERR_NOMEM.
 */
int	jc_xml_parse(const char *buf, size_t len, struct jc_xml **out);

/* Free a tree returned by jc_xml_parse; NULL is a no-op. */
void	jc_xml_free(struct jc_xml *);

/* The first child of x named name, or NULL.  Borrowed. */
const struct jc_xml *jc_xml_child(const struct jc_xml *x, const char *name);

/* The next sibling of x with the same name as x, or NULL.  Borrowed. */
const struct jc_xml *jc_xml_next(const struct jc_xml *x);

/*
 * Follow a "a/b/c" path of child names from x; NULL when a step is
 * missing.  Borrowed.
 */
const struct jc_xml *jc_xml_path(const struct jc_xml *x, const char *path);

/* Text of the element at path below x, or "" when missing.  Borrowed. */
const char *jc_xml_text(const struct jc_xml *x, const char *path);

/* The first element named name anywhere below x (depth first), or NULL. */
const struct jc_xml *jc_xml_find(const struct jc_xml *x, const char *name);

/* ---- errors ---------------------------------------------------------- */

/*
 * Decode an AWS error answer of any shape (query XML ErrorResponse, EC2
 * XML Response/Errors, JSON 1.1 __type with the namespace up to '#'
 * removed) into err: code and message, plus http_status.  A body that
 * fits no shape leaves code "" and a message naming the HTTP status.
 */
void	jc_aws_error_decode(int http_status, const char *body, size_t len,
	    struct jc_aws_error *err);

/*
 * Map an AWS error to a JC_ERR_* code: credential/signature/permission
 * errors -> JC_ERR_AWS_AUTH, TargetNotConnected and wrong instance state
 * -> JC_ERR_UNREACHABLE, missing things -> JC_ERR_NOTFOUND, others ->
 * JC_ERR_AWS.
 */
int	jc_aws_error_class(const struct jc_aws_error *err);

/* 1 when the error should be retried (throttling, 5xx). */
int	jc_aws_error_retryable(const struct jc_aws_error *err);

/*
 * The IAM action named in an AccessDenied message ("... not authorized to
 * perform: ec2:StartInstances on ..."), copied into buf; 0 when found,
 * JC_ERR_NOTFOUND when the message names none.
 */
int	jc_aws_denied_action(const char *message, char *buf, size_t len);

/* ---- credentials ----------------------------------------------------- */

/* A set of AWS credentials.  Strings are malloc'd; wipe with _clear. */
struct jc_aws_creds {
	char	*akid;			/* access key id */
	char	*secret;		/* secret access key: never logged */
	char	*token;			/* session token, NULL when none */
	time_t	 expires;		/* 0 when they do not expire */
	char	 source[192];		/* where they came from, for -v */
};

/* Wipe and free the strings of c (c itself is not freed). */
void	jc_aws_creds_clear(struct jc_aws_creds *c);

#define JC_CREDS_PROCESS	0	/* credential_process: Version 1 */
#define JC_CREDS_IMDS		1	/* IMDS: Code Success, Token */
#define JC_CREDS_STS		2	/* not JSON: see jc_aws_creds_sts */

/*
 * Credentials JSON of the given kind -> *c (on success only; the caller
 * clears it).  Returns 0, or JC_ERR_AWS_AUTH with a reason in why.
 */
int	jc_aws_creds_json(const char *json, size_t len, int kind,
	    struct jc_aws_creds *c, char *why, size_t whylen);

/* AssumeRole XML answer -> *c.  Returns 0 or JC_ERR_PROTO. */
int	jc_aws_creds_sts(const struct jc_xml *root, struct jc_aws_creds *c);

/*
 * ISO 8601 UTC time ("2026-11-23T10:00:00Z", fractions and "+00:00"
 * allowed) -> *t.  Returns 0 or JC_ERR_PROTO.
 */
int	jc_aws_time_parse(const char *s, time_t *t);

/* ---- shared config/credentials files --------------------------------- */

struct jc_aws_ini_ent {
	const char	*section;	/* as written: "default", "profile x" */
	const char	*key;		/* lower case */
	const char	*value;		/* trimmed */
};

struct jc_aws_ini {
	char			*text;	/* the file, cut into strings */
	size_t			 textlen;
	struct jc_aws_ini_ent	*ent;
	size_t			 n, cap;
};

/*
 * Parse ini text (AWS shared file syntax: [section], key = value, '#'
 * and ';' comment lines, indented lines belong to a sub-section and are
 * skipped).  Returns a new object (free with jc_aws_ini_free) or NULL
 * when out of memory.  Lines that fit no form are ignored, like botocore.
 */
struct jc_aws_ini *jc_aws_ini_parse(const char *text, size_t len);

/* Wipe and free; NULL is a no-op. */
void	jc_aws_ini_free(struct jc_aws_ini *);

/* The value of key in section, or NULL.  Borrowed. */
const char *jc_aws_ini_get(const struct jc_aws_ini *, const char *section,
	    const char *key);

/* 1 when the section exists (even empty). */
int	jc_aws_ini_has(const struct jc_aws_ini *, const char *section);

/*
 * A profile's setting: the credentials file's [NAME] first, then the
 * config file's [profile NAME] ([default] for "default").  Either file
 * may be NULL.  Borrowed or NULL.
 */
const char *jc_aws_profile_get(const struct jc_aws_ini *creds,
	    const struct jc_aws_ini *config, const char *profile,
	    const char *key);

/* 1 when the profile appears in either file. */
int	jc_aws_profile_exists(const struct jc_aws_ini *creds,
	    const struct jc_aws_ini *config, const char *profile);

/* ---- endpoints ------------------------------------------------------- */

/*
 * The endpoint URL for service in region: AWS_ENDPOINT_URL_<SERVICE>,
 * then AWS_ENDPOINT_URL, then profile_url (the profile's endpoint_url,
 * may be NULL), then https://<service>.<region>.amazonaws.com (".com.cn"
 * in China regions).  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the
 * overrides.  *from says which ("AWS_ENDPOINT_URL_SSM", "profile",
 * "default").  Returns 0, or JC_ERR_USAGE for an unknown service or a
 * URL that is not http(s).
 */
int	jc_aws_endpoint(const char *service, const char *region,
	    const char *profile_url, char *url, size_t len, const char **from);

/*
 * URL-encode src for a form body (RFC 3986 unreserved bytes kept) into
 * dst.  Returns 0 or JC_ERR_USAGE when dst is too small.
 */
int	jc_aws_form_escape(char *dst, size_t len, const char *src);

/*
 * Copy at most len-1 bytes of s (NULL: "") into dst, cut at a whole
 * character; control characters and bytes that are not UTF-8 become
 * spaces, so names and messages from AWS are safe to print.
 */
void	jc_aws_copy_clean(char *dst, size_t len, const char *s);

/* The string member name of a JSON object o, or NULL.  Borrowed. */
struct cJSON;
const char *jc_aws_json_str(const struct cJSON *o, const char *name);

/* Wipe a secret string, then free it; NULL is a no-op. */
void	jc_aws_wipe_free(char *);

#endif /* JC_AWS_PARSE_H */
