/* test_edxml.c: unit tests of edxml.c (strict writer, tolerant reader, refusals with fault and element). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "edxml.h"

#define S(x) ((char *)(x))

/* The bytes of the attachments: binary, with NUL bytes. */
static const unsigned char PDF1[] = { '%', 'P', 'D', 'F', '-', '1', '.', '7', '\n', 0, 0, 1, 0xFF,
	0xFE, 0x80, 0, '<', '&', '>', 0, 0x7F, 0xC3, 0x28, 0 };
static const unsigned char BIN2[] = { 0, 0, 0 };

static void hex_of(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* A document with every field set: literals only, never freed. */
static void full_doc(struct edxml_doc *d, struct edxml_organ to[2], char **places,
    struct edxml_ref *ref, struct edxml_trace tr[2], struct edxml_attachment att[2])
{
	memset(d, 0, sizeof(*d));
	d->from = (struct edxml_organ){ S("000.00.01.H56"), S("Văn phòng UBND tỉnh"),
		S("Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu"), S("01 Phạm Văn Đồng, Bà Rịa"),
		S("vp@baria-vungtau.gov.vn"), S("0254 3852 123"), S("0254 3852 124"),
		S("https://baria-vungtau.gov.vn/?a=1&b=2") };
	to[0] = (struct edxml_organ){ S("000.00.14.H56"), NULL, S("Sở Thông tin & Truyền thông"),
		NULL, S("stttt@x.vn"), NULL, NULL, NULL };
	to[1] = (struct edxml_organ){ S("000.00.15.H56"), S("Phòng <Tổng hợp>"), S("Sở Tư pháp"),
		S("\"Số 2\" 'Lê Lợi'"), NULL, S("0254"), NULL, NULL };
	d->to = to;
	d->nto = 2;
	d->code_number = S("12");
	d->code_notation = S("TB-UBND");
	d->place = S("Bà Rịa - Vũng Tàu");
	d->date = S("2024-03-05");
	d->type = 2;
	d->type_name = S("Thông báo");
	d->subject = S("Về việc \"chuyển đổi số\" & <cải cách> hành chính 'năm 2024'");
	d->content = S("Nội dung: a < b && c > d\nDòng hai\ttab");
	d->competence = S("KT.");
	d->position = S("Phó Chủ tịch");
	d->full_name = S("Nguyễn Văn Ấn");
	d->due_date = S("2024-04-30");
	places[0] = S("Như trên;");
	places[1] = S("Lưu: VT, TH.");
	d->to_places = places;
	d->nto_places = 2;
	d->priority = 3;
	d->sphere = S("Toàn tỉnh");
	d->typer = S("NVA");
	d->amount = 10;
	d->pages = 3;
	d->appendixes = S("Phụ lục I & II");
	d->steering = 2;
	d->document_id = S("000.00.01.H56,2024/03/05,12/TB-UBND");
	*ref = (struct edxml_ref){ S("000.00.14.H56"), S("5/BC-STTTT"), S("2024-02-01"),
		S("000.00.14.H56,2024/02/01,5/BC-STTTT") };
	d->response_for = ref;
	d->nresponse_for = 1;
	tr[0] = (struct edxml_trace){ S("000.00.01.H56"), S("2024-03-05 08:30:00") };
	tr[1] = (struct edxml_trace){ S("000.00.00.G22"), S("2024-03-05 08:31:09") };
	d->traces = tr;
	d->ntraces = 2;
	d->business = EDXML_UPDATE;
	d->business_reason = S("Sửa lỗi chính tả");
	d->paper = 1;
	memset(att, 0, 2 * sizeof(*att));
	att[0].name = S("12-TB-UBND.pdf");
	att[0].content_type = S("application/pdf");
	att[0].content_id = S("3f2b8c1e-5d4a-4e7b-9c1d-2a3b4c5d6e7f");
	att[0].description = S("Văn bản điện tử & chữ ký số");
	att[0].data = (unsigned char *)PDF1;
	att[0].len = sizeof(PDF1);
	hex_of(PDF1, sizeof(PDF1), att[0].sha256);
	att[1].name = S("phu-luc 'một'.bin");
	att[1].content_type = S("application/octet-stream");
	att[1].content_id = NULL; /* generated */
	att[1].description = NULL;
	att[1].data = (unsigned char *)BIN2;
	att[1].len = sizeof(BIN2);
	hex_of(BIN2, sizeof(BIN2), att[1].sha256);
	d->att = att;
	d->natt = 2;
}

/* Builds the full document; the caller frees *out. */
static void build_full(char **out, size_t *len)
{
	struct edxml_doc d;
	struct edxml_organ to[2];
	char *places[2], err[256] = "";
	struct edxml_ref ref;
	struct edxml_trace tr[2];
	struct edxml_attachment att[2];

	full_doc(&d, to, places, &ref, tr, att);
	if (edxml_build_doc(&d, out, len, err, sizeof(err)) != 0)
		fail_msg("build refused: %s", err);
	assert_int_equal(strlen(*out), *len);
}

static void assert_str(const char *have, const char *want)
{
	if (want == NULL)
		assert_null(have);
	else
		assert_string_equal(have, want);
}

static void assert_organ(const struct edxml_organ *a, const struct edxml_organ *b)
{
	assert_str(a->id, b->id);
	assert_str(a->in_charge, b->in_charge);
	assert_str(a->name, b->name);
	assert_str(a->address, b->address);
	assert_str(a->email, b->email);
	assert_str(a->phone, b->phone);
	assert_str(a->fax, b->fax);
	assert_str(a->website, b->website);
}

/* Parses buf, which must be refused with this fault and element. */
static void refused(const char *buf, size_t len, enum edxml_fault fault, const char *element)
{
	struct edxml_msg m;
	struct edxml_error e;
	char err[512] = "";

	if (edxml_parse(buf, len, &m, &e, err, sizeof(err)) == 0) {
		edxml_msg_free(&m);
		fail_msg("accepted; expected fault %d at <%s>", fault, element ? element : "");
	}
	assert_int_equal(m.kind, 0);
	assert_null(m.doc.to);
	assert_true(err[0] != '\0');
	if (e.fault != fault || (element != NULL && strcmp(e.element, element) != 0))
		fail_msg("fault %d <%s> (%s); expected %d <%s>", e.fault, e.element, err, fault,
		    element ? element : "*");
}

static void accepted(const char *buf, size_t len, struct edxml_msg *m)
{
	struct edxml_error e;
	char err[512] = "";

	if (edxml_parse(buf, len, m, &e, err, sizeof(err)) != 0)
		fail_msg("refused: fault %d <%s>: %s", e.fault, e.element, err);
	assert_int_equal(e.fault, EDXML_OK);
}

/* s with the first needle replaced by repl (needle must be there); the caller frees. */
static char *mutate(const char *s, const char *needle, const char *repl)
{
	const char *p = strstr(s, needle);
	size_t a, b, c;
	char *out;

	if (p == NULL)
		fail_msg("needle not found: %s", needle);
	a = (size_t)(p - s);
	b = strlen(repl);
	c = strlen(p + strlen(needle));
	out = malloc(a + b + c + 1);
	assert_non_null(out);
	memcpy(out, s, a);
	memcpy(out + a, repl, b);
	memcpy(out + a + b, p + strlen(needle), c + 1);
	return out;
}

/* n copies of the UTF-8 character ch (the caller frees). */
static char *repeat(const char *ch, size_t n)
{
	size_t k = strlen(ch);
	char *s = malloc(k * n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * k, ch, k);
	s[k * n] = '\0';
	return s;
}

static void write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* --------------------------------------------------------------- round trips */

static void test_roundtrip_document(void **state)
{
	struct edxml_doc d;
	struct edxml_organ to[2];
	char *places[2], *out = NULL;
	struct edxml_ref ref;
	struct edxml_trace tr[2];
	struct edxml_attachment att[2];
	struct edxml_msg m;
	size_t len = 0;
	const struct edxml_doc *p;

	(void)state;
	full_doc(&d, to, places, &ref, tr, att);
	build_full(&out, &len);
	/* the writer's shape, as written */
	assert_non_null(strstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
	assert_non_null(strstr(out, "<edXML xmlns:edXML=\"" EDXML_NS "\""));
	assert_non_null(strstr(out, "<edXML:MessageHeader>"));
	assert_non_null(strstr(out, "<edXML:OrganId>000.00.01.H56</edXML:OrganId>"));
	assert_non_null(strstr(out, "<edXML:PromulgationDate>2024/03/05</edXML:PromulgationDate>"));
	assert_non_null(strstr(out, "<edXML:DueDate>2024/04/30</edXML:DueDate>"));
	assert_non_null(strstr(out, "<edXML:Timestamp>2024/03/05 08:30:00</edXML:Timestamp>"));
	assert_non_null(strstr(out, "<edXML:Priority>3</edXML:Priority>"));
	assert_non_null(strstr(out, "<edXML:Bussiness><edXML:BussinessDocType>2</edXML:BussinessDocType>") ?
	    (void *)1 : strstr(out, "<edXML:BussinessDocType>2</edXML:BussinessDocType>"));
	assert_non_null(strstr(out, "<edXML:Reference xlink:href=\"cid:3f2b8c1e-5d4a-4e7b-9c1d-2a3b4c5d6e7f\">"));
	assert_non_null(strstr(out, "\n<AttachmentEncoded>") ? (void *)1 : strstr(out, "<AttachmentEncoded>"));
	assert_non_null(strstr(out, "SHA-256: "));
	assert_null(strstr(out, "<cải")); /* escaped */

	accepted(out, len, &m);
	assert_int_equal(m.kind, EDXML_DOCUMENT);
	p = &m.doc;
	assert_organ(&p->from, &d.from);
	assert_int_equal(p->nto, 2);
	assert_organ(&p->to[0], &to[0]);
	assert_organ(&p->to[1], &to[1]);
	assert_string_equal(p->code_number, "12");
	assert_string_equal(p->code_notation, "TB-UBND");
	assert_string_equal(p->place, d.place);
	assert_string_equal(p->date, "2024-03-05");
	assert_int_equal(p->type, 2);
	assert_string_equal(p->type_name, d.type_name);
	assert_string_equal(p->subject, d.subject);
	assert_string_equal(p->content, d.content);
	assert_string_equal(p->competence, "KT.");
	assert_string_equal(p->position, d.position);
	assert_string_equal(p->full_name, d.full_name);
	assert_string_equal(p->due_date, "2024-04-30");
	assert_int_equal(p->nto_places, 2);
	assert_string_equal(p->to_places[0], places[0]);
	assert_string_equal(p->to_places[1], places[1]);
	assert_int_equal(p->priority, 3);
	assert_string_equal(p->sphere, d.sphere);
	assert_string_equal(p->typer, "NVA");
	assert_int_equal(p->amount, 10);
	assert_int_equal(p->pages, 3);
	assert_string_equal(p->appendixes, d.appendixes);
	assert_int_equal(p->steering, 2);
	assert_string_equal(p->document_id, d.document_id);
	assert_int_equal(p->nresponse_for, 1);
	assert_string_equal(p->response_for[0].organ_id, ref.organ_id);
	assert_string_equal(p->response_for[0].code, ref.code);
	assert_string_equal(p->response_for[0].date, "2024-02-01");
	assert_string_equal(p->response_for[0].document_id, ref.document_id);
	assert_int_equal(p->ntraces, 2);
	assert_string_equal(p->traces[0].organ_id, "000.00.01.H56");
	assert_string_equal(p->traces[0].timestamp, "2024-03-05 08:30:00");
	assert_string_equal(p->traces[1].organ_id, "000.00.00.G22");
	assert_string_equal(p->traces[1].timestamp, "2024-03-05 08:31:09");
	assert_int_equal(p->business, EDXML_UPDATE);
	assert_string_equal(p->business_reason, d.business_reason);
	assert_int_equal(p->paper, 1);
	assert_int_equal(p->natt, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(p->att[i].name, att[i].name);
		assert_string_equal(p->att[i].content_type, att[i].content_type);
		assert_str(p->att[i].description, att[i].description);
		assert_int_equal(p->att[i].len, att[i].len);
		assert_memory_equal(p->att[i].data, att[i].data, att[i].len);
		assert_string_equal(p->att[i].sha256, att[i].sha256);
	}
	assert_string_equal(p->att[0].content_id, att[0].content_id);
	/* a generated content id is a UUID v4 */
	assert_int_equal(strlen(p->att[1].content_id), 36);
	assert_int_equal(p->att[1].content_id[14], '4');
	assert_non_null(strchr("89ab", p->att[1].content_id[19]));
	edxml_msg_free(&m);
	assert_null(m.doc.subject);
	free(out);
}

static void test_roundtrip_status(void **state)
{
	struct edxml_status s = {
		.from = { S("000.00.14.H56"), NULL, S("Sở Thông tin và Truyền thông"), NULL, NULL, NULL,
			NULL, NULL },
		.response_for = { S("000.00.01.H56"), S("12/TB-UBND"), S("2024-03-05"),
			S("000.00.01.H56,2024/03/05,12/TB-UBND") },
		.department = S("Văn phòng"), .staff = S("Trần Thị B"), .email = S("b@x.vn"),
		.mobile = S("0912 345 678"), .code = 2,
		.description = S("Sai nơi nhận: gửi \"Sở Tư pháp\" & <không> phải chúng tôi"),
		.timestamp = S("2024-03-05 09:15:30"),
	};
	struct edxml_msg m;
	char *out = NULL, err[256] = "";
	size_t len = 0;

	(void)state;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(out, "<edXML:StatusCode>02</edXML:StatusCode>"));
	assert_non_null(strstr(out, "<edXML:Timestamp>2024/03/05 09:15:30</edXML:Timestamp>"));
	accepted(out, len, &m);
	assert_int_equal(m.kind, EDXML_STATUS);
	assert_organ(&m.st.from, &s.from);
	assert_string_equal(m.st.response_for.organ_id, s.response_for.organ_id);
	assert_string_equal(m.st.response_for.code, s.response_for.code);
	assert_string_equal(m.st.response_for.date, "2024-03-05");
	assert_string_equal(m.st.response_for.document_id, s.response_for.document_id);
	assert_string_equal(m.st.department, s.department);
	assert_string_equal(m.st.staff, s.staff);
	assert_string_equal(m.st.email, s.email);
	assert_string_equal(m.st.mobile, s.mobile);
	assert_int_equal(m.st.code, 2);
	assert_string_equal(m.st.description, s.description);
	assert_string_equal(m.st.timestamp, "2024-03-05 09:15:30");
	edxml_msg_free(&m);
	free(out);

	/* 01 with an empty description: written as an empty element, read back as "" */
	s.code = 1;
	s.description = S("");
	s.department = s.staff = s.email = s.mobile = NULL;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), 0);
	assert_non_null(strstr(out, "<edXML:StatusCode>01</edXML:StatusCode>"));
	accepted(out, len, &m);
	assert_int_equal(m.st.code, 1);
	assert_string_equal(m.st.description, "");
	assert_null(m.st.staff);
	edxml_msg_free(&m);
	free(out);
}

