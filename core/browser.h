/*
 * browser.h - open a URL in the user's browser.
 */
#ifndef JC_BROWSER_H
#define JC_BROWSER_H

/*
 * Open url with $BROWSER (a ':'-separated list; "%s" is replaced by the
 * URL, else it is appended), else xdg-open, else open (macOS).  The
 * browser runs detached with its output discarded; the URL never goes
 * through a shell.  Returns 0, or JC_ERR_UNSUPPORTED when nothing could
 * be started (the caller has already printed the URL).
 */
int	jc_browser_open(const char *url);

#endif /* JC_BROWSER_H */
