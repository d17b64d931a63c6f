/* test_proto.c: unit tests of proto.c (line framing, request parsing, replies). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void test_lines_split_across_reads(void **state)
{
	struct proto_buf b;
	const char *line;
	size_t len, consumed;

	(void)state;
	proto_buf_init(&b);
	assert_int_equal(proto_buf_append(&b, "{\"cmd\":", 7), 0);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), 0);
	const char *rest = "\"ping\"}\r\n{\"cmd\":\"status\"}\n{\"x";
	assert_int_equal(proto_buf_append(&b, rest, strlen(rest)), 0);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), 1);
	assert_int_equal(len, 14);
	assert_memory_equal(line, "{\"cmd\":\"ping\"}", 14);
	proto_buf_consume(&b, consumed);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), 1);
	assert_memory_equal(line, "{\"cmd\":\"status\"}", 16);
	proto_buf_consume(&b, consumed);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), 0);
	assert_int_equal(b.len, 3);
	proto_buf_free(&b);
}

static void test_line_cap(void **state)
{
	struct proto_buf b;
	const char *line;
	size_t len, consumed;
	char *big = malloc(PROTO_MAX_LINE + 10);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', PROTO_MAX_LINE + 10);
	proto_buf_init(&b);
	/* exactly the cap, then a newline: accepted */
	assert_int_equal(proto_buf_append(&b, big, PROTO_MAX_LINE), 0);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), 0);
	assert_int_equal(proto_buf_append(&b, "\n", 1), 0);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), 1);
	assert_int_equal(len, PROTO_MAX_LINE);
	proto_buf_consume(&b, consumed);
	/* one byte over without a newline: refused before the newline ever comes */
	assert_int_equal(proto_buf_append(&b, big, PROTO_MAX_LINE + 2), 0);
	assert_int_equal(proto_buf_next(&b, &line, &len, &consumed), -1);
	proto_buf_free(&b);
	free(big);
}

static void test_parse_request(void **state)
{
	struct proto_request req;
	char msg[256];
	const char *ok = "{\"cmd\":\"status\",\"args\":{\"a\":1},\"extra\":[1,2]}";

	(void)state;
	assert_int_equal(proto_parse_request(ok, strlen(ok), &req, msg, sizeof(msg)), 0);
	assert_string_equal(req.cmd, "status");
	assert_true(json_is_object(req.args));
	assert_int_equal(json_integer_value(json_object_get(req.args, "a")), 1);
	proto_request_free(&req);

	const char *noargs = "{\"cmd\":\"ping\"}";
	assert_int_equal(proto_parse_request(noargs, strlen(noargs), &req, msg, sizeof(msg)), 0);
	assert_true(json_is_object(req.args));
	assert_int_equal(json_object_size(req.args), 0);
	proto_request_free(&req);
}

static void test_parse_bad_requests(void **state)
{
	static const char *bad[] = {
		"not json", "[1,2,3]", "{\"args\":{}}", "{\"cmd\":42}", "{\"cmd\":\"\"}",
		"{\"cmd\":\"x\",\"args\":[1]}", "{\"cmd\":\"x\",\"cmd\":\"y\"}", "\"just a string\"",
		"{\"cmd\":\"\xff\xfe\"}", "{\"cmd\":\"ping\"", "",
	};
	struct proto_request req;
	char msg[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		assert_int_equal(proto_parse_request(bad[i], strlen(bad[i]), &req, msg, sizeof(msg)),
		    E_PROTO);
		assert_true(strlen(msg) > 0);
		assert_null(req.root);
	}
}

static void test_encode(void **state)
{
	size_t len = 0;
	char *line;
	json_t *back;

	(void)state;
	line = proto_encode_ok(json_pack("{s:s}", "tên", "Đà Nẵng"), &len);
	assert_non_null(line);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1));
	back = json_loadb(line, len, 0, NULL);
	assert_true(json_is_true(json_object_get(back, "ok")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "result"),
	    "tên")), "Đà Nẵng");
	json_decref(back);
	free(line);

	line = proto_encode_error(E_DENIED, "không được phép\nthật", &len);
	assert_non_null(line);
	assert_null(memchr(line, '\n', len - 1));
	back = json_loadb(line, len, 0, NULL);
	assert_true(json_is_false(json_object_get(back, "ok")));
	json_t *err = json_object_get(back, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")), "E_DENIED");
	assert_string_equal(json_string_value(json_object_get(err, "message")),
	    "không được phép\nthật");
	json_decref(back);
	free(line);

	line = proto_encode_request("whoami", NULL);
	assert_string_equal(line, "{\"cmd\":\"whoami\",\"args\":{}}\n");
	free(line);
}

/*
 * Found by fuzz_request: libxml2 quotes a file's raw bytes in its messages, so a refusal
 * listing them was not UTF-8, could not be encoded, and the client was dropped unanswered.
 * Each bad byte is now U+FFFD, and so is a character cut at the end.
 */
static void test_bug_error_not_utf8(void **state)
{
	size_t len = 0;
	char *line = proto_encode_error(E_INVALID, "xmlns: 'urn:va\x9d\xb4hu' \xc3\xa0 \xed\xa0\x80 \xe1\xba",
	    &len);
	json_t *back;

	(void)state;
	assert_non_null(line);
	back = json_loadb(line, len, 0, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_object_get(json_object_get(back, "error"),
	    "message")), "xmlns: 'urn:va\xEF\xBF\xBD\xEF\xBF\xBDhu' \xc3\xa0 "
	    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD");
	json_decref(back);
	free(line);
}

static void test_error_names_stable(void **state)
{
	(void)state;
	assert_string_equal(proto_error_name(E_PROTO), "E_PROTO");
	assert_string_equal(proto_error_name(E_UNKNOWN_CMD), "E_UNKNOWN_CMD");
	assert_string_equal(proto_error_name(E_NOT_FOUND), "E_NOT_FOUND");
	assert_string_equal(proto_error_name(E_STATE), "E_STATE");
	assert_string_equal(proto_error_name(E_DENIED), "E_DENIED");
	assert_string_equal(proto_error_name(E_INVALID), "E_INVALID");
	assert_string_equal(proto_error_name(E_BUSY), "E_BUSY");
	assert_string_equal(proto_error_name(E_INTERNAL), "E_INTERNAL");
	assert_int_equal(proto_error_from_name("E_STATE"), E_STATE);
	assert_int_equal(proto_error_from_name("E_NOPE"), 0);
	assert_string_equal(proto_error_name((enum proto_error)99), "E_INTERNAL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_across_reads),
		cmocka_unit_test(test_line_cap),
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_parse_bad_requests),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_error_names_stable),
		cmocka_unit_test(test_bug_error_not_utf8),
	};
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
