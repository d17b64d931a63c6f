/*
 * bench_render.c: renders a DOCX template N times in one process, into
 * memory, with the engine vanthud uses, and prints the rate (make bench).
 *   bench_render TEMPLATE.docx DATA.json [N] [OUT.docx]
 * The template is loaded (and compiled) once, as vanthud does at start; one
 * render before the clock starts warms up and gives the sample OUT.docx.
 * Prints one line: "vanthu: N documents in S s = R docs/s, M ms/doc, B bytes/doc".
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "diag.h"
#include "render.h"
#include "xmlin.h"

#define MTIME 315532800L /* 1980-01-01, as publish.c stamps a draft */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct render_template *t = NULL;
	struct diag_list errs;
	json_error_t je;
	json_t *data;
	char err[512];
	void *out = NULL;
	size_t len = 0, bytes = 0;
	long n;
	double t0, s;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: bench_render TEMPLATE.docx DATA.json [N] [OUT.docx]\n");
		return 2;
	}
	n = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
	if (n < 1) {
		fprintf(stderr, "bench_render: N must be at least 1\n");
		return 2;
	}
	/* as vanthud: keep the heap that zlib's state takes and gives back on every document */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 4 << 20);
	xmlin_init();
	diag_init(&errs);
	if (render_load(argv[1], &t, &errs) != 0) {
		diag_print(&errs, stderr);
		diag_free(&errs);
		return 1;
	}
	diag_free(&errs);
	data = json_load_file(argv[2], 0, &je);
	if (data == NULL) {
		fprintf(stderr, "%s:%d: %s\n", argv[2], je.line, je.text);
		render_free(t);
		return 1;
	}
	if (render_to_memory(t, data, MTIME, &out, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_render: %s\n", err);
		return 1;
	}
	if (argc > 4) {
		FILE *f = fopen(argv[4], "wb");
		if (f == NULL || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
			perror(argv[4]);
			return 1;
		}
	}
	free(out);
	t0 = now();
	for (long i = 0; i < n; i++) {
		if (render_to_memory(t, data, MTIME, &out, &len, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_render: %s\n", err);
			return 1;
		}
		bytes += len;
		free(out);
	}
	s = now() - t0;
	printf("vanthu: %ld documents in %.3f s = %.1f docs/s, %.3f ms/doc, %zu bytes/doc\n", n, s,
	    (double)n / s, 1000.0 * s / (double)n, bytes / (size_t)n);
	json_decref(data);
	render_free(t);
	xmlin_cleanup();
	return 0;
}
