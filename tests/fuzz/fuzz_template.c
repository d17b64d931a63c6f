/*
 * fuzz_template.c: libFuzzer target owning DOCX template compilation and
 * filling (render.c): render_load_memory (parse each part, join runs, find
 * and pair the Mustache tags, mark what repeats, segment) and
 * render_to_memory (walk the segments over JSON data, repackage).
 *
 * The input is split at NUL bytes (which XML and JSON text cannot hold):
 *   word/document.xml \0 JSON data [\0 word/header1.xml]
 * The package around them is the real templates-docx/thong-bao, read once
 * and zipped in memory with libzip for every input. Data that is not JSON is
 * replaced by {} so that the template is still compiled. A template that
 * loads must fill into a package whose document.xml is well-formed XML.
 */
#include <dirent.h>
#include <jansson.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "diag.h"
#include "render.h"
#include "xmlin.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DOC "word/document.xml"
#define HEADER "word/header1.xml"

struct entry {
	char *name;   /* owned: the path inside the package */
	char *data;   /* owned */
	size_t len;
};

static struct entry *entries;
static size_t nentries;

static void add_file(const char *root, const char *rel)
{
	char path[PATH_MAX * 2 + 2];
	struct diag_list errs;
	struct entry *e;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	e = realloc(entries, (nentries + 1) * sizeof(*e));
	if (e == NULL)
		abort();
	entries = e;
	e = &entries[nentries];
	diag_init(&errs);
	if (xmlin_read_file(path, 16 * 1024 * 1024, &e->data, &e->len, &errs) != 0 ||
	    (e->name = strdup(rel)) == NULL) {
		diag_print(&errs, stderr);
		abort();
	}
	nentries++;
}

/* Every file under root/rel, recursively, as package entries. */
static void add_dir(const char *root, const char *rel)
{
	char path[PATH_MAX * 2 + 2], sub[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "fuzz_template: cannot open %s\n", path);
		abort();
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (de->d_type == DT_DIR)
			add_dir(root, sub);
		else
			add_file(root, sub);
	}
	closedir(d);
}

static void free_entries(void)
{
	for (size_t i = 0; i < nentries; i++) {
		free(entries[i].name);
		free(entries[i].data);
	}
	free(entries);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[PATH_MAX], root[PATH_MAX + 64];

	(void)argc; (void)argv;
	xmlin_init();
	if (fuzz_srcdir(dir, sizeof(dir)) != 0)
		abort();
	fuzz_path(root, sizeof(root), dir, "templates-docx/thong-bao");
	add_dir(root, "");
	atexit(free_entries);
	return 0;
}

/* The package: the base entries, with document.xml (and header1.xml when given) replaced. */
static int build_package(const char *doc, size_t doclen, const char *hdr, size_t hdrlen,
    void **out, size_t *outlen)
{
	zip_error_t zerr;
	zip_source_t *dst, *src;
	zip_stat_t st;
	zip_t *z;
	int rc = -1;

	*out = NULL;
	zip_error_init(&zerr);
	dst = zip_source_buffer_create(NULL, 0, 0, &zerr);
	if (dst == NULL || (z = zip_open_from_source(dst, ZIP_TRUNCATE, &zerr)) == NULL) {
		zip_source_free(dst);
		zip_error_fini(&zerr);
		return -1;
	}
	zip_source_keep(dst);
	for (size_t i = 0; i < nentries; i++) {
		const char *data = entries[i].data;
		size_t len = entries[i].len;
		zip_int64_t at;
		if (strcmp(entries[i].name, DOC) == 0) {
			data = doc;
			len = doclen;
		} else if (hdr != NULL && strcmp(entries[i].name, HEADER) == 0) {
			data = hdr;
			len = hdrlen;
		}
		src = zip_source_buffer(z, data, len, 0);
		if (src == NULL)
			goto fail;
		at = zip_file_add(z, entries[i].name, src, ZIP_FL_ENC_UTF_8);
		if (at < 0) {
			zip_source_free(src);
			goto fail;
		}
		/* stored: the fuzzer's time goes to render.c, not to deflate */
		if (zip_set_file_compression(z, (zip_uint64_t)at, ZIP_CM_STORE, 0) != 0)
			goto fail;
	}
	if (zip_close(z) != 0)
		goto fail;
	z = NULL;
	if (zip_source_stat(dst, &st) != 0 || zip_source_open(dst) != 0)
		goto out;
	*out = malloc(st.size ? st.size : 1);
	if (*out != NULL && zip_source_read(dst, *out, st.size) == (zip_int64_t)st.size) {
		*outlen = st.size;
		rc = 0;
	} else {
		free(*out);
		*out = NULL;
	}
	zip_source_close(dst);
	goto out;
fail:
	zip_discard(z);
out:
	zip_source_free(dst);
	zip_error_fini(&zerr);
	return rc;
}

