/* proto.h: the control socket's wire format, JSON lines (see proto.c). */
#ifndef VANTHU_PROTO_H
#define VANTHU_PROTO_H

#include <jansson.h>
#include <stddef.h>

/* At most this many bytes in one line, either way, not counting the newline. */
#define PROTO_MAX_LINE 65536

/* Stable error codes: scripts rely on these names. */
enum proto_error {
	E_PROTO = 1,    /* not JSON, not an object, a line too long */
	E_UNKNOWN_CMD,  /* no such command */
	E_NOT_FOUND,    /* the thing named does not exist */
	E_STATE,        /* not allowed in the thing's present state */
	E_DENIED,       /* the caller's roles do not allow it */
	E_INVALID,      /* arguments are wrong */
	E_BUSY,         /* too many connections; try again */
	E_INTERNAL,     /* the daemon failed (disk, memory); see its log */
};

const char *proto_error_name(enum proto_error code);
/* The code for a name such as "E_DENIED", or 0. */
enum proto_error proto_error_from_name(const char *name);

/* A growing buffer that yields complete lines. */
struct proto_buf {
	char *data;   /* owned */
	size_t len;
	size_t cap;
};

void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);
int proto_buf_append(struct proto_buf *b, const char *data, size_t len);
/*
 * 1 and *line, *len (without the newline or a trailing CR) when a complete line
 * is buffered; 0 when not yet; -1 when more than PROTO_MAX_LINE bytes came
 * without a newline. *consumed is what proto_buf_consume must drop after use.
 */
int proto_buf_next(struct proto_buf *b, const char **line, size_t *len, size_t *consumed);
void proto_buf_consume(struct proto_buf *b, size_t n);

/* A parsed request; both references are owned by the request. */
struct proto_request {
	json_t *root;
	const char *cmd;   /* borrowed from root */
	json_t *args;      /* borrowed from root: always an object */
};

/*
 * Parses one line. 0, or an error code with a message in msg. Unknown fields
 * are ignored; "args" may be absent (an empty object is used).
 */
int proto_parse_request(const char *line, size_t len, struct proto_request *req,
    char *msg, size_t msglen);
void proto_request_free(struct proto_request *req);

/* Encodes a request line (with its newline); the caller frees. NULL on no memory. */
char *proto_encode_request(const char *cmd, json_t *args);
/* Encodes {"ok":true,"result":result} + newline; steals result. */
char *proto_encode_ok(json_t *result, size_t *len);
/* Encodes {"ok":false,"error":{"code":...,"message":...}} + newline. */
char *proto_encode_error(enum proto_error code, const char *message, size_t *len);

#endif