/* The order of MessageHeader's children, the namespaces and the base64, by python3's reader. */
static void test_independent_reader(void **state)
{
	char dir[] = "/tmp/vanthu-edxml-XXXXXX", path[128], cmd[512], line[4096];
	const char *script =
	    "import sys, base64, hashlib, xml.etree.ElementTree as ET\n"
	    "N='{" EDXML_NS "}'\n"
	    "r=ET.parse(sys.argv[1]).getroot()\n"
	    "print(r.tag)\n"
	    "mh=r.find(N+'edXMLEnvelope/'+N+'edXMLHeader/'+N+'MessageHeader')\n"
	    "print(' '.join(c.tag.replace(N,'e:') for c in mh))\n"
	    "print(' '.join(c.tag.replace(N,'e:') for c in mh.find(N+'From')))\n"
	    "print(' '.join(c.tag.replace(N,'e:') for c in r.find(N+'edXMLEnvelope/'+N+'edXMLHeader')))\n"
	    "print(' '.join(c.tag.replace(N,'e:') for c in r.find(N+'edXMLEnvelope/'+N+'edXMLHeader/'+N+'TraceHeaderList/'+N+'Bussiness')))\n"
	    "a=r.findall('AttachmentEncoded/Attachment')\n"
	    "print(len(a), ' '.join(c.tag for c in a[0]))\n"
	    "print(hashlib.sha256(base64.b64decode(a[0].find('ContentTransferEncoded').text)).hexdigest())\n"
	    "refs=r.findall(N+'edXMLEnvelope/'+N+'edXMLBody/'+N+'edXMLManifest/'+N+'Reference')\n"
	    "print(' '.join(x.get('{http://www.w3.org/1999/xlink}href') == 'cid:'+x.find(N+'ContentId').text and 'ok' or 'bad' for x in refs))\n"
	    "print(mh.find(N+'Subject').text)\n";
	const char *want[] = {
		"edXML",
		"e:From e:To e:To e:Code e:PromulgationInfo e:DocumentType e:Subject e:Content "
		"e:SignerInfo e:DueDate e:ToPlaces e:OtherInfo e:SteeringType e:DocumentId e:ResponseFor",
		"e:OrganId e:OrganizationInCharge e:OrganName e:OrganAdd e:Email e:Telephone e:Fax e:Website",
		"e:MessageHeader e:TraceHeaderList e:Signature",
		"e:BussinessDocType e:BussinessDocReason e:Paper",
		"2 ContentType ContentId Description ContentTransferEncoded AttachmentName",
		NULL, /* the hash */
		"ok ok",
		"Về việc \"chuyển đổi số\" & <cải cách> hành chính 'năm 2024'",
	};
	char hex[65];
	char *out = NULL;
	size_t len = 0, i = 0;
	FILE *p;

	(void)state;
	hex_of(PDF1, sizeof(PDF1), hex);
	want[6] = hex;
	assert_non_null(mkdtemp(dir));
	build_full(&out, &len);
	snprintf(path, sizeof(path), "%s/doc.xml", dir);
	write_file(path, out, len);
	snprintf(cmd, sizeof(cmd), "%s/check.py", dir);
	write_file(cmd, script, strlen(script));
	snprintf(line, sizeof(line), "/usr/bin/python3 %s/check.py %s", dir, path);
	p = popen(line, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (i >= sizeof(want) / sizeof(want[0]))
			fail_msg("extra line: %s", line);
		if (strcmp(line, want[i]) != 0)
			fail_msg("line %zu: have \"%s\", want \"%s\"", i + 1, line, want[i]);
		i++;
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(i, sizeof(want) / sizeof(want[0]));
	/* well-formed for xmllint, and its XPath sees the prefixed element */
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --xpath 'count(/edXML/*[local-name()=\"edXMLEnvelope\"]"
	    "/*/*[local-name()=\"MessageHeader\"]/*[local-name()=\"To\"])' %s | grep -qx 2", path);
	assert_int_equal(system(cmd), 0);
	/* and a broken file fails the same check (the check can fail) */
	write_file(path, out, len / 2);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s 2>/dev/null", path);
	assert_int_not_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(out);
}

