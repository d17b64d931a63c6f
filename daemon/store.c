/*
 * store.c: the durable store. With the other store_*.c files, the only
 * place that includes sqlite3.h: this one owns opening, the schema and its
 * migrations, the audit trail, backups, documents, the register and
 * rounds; store_intake.c owns what intake records. WAL with
 * synchronous=FULL, so a call that returned STORE_OK is on disk.
 */
#include "store_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"

/* "VNTH": marks a file as a vanthu database (PRAGMA application_id). */
#define VANTHU_APPLICATION_ID 0x564e5448


/*
 * Forward migrations: migrations[i] takes the schema from version i to i+1.
 * Never edit a shipped entry; append a new one.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: the audit trail. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL DEFAULT '',"
	"  detail TEXT NOT NULL DEFAULT '',"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE"
	");"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	"  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
	/* 1 -> 2: unit reports, their figures, and the outcome of every input. */
	"CREATE TABLE reports ("
	"  id INTEGER PRIMARY KEY,"
	"  unit_code TEXT NOT NULL, unit_name TEXT NOT NULL,"
	"  round_id TEXT NOT NULL, req_number TEXT NOT NULL, req_symbol TEXT NOT NULL,"
	"  req_date TEXT NOT NULL,"
	"  number TEXT NOT NULL, symbol TEXT NOT NULL, place TEXT NOT NULL,"
	"  report_date TEXT NOT NULL, summary TEXT NOT NULL,"
	"  period_from TEXT NOT NULL, period_to TEXT NOT NULL,"
	"  signer_authority TEXT, signer_title TEXT NOT NULL, signer_name TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  sha256 TEXT NOT NULL, size INTEGER NOT NULL, original BLOB NOT NULL,"
	"  received_at TEXT NOT NULL,"
	"  supersedes INTEGER REFERENCES reports(id),"
	"  superseded_by INTEGER REFERENCES reports(id),"
	"  UNIQUE (unit_code, sha256)"
	");"
	"CREATE INDEX reports_unit_round ON reports(unit_code, round_id);"
	"CREATE INDEX reports_round ON reports(round_id);"
	"CREATE INDEX reports_received ON reports(received_at);"
	"CREATE TABLE indicators ("
	"  report_id INTEGER NOT NULL REFERENCES reports(id),"
	"  position INTEGER NOT NULL,"
	"  code TEXT NOT NULL, name TEXT NOT NULL, measure TEXT NOT NULL,"
	"  value TEXT NOT NULL, target TEXT,"
	"  PRIMARY KEY (report_id, position)"
	") WITHOUT ROWID;"
	"CREATE INDEX indicators_code ON indicators(code);"
	"CREATE TABLE intake ("
	"  id INTEGER PRIMARY KEY,"
	"  claimed_name TEXT NOT NULL UNIQUE,"
	"  source_name TEXT NOT NULL, source_folder TEXT NOT NULL,"
	"  received_at TEXT NOT NULL, owner_uid INTEGER NOT NULL,"
	"  unit_code TEXT, round_id TEXT, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL"
	"    CHECK (outcome IN ('accepted', 'duplicate', 'superseding', 'rejected')),"
	"  report_id INTEGER REFERENCES reports(id),"
	"  supersedes INTEGER REFERENCES reports(id),"
	"  errors TEXT NOT NULL DEFAULT '[]'"
	");"
	"CREATE INDEX intake_outcome ON intake(outcome, id);"
	"CREATE INDEX intake_report ON intake(report_id);",
	/* 2 -> 3: outgoing documents, their revisions, and the register (sổ đăng ký văn bản đi). */
	"CREATE TABLE documents ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL, state TEXT NOT NULL, state_since TEXT NOT NULL,"
	"  summary TEXT NOT NULL, signer_login TEXT, signer_name TEXT NOT NULL,"
	"  recipients TEXT NOT NULL, archive TEXT NOT NULL, round_id TEXT, drafting_unit TEXT,"
	"  drafter_uid INTEGER NOT NULL, drafter TEXT NOT NULL,"
	"  editor_uid INTEGER NOT NULL, editor TEXT NOT NULL,"
	"  revision INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,"
	"  body TEXT, year INTEGER, number INTEGER, symbol TEXT, issued_on TEXT,"
	"  out_path TEXT, out_sha256 TEXT"
	");"
	"CREATE INDEX documents_state ON documents(state, id);"
	"CREATE INDEX documents_kind ON documents(kind, id);"
	"CREATE INDEX documents_drafter ON documents(drafter_uid, id);"
	"CREATE TABLE revisions ("
	"  document_id INTEGER NOT NULL REFERENCES documents(id),"
	"  revision INTEGER NOT NULL, author_uid INTEGER NOT NULL, author TEXT NOT NULL,"
	"  at TEXT NOT NULL, sha256 TEXT NOT NULL, content BLOB NOT NULL,"
	"  PRIMARY KEY (document_id, revision)"
	") WITHOUT ROWID;"
	"CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions"
	"  BEGIN SELECT RAISE(ABORT, 'revisions are kept as they were'); END;"
	"CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions"
	"  BEGIN SELECT RAISE(ABORT, 'revisions are kept as they were'); END;"
	"CREATE TABLE register ("
	"  body TEXT NOT NULL, year INTEGER NOT NULL, number INTEGER NOT NULL,"
	"  document_id INTEGER NOT NULL REFERENCES documents(id),"
	"  symbol TEXT NOT NULL, issued_on TEXT NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL,"
	"  signer_name TEXT NOT NULL, recipients TEXT NOT NULL, archive TEXT NOT NULL,"
	"  issued_by TEXT NOT NULL, issued_at TEXT NOT NULL,"
	"  voided_at TEXT, voided_by TEXT, void_reason TEXT,"
	"  PRIMARY KEY (body, year, number)"
	");"
	"ALTER TABLE intake ADD COLUMN document_id INTEGER REFERENCES documents(id);"
	"CREATE TRIGGER register_no_delete BEFORE DELETE ON register"
	"  BEGIN SELECT RAISE(ABORT, 'a register entry is never deleted'); END;"
	"CREATE TRIGGER register_void_only BEFORE UPDATE ON register"
	"  WHEN OLD.voided_at IS NOT NULL OR NEW.number IS NOT OLD.number OR NEW.year IS NOT OLD.year"
	"    OR NEW.body IS NOT OLD.body OR NEW.document_id IS NOT OLD.document_id"
	"    OR NEW.symbol IS NOT OLD.symbol OR NEW.issued_on IS NOT OLD.issued_on"
	"    OR NEW.kind IS NOT OLD.kind OR NEW.summary IS NOT OLD.summary"
	"    OR NEW.signer_name IS NOT OLD.signer_name OR NEW.recipients IS NOT OLD.recipients"
	"    OR NEW.archive IS NOT OLD.archive OR NEW.issued_by IS NOT OLD.issued_by"
	"    OR NEW.issued_at IS NOT OLD.issued_at"
	"  BEGIN SELECT RAISE(ABORT, 'a register entry can only be voided, once'); END;",
	/* 3 -> 4: reporting rounds and the units each one waits for. */
	"CREATE TABLE rounds ("
	"  id TEXT PRIMARY KEY, subject TEXT NOT NULL,"
	"  req_number TEXT NOT NULL, req_symbol TEXT NOT NULL, req_date TEXT NOT NULL,"
	"  req_issuer TEXT NOT NULL, deadline TEXT NOT NULL, remind_on TEXT, close_on TEXT NOT NULL,"
	"  conclusion_kind TEXT NOT NULL, input BLOB NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('open', 'closed')),"
	"  created_by TEXT NOT NULL, created_at TEXT NOT NULL,"
	"  reminded_at TEXT, reminder_doc INTEGER REFERENCES documents(id),"
	"  closed_at TEXT, close_reason TEXT, conclusion_doc INTEGER REFERENCES documents(id)"
	");"
	"CREATE TABLE round_units ("
	"  round_id TEXT NOT NULL REFERENCES rounds(id), unit_code TEXT NOT NULL,"
	"  PRIMARY KEY (round_id, unit_code)"
	") WITHOUT ROWID;",
	/* 4 -> 5: a document's history without reading the whole trail (make bench, queries). */
	"CREATE INDEX audit_object ON audit(object, id);",
	/*
	 * 5 -> 6: issuing bodies and Party registers. A register entry belongs to
	 * a series: a state body's runs per year ("2026"), a Party committee's per
	 * type within its term ("2025-2030/KH"). The table is rebuilt for its new
	 * key; its triggers are dropped for the copy and made again, covering the
	 * new columns. Each document remembers the body it is issued by.
	 */
	"DROP TRIGGER register_no_delete;"
	"DROP TRIGGER register_void_only;"
	"CREATE TABLE register_v6 ("
	"  body TEXT NOT NULL, series TEXT NOT NULL, number INTEGER NOT NULL,"
	"  year INTEGER NOT NULL, term TEXT, type TEXT,"
	"  document_id INTEGER NOT NULL REFERENCES documents(id),"
	"  symbol TEXT NOT NULL, issued_on TEXT NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL,"
	"  signer_name TEXT NOT NULL, recipients TEXT NOT NULL, archive TEXT NOT NULL,"
	"  issued_by TEXT NOT NULL, issued_at TEXT NOT NULL,"
	"  voided_at TEXT, voided_by TEXT, void_reason TEXT,"
	"  PRIMARY KEY (body, series, number)"
	");"
	"INSERT INTO register_v6 SELECT body, CAST(year AS TEXT), number, year, NULL, NULL,"
	"  document_id, symbol, issued_on, kind, summary, signer_name, recipients, archive,"
	"  issued_by, issued_at, voided_at, voided_by, void_reason FROM register;"
	"DROP TABLE register;"
	"ALTER TABLE register_v6 RENAME TO register;"
	"CREATE INDEX register_term ON register(body, term, type, number);"
	"CREATE TRIGGER register_no_delete BEFORE DELETE ON register"
	"  BEGIN SELECT RAISE(ABORT, 'a register entry is never deleted'); END;"
	"CREATE TRIGGER register_void_only BEFORE UPDATE ON register"
	"  WHEN OLD.voided_at IS NOT NULL OR NEW.number IS NOT OLD.number OR NEW.year IS NOT OLD.year"
	"    OR NEW.body IS NOT OLD.body OR NEW.series IS NOT OLD.series"
	"    OR NEW.term IS NOT OLD.term OR NEW.type IS NOT OLD.type"
	"    OR NEW.document_id IS NOT OLD.document_id"
	"    OR NEW.symbol IS NOT OLD.symbol OR NEW.issued_on IS NOT OLD.issued_on"
	"    OR NEW.kind IS NOT OLD.kind OR NEW.summary IS NOT OLD.summary"
	"    OR NEW.signer_name IS NOT OLD.signer_name OR NEW.recipients IS NOT OLD.recipients"
	"    OR NEW.archive IS NOT OLD.archive OR NEW.issued_by IS NOT OLD.issued_by"
	"    OR NEW.issued_at IS NOT OLD.issued_at"
	"  BEGIN SELECT RAISE(ABORT, 'a register entry can only be voided, once'); END;"
	"ALTER TABLE documents ADD COLUMN issuer TEXT;"
	"ALTER TABLE documents ADD COLUMN series TEXT;",
	/*
	 * 6 -> 7: a file's name is whatever bytes its sender used. Intake records
	 * a claim (the folder, the raw name, what the scan saw) before it moves a
	 * file into claimed/ under the claim's number, so the name survives every
	 * crash however long or odd it is; an input keeps its raw name, and
	 * source_name holds the shown form (valid UTF-8, names.c).
	 */
	"CREATE TABLE claims ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  folder TEXT NOT NULL, name BLOB NOT NULL, claimed_at TEXT NOT NULL,"
	"  dev INTEGER NOT NULL, ino INTEGER NOT NULL, size INTEGER NOT NULL,"
	"  mtime_ns INTEGER NOT NULL, settle INTEGER NOT NULL DEFAULT 0"
	");"
	"ALTER TABLE intake ADD COLUMN source_raw BLOB;",
	/*
	 * 7 -> 8: where a draft came from, so the same source never makes two
	 * drafts (a meeting's conclusions sent twice); and where a register
	 * series starts when an office continues its paper register in vanthu.
	 */
	"ALTER TABLE documents ADD COLUMN origin TEXT;"
	"CREATE INDEX documents_origin ON documents(origin) WHERE origin IS NOT NULL;"
	"CREATE TABLE register_start ("
	"  body TEXT NOT NULL, series TEXT NOT NULL, next INTEGER NOT NULL CHECK (next >= 1),"
	"  set_by TEXT NOT NULL, set_at TEXT NOT NULL, reason TEXT NOT NULL,"
	"  PRIMARY KEY (body, series)"
	") WITHOUT ROWID;"
	"CREATE TRIGGER register_start_fixed BEFORE UPDATE ON register_start"
	"  BEGIN SELECT RAISE(ABORT, 'a series start is set once'); END;"
	"CREATE TRIGGER register_start_no_delete BEFORE DELETE ON register_start"
	"  BEGIN SELECT RAISE(ABORT, 'a series start is never deleted'); END;",
	/*
	 * 8 -> 9: a report received after its round closed is kept but marked
	 * (closed_at of the round it came after); a closed round keeps the
	 * counts its conclusion was drafted from.
	 */
	("ALTER TABLE reports ADD COLUMN after_close TEXT;"
	 "ALTER TABLE rounds ADD COLUMN closed_counts TEXT;"),
	/* 9 -> 10: a percentage names its base indicator, so that a round's average weighs it. */
	"ALTER TABLE indicators ADD COLUMN base TEXT;",
	/*
	 * 10 -> 11: electronic originals. A document signed digitally keeps the
	 * PDF the leader signed (signed_pdf_*) and, once issued, the PDF with the
	 * number, the date and the organisation's signature (pdf_*); every
	 * signature is a row of its own. A leader's signing in two steps keeps what
	 * the first prepared in sign_pending until the second comes.
	 */
	("ALTER TABLE documents ADD COLUMN signed_pdf_path TEXT;"
	"ALTER TABLE documents ADD COLUMN signed_pdf_sha256 TEXT;"
	"ALTER TABLE documents ADD COLUMN signed_revision INTEGER;"
	"ALTER TABLE documents ADD COLUMN pdf_path TEXT;"
	"ALTER TABLE documents ADD COLUMN pdf_sha256 TEXT;"
	"CREATE TABLE signatures ("
	"  id INTEGER PRIMARY KEY,"
	"  document_id INTEGER NOT NULL REFERENCES documents(id),"
	"  role TEXT NOT NULL CHECK (role IN ('leader', 'organisation')),"
	"  login TEXT NOT NULL, fingerprint TEXT NOT NULL, subject TEXT NOT NULL,"
	"  signed_at TEXT NOT NULL, pdf_sha256 TEXT NOT NULL"
	");"
	"CREATE INDEX signatures_document ON signatures(document_id, id);"
	"CREATE TABLE sign_pending ("
	"  document_id INTEGER PRIMARY KEY REFERENCES documents(id),"
	"  login TEXT NOT NULL, revision INTEGER NOT NULL, certificate BLOB NOT NULL,"
	"  content_sha256 TEXT NOT NULL, prepared_path TEXT NOT NULL,"
	"  prepared_sha256 TEXT NOT NULL, byte_range TEXT NOT NULL, signed_at TEXT NOT NULL,"
	"  created_at TEXT NOT NULL"
	");"
	/* electronic copies (bản sao điện tử) of an issued original, numbered per body and year */
	"CREATE TABLE copies ("
	"  body TEXT NOT NULL, year INTEGER NOT NULL, number INTEGER NOT NULL,"
	"  document_id INTEGER NOT NULL REFERENCES documents(id),"
	"  form TEXT NOT NULL, symbol TEXT NOT NULL, made_at TEXT NOT NULL, made_by TEXT NOT NULL,"
	"  pdf_path TEXT NOT NULL, pdf_sha256 TEXT NOT NULL,"
	"  PRIMARY KEY (body, year, number)"
	");"
	"CREATE INDEX copies_document ON copies(document_id, number);"),
	/*
	 * 11 -> 12: exchange between offices (liên thông, store_exchange.c). The
	 * outbox holds every package and status until its transport took it; the
	 * sender keeps each document's plan (once, even with no recipient), its
	 * deliveries and the statuses they brought back. The incoming register (sổ văn bản đến) numbers arrivals from 1 each
	 * year without gaps (UNIQUE (year, number), given under the write lock);
	 * an entry is never deleted and what was registered never changes, only its
	 * handling (state, reply, done_at, note, the recall's answer). The phiếu
	 * giải quyết is a tree of assignments whose due date changes only through
	 * an extension (kept, with its reason); progress, extensions and received
	 * statuses are append-only. Refused packages are kept apart, never numbered.
	 */
	("CREATE TABLE incoming ("
	"  id INTEGER PRIMARY KEY,"
	"  year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 9999),"
	"  number INTEGER NOT NULL CHECK (number >= 1),"
	"  arrived_at TEXT NOT NULL,"
	"  via TEXT NOT NULL CHECK (via IN ('nats', 'folder', 'paper')),"
	"  recipient TEXT, sender_id TEXT, sender_name TEXT NOT NULL, doc_key TEXT,"
	"  code TEXT NOT NULL, issued_on TEXT NOT NULL, type_name TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 4),"
	"  due_date TEXT, signer TEXT, to_places TEXT, pages INTEGER NOT NULL DEFAULT 0,"
	"  business INTEGER NOT NULL DEFAULT 0, response_for TEXT,"
	"  package_path TEXT, pdf_path TEXT, pdf_sha256 TEXT, verify TEXT,"
	"  registered_uid INTEGER NOT NULL, registered_by TEXT NOT NULL, registered_at TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'registered'"
	"    CHECK (state IN ('registered', 'assigned', 'progress', 'done', 'recalled')),"
	"  reply_document INTEGER REFERENCES documents(id),"
	"  done_at TEXT, note TEXT,"
	"  recall_at TEXT, recall_answer INTEGER CHECK (recall_answer IN (15, 16)),"
	"  UNIQUE (year, number),"
	"  UNIQUE (sender_id, doc_key)"
	");"
	"CREATE INDEX incoming_state ON incoming(state, id);"
	"CREATE INDEX incoming_reply ON incoming(reply_document) WHERE reply_document IS NOT NULL;"
	"CREATE TRIGGER incoming_no_delete BEFORE DELETE ON incoming"
	"  BEGIN SELECT RAISE(ABORT, 'an incoming register entry is never deleted'); END;"
	"CREATE TRIGGER incoming_fixed BEFORE UPDATE ON incoming"
	"  WHEN NEW.id IS NOT OLD.id OR NEW.year IS NOT OLD.year OR NEW.number IS NOT OLD.number"
	"    OR NEW.arrived_at IS NOT OLD.arrived_at OR NEW.via IS NOT OLD.via"
	"    OR NEW.recipient IS NOT OLD.recipient OR NEW.sender_id IS NOT OLD.sender_id"
	"    OR NEW.sender_name IS NOT OLD.sender_name OR NEW.doc_key IS NOT OLD.doc_key"
	"    OR NEW.code IS NOT OLD.code OR NEW.issued_on IS NOT OLD.issued_on"
	"    OR NEW.type_name IS NOT OLD.type_name OR NEW.subject IS NOT OLD.subject"
	"    OR NEW.priority IS NOT OLD.priority OR NEW.due_date IS NOT OLD.due_date"
	"    OR NEW.signer IS NOT OLD.signer OR NEW.to_places IS NOT OLD.to_places"
	"    OR NEW.pages IS NOT OLD.pages OR NEW.business IS NOT OLD.business"
	"    OR NEW.response_for IS NOT OLD.response_for OR NEW.package_path IS NOT OLD.package_path"
	"    OR NEW.pdf_path IS NOT OLD.pdf_path OR NEW.pdf_sha256 IS NOT OLD.pdf_sha256"
	"    OR NEW.verify IS NOT OLD.verify OR NEW.registered_uid IS NOT OLD.registered_uid"
	"    OR NEW.registered_by IS NOT OLD.registered_by"
	"    OR NEW.registered_at IS NOT OLD.registered_at"
	"  BEGIN SELECT RAISE(ABORT, 'an incoming register entry is kept as registered'); END;"
	"ALTER TABLE documents ADD COLUMN reply_to INTEGER REFERENCES incoming(id);"
	"CREATE INDEX documents_reply_to ON documents(reply_to) WHERE reply_to IS NOT NULL;"
	/* a unit's report XML sent with the document that answers a round (its second attachment) */
	"CREATE TABLE doc_reports ("
	"  document_id INTEGER PRIMARY KEY REFERENCES documents(id),"
	"  name TEXT NOT NULL, sha256 TEXT NOT NULL, content BLOB NOT NULL, set_at TEXT NOT NULL"
	");"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  msg_id TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL CHECK (kind IN ('package', 'status')),"
	"  recipient TEXT NOT NULL,"
	"  document_id INTEGER REFERENCES documents(id),"
	"  incoming_id INTEGER REFERENCES incoming(id),"
	"  code INTEGER NOT NULL DEFAULT 0 CHECK (code BETWEEN 0 AND 99),"
	"  path TEXT, payload TEXT,"
	"  created_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at TEXT NOT NULL, sent_at TEXT, last_error TEXT,"
	"  CHECK (path IS NOT NULL OR payload IS NOT NULL)"
	");"
	"CREATE INDEX outbox_due ON outbox(next_at, id) WHERE sent_at IS NULL;"
	"CREATE TABLE delivery_plans ("
	"  document_id INTEGER PRIMARY KEY REFERENCES documents(id),"
	"  doc_key TEXT NOT NULL UNIQUE, package_path TEXT, planned_at TEXT NOT NULL"
	");"
	"CREATE TRIGGER delivery_plans_fixed BEFORE UPDATE ON delivery_plans"
	"  BEGIN SELECT RAISE(ABORT, 'a delivery plan is made once'); END;"
	"CREATE TRIGGER delivery_plans_no_delete BEFORE DELETE ON delivery_plans"
	"  BEGIN SELECT RAISE(ABORT, 'a delivery plan is made once'); END;"
	/* when the exchange first ran here: documents issued before it are never sent */
	"CREATE TABLE exchange_start ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL"
	");"
	"CREATE TRIGGER exchange_start_fixed BEFORE UPDATE ON exchange_start"
	"  BEGIN SELECT RAISE(ABORT, 'the exchange start is set once'); END;"
	"CREATE TRIGGER exchange_start_no_delete BEFORE DELETE ON exchange_start"
	"  BEGIN SELECT RAISE(ABORT, 'the exchange start is set once'); END;"
	"CREATE TABLE deliveries ("
	"  document_id INTEGER NOT NULL REFERENCES delivery_plans(document_id),"
	"  position INTEGER NOT NULL,"
	"  recipient_id TEXT,"
	"  name TEXT NOT NULL,"
	"  via TEXT NOT NULL CHECK (via IN ('exchange', 'paper')),"
	"  doc_key TEXT NOT NULL,"
	"  planned_at TEXT NOT NULL, sent_at TEXT,"
	"  status INTEGER, status_text TEXT, status_at TEXT, arrived_at TEXT,"
	"  recall_at TEXT, recall_reason TEXT, recall_answer INTEGER, recall_text TEXT,"
	"  CHECK ((via = 'paper') = (recipient_id IS NULL)),"
	"  PRIMARY KEY (document_id, position),"
	"  UNIQUE (document_id, recipient_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX deliveries_key ON deliveries(doc_key, recipient_id);"
	"CREATE TABLE delivery_status ("
	"  id INTEGER PRIMARY KEY,"
	"  document_id INTEGER NOT NULL REFERENCES documents(id),"
	"  recipient_id TEXT NOT NULL,"
	"  code INTEGER NOT NULL CHECK (code BETWEEN 1 AND 99),"
	"  description TEXT NOT NULL, at TEXT NOT NULL, received_at TEXT NOT NULL,"
	"  staff TEXT, via TEXT NOT NULL,"
	"  UNIQUE (document_id, recipient_id, code)"
	");"
	"CREATE TRIGGER delivery_status_no_update BEFORE UPDATE ON delivery_status"
	"  BEGIN SELECT RAISE(ABORT, 'a received status is kept as it came'); END;"
	"CREATE TRIGGER delivery_status_no_delete BEFORE DELETE ON delivery_status"
	"  BEGIN SELECT RAISE(ABORT, 'a received status is kept as it came'); END;"
	"CREATE TABLE assignments ("
	"  id INTEGER PRIMARY KEY,"
	"  incoming_id INTEGER NOT NULL REFERENCES incoming(id),"
	"  parent INTEGER REFERENCES assignments(id),"
	"  who TEXT NOT NULL, name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('lead', 'support', 'info')),"
	"  due TEXT, opinion TEXT NOT NULL,"
	"  by_uid INTEGER NOT NULL, by_login TEXT NOT NULL, at TEXT NOT NULL"
	");"
	"CREATE INDEX assignments_incoming ON assignments(incoming_id, id);"
	"CREATE INDEX assignments_who ON assignments(who, incoming_id);"
	"CREATE TRIGGER assignments_no_delete BEFORE DELETE ON assignments"
	"  BEGIN SELECT RAISE(ABORT, 'an assignment is never deleted'); END;"
	"CREATE TRIGGER assignments_due_only BEFORE UPDATE ON assignments"
	"  WHEN NEW.id IS NOT OLD.id OR NEW.incoming_id IS NOT OLD.incoming_id"
	"    OR NEW.parent IS NOT OLD.parent OR NEW.who IS NOT OLD.who OR NEW.name IS NOT OLD.name"
	"    OR NEW.role IS NOT OLD.role OR NEW.opinion IS NOT OLD.opinion"
	"    OR NEW.by_uid IS NOT OLD.by_uid OR NEW.by_login IS NOT OLD.by_login"
	"    OR NEW.at IS NOT OLD.at"
	"  BEGIN SELECT RAISE(ABORT, 'only an extension changes an assignment'); END;"
	"CREATE TABLE extensions ("
	"  id INTEGER PRIMARY KEY,"
	"  assignment_id INTEGER NOT NULL REFERENCES assignments(id),"
	"  old_due TEXT, new_due TEXT NOT NULL, reason TEXT NOT NULL,"
	"  by_uid INTEGER NOT NULL, by_login TEXT NOT NULL, at TEXT NOT NULL"
	");"
	"CREATE INDEX extensions_assignment ON extensions(assignment_id, id);"
	"CREATE TABLE progress ("
	"  id INTEGER PRIMARY KEY,"
	"  incoming_id INTEGER NOT NULL REFERENCES incoming(id),"
	"  at TEXT NOT NULL, uid INTEGER NOT NULL, login TEXT NOT NULL, text TEXT NOT NULL"
	");"
	"CREATE INDEX progress_incoming ON progress(incoming_id, id);"
	"CREATE TRIGGER progress_no_change BEFORE UPDATE ON progress"
	"  BEGIN SELECT RAISE(ABORT, 'a progress report is kept as it was'); END;"
	"CREATE TRIGGER progress_no_delete BEFORE DELETE ON progress"
	"  BEGIN SELECT RAISE(ABORT, 'a progress report is kept as it was'); END;"
	"CREATE TRIGGER extensions_no_change BEFORE UPDATE ON extensions"
	"  BEGIN SELECT RAISE(ABORT, 'an extension is kept as it was'); END;"
	"CREATE TRIGGER extensions_no_delete BEFORE DELETE ON extensions"
	"  BEGIN SELECT RAISE(ABORT, 'an extension is kept as it was'); END;"
	"CREATE TABLE refused ("
	"  id INTEGER PRIMARY KEY,"
	"  received_at TEXT NOT NULL, via TEXT NOT NULL,"
	"  sender_id TEXT, doc_key TEXT, reason TEXT NOT NULL, package_path TEXT,"
	"  UNIQUE (sender_id, doc_key, reason)"
	");"),
};