/* The filled package's document.xml must be well-formed: Word refuses the file otherwise. */
static void check_output(const void *pkg, size_t len)
{
	zip_error_t zerr;
	zip_source_t *src;
	zip_file_t *zf = NULL;
	zip_stat_t st;
	zip_t *z;
	char *xml = NULL;
	struct diag_list errs;
	xmlDocPtr doc = NULL;

	zip_error_init(&zerr);
	src = zip_source_buffer_create(pkg, len, 0, &zerr);
	if (src == NULL || (z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr)) == NULL) {
		fprintf(stderr, "fuzz_template: the filled package is not a zip: %s\n",
		    zip_error_strerror(&zerr));
		abort();
	}
	zip_error_fini(&zerr);
	if (zip_stat(z, DOC, 0, &st) != 0 || (xml = malloc(st.size + 1)) == NULL ||
	    (zf = zip_fopen(z, DOC, 0)) == NULL || zip_fread(zf, xml, st.size) != (zip_int64_t)st.size)
		abort();
	diag_init(&errs);
	if (xmlin_parse(xml, st.size, DOC, &doc, &errs) != 0) {
		/* VANTHU_FUZZ_DUMP=path keeps the bad part for a look */
		const char *dump = getenv("VANTHU_FUZZ_DUMP");
		FILE *f = dump ? fopen(dump, "wb") : NULL;
		if (f != NULL) {
			fwrite(xml, 1, st.size, f);
			fclose(f);
		}
		fprintf(stderr, "fuzz_template: the filled document.xml is not well-formed XML:\n");
		diag_print(&errs, stderr);
		abort();
	}
	diag_free(&errs);
	xmlFreeDoc(doc);
	zip_fclose(zf);
	free(xml);
	zip_discard(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size;
	const char *nul1 = memchr(in, '\0', size), *json = NULL, *hdr = NULL, *nul2 = NULL;
	size_t doclen = size, jsonlen = 0, hdrlen = 0, pkglen = 0;
	struct render_template *t = NULL;
	struct diag_list errs;
	json_t *values = NULL;
	void *pkg = NULL, *out = NULL;
	size_t outlen = 0;
	char err[512];

	if (nul1 != NULL) {
		doclen = (size_t)(nul1 - in);
		json = nul1 + 1;
		nul2 = memchr(json, '\0', (size_t)(end - json));
		jsonlen = (size_t)((nul2 ? nul2 : end) - json);
		if (nul2 != NULL) {
			hdr = nul2 + 1;
			hdrlen = (size_t)(end - hdr);
		}
	}
	if (build_package(in, doclen, hdr, hdrlen, &pkg, &pkglen) != 0)
		return 0;
	diag_init(&errs);
	if (render_load_memory("fuzz.docx", pkg, pkglen, &t, &errs) != 0) {
		if (errs.count == 0) {
			fprintf(stderr, "fuzz_template: a template was refused without a reason\n");
			abort();
		}
		goto out;
	}
	values = json != NULL ? json_loadb(json, jsonlen, 0, NULL) : NULL;
	if (values == NULL)
		values = json_object();
	if (values == NULL)
		goto out;
	if (render_to_memory(t, values, 1673974800L, &out, &outlen, err, sizeof(err)) == 0)
		check_output(out, outlen);
out:
	free(out);
	json_decref(values);
	render_free(t);
	diag_free(&errs);
	free(pkg);
	return 0;
}