/* --------------------------------------------------------------- tolerant reading */

/* A minimal document written by hand without prefixes; tests mutate it. */
static const char MIN_DOC[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<edXML>\n"
    " <edXMLEnvelope>\n"
    "  <edXMLHeader>\n"
    "   <MessageHeader>\n"
    "    <From><OrganId>000.00.01.H56</OrganId><OrganName>UBND</OrganName></From>\n"
    "    <To><OrganId>000.00.14.H56</OrganId></To>\n"
    "    <Code><CodeNumber>12</CodeNumber><CodeNotation>TB-UBND</CodeNotation></Code>\n"
    "    <PromulgationInfo><Place>BR</Place><PromulgationDate>2024/03/05</PromulgationDate></PromulgationInfo>\n"
    "    <DocumentType><Type>1</Type><TypeName>Thông báo</TypeName></DocumentType>\n"
    "    <Subject>S</Subject>\n"
    "    <SignerInfo><Position>P</Position><FullName>F</FullName></SignerInfo>\n"
    "    <ToPlaces><Place>Q</Place></ToPlaces>\n"
    "    <OtherInfo><Priority>0</Priority></OtherInfo>\n"
    "    <DocumentId>000.00.01.H56,2024/03/05,12/TB-UBND</DocumentId>\n"
    "   </MessageHeader>\n"
    "  </edXMLHeader>\n"
    " </edXMLEnvelope>\n"
    "</edXML>\n";

static const char MIN_STATUS[] =
    "<edXML><edXMLEnvelope><edXMLHeader><MessageHeader>"
    "<From><OrganId>000.00.14.H56</OrganId></From>"
    "<ResponseFor><OrganId>000.00.01.H56</OrganId><DocumentId>D1</DocumentId></ResponseFor>"
    "<StatusCode>01</StatusCode><Description>ok</Description>"
    "<Timestamp>2024/03/05 09:00:00</Timestamp>"
    "</MessageHeader></edXMLHeader></edXMLEnvelope></edXML>";

static void test_minimal_accepted(void **state)
{
	struct edxml_msg m;

	(void)state;
	accepted(MIN_DOC, strlen(MIN_DOC), &m);
	assert_int_equal(m.kind, EDXML_DOCUMENT);
	assert_string_equal(m.doc.from.id, "000.00.01.H56");
	assert_int_equal(m.doc.natt, 0);
	assert_int_equal(m.doc.type, 1);
	edxml_msg_free(&m);
	accepted(MIN_STATUS, strlen(MIN_STATUS), &m);
	assert_int_equal(m.kind, EDXML_STATUS);
	assert_int_equal(m.st.code, 1);
	edxml_msg_free(&m);
}

static void test_tolerant_variants(void **state)
{
	const char *doc =
	    "<?xml version=\"1.0\"?>\n"
	    "<e:edXML xmlns:e=\"" EDXML_NS "\"><edXMLEnvelope><e:edXMLHeader><MessageHeader>"
	    "<DocumentId> D-42 </DocumentId>"
	    "<Subject>Trích yếu</Subject>"
	    "<To><OrganName>B</OrganName><OrganId>000.00.14.H56</OrganId><OrganInCharge>Phòng A</OrganInCharge></To>"
	    "<Code><CodeNotation>QĐ-UBND</CodeNotation></Code>"
	    "<SignerInfo><FullName>Lê C</FullName><Competence>TM.</Competence><Position>Chủ tịch</Position></SignerInfo>"
	    "<PromulgationInfo><PromulgationDate>5/3/2024</PromulgationDate><Place>X</Place></PromulgationInfo>"
	    "<From xmlns=\"" EDXML_NS "\"><OrganId>000.00.01.H56</OrganId></From>"
	    "<DueDate>2024-04-01</DueDate>"
	    "<To><OrganId>000.00.15.H56</OrganId></To>"
	    "<OtherInfo><Priority>01</Priority></OtherInfo>"
	    "<Unknown><Anything/></Unknown>"
	    "<ResponseFor><Code><CodeNumber>7</CodeNumber><CodeNotation>BC</CodeNotation></Code>"
	    "<PromulgationDate>31/12/2023</PromulgationDate></ResponseFor>"
	    "<x:Subject xmlns:x=\"urn:other\">not ours</x:Subject>"
	    "</MessageHeader>"
	    "<TraceHeaderList><TraceHeader><OrganId>000.00.01.H56</OrganId>"
	    "<Timestamp>05/03/2024 8:01:02</Timestamp></TraceHeader></TraceHeaderList>"
	    "</e:edXMLHeader></edXMLEnvelope></e:edXML>";
	const char *status =
	    "<edXML:edXML xmlns:edXML=\"" EDXML_NS "\"><edXML:edXMLEnvelope><edXML:edXMLHeader>"
	    "<edXML:MessageHeader><Timestamp>05/03/2024 17:45:00</Timestamp><StatusCode>1</StatusCode>"
	    "<ResponseFor><DocumentId>D-42</DocumentId></ResponseFor>"
	    "<From><OrganId>000.00.14.H56</OrganId></From>"
	    "</edXML:MessageHeader></edXML:edXMLHeader></edXML:edXMLEnvelope></edXML:edXML>";
	struct edxml_msg m;

	(void)state;
	accepted(doc, strlen(doc), &m);
	assert_int_equal(m.kind, EDXML_DOCUMENT);
	assert_string_equal(m.doc.document_id, "D-42");
	assert_string_equal(m.doc.from.id, "000.00.01.H56");
	assert_int_equal(m.doc.nto, 2);
	assert_string_equal(m.doc.to[0].in_charge, "Phòng A");
	assert_string_equal(m.doc.to[1].id, "000.00.15.H56");
	assert_null(m.doc.code_number);
	assert_string_equal(m.doc.code_notation, "QĐ-UBND");
	assert_string_equal(m.doc.date, "2024-03-05");
	assert_string_equal(m.doc.due_date, "2024-04-01");
	assert_string_equal(m.doc.subject, "Trích yếu");
	assert_string_equal(m.doc.position, "Chủ tịch");
	assert_int_equal(m.doc.priority, 1);
	assert_string_equal(m.doc.response_for[0].code, "7/BC");
	assert_string_equal(m.doc.response_for[0].date, "2023-12-31");
	assert_string_equal(m.doc.traces[0].timestamp, "2024-03-05 08:01:02");
	edxml_msg_free(&m);

	accepted(status, strlen(status), &m);
	assert_int_equal(m.kind, EDXML_STATUS);
	assert_int_equal(m.st.code, 1);
	assert_null(m.st.description);
	assert_string_equal(m.st.timestamp, "2024-03-05 17:45:00");
	assert_string_equal(edxml_status_name(m.st.code), "đã đến");
	edxml_msg_free(&m);
}

/* Text is trimmed but otherwise kept as sent: NFD stays NFD (the caller normalises). */
static void test_text_as_sent(void **state)
{
	/* "Việt" with U+0323 U+0302 combining marks, white space around */
	char *s = mutate(MIN_DOC, "<Subject>S</Subject>",
	    "<Subject>\n  Vie\xcc\xa3\xcc\x82t &#13;x\t </Subject>");
	struct edxml_msg m;

	(void)state;
	accepted(s, strlen(s), &m);
	assert_string_equal(m.doc.subject, "Vie\xcc\xa3\xcc\x82t \rx");
	edxml_msg_free(&m);
	free(s);
}

static void test_status_codes(void **state)
{
	struct edxml_msg m;
	char *s;

	(void)state;
	/* unknown codes are read (the daemon shows them as unknown) */
	s = mutate(MIN_STATUS, "<StatusCode>01</StatusCode>", "<StatusCode>07</StatusCode>");
	accepted(s, strlen(s), &m);
	assert_int_equal(m.st.code, 7);
	assert_null(edxml_status_name(7));
	edxml_msg_free(&m);
	free(s);
	s = mutate(MIN_STATUS, "<StatusCode>01</StatusCode>", "<StatusCode>99</StatusCode>");
	accepted(s, strlen(s), &m);
	edxml_msg_free(&m);
	free(s);
	s = mutate(MIN_STATUS, "<StatusCode>01</StatusCode>", "<StatusCode>100</StatusCode>");
	refused(s, strlen(s), EDXML_BAD_VALUE, "StatusCode");
	free(s);
	s = mutate(MIN_STATUS, "<StatusCode>01</StatusCode>", "<StatusCode>một</StatusCode>");
	refused(s, strlen(s), EDXML_BAD_VALUE, "StatusCode");
	free(s);
	s = mutate(MIN_STATUS, "<StatusCode>01</StatusCode>", "<StatusCode>-1</StatusCode>");
	refused(s, strlen(s), EDXML_BAD_VALUE, "StatusCode");
	free(s);
	assert_string_equal(edxml_status_name(2), "từ chối tiếp nhận");
	assert_string_equal(edxml_status_name(3), "đã tiếp nhận");
	assert_string_equal(edxml_status_name(4), "phân công");
	assert_string_equal(edxml_status_name(5), "đang xử lý");
	assert_string_equal(edxml_status_name(6), "hoàn thành");
	assert_string_equal(edxml_status_name(13), "lấy lại");
	assert_string_equal(edxml_status_name(15), "đồng ý lấy lại");
	assert_string_equal(edxml_status_name(16), "từ chối lấy lại");
	for (int c = 7; c <= 12; c++)
		assert_null(edxml_status_name(c));
	assert_null(edxml_status_name(14));
	assert_null(edxml_status_name(0));
	assert_null(edxml_status_name(17));
}

/* --------------------------------------------------------------- refusals */

static void test_missing_required(void **state)
{
	static const struct {
		const char *base, *needle, *repl, *element;
		enum edxml_fault fault;
	} cases[] = {
		{ MIN_DOC, "<From><OrganId>000.00.01.H56</OrganId><OrganName>UBND</OrganName></From>", "", "From", EDXML_MISSING },
		{ MIN_DOC, "<OrganId>000.00.01.H56</OrganId>", "", "OrganId", EDXML_MISSING },
		{ MIN_DOC, "<OrganId>000.00.01.H56</OrganId>", "<OrganId>  </OrganId>", "OrganId", EDXML_MISSING },
		{ MIN_DOC, "<To><OrganId>000.00.14.H56</OrganId></To>", "", "To", EDXML_MISSING },
		{ MIN_DOC, "<To><OrganId>000.00.14.H56</OrganId></To>", "<To><OrganName>x</OrganName></To>", "OrganId", EDXML_MISSING },
		{ MIN_DOC, "<Code><CodeNumber>12</CodeNumber><CodeNotation>TB-UBND</CodeNotation></Code>", "", "Code", EDXML_MISSING },
		{ MIN_DOC, "<CodeNumber>12</CodeNumber><CodeNotation>TB-UBND</CodeNotation>", "", "CodeNumber", EDXML_MISSING },
		{ MIN_DOC, "<PromulgationDate>2024/03/05</PromulgationDate>", "", "PromulgationDate", EDXML_MISSING },
		{ MIN_DOC, "<Subject>S</Subject>", "", "Subject", EDXML_MISSING },
		{ MIN_DOC, "<Subject>S</Subject>", "<Subject/>", "Subject", EDXML_MISSING },
		{ MIN_DOC, "<DocumentId>000.00.01.H56,2024/03/05,12/TB-UBND</DocumentId>", "", "DocumentId", EDXML_MISSING },
		{ MIN_STATUS, "<From><OrganId>000.00.14.H56</OrganId></From>", "", "From", EDXML_MISSING },
		{ MIN_STATUS, "<From><OrganId>000.00.14.H56</OrganId></From>", "<From/>", "OrganId", EDXML_MISSING },
		{ MIN_STATUS, "<ResponseFor><OrganId>000.00.01.H56</OrganId><DocumentId>D1</DocumentId></ResponseFor>", "", "ResponseFor", EDXML_MISSING },
		{ MIN_STATUS, "<DocumentId>D1</DocumentId>", "", "DocumentId", EDXML_MISSING },
		{ MIN_STATUS, "<StatusCode>01</StatusCode>", "<StatusCode></StatusCode>", "StatusCode", EDXML_MISSING },
		{ MIN_STATUS, "<Timestamp>2024/03/05 09:00:00</Timestamp>", "", "Timestamp", EDXML_MISSING },
		/* values that are not what they claim */
		{ MIN_DOC, "<PromulgationDate>2024/03/05</PromulgationDate>", "<PromulgationDate>2024/02/30</PromulgationDate>", "PromulgationDate", EDXML_BAD_VALUE },
		{ MIN_DOC, "<PromulgationDate>2024/03/05</PromulgationDate>", "<PromulgationDate>05.03.2024</PromulgationDate>", "PromulgationDate", EDXML_BAD_VALUE },
		{ MIN_DOC, "<Priority>0</Priority>", "<Priority>5</Priority>", "Priority", EDXML_BAD_VALUE },
		{ MIN_DOC, "<Priority>0</Priority>", "<Priority>1.5</Priority>", "Priority", EDXML_BAD_VALUE },
		{ MIN_DOC, "<Type>1</Type>", "<Type>99999999999999999999</Type>", "Type", EDXML_BAD_VALUE },
		{ MIN_DOC, "<OrganId>000.00.01.H56</OrganId>", "<OrganId>../../etc</OrganId>", "OrganId", EDXML_BAD_VALUE },
		{ MIN_DOC, "<OrganId>000.00.01.H56</OrganId>", "<OrganId>000 00</OrganId>", "OrganId", EDXML_BAD_VALUE },
		{ MIN_STATUS, "<Timestamp>2024/03/05 09:00:00</Timestamp>", "<Timestamp>2024/03/05 24:00:00</Timestamp>", "Timestamp", EDXML_BAD_VALUE },
		{ MIN_STATUS, "<Timestamp>2024/03/05 09:00:00</Timestamp>", "<Timestamp>2024/03/05</Timestamp>", "Timestamp", EDXML_BAD_VALUE },
		/* not an edXML package */
		{ MIN_DOC, "<edXML>", "<edXML2>", NULL, EDXML_MALFORMED },
		{ MIN_DOC, "<edXML>\n <edXMLEnvelope>", "<edXML xmlns=\"urn:other\">\n <edXMLEnvelope>", "edXML", EDXML_MALFORMED },
		{ MIN_DOC, "<MessageHeader>", "<Header>", "MessageHeader", EDXML_MALFORMED },
		{ MIN_DOC, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", "", EDXML_MALFORMED },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = mutate(cases[i].base, cases[i].needle, cases[i].repl);
		if (strcmp(cases[i].needle, "<edXML>") == 0 || strcmp(cases[i].needle, "<MessageHeader>") == 0) {
			/* the closing tag too */
			char close[64], repl[64], *t;
			snprintf(close, sizeof(close), "</%s", cases[i].needle + 1);
			snprintf(repl, sizeof(repl), "</%s", cases[i].repl + 1);
			t = mutate(s, close, repl);
			free(s);
			s = t;
		}
		print_message("case %zu: %s -> %s\n", i, cases[i].needle, cases[i].repl);
		refused(s, strlen(s), cases[i].fault, cases[i].element);
		free(s);
	}
	/* bytes that are not UTF-8, UTF-16, a declared Latin-1: refused; a UTF-8 BOM is fine */
	s = mutate(MIN_DOC, "<Subject>S</Subject>", "<Subject>\xC3\x28</Subject>");
	refused(s, strlen(s), EDXML_MALFORMED, "");
	free(s);
	refused("\xFF\xFE<\0e\0d\0X\0M\0L\0/\0>\0", 18, EDXML_MALFORMED, "");
	s = mutate(MIN_DOC, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
	{
		char *t = mutate(s, "<Subject>S</Subject>", "<Subject>\xE9</Subject>");
		refused(t, strlen(t), EDXML_MALFORMED, "");
		free(t);
	}
	free(s);
	s = mutate(MIN_DOC, "<?xml", "\xEF\xBB\xBF<?xml");
	{
		struct edxml_msg m;
		accepted(s, strlen(s), &m);
		edxml_msg_free(&m);
	}
	free(s);
	refused("", 0, EDXML_MALFORMED, "");
	refused("not xml at all", 14, EDXML_MALFORMED, "");
	refused(MIN_DOC, (size_t)EDXML_MAX_PACKAGE + 1, EDXML_TOO_BIG, ""); /* refused before reading */
}

/* Each character limit: accepted at exactly the limit, refused at one more, by reader and writer. */
static void test_limits(void **state)
{
	static const struct {
		const char *needle, *open, *close, *element;
		int limit;
		int is_bytes;
	} cases[] = {
		{ "<CodeNumber>12</CodeNumber>", "<CodeNumber>", "</CodeNumber>", "CodeNumber", 11, 0 },
		{ "<CodeNotation>TB-UBND</CodeNotation>", "<CodeNotation>", "</CodeNotation>", "CodeNotation", 30, 0 },
		{ "<Subject>S</Subject>", "<Subject>", "</Subject>", "Subject", 500, 0 },
		{ "<Position>P</Position>", "<Position>", "</Position>", "Position", 100, 0 },
		{ "<FullName>F</FullName>", "<FullName>", "</FullName>", "FullName", 50, 0 },
		{ "<OrganName>UBND</OrganName>", "<OrganName>", "</OrganName>", "OrganName", 200, 0 },
		{ "<Place>Q</Place>", "<Place>", "</Place>", "ToPlaces", 1000, 0 },
		{ "<OrganId>000.00.14.H56</OrganId></To>", "<OrganId>", "</OrganId></To>", "OrganId", 35, 1 },
	};
	char buf[16384], *text, *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int extra = 0; extra <= 1; extra++) {
			struct edxml_msg m;
			text = repeat(cases[i].is_bytes ? "A" : "ệ", (size_t)(cases[i].limit + extra));
			snprintf(buf, sizeof(buf), "%s%s%s", cases[i].open, text, cases[i].close);
			s = mutate(MIN_DOC, cases[i].needle, buf);
			print_message("%s with %d\n", cases[i].element, cases[i].limit + extra);
			if (extra == 0) {
				accepted(s, strlen(s), &m);
				edxml_msg_free(&m);
			} else {
				struct edxml_error e;
				char err[256];
				assert_int_equal(edxml_parse(s, strlen(s), &m, &e, err, sizeof(err)), -1);
				assert_int_equal(e.fault, EDXML_TOO_LONG);
				assert_string_equal(e.element, cases[i].element);
				assert_int_equal(e.limit, cases[i].limit);
			}
			free(s);
			free(text);
		}
	}
	/* ToPlaces counts all its places together */
	{
		char *a = repeat("ư", 500), *b = repeat("ư", 501);
		struct edxml_msg m;
		snprintf(buf, sizeof(buf), "<Place>%s</Place><Place>%s</Place>", a, a);
		s = mutate(MIN_DOC, "<Place>Q</Place>", buf);
		accepted(s, strlen(s), &m);
		assert_int_equal(m.doc.nto_places, 2);
		edxml_msg_free(&m);
		free(s);
		snprintf(buf, sizeof(buf), "<Place>%s</Place><Place>%s</Place>", a, b);
		s = mutate(MIN_DOC, "<Place>Q</Place>", buf);
		refused(s, strlen(s), EDXML_TOO_LONG, "ToPlaces");
		free(s);
		free(a);
		free(b);
	}
}

static void test_builder_limits_and_required(void **state)
{
	struct edxml_doc d;
	struct edxml_organ to[2];
	char *places[2], *out = NULL, err[256];
	struct edxml_ref ref;
	struct edxml_trace tr[2];
	struct edxml_attachment att[2];
	size_t len;
	struct {
		char **field;
		int limit;
	} lims[] = {
		{ &d.code_number, 11 }, { &d.code_notation, 30 }, { &d.subject, 500 },
		{ &d.position, 100 }, { &d.full_name, 50 }, { &d.from.name, 200 },
	};
	char **required[] = { &d.from.id, &d.from.name, &d.code_number, &d.code_notation, &d.date,
		&d.type_name, &d.subject, &d.document_id };

	(void)state;
	full_doc(&d, to, places, &ref, tr, att);
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		char *keep = *lims[i].field, *t;
		for (int extra = 0; extra <= 1; extra++) {
			t = repeat("ộ", (size_t)(lims[i].limit + extra));
			*lims[i].field = t;
			err[0] = '\0';
			assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), extra ? -1 : 0);
			if (extra) {
				assert_null(out);
				assert_true(err[0] != '\0');
			}
			free(out);
			out = NULL;
			free(t);
		}
		*lims[i].field = keep;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char *keep = *required[i];
		*required[i] = NULL;
		assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "missing"));
		*required[i] = S("");
		assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
		*required[i] = keep;
	}
	/* organ id: 35 bytes usable, 36 not */
	{
		char *a35 = repeat("A", 35), *a36 = repeat("A", 36);
		to[1].id = a35;
		assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), 0);
		free(out);
		to[1].id = a36;
		assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
		to[1].id = S("000.00.15.H56");
		free(a35);
		free(a36);
	}
	/* no recipients; a recall without its reason; numbers out of range; a bad date */
	d.nto = 0;
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	d.nto = 2;
	d.business = EDXML_RECALL;
	d.business_reason = NULL;
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	d.business_reason = S("Ban hành nhầm");
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), 0);
	free(out);
	d.priority = 5;
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	d.priority = 0;
	d.date = S("2024-13-01");
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	d.date = S("2024-03-05");
	/* a control character XML cannot carry, and bytes that are not UTF-8 */
	d.content = S("a\x01z");
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	d.content = S("a\xC3\x28");
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	d.content = NULL;
	/* an unsafe attachment name, a wrong hash, twice the same content id */
	att[0].name = S("../x.pdf");
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	att[0].name = S("x.pdf");
	att[0].sha256[0] = att[0].sha256[0] == '0' ? '1' : '0';
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sha256"));
	hex_of(PDF1, sizeof(PDF1), att[0].sha256);
	att[1].content_id = att[0].content_id;
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), -1);
	att[1].content_id = NULL;
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), 0);
	free(out);
}