void store_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * SQLite's message for the last error on db, with the system call that
 * failed and its errno when the error came from the disk: "disk I/O error
 * (fsync failed: Input/output error)", so that the log says what broke.
 */
static const char *db_errmsg(sqlite3 *db, const char *msg, char *buf, size_t len)
{
	int xrc = sqlite3_extended_errcode(db), sys = sqlite3_system_errno(db);
	const char *op = NULL;

	switch (xrc) {
	case SQLITE_FULL: op = "write"; sys = sys ? sys : ENOSPC; break;
	case SQLITE_IOERR_WRITE: op = "write"; break;
	case SQLITE_IOERR_FSYNC: op = "fsync"; break;
	case SQLITE_IOERR_DIR_FSYNC: op = "fsync of the database's folder"; break;
	case SQLITE_IOERR_TRUNCATE: op = "truncate"; break;
	case SQLITE_IOERR_READ: case SQLITE_IOERR_SHORT_READ: op = "read"; break;
	case SQLITE_IOERR_FSTAT: op = "fstat"; break;
	case SQLITE_IOERR_DELETE: op = "unlink"; break;
	case SQLITE_IOERR_SHMOPEN: case SQLITE_IOERR_SHMSIZE: case SQLITE_IOERR_SHMMAP:
		op = "the WAL index (-shm)"; break;
	case SQLITE_CANTOPEN: op = "open"; break;
	default: break;
	}
	if (msg == NULL)
		msg = sqlite3_errmsg(db);
	if (op == NULL && (xrc & 0xff) == SQLITE_IOERR)
		op = "I/O";
	if (op == NULL)
		return msg;
	if (sys != 0)
		snprintf(buf, len, "%s (%s failed: %s)", msg, op, strerror(sys));
	else
		snprintf(buf, len, "%s (%s failed)", msg, op);
	return buf;
}

