/*
 * num.h - the one parser for numbers typed by the user (ports, seconds,
 * counts on the command line, in the config file and in -o options).
 */
#ifndef JC_NUM_H
#define JC_NUM_H

/*
 * Parse s as a decimal number from lo to hi (0 <= lo <= hi).  Only the
 * digits 0-9 are accepted: no sign, no blanks, no base prefix, nothing
 * after the digits.  Returns 0 and sets *out, or -1 (*out untouched).
 */
int	jc_num_parse(const char *s, long lo, long hi, long *out);

/* jc_num_parse for int results (ports, seconds). */
int	jc_num_int(const char *s, int lo, int hi, int *out);

#endif /* JC_NUM_H */
