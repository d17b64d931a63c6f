# vanthu: the daemon, its client, their tests and their installation.
# `make` builds, `make run` runs on the embedded default, `make check` tests.
# Each of them first runs `make deps`, which installs what Debian lacks.

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc
PYTHON := /usr/bin/python3

# pkg-config names, and the Debian packages that provide them and the tools.
PKGS := libuv libxml-2.0 libzip sqlite3 icu-uc icu-i18n jansson inih libcrypto libqpdf freetype2 \
	libpng zlib libnats
# p11-kit-1 for <p11-kit/pkcs11.h> only: modules are loaded with dlopen, p11-kit is not linked.
P11_CFLAGS = $(shell pkg-config --cflags p11-kit-1)
DEB_BUILD := gcc make pkg-config libuv1-dev libxml2-dev libzip-dev libsqlite3-dev \
	libicu-dev libjansson-dev libinih-dev libssl-dev libqpdf-dev libfreetype-dev libpng-dev \
	zlib1g-dev libp11-kit-dev libreofficekit-dev libnats-dev
DEB_TEST := libcmocka-dev python3 sqlite3 passwd procps libxml2-utils binutils \
	libreoffice-writer-nogui fonts-liberation fonts-liberation2 poppler-utils pandoc python3-docx \
	clang libclang-rt-14-dev samba smbclient softhsm2 opensc qpdf libnss3-tools nats-server
DEB_PACKAGES := $(DEB_BUILD) $(DEB_TEST)

# Recursive (=) so pkg-config runs after `make deps` has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lm -ldl
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -g $(PKG_CFLAGS) $(P11_CFLAGS)
OPT_CFLAGS := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
SAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
# Only the test build honours VANTHU_FAKE_NOW; a release build cannot be fooled.
TEST_DEFS := -DVANTHU_TEST_CLOCK

# Modules linked into the daemon; the client shares the wire format only.
CORE := clock config diag log vnfmt hash fsutil names xmlin units report receipt render calendar symbol store store_intake store_sign workflow docdata catalog spool intake publish rounds proto peer ctl ctl_common ctl_admin ctl_intake ctl_doc ctl_sign ctl_round ctl_exchange lockfile notify table \
	p11 cms pdfdraw pdf pdfverify convert esign edxml natsx store_exchange exchange xreport
DAEMON_SRC := $(CORE) main
CLIENT_SRC := vanthuctl cli_admin cli_intake cli_doc cli_sign cli_round proto table diag hash p11 cms pdfdraw pdf pdfverify cli_exchange edxml
UNIT_TESTS := test_config test_proto test_symbol test_store test_vnfmt test_xmlin test_units test_report test_receipt test_render test_calendar test_workflow test_names test_table \
	test_p11 test_cms test_pdfdraw test_pdf test_convert test_edxml test_natsx test_store_exchange

B := build
S := build/san

.SECONDARY:
.PHONY: all deps run check bench test-unit test-e2e install uninstall clean templates
all: $(B)/vanthud $(B)/vanthuctl $(B)/vanthu-convert templates

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			$$missing </dev/null; \
	fi

# ---- release build ----
$(B)/obj/%.o: daemon/%.c daemon/*.h | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -c $< -o $@

$(B)/vanthud: $(DAEMON_SRC:%=$(B)/obj/%.o)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/vanthuctl: $(CLIENT_SRC:%=$(B)/obj/%.o)
	$(CC) $(OPT_CFLAGS) -o $@ $^ $(PKG_LIBS)

# The LibreOfficeKit helper (see daemon/vanthu-convert.c): always the release build, as
# LibreOffice does not run under the sanitizers; LibreOfficeKit's headers have no .pc file.
$(B)/vanthu-convert: daemon/vanthu-convert.c | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -o $@ $< -ldl
# convert.c looks for the helper beside vanthud first, then where install puts it.
$(B)/obj/convert.o $(S)/obj/convert.o: BASE_CFLAGS += -DVANTHU_LIBEXECDIR='"$(PREFIX)/lib/vanthu"'

# Templates are kept unzipped in templates-docx/NAME/; each becomes build/templates/NAME.docx.
templates: | deps
	@mkdir -p $(B)/templates
	@for t in templates-docx/*/; do \
		[ -d "$$t" ] || continue; n=$$(basename "$$t"); \
		$(PYTHON) tests/tools/zipdir.py "$$t" "$(B)/templates/$$n.docx"; \
	done