/* err = "what: " and SQLite's message for db's last error, naming the failed call and errno. */
void store_db_err(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	char buf[512];

	store_set_err(err, errlen, "%s: %s", what, db_errmsg(db, NULL, buf, sizeof(buf)));
}

/*
 * SQLite's own log names the system call, the file and the errno of a disk
 * error. It is detail (debug): the error itself reaches the log once through
 * the caller, and a retry every scan must not repeat it. errno is kept:
 * SQLite may read it after this (sqlite3_system_errno()).
 */
static void sqlite_log(void *arg, int code, const char *msg)
{
	int sys = 0, saved = errno;
	size_t n = strlen(msg);

	(void)arg;
	switch (code & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CORRUPT:
		/* "os_unix.c:3761: (5) full_fsync(/var/lib/vanthu/vanthu.db-wal) - ": add the text */
		if (sscanf(msg, "os_unix.c:%*d: (%d)", &sys) == 1 && sys > 0 && n > 2 &&
		    strcmp(msg + n - 2, "- ") == 0)
			log_debug("database: SQLite reports %s%s (code %d)", msg, strerror(sys), code);
		else
			log_debug("database: SQLite reports %.300s (code %d)", msg, code);
		break;
	default:
		break;
	}
	errno = saved;
}

int store_log_sqlite_errors(void)
{
	return sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL) == SQLITE_OK ? STORE_OK : STORE_ERR;
}

