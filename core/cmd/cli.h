/*
 * cli.h - command line: subcommands, options, help, exit statuses.
 */
#ifndef JC_CLI_H
#define JC_CLI_H

/*
 * Parse argv into jc_opts (reset first) without running anything.
 * *cmd is the subcommand name ("open" when none was given), *first the
 * index of the first positional argument.  Returns 0, 1 when --help or
 * --version was handled, or JC_ERR_USAGE after one line on stderr.
 */
int	jc_cli_parse(int argc, char **argv, const char **cmd, int *first);

/* Run the command line; returns the exit status. */
int	jc_cli_main(int argc, char **argv);

#endif /* JC_CLI_H */