# ---- sanitizer build, used by `make check` ----
$(S)/obj/%.o: daemon/%.c daemon/*.h | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(TEST_DEFS) -c $< -o $@

$(S)/obj/tests/%.o: tests/unit/%.c tests/unit/*.h daemon/*.h | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -Idaemon -c $< -o $@

$(S)/vanthud: $(DAEMON_SRC:%=$(S)/obj/%.o)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(S)/vanthuctl: $(CLIENT_SRC:%=$(S)/obj/%.o)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS)

$(S)/test_%: $(S)/obj/tests/test_%.o $(CORE:%=$(S)/obj/%.o)
	$(CC) $(SAN_CFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

check: deps templates $(B)/vanthud $(B)/vanthu-convert $(S)/vanthud $(S)/vanthuctl $(UNIT_TESTS:%=$(S)/%)
	$(PYTHON) tests/run.py --bin $(S) --unit "$(UNIT_TESTS)" \
		--fuzz "$(FUZZ_TARGETS)" --fuzz-bin $(F) --fuzz-seconds $(FUZZ_CHECK_SECONDS)

# ---- fuzzing ----
# libFuzzer targets (tests/fuzz/README.md), built with clang, ASan and UBSan. `make fuzz`
# runs each for FUZZ_SECONDS on its committed corpus; new inputs go to build/fuzz/corpus/,
# crashes to build/fuzz/crashes/. `make check` runs each for FUZZ_CHECK_SECONDS.
F := build/fuzz
FUZZ_CC := clang
FUZZ_TARGETS := fuzz_report fuzz_request fuzz_template fuzz_config fuzz_pdf fuzz_edxml
FUZZ_SECONDS ?= 600
FUZZ_CHECK_SECONDS ?= 30
# clang 14 does not know every gcc warning that WARN names
FUZZ_CFLAGS = $(BASE_CFLAGS) -Wno-unknown-warning-option -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
# fuzz_request reaches the commands through ctl_priv.h (ctl_command_find, struct ctl and conn)

$(F)/obj/%.o: daemon/%.c daemon/*.h | deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(F)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h daemon/ctl_priv.h $(CORE:%=$(F)/obj/%.o) | templates
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Idaemon -o $@ $< \
		$(filter-out $(FUZZ_SKIP_$*),$(CORE:%=$(F)/obj/%.o)) $(FUZZ_LINK_$*) $(PKG_LIBS)

.PHONY: fuzz
# check runs them too (its recipe passes --fuzz to run.py)
check: $(FUZZ_TARGETS:%=$(F)/%)

fuzz: deps templates $(FUZZ_TARGETS:%=$(F)/%)
	$(PYTHON) tests/run.py --fuzz-only --fuzz "$(FUZZ_TARGETS)" --fuzz-bin $(F) \
		--fuzz-seconds $(FUZZ_SECONDS)

# ---- the crash loop (issue #7): check runs 3 cycles of it, soak 50 ----
.PHONY: soak
SOAK_CYCLES ?= 50
soak: deps templates $(S)/vanthud $(S)/vanthuctl
	$(PYTHON) tests/crash/crashloop.py --cycles $(SOAK_CYCLES) --bin $(S) $(if $(SEED),--seed $(SEED))

# ---- fault injection (issue #7): tests/e2e/test_faults.py preloads it into vanthud ----
# Plain C, no sanitizer: the tests put the sanitizer's runtime first in LD_PRELOAD.
check: $(B)/faultshim.so

$(B)/faultshim.so: tests/faults/faultshim.c | deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -shared -fPIC -o $@ $< -ldl

# ---- measuring (never part of check: no test fails on a time) ----
bench: all $(B)/bench_render $(B)/bench_esign
	sh tests/bench/run.sh

# The renderer alone, linked with the release objects (everything but main and the client).
$(B)/bench_render: tests/bench/bench_render.c $(CORE:%=$(B)/obj/%.o)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -Idaemon -o $@ $^ $(PKG_LIBS)

# The organisation's signing step of issue alone (CMS and incremental update), the same objects.
$(B)/bench_esign: tests/bench/bench_esign.c $(CORE:%=$(B)/obj/%.o)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -Idaemon -o $@ $^ $(PKG_LIBS)

# ---- running ----
run: all
	@echo "vanthud: starting on the embedded default (spool ./spool, database ./vanthu.db)."
	@echo "In another shell, from this folder:  build/vanthuctl status"
	@echo "                                     build/vanthuctl whoami"
	@echo "Stop with Ctrl-C."
	$(B)/vanthud

# ---- installation ----
# Program files go under PREFIX and are replaced at every install. The office's own files
# (vanthu.conf, the units registry, the calendar years) live in SYSCONFDIR/vanthu: each is
# installed once, when it is not there, and never overwritten or removed (README, Installing).
WF_SHARE = $(DESTDIR)$(PREFIX)/share/vanthu/workflows
TPL_SHARE = $(DESTDIR)$(PREFIX)/share/vanthu/templates
ETC_VANTHU = $(DESTDIR)$(SYSCONFDIR)/vanthu
# workflows/ minus the office's files, as paths relative to workflows/
WF_PROGRAM = (cd workflows && find . -type f ! -path ./units.xml \
	! -path './calendar/[0-9][0-9][0-9][0-9].xml') | sed 's|^\./||' | LC_ALL=C sort
WF_OFFICE = (cd workflows && ls units.xml calendar/[0-9][0-9][0-9][0-9].xml)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(UNITDIR) \
		$(TPL_SHARE) $(WF_SHARE) $(ETC_VANTHU)/calendar $(DESTDIR)$(PREFIX)/lib/vanthu
	install -m 0755 $(B)/vanthud $(DESTDIR)$(PREFIX)/sbin/vanthud
	install -m 0755 $(B)/vanthu-convert $(DESTDIR)$(PREFIX)/lib/vanthu/vanthu-convert
	install -m 0755 $(B)/vanthuctl $(DESTDIR)$(PREFIX)/bin/vanthuctl
	install -m 0644 daemon/vanthuctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/vanthuctl.1
	install -m 0644 daemon/vanthu.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/vanthu.conf.5
	install -m 0644 daemon/vanthud.8 $(DESTDIR)$(PREFIX)/share/man/man8/vanthud.8
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' daemon/vanthud.service.in \
		> $(DESTDIR)$(UNITDIR)/vanthud.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vanthud.service
	@$(WF_PROGRAM) | while read -r f; do \
		install -D -m 0644 "workflows/$$f" "$(WF_SHARE)/$$f" || exit 1; \
	done
	install -m 0644 $(B)/templates/*.docx $(TPL_SHARE)/
	@# the office's files: once; one an earlier install left under share/ (and the office
	@# may have edited there) is carried over rather than the shipped one
	@for f in $$( $(WF_OFFICE) ); do \
		if [ -e "$(ETC_VANTHU)/$$f" ]; then \
			echo "make install: kept the office's $(SYSCONFDIR)/vanthu/$$f"; \
		elif [ -e "$(WF_SHARE)/$$f" ]; then \
			install -m 0644 "$(WF_SHARE)/$$f" "$(ETC_VANTHU)/$$f" || exit 1; \
			echo "make install: $(SYSCONFDIR)/vanthu/$$f: copied from the earlier install's $(PREFIX)/share/vanthu/workflows/$$f"; \
		else \
			install -m 0644 "workflows/$$f" "$(ETC_VANTHU)/$$f" || exit 1; \
		fi; \
	done
	@if [ -e $(ETC_VANTHU)/vanthu.conf ]; then \
		echo "make install: kept the office's $(SYSCONFDIR)/vanthu/vanthu.conf"; \
		grep -q '^[[:space:]]*units[[:space:]]*=' $(ETC_VANTHU)/vanthu.conf || \
			echo "make install: $(SYSCONFDIR)/vanthu/vanthu.conf has no [paths] units and calendar lines: add units = $(SYSCONFDIR)/vanthu/units.xml and calendar = $(SYSCONFDIR)/vanthu/calendar (vanthu.conf(5))"; \
	else \
		sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			daemon/vanthu.conf.example > $(ETC_VANTHU)/vanthu.conf && \
		chmod 0644 $(ETC_VANTHU)/vanthu.conf; \
	fi

# Removes the program files only: what the office wrote or edited stays, and is named.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/vanthud $(DESTDIR)$(PREFIX)/bin/vanthuctl \
		$(DESTDIR)$(PREFIX)/share/man/man1/vanthuctl.1 \
		$(DESTDIR)$(PREFIX)/share/man/man5/vanthu.conf.5 \
		$(DESTDIR)$(PREFIX)/share/man/man8/vanthud.8 $(DESTDIR)$(UNITDIR)/vanthud.service \
		$(DESTDIR)$(PREFIX)/lib/vanthu/vanthu-convert
	@[ ! -d $(DESTDIR)$(PREFIX)/lib/vanthu ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(PREFIX)/lib/vanthu
	@$(WF_PROGRAM) | while read -r f; do rm -f "$(WF_SHARE)/$$f"; done
	@for t in templates-docx/*/; do rm -f "$(TPL_SHARE)/$$(basename $$t).docx"; done
	@[ ! -d $(DESTDIR)$(PREFIX)/share/vanthu ] || \
		find $(DESTDIR)$(PREFIX)/share/vanthu -depth -type d -empty -delete
	@left=$$(find $(ETC_VANTHU) $(DESTDIR)$(PREFIX)/share/vanthu -type f 2>/dev/null | LC_ALL=C sort); \
	if [ -n "$$left" ]; then \
		echo "make uninstall: left the office's files (remove them by hand if they are no longer wanted):"; \
		echo "$$left" | sed 's|^$(DESTDIR)|  |'; \
	fi

clean:
	rm -rf build
