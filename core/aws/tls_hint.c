/*
 * tls_hint.c - the advice that ends a libcurl TLS error line, shared by
 * the AWS client and the SSM WebSocket: both trust AWS_CA_BUNDLE.
 */
#include <curl/curl.h>

#include "tls_hint.h"

const char *
jc_tls_hint(int curl_code)
{
	switch (curl_code) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return " (if a proxy re-signs TLS, set AWS_CA_BUNDLE to its CA "
		    "file)";
	case CURLE_SSL_CACERT_BADFILE:
		return " (check the file AWS_CA_BUNDLE or ca_bundle names)";
	default:
		return "";
	}
}
