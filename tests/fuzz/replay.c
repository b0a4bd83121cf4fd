/*
 * replay.c - runs a libFuzzer target's entry point over every file of the
 * given directories, without libFuzzer: `make check` replays the seed
 * corpora and every crash found so far (regression inputs) under the
 * normal and the ASan build.  Prints one TAP line per directory.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;
	size_t n;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	/* An exact-size copy, so ASan sees reads past the end. */
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	n = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 1;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int i, n, t = 0;

	for (i = 1; i < argc; i++) {
		if ((d = opendir(argv[i])) == NULL) {
			printf("not ok %d - replay %s: cannot open\n", ++t,
			    argv[i]);
			continue;
		}
		n = 0;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			n += run_file(path) > 0;
		}
		closedir(d);
		printf("%s %d - replay %s: %d inputs\n", n > 0 ? "ok" : "not ok",
		    ++t, argv[i], n);
	}
	printf("1..%d\n", t);
	return 0;
}
