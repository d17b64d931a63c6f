/* xmlin.h: hostile XML in, parsed and validated safely (see xmlin.c). */
#ifndef VANTHU_XMLIN_H
#define VANTHU_XMLIN_H

#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <stddef.h>

#include "diag.h"

/* At most this many errors are listed for one document. */
#define XMLIN_MAX_ERRORS 50

/* Once, before any thread parses: libxml2's setup and an entity loader that refuses all. */
void xmlin_init(void);
void xmlin_cleanup(void);

/*
 * Parses len bytes from memory (never a path: libxml2 would inflate gzip),
 * with the network off, no entity substitution, no DTD loading, default
 * depth and size limits. A document with a DOCTYPE is refused. On success
 * *out is the document (caller frees with xmlFreeDoc) and 0 is returned;
 * otherwise -1 and every problem is in errs, with line, column and code
 * (R_EMPTY, R_GZIP, R_ENCODING, R_NOT_XML, R_DOCTYPE, R_TOO_DEEP).
 */
int xmlin_parse(const char *buf, size_t len, const char *name, xmlDocPtr *out,
    struct diag_list *errs);

/* Loads an XSD from a file of ours. 0, or -1 with the problems in errs. */
int xmlin_schema_load(const char *path, xmlSchemaPtr *out, struct diag_list *errs);
void xmlin_schema_free(xmlSchemaPtr schema);

/* Validates doc against schema (ours, never one the document names): 0, or -1 with R_SCHEMA errors. */
int xmlin_validate(xmlSchemaPtr schema, xmlDocPtr doc, const char *name, struct diag_list *errs);

/* Reads a file of ours (schemas, the registry) into memory, capped. 0 or -1 with errs. */
int xmlin_read_file(const char *path, size_t cap, char **buf, size_t *len, struct diag_list *errs);

/* Is n the element {ns}name? */
int xmlin_is(xmlNodePtr n, const char *ns, const char *name);
/* The first child element {ns}name of n, or NULL (n may be NULL). */
xmlNodePtr xmlin_child(xmlNodePtr n, const char *ns, const char *name);
/* The text of n in NFC (malloc'd): "" for a NULL node; NULL only when out of memory. */
char *xmlin_text(xmlNodePtr n);
/* An attribute in NFC (malloc'd), or NULL when absent (or out of memory). */
char *xmlin_attr(xmlNodePtr n, const char *name);

#endif
