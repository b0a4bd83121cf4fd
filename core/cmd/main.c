/*
 * main.c - the only place that calls exit(): everything else returns
 * JC_ERR_* codes, which cli.c maps to the documented exit statuses.
 */
#include <stdlib.h>

#include "cli.h"
#include "coredump.h"

int
main(int argc, char **argv)
{
	/* Before anything holds a secret. */
	jc_coredump_off();
	exit(jc_cli_main(argc, argv));
}