static void test_builder_status_refusals(void **state)
{
	struct edxml_status s = {
		.from = { .id = S("000.00.14.H56") },
		.response_for = { .organ_id = S("000.00.01.H56"), .document_id = S("D1") },
		.code = 3, .description = S(""), .timestamp = S("2024-03-05 09:00:00"),
	};
	char *out = NULL, err[256];
	size_t len;
	static const int never[] = { 0, 7, 8, 9, 10, 11, 12, 14, 17, 99 };

	(void)state;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), 0);
	free(out);
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		s.code = never[i];
		assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
		assert_null(out);
	}
	s.code = 2; /* a refusal needs its reason */
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
	s.code = 16;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
	s.description = S("Văn bản đã được xử lý");
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), 0);
	free(out);
	s.description = NULL;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
	s.description = S("x");
	s.timestamp = S("2024-03-05");
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
	s.timestamp = S("2024-03-05 09:00:00");
	s.response_for.organ_id = NULL;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
	s.response_for.organ_id = S("000.00.01.H56");
	s.from.id = NULL;
	assert_int_equal(edxml_build_status(&s, &out, &len, err, sizeof(err)), -1);
}

/* --------------------------------------------------------------- attachments */

static void test_bad_base64(void **state)
{
	char *out = NULL, *s;
	size_t len;
	const char *p;
	char at[64];

	(void)state;
	build_full(&out, &len);
	p = strstr(out, "<ContentTransferEncoded>\n");
	assert_non_null(p);
	/* a character outside the alphabet */
	s = mutate(out, "<ContentTransferEncoded>\n", "<ContentTransferEncoded>\n!");
	refused(s, strlen(s), EDXML_BAD_ATTACHMENT, "ContentTransferEncoded");
	free(s);
	/* a length that is not a multiple of 4 */
	s = mutate(out, "<ContentTransferEncoded>\n", "<ContentTransferEncoded>\nQ");
	refused(s, strlen(s), EDXML_BAD_ATTACHMENT, "ContentTransferEncoded");
	free(s);
	/* padding in the middle */
	s = mutate(out, "<ContentTransferEncoded>\n", "<ContentTransferEncoded>\nQQ==");
	refused(s, strlen(s), EDXML_BAD_ATTACHMENT, "ContentTransferEncoded");
	free(s);
	/* no content at all */
	snprintf(at, sizeof(at), "%.*s", 30, p);
	s = mutate(out, "<ContentTransferEncoded>", "<NotEncoded>");
	refused(s, strlen(s), EDXML_MALFORMED, NULL); /* mismatched tag */
	free(s);
	free(out);
}

