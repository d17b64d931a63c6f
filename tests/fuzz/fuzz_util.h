/*
 * fuzz_util.h: what the libFuzzer targets share: finding the source tree
 * (for workflows/ and templates-docx/) from a fresh clone, and reading a
 * file of ours whole. Everything here runs once, in LLVMFuzzerInitialize.
 */
#ifndef VANTHU_FUZZ_UTIL_H
#define VANTHU_FUZZ_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The source tree: $VANTHU_SRCDIR (the Makefile sets it), else three levels
 * above the binary (build/fuzz/fuzz_x), else the current folder. A folder
 * counts when it holds workflows/units.xml. 0 and dir filled, or -1.
 */
static inline int fuzz_srcdir(char *dir, size_t len)
{
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	const char *env = getenv("VANTHU_SRCDIR");
	struct stat st;
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(probe, sizeof(probe), "%s/workflows/units.xml", env);
		if (stat(probe, &st) == 0) {
			snprintf(dir, len, "%s", env);
			return 0;
		}
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
		}
		snprintf(probe, sizeof(probe), "%s/workflows/units.xml", exe);
		if (exe[0] != '\0' && stat(probe, &st) == 0) {
			snprintf(dir, len, "%s", exe);
			return 0;
		}
	}
	if (stat("workflows/units.xml", &st) == 0) {
		snprintf(dir, len, ".");
		return 0;
	}
	fprintf(stderr, "fuzz: cannot find the source tree; set VANTHU_SRCDIR\n");
	return -1;
}

/* dir/rel into out; aborts when it does not fit (a setup error, not a finding). */
static inline void fuzz_path(char *out, size_t len, const char *dir, const char *rel)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir, rel) >= len) {
		fprintf(stderr, "fuzz: path too long: %s/%s\n", dir, rel);
		abort();
	}
}

#endif
