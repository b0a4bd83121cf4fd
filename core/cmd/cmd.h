/*
 * cmd.h - the subcommands (main.c's table).  Each returns 0 or JC_ERR_*
 * after logging; argv holds the positional arguments only.
 */
#ifndef JC_CMD_H
#define JC_CMD_H

int	jc_cmd_open(int argc, char **argv);	/* open.c */
int	jc_cmd_url(int argc, char **argv);	/* open.c */
int	jc_cmd_proxy(int argc, char **argv);	/* cmds.c */
int	jc_cmd_keys(int argc, char **argv);	/* cmds.c */
int	jc_cmd_resolve(int argc, char **argv);	/* cmds.c */
int	jc_cmd_ls(int argc, char **argv);	/* cmds.c */
int	jc_cmd_stop(int argc, char **argv);	/* cmds.c */
int	jc_cmd_login(int argc, char **argv);	/* login.c */

/* Install keys through a connected access session (cmds.c). */
struct jc_access;
int	jc_keys_run(struct jc_access *, int op);

#endif /* JC_CMD_H */
