/* render.h: DOCX templates: load, fill, write (see render.c). */
#ifndef VANTHU_RENDER_H
#define VANTHU_RENDER_H

#include <jansson.h>
#include <stddef.h>

#include "diag.h"

struct render_template;

/*
 * Inline marks in a string value (characters no XML text can hold, so no
 * input carries them): the text between ON and OFF is bold or italic, in a run
 * of its own that keeps the template run's other properties. Elsewhere (in
 * docProps/core.xml) they are dropped.
 */
#define RENDER_BOLD_ON "\x01"
#define RENDER_BOLD_OFF "\x02"
#define RENDER_ITALIC_ON "\x03"
#define RENDER_ITALIC_OFF "\x04"
/* A hyphen no line may break at (w:noBreakHyphen): inside a symbol, "02-NQ/TU"; "-" where
 * no WordprocessingML is written. */
#define RENDER_NB_HYPHEN "\x05"
/*
 * Places (in the run-level text of WordprocessingML only; dropped elsewhere):
 * each becomes a Word bookmark, which LibreOffice's PDF export writes as a
 * named destination, so that the PDF says where the number and the date go
 * and where the signature's image is drawn. Names have no '_' (LibreOffice
 * writes it as "5F").
 */
#define RENDER_PLACE_NUMBER "\x06"
#define RENDER_PLACE_NUMBER_NAME "vanthuSo"
#define RENDER_PLACE_DAY "\x07"
#define RENDER_PLACE_DAY_NAME "vanthuNgay"
#define RENDER_PLACE_MONTH "\x08"
#define RENDER_PLACE_MONTH_NAME "vanthuThang"
#define RENDER_PLACE_YEAR "\x0e"
#define RENDER_PLACE_YEAR_NAME "vanthuNam"
#define RENDER_PLACE_TITLE_END "\x0f"       /* after the signer's last title line */
#define RENDER_PLACE_TITLE_END_NAME "vanthuChucVu"
#define RENDER_PLACE_NAME_START "\x10"      /* before and after the signer's name */
#define RENDER_PLACE_NAME_START_NAME "vanthuTenA"
#define RENDER_PLACE_NAME_END "\x11"
#define RENDER_PLACE_NAME_END_NAME "vanthuTenB"

/*
 * Loads a .docx template from path and compiles every part that can hold
 * tags (the body, headers, footers, and docProps/core.xml for values) once;
 * XML comments of every part are dropped, so none reaches a document. A broken template is refused with
 * every error in errs (part and paragraph named); 0 or -1.
 */
int render_load(const char *path, struct render_template **out, struct diag_list *errs);
/* The same from bytes in memory (copied); name is used in messages. */
int render_load_memory(const char *name, const void *data, size_t len,
    struct render_template **out, struct diag_list *errs);
/*
 * The same, with every tag checked against fields: an object shaped as the
 * data the template will receive, one item in each list (docdata_fields).
 * An unknown name is an error with its part and place, listed with every
 * other error of the file; label names the kind in the messages. fields NULL:
 * no check (render_load, render_load_memory).
 */
int render_load_fields(const char *path, json_t *fields, const char *label,
    struct render_template **out, struct diag_list *errs);
int render_load_memory_fields(const char *name, const void *data, size_t len, json_t *fields,
    const char *label, struct render_template **out, struct diag_list *errs);
void render_free(struct render_template *t);
const char *render_name(const struct render_template *t);

/*
 * Fills the template with data. Unchanged parts are copied without being
 * recompressed. *out (malloc'd) and *len on success; 0 or -1 with err.
 * mtime stamps the package's entries, so equal input gives equal bytes.
 */
int render_to_memory(const struct render_template *t, json_t *data, long mtime, void **out,
    size_t *len, char *err, size_t errlen);
/* The same written to path through path.tmp (left by a crash, reused), fsynced and renamed. */
int render_to_file(const struct render_template *t, json_t *data, long mtime, const char *path,
    char *sha256_hex, char *err, size_t errlen);

#endif
