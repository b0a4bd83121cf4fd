/*
 * main.c - the only place that calls exit(): everything else returns
 * JC_ERR_* codes, which cli.c maps to the documented exit statuses.
 */
#include <stdlib.h>

#include "cli.h"

int
main(int argc, char **argv)
{
	exit(jc_cli_main(argc, argv));
}