int store_exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL, buf[512];

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_set_err(err, errlen, "%s", db_errmsg(db, msg, buf, sizeof(buf)));
		sqlite3_free(msg);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* One integer from a one-row query; -1 on error. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* A file that exists and is not empty must start with SQLite's magic. */
static int check_header(const char *path, char *err, size_t errlen)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return STORE_OK;
		store_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return STORE_ERR;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		store_set_err(err, errlen, "%s is not a regular file; refusing to use it", path);
		return STORE_FOREIGN;
	}
	n = st.st_size == 0 ? 0 : read(fd, head, sizeof(head));
	close(fd);
	if (st.st_size == 0)
		return STORE_OK;
	if (n != (ssize_t)sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0) {
		store_set_err(err, errlen, "%s is not an SQLite database; refusing to touch it", path);
		return STORE_FOREIGN;
	}
	return STORE_OK;
}

static int quick_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = STORE_CORRUPT;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &stmt, NULL) != SQLITE_OK) {
		store_set_err(err, errlen, "%s: quick_check: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(stmt, 0);
		if (res != NULL && strcmp(res, "ok") == 0)
			rc = STORE_OK;
		else
			store_set_err(err, errlen, "%s failed quick_check (%s); refusing to use it",
			    path, res ? res : "?");
	} else {
		store_set_err(err, errlen, "%s: quick_check: %s", path, sqlite3_errmsg(db));
	}
out:
	sqlite3_finalize(stmt);
	return rc;
}

static int migrate(sqlite3 *db, int from, char *err, size_t errlen)
{
	char sql[128];

	for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
		if (store_exec_sql(db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
			return STORE_ERR;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; PRAGMA application_id = %d;",
		    v + 1, VANTHU_APPLICATION_ID);
		if (store_exec_sql(db, migrations[v], err, errlen) != STORE_OK ||
		    store_exec_sql(db, sql, err, errlen) != STORE_OK) {
			char ignored[8];
			store_exec_sql(db, "ROLLBACK", ignored, sizeof(ignored));
			return STORE_ERR;
		}
		if (store_exec_sql(db, "COMMIT", err, errlen) != STORE_OK)
			return STORE_ERR;
	}
	return STORE_OK;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	sqlite3 *db = NULL;
	int64_t app_id, version, tables;
	int rc;
	sqlite3_stmt *stmt = NULL;

	*out = NULL;
	rc = check_header(path, err, errlen);
	if (rc != STORE_OK)
		return rc;
	rc = STORE_ERR;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	        SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		store_set_err(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* Read-only questions first: nothing is written to a file that is not ours. */
	app_id = query_int(db, "PRAGMA application_id");
	version = query_int(db, "PRAGMA user_version");
	tables = query_int(db, "SELECT count(*) FROM sqlite_master");
	if (app_id < 0 || version < 0 || tables < 0) {
		store_set_err(err, errlen, "%s cannot be read as a database: %s; refusing to touch it",
		    path, sqlite3_errmsg(db));
		rc = STORE_FOREIGN;
		goto fail;
	}
	if (app_id != VANTHU_APPLICATION_ID && (version != 0 || tables != 0)) {
		store_set_err(err, errlen, "%s is an SQLite database of another program "
		    "(application_id %" PRId64 "); refusing to touch it", path, app_id);
		rc = STORE_FOREIGN;
		goto fail;
	}
	if (version > STORE_SCHEMA_VERSION) {
		store_set_err(err, errlen, "%s has schema version %" PRId64 ", newer than this vanthud "
		    "(%d); upgrade vanthud", path, version, STORE_SCHEMA_VERSION);
		rc = STORE_NEWER;
		goto fail;
	}
	rc = quick_check(db, path, err, errlen);
	if (rc != STORE_OK)
		goto fail;
	rc = STORE_ERR;
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") != 0) {
		store_set_err(err, errlen, "%s: cannot switch to WAL: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (store_exec_sql(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", err, errlen) != STORE_OK)
		goto fail;
	if (migrate(db, (int)version, err, errlen) != STORE_OK)
		goto fail;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		store_set_err(err, errlen, "out of memory");
		goto fail;
	}
	st->db = db;
	*out = st;
	return STORE_OK;
fail:
	sqlite3_finalize(stmt);
	if (st != NULL)
		free(st->path);
	free(st);
	sqlite3_close(db);
	return rc;
}

