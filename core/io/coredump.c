/*
 * coredump.c - no core dumps of jconnect.
 */
#include <sys/resource.h>

#include "compat.h"
#include "coredump.h"

static struct rlimit saved;
static int have_saved;

void
jc_coredump_off(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_CORE, &saved) == 0) {
		have_saved = 1;
		/* Only the soft limit: the browser gets the old one back. */
		rl.rlim_cur = 0;
		rl.rlim_max = saved.rlim_max;
		setrlimit(RLIMIT_CORE, &rl);
	}
	/*
	 * A pipe core handler ignores the size limit; a process that is
	 * not dumpable is never dumped.  /proc/self stays readable to
	 * itself (plugins load through /proc/self/fd).
	 */
	jc_no_dump();
}

void
jc_coredump_restore(void)
{
	if (have_saved)
		setrlimit(RLIMIT_CORE, &saved);
}
