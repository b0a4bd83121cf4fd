/*
 * keys.h - internals of the key plugin: public keys, the authorized_keys
 * merge, the remote script and local key discovery.
 *
 * The merge is pure (no I/O) so unit tests and the fuzzer drive it
 * directly; keys_remote.c moves bytes through an access plugin's exec and
 * keys_local.c finds the user's keys on this machine.
 */
#ifndef KEYS_H
#define KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "jc_plugin.h"

#define KEYS_MAX_KEYS		64	/* keys handled in one run */
#define KEYS_MAX_PUBFILE	(1u << 20) /* a .pub file larger is refused */
#define KEYS_MAX_BLOB		(16u << 10) /* decoded key blob */
#define KEYS_EXEC_TIMEOUT_MS	30000

extern const struct jc_plugin jc_plugin_keys;	/* for static linking */

/* One public key. */
struct keys_pub {
	char		*type;		/* "ssh-ed25519" ... */
	char		*b64;		/* base64 blob as given */
	unsigned char	*blob;		/* decoded blob */
	size_t		 bloblen;
	char		*comment;	/* sanitised, "" when none */
	char		*origin;	/* where it came from, for messages */
	char		*options;	/* authorized_keys options, or NULL */
};

/* A list of keys, deduplicated by blob on insertion. */
struct keys_list {
	struct keys_pub	 k[KEYS_MAX_KEYS];
	size_t		 n;
};

/* Outcome of the merge for one requested key. */
#define KEYS_ST_ADDED		1	/* appended */
#define KEYS_ST_PRESENT		2	/* install: already there */
#define KEYS_ST_REMOVED		3	/* remove: n lines dropped */
#define KEYS_ST_ABSENT		4	/* remove: was not there */

/* ---- keys_ak.c: pure functions ------------------------------------- */

/*
 * Parse one public key "TYPE BASE64 [COMMENT]" from s (len bytes, no
 * options, surrounding blanks and a trailing CR/LF allowed).  The
 * base64 must decode to a blob whose embedded type name equals TYPE.
 * Control characters in the comment become '?'.  On success fills *k
 * (free with keys_pub_clear) and returns 0; JC_ERR_PROTO when s is not a
 * public key, JC_ERR_NOMEM.
 */
int	keys_pub_parse(const char *s, size_t len, struct keys_pub *k);

/*
 * Parse one authorized_keys line "[OPTIONS] TYPE BASE64 [COMMENT]" (len
 * bytes, no line terminator needed) into *k, options kept as written in
 * k->options (NULL when none).  Options may not hold control characters.
 * Returns 0, JC_ERR_PROTO when s holds no key or bad options, or
 * JC_ERR_NOMEM.
 */
int	keys_ak_line_parse(const char *s, size_t len, struct keys_pub *k);

/*
 * Make a key from a wire blob (as an agent sends it) and a comment.
 * Returns 0, JC_ERR_PROTO for a malformed blob, JC_ERR_NOMEM.
 */
int	keys_pub_from_blob(const unsigned char *blob, size_t len,
	    const char *comment, size_t commentlen, struct keys_pub *k);

/* Set k->origin to a copy of s; 0 or JC_ERR_NOMEM. */
int	keys_pub_set_origin(struct keys_pub *k, const char *s);

/* Free what k holds and zero it; NULL and a zeroed k are fine. */
void	keys_pub_clear(struct keys_pub *k);

/* 1 when the key type is an OpenSSH certificate. */
int	keys_pub_is_cert(const struct keys_pub *k);

/*
 * Append *k to l, taking ownership (k is zeroed), unless a key with the
 * same blob is already in l (then k is cleared).  Returns 1 when added,
 * 0 when a duplicate, JC_ERR_USAGE when l is full (k cleared).
 */
int	keys_list_add(struct keys_list *l, struct keys_pub *k);

/* Index of the key with this blob in l, or -1. */
int	keys_list_find(const struct keys_list *l, const unsigned char *blob,
	    size_t len);

/* Clear every key in l; l is empty afterwards. */
void	keys_list_clear(struct keys_list *l);

/*
 * Find the key in one authorized_keys line (len bytes without its line
 * terminator): blank lines and '#' comments have none; options before the
 * key ("from=\"a b\",no-pty ssh-ed25519 ...") are skipped, honouring
 * quotes.  On success *blob and *bloblen receive a malloc'd decoded blob and
 * 0 is returned; JC_ERR_PROTO when the line holds no key; JC_ERR_NOMEM.
 */
int	keys_ak_line_blob(const char *line, size_t len, unsigned char **blob,
	    size_t *bloblen);

/*
 * Merge keys into the authorized_keys bytes old (oldlen; NULL or 0 for a
 * missing or empty file).  op JC_KEYS_INSTALL appends each key whose blob
 * is not on any line; JC_KEYS_REMOVE drops every line whose key has one
 * of the blobs.  Every other byte is kept as it was: options, comments,
 * blank and junk lines, CRLF endings.  A missing final newline is added
 * (in the file's own style) only when a key is appended after it; new
 * lines use CRLF when the file's last line ending is CRLF.  A key with
 * options is written after them ("OPTIONS TYPE BASE64 COMMENT").
 *
 * st (keys->n entries, may be NULL) receives KEYS_ST_* per key.  On
 * success *out is a malloc'd buffer of *outlen bytes (NUL-terminated
 * beyond it), *changed is 1 when it differs from old, and 0 is returned;
 * JC_ERR_USAGE for a bad op, JC_ERR_NOMEM.
 */