int store_probe(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int64_t app_id, version, tables;
	int rc;

	rc = check_header(path, err, errlen);
	if (rc != STORE_OK || access(path, F_OK) != 0)
		return rc;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		store_set_err(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return STORE_ERR;
	}
	app_id = query_int(db, "PRAGMA application_id");
	version = query_int(db, "PRAGMA user_version");
	tables = query_int(db, "SELECT count(*) FROM sqlite_master");
	if (app_id < 0 || version < 0 || tables < 0) {
		store_set_err(err, errlen, "%s cannot be read as a database: %s", path, sqlite3_errmsg(db));
		rc = STORE_FOREIGN;
	} else if (app_id != VANTHU_APPLICATION_ID && (version != 0 || tables != 0)) {
		store_set_err(err, errlen, "%s is an SQLite database of another program", path);
		rc = STORE_FOREIGN;
	} else if (version > STORE_SCHEMA_VERSION) {
		store_set_err(err, errlen, "%s has schema version %" PRId64 ", newer than this vanthud (%d)",
		    path, version, STORE_SCHEMA_VERSION);
		rc = STORE_NEWER;
	} else {
		rc = quick_check(db, path, err, errlen);
	}
	sqlite3_close(db);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

int store_stats(struct store *st, struct store_stats *out, char *err, size_t errlen)
{
	char wal[PATH_MAX];

	memset(out, 0, sizeof(*out));
	out->schema_version = (int)query_int(st->db, "PRAGMA user_version");
	/*
	 * Nothing is ever deleted from these tables (triggers guard the trail) and
	 * their INTEGER PRIMARY KEYs are not AUTOINCREMENT, so a rolled-back insert
	 * leaves no gap: the largest id is the count, read from the end of the
	 * b-tree instead of counting millions of rows. Rejected inputs are counted
	 * on their index (intake_outcome), which only holds the rejected range.
	 */
	out->audit_entries = query_int(st->db, "SELECT coalesce(max(id), 0) FROM audit");
	out->reports = query_int(st->db, "SELECT coalesce(max(id), 0) FROM reports");
	out->rejected = query_int(st->db, "SELECT count(*) FROM intake WHERE outcome = 'rejected'");
	out->documents = query_int(st->db, "SELECT coalesce(max(id), 0) FROM documents");
	out->inputs = query_int(st->db, "SELECT coalesce(max(id), 0) FROM intake");
	if (out->schema_version < 0 || out->audit_entries < 0 || out->reports < 0 ||
	    out->rejected < 0 || out->documents < 0 || out->inputs < 0) {
		store_db_err(st->db, "stats", err, errlen);
		return STORE_ERR;
	}
	snprintf(wal, sizeof(wal), "%s-wal", st->path);
	out->file_bytes = file_size(st->path) + file_size(wal);
	return STORE_OK;
}

/* The chain hash: SHA-256 over the previous hash and every field, each length-prefixed. */
static int chain_hash(const struct store_audit_entry *e, char hex[HASH_HEX_LEN + 1])
{
	char num[32];
	const char *fields[8];
	struct hash_ctx *ctx = hash_new();

	if (ctx == NULL)
		return -1;
	snprintf(num, sizeof(num), "%" PRId64 "|%" PRId64, e->id, e->uid);
	fields[0] = e->prev_hash;
	fields[1] = num;
	fields[2] = e->at;
	fields[3] = e->actor;
	fields[4] = e->action;
	fields[5] = e->object;
	fields[6] = e->detail;
	fields[7] = NULL;
	for (int i = 0; fields[i] != NULL; i++) {
		char len[24];
		int n = snprintf(len, sizeof(len), "%zu:", strlen(fields[i]));
		if (hash_update(ctx, len, (size_t)n) != 0 ||
		    hash_update(ctx, fields[i], strlen(fields[i])) != 0) {
			hash_free(ctx);
			return -1;
		}
	}
	return hash_final_hex(ctx, hex);
}

static const char zero_hash[HASH_HEX_LEN + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Appends one chained entry inside the caller's transaction. 0, or -1 with err set. */
static int audit_insert(sqlite3 *db, int64_t uid, const char *actor, const char *action,
    const char *object, const char *detail, char *err, size_t errlen)
{
	sqlite3_stmt *last = NULL, *ins = NULL;
	char prev[HASH_HEX_LEN + 1], hash[HASH_HEX_LEN + 1], at[40];
	struct store_audit_entry e;
	int rc = -1, step;

	if (sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
	        -1, &last, NULL) != SQLITE_OK)
		goto fail;
	memset(&e, 0, sizeof(e));
	e.id = 1;
	memcpy(prev, zero_hash, sizeof(prev));
	step = sqlite3_step(last);
	if (step == SQLITE_ROW) {
		e.id = sqlite3_column_int64(last, 0) + 1;
		snprintf(prev, sizeof(prev), "%s", (const char *)sqlite3_column_text(last, 1));
	} else if (step != SQLITE_DONE) {
		goto fail;
	}
	clock_iso_utc(at, sizeof(at));
	e.at = at;
	e.uid = uid;
	e.actor = actor;
	e.action = action;
	e.object = object ? object : "";
	e.detail = detail ? detail : "";
	e.prev_hash = prev;
	if (chain_hash(&e, hash) != 0) {
		store_set_err(err, errlen, "audit: cannot compute the hash");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO audit (id, at, uid, actor, action, object, "
	        "detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)", -1, &ins, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(ins, 1, e.id);
	sqlite3_bind_text(ins, 2, e.at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, e.uid);
	sqlite3_bind_text(ins, 4, e.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 5, e.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 6, e.object, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 7, e.detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 8, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 9, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(ins) != SQLITE_DONE)
		goto fail;
	rc = 0;
	goto out;
fail:
	store_db_err(db, "audit", err, errlen);
out:
	sqlite3_finalize(last);
	sqlite3_finalize(ins);
	return rc;
}

/* audit_insert with a JSON detail, which it takes (and frees); a NULL detail fails. */
int store_audit_json(sqlite3 *db, int64_t uid, const char *actor, const char *action,
    const char *object, json_t *detail, char *err, size_t errlen)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	int rc = -1;

	json_decref(detail);
	if (text == NULL)
		store_set_err(err, errlen, "audit: out of memory");
	else
		rc = audit_insert(db, uid, actor, action, object, text, err, errlen);
	free(text);
	return rc;
}

int store_audit_append(struct store *st, int64_t uid, const char *actor, const char *action,
    const char *object, const char *detail, char *err, size_t errlen)
{
	char ignored[8];

	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (audit_insert(st->db, uid, actor, action, object, detail, err, errlen) != 0) {
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		return STORE_ERR;
	}
	return store_exec_sql(st->db, "COMMIT", err, errlen);
}

static void row_to_entry(sqlite3_stmt *s, struct store_audit_entry *e)
{
	e->id = sqlite3_column_int64(s, 0);
	e->at = (const char *)sqlite3_column_text(s, 1);
	e->uid = sqlite3_column_int64(s, 2);
	e->actor = (const char *)sqlite3_column_text(s, 3);
	e->action = (const char *)sqlite3_column_text(s, 4);
	e->object = (const char *)sqlite3_column_text(s, 5);
	e->detail = (const char *)sqlite3_column_text(s, 6);
	e->prev_hash = (const char *)sqlite3_column_text(s, 7);
	e->hash = (const char *)sqlite3_column_text(s, 8);
}

#define AUDIT_COLUMNS "id, at, uid, actor, action, object, detail, prev_hash, hash"

int store_audit_list(struct store *st, int64_t before, int limit, store_audit_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	struct store_audit_entry e;
	int step, rc = STORE_OK;

	if (sqlite3_prepare_v2(st->db, "SELECT " AUDIT_COLUMNS " FROM audit WHERE id < ? "
	        "ORDER BY id DESC LIMIT ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "audit list", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(s, 2, limit);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		row_to_entry(s, &e);
		if (cb(&e, arg) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_db_err(st->db, "audit list", err, errlen);
		rc = STORE_ERR;
	}
	sqlite3_finalize(s);
	return rc;
}

int store_audit_verify(struct store *st, int64_t *bad_id, int64_t *checked, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	struct store_audit_entry e;
	char expect_prev[HASH_HEX_LEN + 1], hex[HASH_HEX_LEN + 1];
	int step, rc = STORE_OK;
	int64_t expect_id = 1;

	*bad_id = 0;
	*checked = 0;
	memcpy(expect_prev, zero_hash, sizeof(expect_prev));
	if (sqlite3_prepare_v2(st->db, "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY id",
	        -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "verify", err, errlen);
		return STORE_ERR;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		row_to_entry(s, &e);
		(*checked)++;
		if (e.id != expect_id || strcmp(e.prev_hash, expect_prev) != 0 ||
		    chain_hash(&e, hex) != 0 || strcmp(hex, e.hash) != 0) {
			*bad_id = e.id;
			break;
		}
		memcpy(expect_prev, hex, sizeof(expect_prev));
		expect_id++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_db_err(st->db, "verify", err, errlen);
		rc = STORE_ERR;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Is dest the database itself or one of its companion files? */
static int names_database(const char *dbpath, const char *dest)
{
	char a[PATH_MAX], b[PATH_MAX];
	const char *suffixes[] = { "", "-wal", "-shm", "-journal" };

	if (realpath(dbpath, a) == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char cand[PATH_MAX + 16];
		snprintf(cand, sizeof(cand), "%s%s", a, suffixes[i]);
		if (realpath(dest, b) != NULL && strcmp(cand, b) == 0)
			return 1;
	}
	return 0;
}

/*
 * May a backup take the name dest?  Only a name that does not exist yet, or
 * one that holds a backup this daemon wrote: a regular file with one link,
 * owned by our effective uid, whose header says it is a vanthu database.
 * Anything else (a system file, a link to one, someone else's file) is never
 * replaced, whoever asks.  *exists says which case it was.
 */
static int backup_dest_check(const char *dest, int *exists, char *err, size_t errlen)
{
	unsigned char hdr[100];
	struct stat sb, fsb;
	uint32_t app;
	int fd;
	ssize_t n;

	*exists = 0;
	if (lstat(dest, &sb) != 0) {
		if (errno == ENOENT)
			return STORE_OK;
		store_set_err(err, errlen, "không xem được %s: %s", dest, strerror(errno));
		return STORE_INVALID;
	}
	*exists = 1;
	if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1 || sb.st_uid != geteuid())
		goto foreign;
	fd = open(dest, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		goto foreign;
	n = (fstat(fd, &fsb) == 0 && fsb.st_dev == sb.st_dev && fsb.st_ino == sb.st_ino) ?
	    read(fd, hdr, sizeof(hdr)) : -1;
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, "SQLite format 3", 16) != 0)
		goto foreign;
	app = (uint32_t)hdr[68] << 24 | (uint32_t)hdr[69] << 16 | (uint32_t)hdr[70] << 8 | hdr[71];
	if (app != VANTHU_APPLICATION_ID)
		goto foreign;
	return STORE_OK;
foreign:
	store_set_err(err, errlen, "%s đã có và không phải một bản sao lưu do vanthud ghi: "
	    "không ghi đè; hãy chọn một tên tệp chưa có", dest);
	return STORE_INVALID;
}

/*
 * Removes what a backup to dest that was killed left beside it: ".NAME."
 * and six random characters, and its "-journal", when regular, single-link,
 * ours and older than this daemon (so no backup of ours can still be
 * writing them). Any other file is left alone.
 */
static void backup_sweep(const char *dest, const struct timespec *since)
{
	const char *slash = strrchr(dest, '/'), *base = slash + 1;
	char dir[PATH_MAX];
	size_t blen = strlen(base);
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%.*s", slash == dest ? 1 : (int)(slash - dest), dest);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		struct stat st;
		size_t len = strlen(n);
		/* "." NAME "." six characters, with or without "-journal" */
		int shaped = n[0] == '.' && strncmp(n + 1, base, blen) == 0 && n[1 + blen] == '.' &&
		    (len == blen + 8 || (len == blen + 16 && strcmp(n + blen + 8, "-journal") == 0));
		if (!shaped || fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_nlink == 1 && st.st_uid == geteuid() &&
		    (st.st_mtim.tv_sec < since->tv_sec || (st.st_mtim.tv_sec == since->tv_sec &&
		        st.st_mtim.tv_nsec < since->tv_nsec)) && unlinkat(dirfd(d), n, 0) == 0)
			log_info("backup: removed %s/%s, left by a backup that was cut", dir, n);
	}
	closedir(d);
}

int store_backup(const char *dbpath, const char *dest, const struct timespec *since,
    int64_t *bytes, char *err,
    size_t errlen)
{
	sqlite3 *src = NULL, *check = NULL;
	sqlite3_stmt *s = NULL;
	char tmp[PATH_MAX], journal[PATH_MAX + 16];
	const char *slash;
	int rc = STORE_ERR, made_tmp = 0, exists = 0, fd;

	*bytes = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dest[0] != '/') {
		store_set_err(err, errlen, "đường dẫn sao lưu phải là đường dẫn tuyệt đối: %s", dest);
		return STORE_INVALID;
	}
	if (names_database(dbpath, dest)) {
		store_set_err(err, errlen, "%s là chính cơ sở dữ liệu đang dùng; hãy chọn tệp khác", dest);
		return STORE_INVALID;
	}
	if ((rc = backup_dest_check(dest, &exists, err, errlen)) != STORE_OK)
		return rc;
	rc = STORE_ERR;
	/*
	 * The copy is made under a fresh name beside dest, created here with
	 * O_EXCL (VACUUM INTO accepts an empty file), so no existing file is
	 * ever cleared or written to on the way.  A daemon killed while copying
	 * leaves ".NAME." and six random characters behind; it is never reused,
	 * and the next backup to dest removes it.
	 */
	backup_sweep(dest, since);
	slash = strrchr(dest, '/');
	/* mkostemp's template: it replaces the six X with random characters */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - dest), dest,
	        slash + 1) >= sizeof(tmp)) {
		store_set_err(err, errlen, "đường dẫn sao lưu dài quá: %s", dest);
		return STORE_INVALID;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		store_set_err(err, errlen, "create %s: %s", tmp, strerror(errno));
		return STORE_ERR;
	}
	close(fd);
	made_tmp = 1;
	snprintf(journal, sizeof(journal), "%s-journal", tmp);
	if (sqlite3_open_v2(dbpath, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		store_set_err(err, errlen, "%s: %s", dbpath, src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	if (sqlite3_prepare_v2(src, "VACUUM INTO ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(src, "backup", err, errlen);
		goto out;
	}
	sqlite3_bind_text(s, 1, tmp, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_set_err(err, errlen, "backup to %s: %s", tmp, sqlite3_errmsg(src));
		goto out;
	}
	if (fsutil_fsync_path(tmp) != 0) {
		store_set_err(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The copy must itself pass the checks before it takes the name. */
	if (sqlite3_open_v2(tmp, &check, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    quick_check(check, tmp, err, errlen) != STORE_OK ||
	    query_int(check, "PRAGMA application_id") != VANTHU_APPLICATION_ID) {
		if (err && err[0] == '\0')
			store_set_err(err, errlen, "the copy at %s does not check out", tmp);
		goto out;
	}
	sqlite3_close(check);
	check = NULL;
	/*
	 * A name that was free must still be free (RENAME_NOREPLACE); one that
	 * held our own backup is checked again just before it is replaced.
	 */
	if (!exists) {
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_NOREPLACE) != 0) {
			if (errno == EEXIST) {
				store_set_err(err, errlen, "%s vừa được tạo bởi người khác trong lúc sao lưu: "
				    "không ghi đè", dest);
				rc = STORE_INVALID;
			} else {
				store_set_err(err, errlen, "rename %s to %s: %s", tmp, dest, strerror(errno));
			}
			goto out;
		}
		if (fsutil_fsync_parent(dest) != 0) {
			made_tmp = 0;
			store_set_err(err, errlen, "fsync folder of %s: %s", dest, strerror(errno));
			goto out;
		}
	} else {
		if ((rc = backup_dest_check(dest, &exists, err, errlen)) != STORE_OK)
			goto out;
		rc = STORE_ERR;
		if (fsutil_rename_durable(tmp, dest) != 0) {
			store_set_err(err, errlen, "rename %s to %s: %s", tmp, dest, strerror(errno));
			goto out;
		}
	}
	made_tmp = 0;
	*bytes = file_size(dest);
	rc = STORE_OK;
out:
	sqlite3_finalize(s);
	sqlite3_close(check);
	sqlite3_close(src);
	if (made_tmp) {
		unlink(tmp);
		unlink(journal);
	}
	return rc;
}

int store_open_worker(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	sqlite3 *db = NULL;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		store_set_err(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return STORE_ERR;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 10000);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (store_exec_sql(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", err, errlen) !=
	    STORE_OK || query_int(db, "PRAGMA user_version") != STORE_SCHEMA_VERSION) {
		if (err && !err[0])
			store_set_err(err, errlen, "%s: unexpected schema version", path);
		sqlite3_close(db);
		return STORE_ERR;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		free(st);
		sqlite3_close(db);
		store_set_err(err, errlen, "out of memory");
		return STORE_ERR;
	}
	st->db = db;
	*out = st;
	return STORE_OK;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}


/* Hands every row of s to cb as columns; stops when cb returns non-zero. */
int store_emit_rows(sqlite3 *db, sqlite3_stmt *s, store_row_cb cb, void *arg, char *err,
    size_t errlen, int *rows)
{
	struct store_col cols[40];
	int step, n = sqlite3_column_count(s);

	if (n > 40)
		n = 40;
	if (rows)
		*rows = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++) {
			cols[i].name = sqlite3_column_name(s, i);
			switch (sqlite3_column_type(s, i)) {
			case SQLITE_NULL:
				cols[i].type = 0;
				break;
			case SQLITE_INTEGER:
				cols[i].type = 1;
				cols[i].i = sqlite3_column_int64(s, i);
				break;
			default:
				cols[i].type = 2;
				cols[i].s = (const char *)sqlite3_column_text(s, i);
				if (cols[i].s == NULL)
					cols[i].type = 0;
			}
		}
		if (rows)
			(*rows)++;
		if (cb(cols, n, arg) != 0)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_db_err(db, "query", err, errlen);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* ---- documents and the register ---- */

/* Inserts a document, its revision 1 and its "create" entry inside the caller's transaction. */
int store_doc_insert(sqlite3 *db, const struct store_doc_new *d, int64_t *id, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[48];
	int rc = -1;

	clock_iso_utc(at, sizeof(at));
	if (d->origin != NULL) {
		/* one live draft per source: a withdrawn one does not count */
		if (sqlite3_prepare_v2(db, "SELECT id FROM documents WHERE origin = ? AND "
		        "state <> 'withdrawn' ORDER BY id LIMIT 1", -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(s, 1, d->origin, -1, SQLITE_STATIC);
		int step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			*id = sqlite3_column_int64(s, 0);
			rc = 1;
			store_set_err(err, errlen, "document %lld has the same origin", (long long)*id);
			goto out;
		}
		if (step != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO documents (kind, state, state_since, summary, "
	        "signer_login, signer_name, recipients, archive, round_id, drafter_uid, drafter, "
	        "editor_uid, editor, revision, created_at, updated_at, drafting_unit, issuer, origin) "
	        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, d->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, d->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d->summary, -1, SQLITE_STATIC);
	store_bind_text(s, 5, d->signer_login);
	sqlite3_bind_text(s, 6, d->signer_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, d->recipients, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, d->archive, -1, SQLITE_STATIC);
	store_bind_text(s, 9, d->round_id);
	sqlite3_bind_int64(s, 10, d->uid);
	sqlite3_bind_text(s, 11, d->login, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 12, d->uid);
	sqlite3_bind_text(s, 13, d->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 14, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 15, at, -1, SQLITE_STATIC);
	store_bind_text(s, 16, d->drafting_unit);
	store_bind_text(s, 17, d->issuer);
	store_bind_text(s, 18, d->origin);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	*id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO revisions (document_id, revision, author_uid, "
	        "author, at, sha256, content) VALUES (?,1,?,?,?,?,?)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, *id);
	sqlite3_bind_int64(s, 2, d->uid);
	sqlite3_bind_text(s, 3, d->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, d->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, d->content, (int)d->content_len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	snprintf(object, sizeof(object), "document/%lld", (long long)*id);
	if (store_audit_json(db, d->uid, d->login, "create", object, json_pack("{s:s, s:s, s:s, s:i}", "from", "", "to", d->state, "kind", d->kind,
	    "revision", 1), err,
	        errlen) != 0)
		goto out;
	rc = 0;
	goto out;
fail:
	store_db_err(db, "create document", err, errlen);
out:
	sqlite3_finalize(s);
	return rc;
}

int store_doc_create(struct store *st, const struct store_doc_new *d, int64_t *id, char *err,
    size_t errlen)
{
	char ignored[8];

	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	int rc = store_doc_insert(st->db, d, id, err, errlen);
	if (rc != 0) {
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		return rc == 1 ? STORE_INVALID : STORE_ERR;
	}
	return store_exec_sql(st->db, "COMMIT", err, errlen);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

#define DOC_COLUMNS "id, kind, state, state_since, summary, signer_login, signer_name, " \
	"recipients, archive, round_id, drafter_uid, drafter, editor_uid, editor, revision, " \
	"created_at, updated_at, body, year, number, symbol, issued_on, drafting_unit, out_path, " \
	"out_sha256, issuer, series, signed_pdf_path, signed_pdf_sha256, signed_revision, pdf_path, " \
	"pdf_sha256"

int store_doc_get(struct store *st, int64_t id, struct store_doc *out, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step, rc = STORE_ERR;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(st->db, "SELECT " DOC_COLUMNS " FROM documents WHERE id = ?", -1, &s,
	        NULL) != SQLITE_OK) {
		store_db_err(st->db, "document", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no document %lld", (long long)id);
		rc = STORE_INVALID;
	} else if (step == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		out->kind = col_dup(s, 1);
		out->state = col_dup(s, 2);
		out->state_since = col_dup(s, 3);
		out->summary = col_dup(s, 4);
		out->signer_login = col_dup(s, 5);
		out->signer_name = col_dup(s, 6);
		out->drafter_uid = sqlite3_column_int64(s, 10);
		out->drafter = col_dup(s, 11);
		out->editor_uid = sqlite3_column_int64(s, 12);
		out->editor = col_dup(s, 13);
		out->revision = sqlite3_column_int64(s, 14);
		out->number = sqlite3_column_int64(s, 19);
		out->symbol = col_dup(s, 20);
		out->issued_on = col_dup(s, 21);
		out->drafting_unit = col_dup(s, 22);
		out->out_path = col_dup(s, 23);
		out->out_sha256 = col_dup(s, 24);
		out->issuer = col_dup(s, 25);
		out->series = col_dup(s, 26);
		out->signed_pdf_path = col_dup(s, 27);
		out->signed_pdf_sha256 = col_dup(s, 28);
		out->signed_revision = sqlite3_column_int64(s, 29);
		out->pdf_path = col_dup(s, 30);
		out->pdf_sha256 = col_dup(s, 31);
		rc = out->kind && out->state && out->state_since && out->summary && out->drafter &&
		    out->editor ? STORE_OK : STORE_ERR;
		if (rc != STORE_OK)
			store_set_err(err, errlen, "out of memory");
	} else {
		store_db_err(st->db, "document", err, errlen);
	}
	sqlite3_finalize(s);
	if (rc != STORE_OK)
		store_doc_free(out);
	return rc;
}

void store_doc_free(struct store_doc *d)
{
	free(d->kind);
	free(d->state);
	free(d->state_since);
	free(d->summary);
	free(d->signer_login);
	free(d->signer_name);
	free(d->drafter);
	free(d->editor);
	free(d->symbol);
	free(d->issued_on);
	free(d->drafting_unit);
	free(d->out_path);
	free(d->out_sha256);
	free(d->issuer);
	free(d->series);
	free(d->signed_pdf_path);
	free(d->signed_pdf_sha256);
	free(d->pdf_path);
	free(d->pdf_sha256);
	memset(d, 0, sizeof(*d));
}

int store_doc_row(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc, rows = 0;

	/* with its register entry's void, when its number was voided */
	if (sqlite3_prepare_v2(st->db, "SELECT " DOC_COLUMNS ", (SELECT r.voided_at FROM register r "
	        "WHERE r.document_id = documents.id) AS voided_at, (SELECT r.voided_by FROM register r "
	        "WHERE r.document_id = documents.id) AS voided_by, (SELECT r.void_reason FROM "
	        "register r WHERE r.document_id = documents.id) AS void_reason FROM documents "
	        "WHERE id = ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "document", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, &rows);
	sqlite3_finalize(s);
	if (rc == STORE_OK && rows == 0) {
		store_set_err(err, errlen, "no document %lld", (long long)id);
		return STORE_INVALID;
	}
	return rc;
}

int store_doc_edit(struct store *st, int64_t id, const struct store_doc_new *d, int64_t *revision,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[48], ignored[8];
	int rc;

	clock_iso_utc(at, sizeof(at));
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	/* The revision is counted inside the transaction, so two edits can never claim the same one. */
	if (sqlite3_prepare_v2(st->db, "UPDATE documents SET revision = revision + 1, summary = ?, "
	        "signer_login = ?, signer_name = ?, recipients = ?, archive = ?, editor_uid = ?, "
	        "editor = ?, updated_at = ?, drafting_unit = ?, issuer = ? WHERE id = ? AND kind = ? "
	        "AND state = ? RETURNING revision", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, d->summary, -1, SQLITE_STATIC);
	store_bind_text(s, 2, d->signer_login);
	sqlite3_bind_text(s, 3, d->signer_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d->recipients, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, d->archive, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, d->uid);
	sqlite3_bind_text(s, 7, d->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, at, -1, SQLITE_STATIC);
	store_bind_text(s, 9, d->drafting_unit);
	store_bind_text(s, 10, d->issuer);
	sqlite3_bind_int64(s, 11, id);
	sqlite3_bind_text(s, 12, d->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 13, d->state, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		store_set_err(err, errlen, "the document is no longer in state %s", d->state);
		sqlite3_finalize(s);
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		return STORE_INVALID;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	*revision = sqlite3_column_int64(s, 0);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO revisions (document_id, revision, author_uid, "
	        "author, at, sha256, content) VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, *revision);
	sqlite3_bind_int64(s, 3, d->uid);
	sqlite3_bind_text(s, 4, d->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, d->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, d->content, (int)d->content_len, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	snprintf(object, sizeof(object), "document/%lld", (long long)id);
	if (store_audit_json(st->db, d->uid, d->login, "edit", object, json_pack("{s:s, s:s, s:I, s:s?}",
	        "from", d->state, "to", d->state, "revision", (json_int_t)*revision, "comment",
	        d->note), err, errlen) != 0)
		goto fail_quiet;
	sqlite3_finalize(s);
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "edit document", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_doc_transition(struct store *st, struct store_transition *t, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[48], ignored[8];

	clock_iso_utc(at, sizeof(at));
	t->number = 0;
	t->symbol[0] = '\0';
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "UPDATE documents SET state = ?, state_since = ?, "
	        "updated_at = ? WHERE id = ? AND state = ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, t->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, t->id);
	sqlite3_bind_text(s, 5, t->from, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(st->db) != 1) {
		store_set_err(err, errlen, "the document is no longer in state %s", t->from);
		sqlite3_finalize(s);
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		return STORE_INVALID;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (t->numbering != NULL) {
		const struct symbol_of *n = t->numbering;
		const char *type = n->type && *n->type ? n->type : NULL;
		char series[64];
		symbol_write_series(series, sizeof(series), t->year, t->term, type);
		/* The next number of (body, series): voided numbers stay taken, so no gap, no reuse. */
		/* A series continued from a paper register starts at its set number (register_start). */
		if (sqlite3_prepare_v2(st->db, "SELECT max(coalesce((SELECT max(number) FROM register "
		        "WHERE body = ?1 AND series = ?2), 0) + 1, coalesce((SELECT next FROM "
		        "register_start WHERE body = ?1 AND series = ?2), 1))", -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(s, 1, n->body, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, series, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW)
			goto fail;
		t->number = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		s = NULL;
		symbol_write(t->symbol, sizeof(t->symbol), t->number, n);
		if (sqlite3_prepare_v2(st->db, "UPDATE documents SET body = ?, year = ?, number = ?, "
		        "symbol = ?, issued_on = ?, series = ? WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(s, 1, n->body, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, t->year);
		sqlite3_bind_int64(s, 3, t->number);
		sqlite3_bind_text(s, 4, t->symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, t->issued_on, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, series, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 7, t->id);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		s = NULL;
		if (sqlite3_prepare_v2(st->db, "INSERT INTO register (body, series, number, year, term, "
		        "type, document_id, symbol, issued_on, kind, summary, signer_name, recipients, "
		        "archive, issued_by, issued_at) SELECT ?, ?, ?, ?, ?, ?, id, ?, ?, ?, summary, "
		        "signer_name, recipients, archive, ?, ? FROM documents WHERE id = ?", -1, &s,
		        NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(s, 1, n->body, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, series, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, t->number);
		sqlite3_bind_int(s, 4, t->year);
		store_bind_text(s, 5, t->term);
		store_bind_text(s, 6, type);
		sqlite3_bind_text(s, 7, t->symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, t->issued_on, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 9, t->kind_label, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 10, t->login, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 11, at, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 12, t->id);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		s = NULL;
	}
	if (t->signed_pdf != NULL && store_signature_insert(st->db, t->id, t->signed_pdf, t->login,
	        err, errlen) != 0)
		goto fail_quiet;
	snprintf(object, sizeof(object), "document/%lld", (long long)t->id);
	if (store_audit_json(st->db, t->uid, t->login, t->action, object, json_pack("{s:s, s:s, s:s?, s:I, s:s?, s:s?}", "from", t->from, "to", t->to,
	    "comment", t->comment, "number", (json_int_t)t->number,
	    "symbol", t->symbol[0] ? t->symbol : NULL,
	    "pdf_sha256", t->signed_pdf ? t->signed_pdf->sha256 : NULL), err,
	        errlen) != 0)
		goto fail_quiet;
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "transition", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_doc_list(struct store *st, const struct store_doc_filter *f, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	int rc;

	/*
	 * Only the filters given go into the WHERE clause, so SQLite can walk
	 * documents_state, documents_kind or documents_drafter backwards from
	 * `before`; "(?1 IS NULL OR state = ?1)" would make it read every row to
	 * find a reviewer's few (make bench, queries). The text is built from
	 * fixed pieces only; every value is bound.
	 */
	snprintf(sql, sizeof(sql), "SELECT id, kind, state, state_since, summary, drafter, "
	    "editor, revision, updated_at, number, symbol, issued_on, round_id FROM documents "
	    "WHERE id < ?4%s%s%s ORDER BY id DESC LIMIT ?5", f->state ? " AND state = ?1" : "",
	    f->kind ? " AND kind = ?2" : "", f->drafter_uid >= 0 ? " AND drafter_uid = ?3" : "");
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "documents", err, errlen);
		return STORE_ERR;
	}
	store_bind_text(s, 1, f->state);
	store_bind_text(s, 2, f->kind);
	sqlite3_bind_int64(s, 3, f->drafter_uid);
	sqlite3_bind_int64(s, 4, f->before > 0 ? f->before : INT64_MAX);
	sqlite3_bind_int(s, 5, f->limit);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_doc_history(struct store *st, int64_t id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char object[48];
	int rc;

	snprintf(object, sizeof(object), "document/%lld", (long long)id);
	if (sqlite3_prepare_v2(st->db, "SELECT id, at, uid, actor, action, detail FROM audit "
	        "WHERE object = ? ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "history", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, object, -1, SQLITE_STATIC);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_doc_revision(struct store *st, int64_t id, int64_t revision, store_row_cb cb, void *arg,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc, rows = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT revision, author, at, sha256, CAST(content AS TEXT) "
	        "AS content FROM revisions WHERE document_id = ?1 AND revision = (CASE WHEN ?2 > 0 "
	        "THEN ?2 ELSE (SELECT revision FROM documents WHERE id = ?1) END)", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "revision", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, revision);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, &rows);
	sqlite3_finalize(s);
	if (rc == STORE_OK && rows == 0) {
		store_set_err(err, errlen, "no such revision");
		return STORE_INVALID;
	}
	return rc;
}

int store_register_list(struct store *st, const struct store_register_query *q, store_row_cb cb,
    void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	/* a Party term, type by type (register_term), or one series in number order (the key) */
	if (sqlite3_prepare_v2(st->db, q->term ? "SELECT number, symbol, issued_on, kind, summary, "
	        "signer_name, recipients, archive, document_id, issued_by, voided_at, voided_by, "
	        "void_reason, series, term, type, year FROM register WHERE body = ?1 AND term = ?2 "
	        "AND (?3 IS NULL OR type = ?3) ORDER BY type, number" :
	        "SELECT number, symbol, issued_on, kind, summary, signer_name, recipients, archive, "
	        "document_id, issued_by, voided_at, voided_by, void_reason, series, term, type, year "
	        "FROM register WHERE body = ?1 AND series = ?4 ORDER BY number", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "register", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, q->body, -1, SQLITE_STATIC);
	store_bind_text(s, 2, q->term);
	store_bind_text(s, 3, q->type);
	store_bind_text(s, 4, q->series);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_register_void(struct store *st, const char *body, const char *series, int64_t number,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[160], ignored[8];

	clock_iso_utc(at, sizeof(at));
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "UPDATE register SET voided_at = ?, voided_by = ?, "
	        "void_reason = ? WHERE body = ? AND series = ? AND number = ? AND voided_at IS NULL",
	        -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, series, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, number);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(st->db) != 1) {
		sqlite3_finalize(s);
		s = NULL;
		/* which of the two: a number never given, or one voided already */
		if (sqlite3_prepare_v2(st->db, "SELECT voided_at FROM register WHERE body = ? AND "
		        "series = ? AND number = ?", -1, &s, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, series, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, number);
		int step = sqlite3_step(s);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(s);
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		store_set_err(err, errlen, step == SQLITE_ROW ? "already voided" : "no such number");
		return step == SQLITE_ROW ? STORE_DONE : STORE_INVALID;
	}
	snprintf(object, sizeof(object), "register/%s/%s/%lld", body, series, (long long)number);
	if (store_audit_json(st->db, uid, login, "void", object, json_pack("{s:s, s:s, s:I, s:s}", "body",
	    body, "series", series, "number", (json_int_t)number, "reason", reason), err, errlen) != 0)
		goto fail_quiet;
	sqlite3_finalize(s);
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "void", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_register_start(struct store *st, const char *body, const char *series, int64_t next,
    const char *reason, int64_t uid, const char *login, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[160], ignored[8];
	int64_t issued = 0, set = 0;

	clock_iso_utc(at, sizeof(at));
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "SELECT (SELECT count(*) FROM register WHERE body = ?1 AND "
	        "series = ?2), (SELECT next FROM register_start WHERE body = ?1 AND series = ?2)", -1,
	        &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, series, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto fail;
	issued = sqlite3_column_int64(s, 0);
	set = sqlite3_column_type(s, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	s = NULL;
	if (issued > 0 || set > 0) {
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		if (issued > 0)
			store_set_err(err, errlen, "issued:%lld", (long long)issued);
		else
			store_set_err(err, errlen, "set:%lld", (long long)set);
		return STORE_INVALID;
	}
	if (sqlite3_prepare_v2(st->db, "INSERT INTO register_start (body, series, next, set_by, "
	        "set_at, reason) VALUES (?, ?, ?, ?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, series, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, next);
	sqlite3_bind_text(s, 4, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, reason, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	snprintf(object, sizeof(object), "register/%s/%s", body, series);
	if (store_audit_json(st->db, uid, login, "register.start", object, json_pack("{s:s, s:s, "
	        "s:I, s:s}", "body", body, "series", series, "next", (json_int_t)next, "reason",
	        reason), err, errlen) != 0)
		goto fail_quiet;
	sqlite3_finalize(s);
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "register start", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_register_next(struct store *st, const char *body, const char *series, int64_t *next,
    int64_t *start, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, "SELECT max(coalesce((SELECT max(number) FROM register "
	        "WHERE body = ?1 AND series = ?2), 0) + 1, coalesce((SELECT next FROM register_start "
	        "WHERE body = ?1 AND series = ?2), 1)), (SELECT next FROM register_start WHERE "
	        "body = ?1 AND series = ?2)", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "register next", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, series, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_db_err(st->db, "register next", err, errlen);
		sqlite3_finalize(s);
		return STORE_ERR;
	}
	*next = sqlite3_column_int64(s, 0);
	*start = sqlite3_column_type(s, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	return STORE_OK;
}

int store_doc_content(struct store *st, int64_t id, char **xml, size_t *len, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step, rc = STORE_ERR;

	*xml = NULL;
	*len = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT r.content FROM revisions r JOIN documents d "
	        "ON d.id = r.document_id AND d.revision = r.revision WHERE d.id = ?", -1, &s, NULL) !=
	    SQLITE_OK) {
		store_db_err(st->db, "content", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		int n = sqlite3_column_bytes(s, 0);
		*xml = malloc((size_t)n + 1);
		if (*xml != NULL) {
			memcpy(*xml, sqlite3_column_blob(s, 0), (size_t)n);
			(*xml)[n] = '\0';
			*len = (size_t)n;
			rc = STORE_OK;
		} else {
			store_set_err(err, errlen, "out of memory");
		}
	} else if (step == SQLITE_DONE) {
		store_set_err(err, errlen, "no document %lld", (long long)id);
		rc = STORE_INVALID;
	} else {
		store_db_err(st->db, "content", err, errlen);
	}
	sqlite3_finalize(s);
	return rc;
}

int store_doc_set_output(struct store *st, int64_t id, const char *path, const char *sha256,
    int64_t uid, const char *login, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char object[48], ignored[8];

	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	if (sqlite3_prepare_v2(st->db, "UPDATE documents SET out_path = ?, out_sha256 = ? "
	        "WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	snprintf(object, sizeof(object), "document/%lld", (long long)id);
	if (store_audit_json(st->db, uid, login, "publish", object, json_pack("{s:s, s:s}", "path", path, "sha256", sha256), err,
	        errlen) != 0)
		goto fail_quiet;
	sqlite3_finalize(s);
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "publish", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}

int store_docs_unpublished(struct store *st, int64_t *ids, size_t max, size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int step;

	*n = 0;
	/* the DOCX not written, or a leader's PDF not yet numbered and sealed */
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM documents WHERE number IS NOT NULL AND "
	        "(out_sha256 IS NULL OR (signed_pdf_sha256 IS NOT NULL AND pdf_sha256 IS NULL)) "
	        "ORDER BY id LIMIT ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "unpublished", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, (int64_t)max);
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return step == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* ---- reporting rounds ---- */

/* Inserts a round and its units inside the caller's transaction; 1 when the id exists. */
int store_round_insert(sqlite3 *db, const struct store_round_new *r, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[96];
	int rc = -1;

	clock_iso_utc(at, sizeof(at));
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM rounds WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		sqlite3_finalize(s);
		store_set_err(err, errlen, "a round %s exists already", r->id);
		return 1;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO rounds (id, subject, req_number, req_symbol, "
	        "req_date, req_issuer, deadline, remind_on, conclusion_kind, input, state, created_by, "
	        "created_at, close_on) VALUES (?,?,?,?,?,?,?,?,?,?,'open',?,?,?)", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	const char *v[] = { r->id, r->subject, r->req_number, r->req_symbol, r->req_date,
		r->req_issuer, r->deadline };
	for (int i = 0; i < 7; i++)
		sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC);
	store_bind_text(s, 8, r->remind_on);
	sqlite3_bind_text(s, 9, r->conclusion_kind, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 10, r->input, (int)r->input_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, r->login, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 12, at, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 13, r->close_on, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO round_units (round_id, unit_code) "
	        "VALUES (?, ?)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < r->nunits; i++) {
		sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, r->units[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(s);
	}
	snprintf(object, sizeof(object), "round/%s", r->id);
	if (store_audit_json(db, r->uid, r->login, "round.create", object, json_pack("{s:s, s:s, s:I, s:s}",
	        "from", "", "to", "open", "units", (json_int_t)r->nunits, "deadline", r->deadline),
	        err, errlen) != 0)
		goto out;
	rc = 0;
	goto out;
fail:
	store_db_err(db, "round", err, errlen);
out:
	sqlite3_finalize(s);
	return rc;
}

int store_round_create(struct store *st, const struct store_round_new *r, char *err, size_t errlen)
{
	char ignored[8];
	int rc;

	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	rc = store_round_insert(st->db, r, err, errlen);
	if (rc != 0) {
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		return rc == 1 ? STORE_INVALID : STORE_ERR;
	}
	return store_exec_sql(st->db, "COMMIT", err, errlen);
}

#define ROUND_COLUMNS "id, subject, req_number, req_symbol, req_date, req_issuer, deadline, " \
	"remind_on, close_on, conclusion_kind, state, created_by, created_at, reminded_at, reminder_doc, " \
	"closed_at, close_reason, conclusion_doc, closed_counts, " \
	"(SELECT count(*) FROM round_units u WHERE u.round_id = rounds.id) AS units"

int store_rounds_list(struct store *st, int open_only, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT " ROUND_COLUMNS " FROM rounds WHERE ?1 = 0 OR "
	        "state = 'open' ORDER BY deadline DESC, id", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "rounds", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int(s, 1, open_only);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_round_row(struct store *st, const char *id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc, rows = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT " ROUND_COLUMNS ", CAST(input AS TEXT) AS input "
	        "FROM rounds WHERE id = ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "round", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, &rows);
	sqlite3_finalize(s);
	if (rc == STORE_OK && rows == 0) {
		store_set_err(err, errlen, "no round %s", id);
		return STORE_INVALID;
	}
	return rc;
}

int store_round_units(struct store *st, const char *id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT u.unit_code, "
	        "(SELECT min(received_at) FROM reports r WHERE r.round_id = u.round_id AND "
	        "  r.unit_code = u.unit_code) AS first_at, "
	        "(SELECT id FROM reports r WHERE r.round_id = u.round_id AND r.unit_code = u.unit_code "
	        "  AND r.superseded_by IS NULL ORDER BY id DESC LIMIT 1) AS report_id, "
	        "(SELECT count(*) FROM reports r WHERE r.round_id = u.round_id AND "
	        "  r.unit_code = u.unit_code) AS reports "
	        "FROM round_units u WHERE u.round_id = ?", -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "round units", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_round_of_reminder(struct store *st, int64_t doc_id, char *id, size_t idlen, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	id[0] = '\0';
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM rounds WHERE reminder_doc = ?", -1, &s,
	        NULL) != SQLITE_OK) {
		store_db_err(st->db, "round of reminder", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, doc_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(id, idlen, "%s", (const char *)sqlite3_column_text(s, 0));
	else if (rc != SQLITE_DONE)
		store_db_err(st->db, "round of reminder", err, errlen);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_INVALID : STORE_ERR;
}

int store_round_figures(struct store *st, const char *id, store_row_cb cb, void *arg, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT r.unit_code, i.code, i.name, i.measure, i.value, "
	        "i.target, i.base FROM indicators i JOIN reports r ON r.id = i.report_id "
	        "JOIN round_units u ON u.round_id = r.round_id AND u.unit_code = r.unit_code "
	        "WHERE r.round_id = ? AND r.superseded_by IS NULL ORDER BY r.unit_code, i.position",
	        -1, &s, NULL) != SQLITE_OK) {
		store_db_err(st->db, "round figures", err, errlen);
		return STORE_ERR;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = store_emit_rows(st->db, s, cb, arg, err, errlen, NULL);
	sqlite3_finalize(s);
	return rc;
}

int store_round_step(struct store *st, const char *id, int closing, const struct store_doc_new *doc,
    const char *reason, const char *counts, int64_t uid, const char *login, int64_t *doc_id,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char at[40], object[96], ignored[8];

	*doc_id = 0;
	clock_iso_utc(at, sizeof(at));
	if (store_exec_sql(st->db, "BEGIN IMMEDIATE", err, errlen) != STORE_OK)
		return STORE_ERR;
	/* once: a step already taken (before a crash, or by another path) is not taken again */
	if (sqlite3_prepare_v2(st->db, closing ?
	        "SELECT 1 FROM rounds WHERE id = ? AND state = 'open'" :
	        "SELECT 1 FROM rounds WHERE id = ? AND state = 'open' AND reminded_at IS NULL",
	        -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
		store_set_err(err, errlen, "round %s is not open%s", id, closing ? "" : " or was reminded");
		return STORE_INVALID;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (doc != NULL && store_doc_insert(st->db, doc, doc_id, err, errlen) != 0)
		goto fail_quiet;
	if (sqlite3_prepare_v2(st->db, closing ?
	        "UPDATE rounds SET state = 'closed', closed_at = ?, close_reason = ?, "
	        "conclusion_doc = ?, closed_counts = ? WHERE id = ?" :
	        "UPDATE rounds SET reminded_at = ?, close_reason = close_reason, reminder_doc = ? "
	        "WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, at, -1, SQLITE_STATIC);
	if (closing) {
		sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
		if (*doc_id)
			sqlite3_bind_int64(s, 3, *doc_id);
		else
			sqlite3_bind_null(s, 3);
		store_bind_text(s, 4, counts);
		sqlite3_bind_text(s, 5, id, -1, SQLITE_STATIC);
	} else {
		if (*doc_id)
			sqlite3_bind_int64(s, 2, *doc_id);
		else
			sqlite3_bind_null(s, 2);
		sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	}
	if (sqlite3_step(s) != SQLITE_DONE)
		goto fail;
	snprintf(object, sizeof(object), "round/%s", id);
	if (store_audit_json(st->db, uid, login, closing ? "round.close" : "round.remind", object,
	        json_pack("{s:s, s:s, s:I}", "from", "open", "to", closing ? "closed" : "open",
	        "document", (json_int_t)*doc_id), err, errlen) != 0)
		goto fail_quiet;
	sqlite3_finalize(s);
	return store_exec_sql(st->db, "COMMIT", err, errlen);
fail:
	store_db_err(st->db, "round", err, errlen);
fail_quiet:
	sqlite3_finalize(s);
	store_exec_sql(st->db, "ROLLBACK", ignored, sizeof(ignored));
	return STORE_ERR;
}