static void test_tampered_attachment(void **state)
{
	char *out = NULL;
	size_t len;
	char *p;

	(void)state;
	build_full(&out, &len);
	p = strstr(out, "<ContentTransferEncoded>\n");
	assert_non_null(p);
	p += strlen("<ContentTransferEncoded>\n");
	*p = *p == 'A' ? 'B' : 'A'; /* still base64, other bytes */
	refused(out, len, EDXML_BAD_ATTACHMENT, "Description");
	free(out);
}

static void test_unsafe_names(void **state)
{
	static const char *names[] = { "../x.pdf", "a/b.pdf", "..", ".", "a\\b.pdf", "x&#9;y.pdf",
		"", "   " };
	char *out = NULL, *s, buf[512];
	size_t len;
	struct edxml_msg m;

	(void)state;
	build_full(&out, &len);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(buf, sizeof(buf), "<AttachmentName>%s</AttachmentName></Attachment>", names[i]);
		s = mutate(out, "<AttachmentName>12-TB-UBND.pdf</AttachmentName>\n    </Attachment>", buf);
		print_message("name \"%s\"\n", names[i]);
		refused(s, strlen(s), EDXML_BAD_ATTACHMENT, "AttachmentName");
		free(s);
	}
	/* 255 bytes is a name, 256 is not */
	{
		char *n255 = repeat("a", 255), *n256 = repeat("a", 256);
		snprintf(buf, sizeof(buf), "<AttachmentName>%s</AttachmentName>\n    </Attachment>", n255);
		s = mutate(out, "<AttachmentName>12-TB-UBND.pdf</AttachmentName>\n    </Attachment>", buf);
		accepted(s, strlen(s), &m);
		assert_int_equal(strlen(m.doc.att[0].name), 255);
		edxml_msg_free(&m);
		free(s);
		snprintf(buf, sizeof(buf), "<AttachmentName>%s</AttachmentName>\n    </Attachment>", n256);
		s = mutate(out, "<AttachmentName>12-TB-UBND.pdf</AttachmentName>\n    </Attachment>", buf);
		refused(s, strlen(s), EDXML_BAD_ATTACHMENT, "AttachmentName");
		free(s);
		free(n255);
		free(n256);
	}
	/* an attachment with no Reference in the manifest */
	s = mutate(out, "xlink:href=\"cid:3f2b8c1e", "xlink:href=\"cid:00000000");
	{
		char *t = mutate(s, "<edXML:ContentId>3f2b8c1e", "<edXML:ContentId>00000000");
		refused(t, strlen(t), EDXML_BAD_ATTACHMENT, "Reference");
		free(t);
	}
	free(s);
	free(out);
}

