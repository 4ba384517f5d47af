/* replay_main.c: runs a fuzz target over its corpus without libFuzzer, as TAP. */
#include "config.h"

#include <dirent.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

/* Feed one file, copied to an exact-size heap buffer so ASan sees overreads. */
static int
replay_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	FILE *f;
	size_t n;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	if ((f = fopen(path, "rb")) == NULL) {
		printf("not ok %d - %s: cannot open\n", ++count, path);
		return 1;
	}
	n = (size_t)st.st_size;
	if ((data = malloc(n != 0 ? n : 1)) == NULL ||
	    fread(data, 1, n, f) != n) {
		printf("not ok %d - %s: cannot read\n", ++count, path);
		fclose(f);
		free(data);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	printf("ok %d - %s\n", ++count, path);
	fflush(stdout);
	return 0;
}

static int
replay_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];
	int n, failed = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1)
		return replay_file(dir);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    names[i]->d_name);
			failed |= replay_file(path);
		}
		free(names[i]);
	}
	free(names);
	return failed;
}

/*
 * With arguments: replay those files or directories. Without: replay
 * $top_srcdir/tests/fuzz/corpus/<target>, the target named by the program
 * (replay_<target>).
 */
int
main(int argc, char **argv)
{
	char dir[4096], *self, *base;
	const char *top = getenv("top_srcdir");
	int failed = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			failed |= replay_dir(argv[i]);
	} else {
		self = strdup(argv[0]);
		base = basename(self);
		if (strncmp(base, "lt-", 3) == 0)
			base += 3;
		if (strncmp(base, "replay_", 7) == 0)
			base += 7;
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", base);
		failed |= replay_dir(dir);
		free(self);
	}
	printf("1..%d\n", count);
	return failed;
}
