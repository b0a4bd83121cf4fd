/*
 * curl_lazy.c - libcurl, loaded on first use.
 *
 * Debian's libcurl pulls in GnuTLS, p11-kit, Kerberos, LDAP and more; just
 * mapping and initialising them costs about 6 MB of resident memory.  The
 * SSH path never talks HTTP, so the jconnect binary does not link libcurl:
 * these definitions of the libcurl functions the core uses dlopen() it the
 * first time one is called and forward to it.  Plugins that need libcurl
 * (SSM) link it themselves.
 */
#define CURL_DISABLE_TYPECHECK 1	/* we define the real functions */

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "log.h"

static void *lib;
static int failed;

/*
 * Resolve one symbol from libcurl, loading and initialising it on first
 * use.  NULL (said once) when libcurl is missing: callers then see the
 * usual libcurl failure values.
 */
static void *
sym(const char *name)
{
	CURLcode (*init)(long);
	void *p;

	if (lib == NULL && !failed) {
		/*
		 * GnuTLS comes in only for librtmp and libldap, which
		 * jconnect never uses; its implicit initialisation (system
		 * config, PKCS#11 modules) would cost ~0.7 MB for nothing.
		 * The variable is for this load only, not for our children.
		 */
		int quiet_gnutls = getenv("GNUTLS_NO_IMPLICIT_INIT") == NULL;

		if (quiet_gnutls)
			setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1);
		lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
		if (quiet_gnutls)
			unsetenv("GNUTLS_NO_IMPLICIT_INIT");
		if (lib == NULL) {
			failed = 1;
			jc_error("cannot load libcurl (%s); install libcurl4 "
			    "(make deps)", dlerror());
			return NULL;
		}
		*(void **)&init = dlsym(lib, "curl_global_init");
		if (init == NULL || init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			failed = 1;
			jc_error("cannot initialise libcurl");
			return NULL;
		}
	}
	if (lib == NULL || (p = dlsym(lib, name)) == NULL)
		return NULL;
	return p;
}

#define FWD(ret, fail, name, params, args)				\
ret									\
name params								\
{									\
	static ret (*fn) params;					\
									\
	if (fn == NULL && (*(void **)&fn = sym(#name)) == NULL)		\
		return fail;						\
	return fn args;							\
}

FWD(CURLcode, CURLE_FAILED_INIT, curl_global_init, (long flags), (flags))
FWD(char *, (char *)"libcurl unavailable", curl_version, (void), ())
FWD(CURL *, NULL, curl_easy_init, (void), ())
FWD(CURLcode, CURLE_FAILED_INIT, curl_easy_perform, (CURL *h), (h))
FWD(const char *, "libcurl unavailable", curl_easy_strerror, (CURLcode c),
    (c))
FWD(char *, NULL, curl_easy_escape, (CURL *h, const char *s, int n),
    (h, s, n))
FWD(char *, NULL, curl_easy_unescape, (CURL *h, const char *s, int n,
    int *o), (h, s, n, o))
FWD(CURLcode, CURLE_FAILED_INIT, curl_easy_send, (CURL *h, const void *b,
    size_t n, size_t *o), (h, b, n, o))
FWD(CURLcode, CURLE_FAILED_INIT, curl_easy_recv, (CURL *h, void *b,
    size_t n, size_t *o), (h, b, n, o))
FWD(struct curl_slist *, NULL, curl_slist_append,
    (struct curl_slist *l, const char *s), (l, s))
FWD(CURLM *, NULL, curl_multi_init, (void), ())
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_add_handle,
    (CURLM *m, CURL *h), (m, h))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_remove_handle,
    (CURLM *m, CURL *h), (m, h))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_perform, (CURLM *m, int *n),
    (m, n))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_cleanup, (CURLM *m), (m))
FWD(CURLMsg *, NULL, curl_multi_info_read, (CURLM *m, int *n), (m, n))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_wait,
    (CURLM *m, struct curl_waitfd *w, unsigned int n, int t, int *o),
    (m, w, n, t, o))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_fdset,
    (CURLM *m, fd_set *r, fd_set *w, fd_set *e, int *x), (m, r, w, e, x))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_socket_action,
    (CURLM *m, curl_socket_t s, int ev, int *n), (m, s, ev, n))
FWD(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_timeout, (CURLM *m, long *t),
    (m, t))
FWD(const char *, "libcurl unavailable", curl_multi_strerror, (CURLMcode c),
    (c))
FWD(CURLSH *, NULL, curl_share_init, (void), ())
FWD(CURLSHcode, CURLSHE_NOT_BUILT_IN, curl_share_cleanup, (CURLSH *s), (s))

/* void functions: no value to return, and nothing to do if never loaded. */
#define FWD_VOID(name, params, args)					\
void									\
name params								\
{									\
	static void (*fn) params;					\
									\
	if (lib == NULL)						\
		return;							\
	if (fn == NULL && (*(void **)&fn = sym(#name)) == NULL)		\
		return;							\
	fn args;							\
}

FWD_VOID(curl_easy_cleanup, (CURL *h), (h))
FWD_VOID(curl_easy_reset, (CURL *h), (h))
FWD_VOID(curl_free, (void *p), (p))
FWD_VOID(curl_slist_free_all, (struct curl_slist *l), (l))

/*
 * The variadic ones take one argument whose type the option number says:
 * long, a pointer (object or function) or curl_off_t.
 */
CURLcode
curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	static CURLcode (*fn)(CURL *, CURLoption, ...);
	va_list ap;
	CURLcode r;

	if (fn == NULL && (*(void **)&fn = sym("curl_easy_setopt")) == NULL)
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = fn(h, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = fn(h, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_BLOB)
		r = fn(h, opt, va_arg(ap, curl_off_t));
	else
		r = fn(h, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	static CURLcode (*fn)(CURL *, CURLINFO, ...);
	va_list ap;
	CURLcode r;

	if (fn == NULL && (*(void **)&fn = sym("curl_easy_getinfo")) == NULL)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	r = fn(h, info, va_arg(ap, void *));	/* always a pointer */
	va_end(ap);
	return r;
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	static CURLMcode (*fn)(CURLM *, CURLMoption, ...);
	va_list ap;
	CURLMcode r;

	if (fn == NULL && (*(void **)&fn = sym("curl_multi_setopt")) == NULL)
		return CURLM_INTERNAL_ERROR;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = fn(m, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = fn(m, opt, va_arg(ap, void *));
	else
		r = fn(m, opt, va_arg(ap, curl_off_t));
	va_end(ap);
	return r;
}

/* SHARE and UNSHARE take an int (a CURL_LOCK_DATA_*), the rest pointers. */
CURLSHcode
curl_share_setopt(CURLSH *sh, CURLSHoption opt, ...)
{
	static CURLSHcode (*fn)(CURLSH *, CURLSHoption, ...);
	va_list ap;
	CURLSHcode r;

	if (fn == NULL && (*(void **)&fn = sym("curl_share_setopt")) == NULL)
		return CURLSHE_NOT_BUILT_IN;
	va_start(ap, opt);
	if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE)
		r = fn(sh, opt, va_arg(ap, int));
	else
		r = fn(sh, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

/* Only when loaded: a process that never needed HTTP never loads it. */
void
curl_global_cleanup(void)
{
	void (*fn)(void);

	if (lib == NULL)
		return;
	if ((*(void **)&fn = dlsym(lib, "curl_global_cleanup")) != NULL)
		fn();
}