/* More than 10 MB of base64 in one text node (libxml2's default cap) still reads. */
static void test_large_attachment(void **state)
{
	struct edxml_doc d;
	struct edxml_organ to[2];
	char *places[2], *out = NULL, err[256];
	struct edxml_ref ref;
	struct edxml_trace tr[2];
	struct edxml_attachment att[2];
	struct edxml_msg m;
	size_t len, big = 9u * 1024 * 1024;
	unsigned char *data = malloc(big);

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	full_doc(&d, to, places, &ref, tr, att);
	att[0].data = data;
	att[0].len = big;
	hex_of(data, big, att[0].sha256);
	assert_int_equal(edxml_build_doc(&d, &out, &len, err, sizeof(err)), 0);
	assert_true(len > 12u * 1024 * 1024);
	accepted(out, len, &m);
	assert_int_equal(m.doc.att[0].len, big);
	assert_memory_equal(m.doc.att[0].data, data, big);
	edxml_msg_free(&m);
	free(out);
	free(data);
}

/* --------------------------------------------------------------- hostile XML */

static void test_billion_laughs(void **state)
{
	const char *bomb =
	    "<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE edXML [\n"
	    " <!ENTITY a \"lollollollollollollollollollol\">\n"
	    " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	    " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	    " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	    " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	    " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
	    " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
	    " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
	    " <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
	    "]>\n";
	char *s = malloc(strlen(bomb) + sizeof(MIN_DOC) + 16), *t;

	(void)state;
	assert_non_null(s);
	strcpy(s, bomb);
	strcat(s, strstr(MIN_DOC, "<edXML>"));
	t = mutate(s, "<Subject>S</Subject>", "<Subject>&i;</Subject>");
	refused(t, strlen(t), EDXML_MALFORMED, "");
	free(t);
	free(s);
}

