/* receipt.h: what a unit reads back for each file it dropped (see receipt.c). */
#ifndef VANTHU_RECEIPT_H
#define VANTHU_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct receipt_info {
	int64_t id;               /* the receipt number (intake id) */
	const char *file;         /* the name the unit gave the file */
	const char *folder;       /* its sub-folder of incoming/, "" for the top */
	const char *received_at;  /* UTC, ISO 8601 */
	const char *outcome;      /* accepted, duplicate, superseding, rejected */
	const char *sha256;
	int64_t size;
	const char *unit_code;    /* may be NULL */
	const char *unit_name;    /* may be NULL */
	const char *round_id;     /* may be NULL */
	int64_t report_id;        /* 0 when none */
	int64_t supersedes;       /* 0 when none */
	int64_t document_id;      /* a draft created from the input, 0 when none */
	const char *document_kind; /* its kind's label, "Thông báo" */
	int round_opened;         /* the input was a reporting round (round_id names it) */
	const char *after_close;  /* a report for a round closed already: when it closed (UTC);
	                           * NULL or "" otherwise */
	const char *late_deadline; /* a first report after its round's deadline: the deadline
	                            * (YYYY-MM-DD); NULL or "" otherwise */
	const struct diag_list *errors; /* may be NULL */
};

/* The XML receipt (urn:vanthu:receipt:1), a new NUL-terminated string; NULL on no memory. */
char *receipt_xml(const struct receipt_info *r);
/* The Vietnamese text receipt, a new string; NULL on no memory. */
char *receipt_text(const struct receipt_info *r);
/* "2024-03-20T09:15:02+07:00" from a UTC ISO time. */
void receipt_local_time(const char *utc, char *out, size_t len);
/* The errors as a JSON array [{code, line, column, message}], a new string. */
char *receipt_errors_json(const struct diag_list *errors);

#endif
