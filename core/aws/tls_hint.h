/*
 * tls_hint.h - the advice that ends a libcurl TLS error line.
 */
#ifndef JC_TLS_HINT_H
#define JC_TLS_HINT_H

/*
 * For a CURLcode: " (if a proxy re-signs TLS, set AWS_CA_BUNDLE ...)" and
 * the like, or "" when there is nothing to add.  Static storage.
 */
const char *jc_tls_hint(int curl_code);

#endif /* JC_TLS_HINT_H */