static void test_external_entity(void **state)
{
	char dir[] = "/tmp/vanthu-edxml-XXXXXX", secret[128], buf[4096], *s, *t;
	static const char *doctypes[][2] = {
		{ "<!DOCTYPE edXML [<!ENTITY x SYSTEM \"file://", "\">]>\n" },
		{ "<!DOCTYPE edXML SYSTEM \"", "\">\n" },
		{ "<!DOCTYPE edXML [<!ENTITY % p SYSTEM \"", "\"> %p;]>\n" },
	};
	static const char *targets[2] = { NULL, "/etc/passwd" };
	struct edxml_msg m;
	struct edxml_error e;
	char err[512];
	int fd, wd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	write_file(secret, "TOP-SECRET\n", 11);
	targets[0] = secret;
	/* any open or read of the secret shows here */
	fd = inotify_init1(IN_NONBLOCK);
	assert_true(fd >= 0);
	wd = inotify_add_watch(fd, secret, IN_OPEN | IN_ACCESS);
	assert_true(wd >= 0);
	for (size_t i = 0; i < 3; i++) {
		for (size_t k = 0; k < 2; k++) {
			snprintf(buf, sizeof(buf), "%s%s%s", doctypes[i][0], targets[k], doctypes[i][1]);
			s = malloc(strlen(buf) + sizeof(MIN_DOC));
			assert_non_null(s);
			strcpy(s, buf);
			strcat(s, strstr(MIN_DOC, "<edXML>"));
			t = mutate(s, "<Subject>S</Subject>", "<Subject>&x;</Subject>");
			assert_int_equal(edxml_parse(t, strlen(t), &m, &e, err, sizeof(err)), -1);
			assert_int_equal(e.fault, EDXML_MALFORMED);
			assert_null(strstr(err, "root:"));
			assert_null(strstr(err, "TOP-SECRET"));
			assert_null(m.doc.subject);
			free(t);
			free(s);
		}
	}
	/* the check can fail: reading the file does show */
	{
		FILE *f = fopen(secret, "r");
		char ev[4096];
		assert_non_null(f);
		assert_non_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		assert_true(read(fd, ev, sizeof(ev)) > 0);
	}
	close(fd);
	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	assert_int_equal(system(buf), 0);
}

