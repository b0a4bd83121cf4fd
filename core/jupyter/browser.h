/*
 * browser.h - open a URL in the user's browser.
 */
#ifndef JC_BROWSER_H
#define JC_BROWSER_H

/*
 * Open url for target with $BROWSER (a ':'-separated list; "%s" is
 * replaced by the page, else it is appended), else xdg-open, else open
 * (macOS).  The browser gets a file:// URL of a 0600 page in the state
 * directory (NAME.html) that redirects to url: the token stays out of
 * every command line and environment.  The page is removed with the
 * tunnel (jc_state_unlink(target, ".html")).  The browser runs detached
 * with its output discarded; nothing goes through a shell.  Returns 0, or
 * an error when nothing was started (the caller has already printed the
 * URL).
 */
int	jc_browser_open(const char *target, const char *url);

#endif /* JC_BROWSER_H */