int	keys_ak_merge(const char *old, size_t oldlen,
	    const struct keys_list *keys, int op, int *st, char **out,
	    size_t *outlen, int *changed);

/* POSIX cksum(1) of buf: CRC as cksum prints it. */
uint32_t keys_cksum(const void *buf, size_t len);

/*
 * Append s to dst (size dstsz, NUL-terminated) as one single-quoted
 * POSIX sh word: 'it'\''s'.  Returns 0, or JC_ERR_NOMEM when dst is too
 * small (dst is then unchanged).
 */
int	keys_sh_quote(char *dst, size_t dstsz, const char *s);

/*
 * Base64 (RFC 4648, with padding).  keys_b64_decode accepts padded or
 * unpadded input and rejects anything else; returns the decoded length
 * or -1 (out must hold len * 3 / 4 + 3 bytes).  keys_b64_encode writes
 * a NUL-terminated string (out must hold 4 * ((len + 2) / 3) + 1).
 */
long	keys_b64_decode(const char *in, size_t len, unsigned char *out);
void	keys_b64_encode(const unsigned char *in, size_t len, char *out);

/*
 * Parse an ssh-agent SSH2_AGENT_IDENTITIES_ANSWER message body (after
 * the 4-byte length): appends every key that is not a certificate to l
 * with origin "agent".  Returns the number of keys in the answer, or
 * JC_ERR_PROTO for a malformed message, JC_ERR_NOMEM.
 */
int	keys_agent_parse(const unsigned char *msg, size_t len,
	    struct keys_list *l);

/* ---- keys_remote.c: the remote side through exec ----------------- */

struct keys_remote {
	const struct jc_host	*host;		/* NB. borrowed */
	const struct jc_plugin	*access;	/* NB. borrowed */
	struct jc_sess		*sess;		/* NB. borrowed */
	const char		*run_as;	/* NB. borrowed, or NULL */
	int			 timeout_ms;
	char			 nonce[17];	/* marks our output lines */
	/* filled by keys_remote_read */
	char			*data;		/* authorized_keys bytes */
	size_t			 len;
	int			 missing;	/* the file does not exist */
	int			 nodir;		/* ~/.ssh does not exist */
	char			 path[512];	/* remote path, for messages */
};

/*
 * The remote script.  keys_remote_cmd builds the command string for
 * op "read" or "write" (args are digits and the nonce; run_as is quoted)
 * into a malloc'd string; NULL on ENOMEM.
 */
char	*keys_remote_cmd(const char *run_as, const char *op,
	    const char *nonce, const char *oldck, const char *newck);

/*
 * Read the remote authorized_keys into rk->data.  Returns 0,
 * JC_ERR_IO (logged, with the remote's message), or the exec error.
 */
int	keys_remote_read(struct keys_remote *rk);

/*
 * Replace the remote file with buf, refusing when it changed since
 * keys_remote_read.  Returns 0 or JC_ERR_IO (logged).
 */
int	keys_remote_write(struct keys_remote *rk, const char *buf,
	    size_t len);

/* Free what keys_remote_read stored. */
void	keys_remote_clear(struct keys_remote *rk);

/* ---- keys_local.c: keys on this machine --------------------------- */

/*
 * Read every public key in a .pub file (comments and blank lines
 * skipped) into l.  Returns the number of keys added (duplicates are
 * not counted) or JC_ERR_IO / JC_ERR_USAGE (logged: unreadable, a
 * private key, no key in it).
 */
int	keys_local_pubfile(const struct jc_host *h, const char *path,
	    struct keys_list *l);

/*
 * The key of a login identity -i FILE: FILE.pub when it exists, else
 * derived from FILE (unencrypted private keys only).  Returns 0 with *k
 * filled, JC_ERR_NOTFOUND when neither works, JC_ERR_NOMEM.
 */
int	keys_local_identity(const char *path, struct keys_pub *k);

/*
 * Keys held by the ssh-agent at $SSH_AUTH_SOCK (certificates skipped).
 * Returns the number added, 0 when there is no agent, or JC_ERR_IO
 * (logged) when the agent cannot be asked.
 */
int	keys_local_agent(const struct jc_host *h, struct keys_list *l);

/*
 * ~/.ssh/id_ed25519.pub, id_ecdsa.pub and id_rsa.pub, whichever exist.
 * Returns the number added or an error from keys_local_pubfile.
 */
int	keys_local_defaults(const struct jc_host *h, struct keys_list *l);

/*
 * Create ~/.ssh/id_ed25519 (0600, OpenSSH format) and its .pub (0644)
 * like ssh-keygen, never replacing a file; the key is added to l.
 * Returns 0, JC_ERR_IO (logged), JC_ERR_NOMEM.
 */
int	keys_local_generate(const struct jc_host *h, struct keys_list *l);

/* The local ~/.ssh directory into buf; 0 or JC_ERR_IO when no HOME. */
int	keys_local_sshdir(char *buf, size_t n);

#endif /* KEYS_H */