static void test_deep_nesting(void **state)
{
	size_t depth = 100000;
	char *deep = malloc(depth * 7 + 64), *s, *p;

	(void)state;
	assert_non_null(deep);
	p = deep;
	p += sprintf(p, "<Content>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < depth; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</Content>");
	s = mutate(MIN_DOC, "<Subject>S</Subject>", deep);
	refused(s, strlen(s), EDXML_TOO_BIG, "");
	free(s);
	/* 40 levels is already too deep */
	p = deep;
	for (size_t i = 0; i < 40; i++)
		p += sprintf(p, "<a>");
	for (size_t i = 0; i < 40; i++)
		p += sprintf(p, "</a>");
	s = mutate(MIN_DOC, "<Subject>S</Subject>", deep);
	refused(s, strlen(s), EDXML_TOO_BIG, "");
	free(s);
	free(deep);
}

static char *many_to(size_t n)
{
	const char *one = "<To><OrganId>000.00.14.H56</OrganId></To>";
	char *list = malloc(n * strlen(one) + 1), *s;

	assert_non_null(list);
	list[0] = '\0';
	for (size_t i = 0; i < n; i++)
		memcpy(list + i * strlen(one), one, strlen(one) + 1);
	s = mutate(MIN_DOC, one, list);
	free(list);
	return s;
}

static void test_many_to(void **state)
{
	struct edxml_msg m;
	char *s;

	(void)state;
	s = many_to(EDXML_MAX_TO);
	accepted(s, strlen(s), &m);
	assert_int_equal(m.doc.nto, EDXML_MAX_TO);
	edxml_msg_free(&m);
	free(s);
	s = many_to(EDXML_MAX_TO + 1);
	refused(s, strlen(s), EDXML_TOO_BIG, "To");
	free(s);
	s = many_to(100000); /* stopped while parsing, by the element count */
	refused(s, strlen(s), EDXML_TOO_BIG, "");
	free(s);
}

static void test_truncated(void **state)
{
	char *out = NULL;
	size_t len, step;
	struct edxml_msg m;
	struct edxml_error e;
	char err[256];

	(void)state;
	build_full(&out, &len);
	step = len / 500 + 1;
	for (size_t cut = 0; cut < len - 2; cut += step) {
		/* the closing "</edXML>\n" is needed; any shorter prefix is refused */
		assert_int_equal(edxml_parse(out, cut, &m, &e, err, sizeof(err)), -1);
		assert_int_not_equal(e.fault, EDXML_OK);
	}
	for (size_t cut = len - 9; cut < len - 1; cut++)
		assert_int_equal(edxml_parse(out, cut, &m, &e, err, sizeof(err)), -1);
	free(out);
}

/* A refused package still names its sender and DocumentId, when they can be found. */
static void test_peek(void **state)
{
	char from[64], docid[256], *out = NULL, *s;
	size_t len;

	(void)state;
	build_full(&out, &len);
	/* cut in the middle of the attachments: refused, but peek finds both */
	assert_int_equal(edxml_parse(out, len * 3 / 4, &(struct edxml_msg){ 0 }, &(struct edxml_error){ 0 },
	    NULL, 0), -1);
	edxml_peek(out, len * 3 / 4, from, sizeof(from), docid, sizeof(docid));
	assert_string_equal(from, "000.00.01.H56");
	assert_string_equal(docid, "000.00.01.H56,2024/03/05,12/TB-UBND");
	/* a field the parser refuses does not hide them */
	s = mutate(out, "<edXML:Priority>3</edXML:Priority>", "<edXML:Priority>x</edXML:Priority>");
	edxml_peek(s, strlen(s), from, sizeof(from), docid, sizeof(docid));
	assert_string_equal(from, "000.00.01.H56");
	free(s);
	/* too small a buffer, an unusable id, garbage, a DTD: "" */
	edxml_peek(out, len, from, 5, docid, 10);
	assert_string_equal(from, "");
	assert_string_equal(docid, "");
	s = mutate(MIN_DOC, "<OrganId>000.00.01.H56</OrganId>", "<OrganId>../x</OrganId>");
	edxml_peek(s, strlen(s), from, sizeof(from), docid, sizeof(docid));
	assert_string_equal(from, "");
	assert_string_equal(docid, "000.00.01.H56,2024/03/05,12/TB-UBND");
	free(s);
	edxml_peek("garbage", 7, from, sizeof(from), docid, sizeof(docid));
	assert_string_equal(from, "");
	assert_string_equal(docid, "");
	s = malloc(sizeof(MIN_DOC) + 64);
	assert_non_null(s);
	strcpy(s, "<!DOCTYPE edXML [<!ENTITY x \"000.00.01.H56\">]>");
	strcat(s, strstr(MIN_DOC, "<edXML>"));
	edxml_peek(s, strlen(s), from, sizeof(from), docid, sizeof(docid));
	assert_string_equal(from, "");
	free(s);
	free(out);
}

/* --------------------------------------------------------------- identifiers */

static void test_identifiers(void **state)
{
	char buf[128];

	(void)state;
	assert_int_equal(edxml_check_organ_id("000.00.01.H56"), 1);
	assert_int_equal(edxml_check_organ_id("000.00.14.G22"), 1);
	assert_int_equal(edxml_check_organ_id("000.00.01.h56"), 0);
	assert_int_equal(edxml_check_organ_id("H56.01"), 0);
	assert_int_equal(edxml_check_organ_id("000-00_01"), 0);
	assert_int_equal(edxml_check_organ_id(""), -1);
	assert_int_equal(edxml_check_organ_id(NULL), -1);
	assert_int_equal(edxml_check_organ_id("000..01"), -1);
	assert_int_equal(edxml_check_organ_id(".000"), -1);
	assert_int_equal(edxml_check_organ_id("000."), -1);
	assert_int_equal(edxml_check_organ_id("000/00"), -1);
	assert_int_equal(edxml_check_organ_id("000 00"), -1);
	assert_int_equal(edxml_check_organ_id("Sở"), -1);
	assert_int_equal(edxml_check_organ_id("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0);
	assert_int_equal(edxml_check_organ_id("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), -1);

	assert_int_equal(edxml_document_id("000.00.14.H56", "2020-06-02", "808/VNPTTEST", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "000.00.14.H56,2020/06/02,808/VNPTTEST");
	assert_int_equal(edxml_document_id("000.00.14.H56", "2020-06-02", "808/VNPTTEST", buf, 38), 0);
	assert_int_equal(edxml_document_id("000.00.14.H56", "2020-06-02", "808/VNPTTEST", buf, 37), -1);
	assert_int_equal(edxml_document_id("000.00.14.H56", "2020-02-30", "1/X", buf, sizeof(buf)), -1);
	assert_int_equal(edxml_document_id(NULL, "2020-06-02", "1/X", buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_document),
		cmocka_unit_test(test_roundtrip_status),
		cmocka_unit_test(test_independent_reader),
		cmocka_unit_test(test_minimal_accepted),
		cmocka_unit_test(test_tolerant_variants),
		cmocka_unit_test(test_text_as_sent),
		cmocka_unit_test(test_status_codes),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_builder_limits_and_required),
		cmocka_unit_test(test_builder_status_refusals),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_tampered_attachment),
		cmocka_unit_test(test_unsafe_names),
		cmocka_unit_test(test_large_attachment),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_external_entity),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_many_to),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_peek),
		cmocka_unit_test(test_identifiers),
	};

	return cmocka_run_group_tests_name("edxml", tests, NULL, NULL);
}
