# jconnect - see README.md.  `make check` is the test command; `make demo`
# runs against a local sandbox.  Both install missing Debian packages first.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib/jconnect
MANDIR	?= $(PREFIX)/share/man
DESTDIR	?=
CC	?= cc
PKG_CONFIG ?= pkg-config
WERROR	?= 1
SAN	?=
VERSION	= 0.1.0

PKGS	= libssh libcurl libpcre2-8 libcjson expat libcrypto
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lwslay -ldl
# Only the SSM and EICE plugins use libssl (their WebSocket's TLS reads);
# the SSH path does not load it.
SSL_LIBS   := $(shell $(PKG_CONFIG) --libs libssl 2>/dev/null)
ssm_LIBS   := $(SSL_LIBS)
eice_LIBS  := $(SSL_LIBS)
# The binary loads libcurl on first use (core/aws/curl_lazy.c): not linked.
CORE_LIBS  := $(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS)) \
	      2>/dev/null) -ldl

WARN	= -Wall -Wextra -Wpointer-arith -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wformat=2 -Wformat-security \
	  -Wimplicit-fallthrough -Wsign-compare -Wundef -Wwrite-strings -Wvla
ifeq ($(WERROR),1)
WARN	+= -Werror
endif
HARDEN	= -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=all
HARDEN	=
OPT	= -O1
else
SANFLAGS =
OPT	= -O2
endif
CFLAGS	?= $(OPT) -g
# PORTABLE=1: core/io/compat.c's non-Linux fallbacks, as macOS builds them.
ifeq ($(PORTABLE),1)
CPPFLAGS += -DJC_PORTABLE
endif
CPPFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	    -DJC_VERSION=\"$(VERSION)\" -DJC_LIBDIR=\"$(LIBDIR)\" -Icore \
	    $(addprefix -Icore/,$(CORE_DIRS)) -I$(B)/gen
ALLCFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) $(HARDEN) $(SANFLAGS) \
	    $(DEP_CFLAGS) -fPIC -MMD -MP
LDFLAGS_ALL = $(SANFLAGS) -Wl,-z,relro,-z,now

B	= build
# core/ by concern: the commands (cmd), the access layer above the plugins
# (access), the AWS client and resolution (aws), Jupyter on the remote
# (jupyter), and the I/O underneath (io); jc.h and jc_plugin.h at the top.
CORE_DIRS = access aws cmd io jupyter
CORE_SRC = $(wildcard $(addsuffix /*.c,$(addprefix core/,$(CORE_DIRS))))
CORE_OBJ = $(CORE_SRC:%.c=$(B)/%.o)
LIB_OBJ	= $(filter-out $(B)/core/cmd/main.o,$(CORE_OBJ))
# The one list of plugins: built, installed, and known to the core (their
# order is --via auto's tie-break).  To add one, see README "How to add an
# access plugin".
PLUGINS	= ssh ssm keys eice
PLUGIN_SO = $(foreach p,$(PLUGINS),plugins/$(p)/jc-$(p).so)
PLUGIN_AR = $(foreach p,$(PLUGINS),$(B)/plugins/$(p)/lib$(p).a)

# The remote shell scripts are .sh files (shellcheck reads them, see
# tests/integration/t_shellcheck.sh); each becomes B/gen/PATH.sh.inc, a C
# string literal of the same bytes that its .c file includes.
SH_SRC	= $(wildcard core/*/sh/*.sh plugins/*/*.sh)
SH_INC	= $(SH_SRC:%=$(B)/gen/%.inc)

UNIT_SRC = $(wildcard tests/unit/test_*.c)
# cmocka programs that need the rig (real Jupyter, the fake agent) live
# with the integration tests; they build and run beside the unit tests.
LIVE_SRC = $(wildcard tests/integration/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%) \
	   $(LIVE_SRC:tests/integration/%.c=$(B)/tests/%)
UNIT_HELP = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_HOBJ = $(UNIT_HELP:%.c=$(B)/%.o)
TEST_SO	= $(B)/tests/plugins/jc-dummy.so $(B)/tests/plugins/jc-badabi.so \
	  $(B)/tests/plugins/jc-old13.so
TOOLS	= $(B)/tests/tools/blast
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(B)/tests/replay_%)

.PHONY: all gen deps demo check check-run check-unit valgrind asan fuzz bench \
	bench-lab soak install clean tests portable-check \
	check-trixie deb deb-check
all: jconnect $(PLUGIN_SO)

$(B)/%.o: %.c | $(SH_INC)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

# Lines starting with '#' (comments, shellcheck directives) are dropped;
# every other line becomes "LINE\n" with \ " and ? escaped (\? keeps C's
# trigraphs such as ??= out).  The .d files make the objects follow.
$(B)/gen/%.sh.inc: %.sh
	@mkdir -p $(dir $@)
	sed -e '/^[[:space:]]*#/d' -e 's/[\\"?]/\\&/g' -e 's/^/"/' \
	    -e 's/$$/\\n"/' $< >$@.tmp && mv $@.tmp $@

gen: $(SH_INC)

$(B)/libjc.a: $(LIB_OBJ)
	@rm -f $@; ar rcs $@ $^

jconnect: $(CORE_OBJ)
	$(CC) $(LDFLAGS_ALL) -pie -o $@ $(CORE_OBJ) -Wl,--as-needed \
	    $(CORE_LIBS) -lm

# Core helpers compiled into each plugin with hidden visibility, so plugins
# need no core symbols at run time (unit tests get them from libjc.a).
PCOMMON_OBJ = $(B)/pcommon/buf.o $(B)/pcommon/http_head.o \
	      $(B)/pcommon/rscript.o $(B)/pcommon/tls_hint.o
PCOMMON_OBJ += $(B)/pcommon/compat.o
vpath %.c $(addprefix core/,$(CORE_DIRS))
$(B)/pcommon/%.o: %.c | $(SH_INC)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -c -o $@ $<

# An empty object keeps `ar` happy for a plugin folder without sources yet.
$(B)/.empty.o:
	@mkdir -p $(B); echo 'typedef int jc_empty;' | $(CC) -x c -c -o $@ -

# Each plugin: a static archive (unit tests link it) and jc-NAME.so.
define plugin_rules
$(1)_OBJ = $$(patsubst %.c,$(B)/%.o,$$(wildcard plugins/$(1)/*.c))
$(B)/plugins/$(1)/lib$(1).a: $$($(1)_OBJ) $(B)/.empty.o
	@mkdir -p $$(dir $$@); rm -f $$@; ar rcs $$@ $$^
plugins/$(1)/jc-$(1).so: $$($(1)_OBJ) $$($(1)_EXTRA) $(PCOMMON_OBJ)
	$(CC) $(LDFLAGS_ALL) -shared -fvisibility=hidden -o $$@ $$^ $(DEP_LIBS) \
	    $$($(1)_LIBS)
	@chmod go-w $$@	# the loader refuses group/world-writable plugins
endef
# EICE runs the ssh plugin's session over the SSM plugin's WebSocket code.
eice_EXTRA = $(B)/plugins/ssh/jssh_session.o $(B)/plugins/ssh/jssh_chan.o \
	     $(B)/plugins/ssm/ssm_ws.o
$(foreach p,$(PLUGINS),$(eval $(call plugin_rules,$(p))))
# The core knows the plugins by this list alone.
$(B)/core/access/plugin.o: ALLCFLAGS += -DJC_PLUGINS='"$(PLUGINS)"'
$(B)/core/access/plugin.o: Makefile
$(foreach p,$(PLUGINS),$(eval $(B)/plugins/$(p)/%.o: ALLCFLAGS += -fvisibility=hidden))

$(B)/tests/plugins/jc-%.so: tests/plugins/jc-%.c core/jc_plugin.h
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS_ALL) -shared -fvisibility=hidden -o $@ $<

define unit_rule
$(B)/tests/%: $(1)/%.c $(B)/libjc.a $(PLUGIN_AR) $(UNIT_HOBJ)
	@mkdir -p $$(dir $$@)
	$(CC) $$(ALLCFLAGS) $$(LDFLAGS_ALL) -o $$@ $$< $(UNIT_HOBJ) $(PLUGIN_AR) \
	    $(B)/libjc.a $$(DEP_LIBS) $$(SSL_LIBS) -lcmocka -lm
endef
$(foreach d,tests/unit tests/integration,$(eval $(call unit_rule,$(d))))

# Each fuzz target also builds as a plain corpus replayer for make check.
$(B)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(B)/libjc.a \
    $(PLUGIN_AR)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS_ALL) -o $@ $< tests/fuzz/replay.c \
	    $(PLUGIN_AR) $(B)/libjc.a $(DEP_LIBS) $(SSL_LIBS) -lm

$(B)/tests/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(LDFLAGS_ALL) -o $@ $<

tests: all $(UNIT_BIN) $(TEST_SO) $(TOOLS) $(REPLAY_BIN)

deps:
	@sh tests/rig/deps.sh

# Re-invoke make after deps so pkg-config sees freshly installed packages.
demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/rig/demo.sh

check: deps
	@$(MAKE) --no-print-directory tests
	@$(MAKE) --no-print-directory check-run

check-run:
	@sh tests/run.sh $(B)

check-unit: tests
	@sh tests/run.sh $(B) unit

# Only the fault tests, every jconnect run under valgrind (part of check).
valgrind: deps
	@$(MAKE) --no-print-directory tests
	@sh tests/run.sh $(B) valgrind

asan: deps
	@$(MAKE) --no-print-directory clean
	@$(MAKE) --no-print-directory SAN=1 tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(MAKE) --no-print-directory SAN=1 check-run

fuzz: deps
	@sh tests/fuzz/run.sh

# Hours of a notebook tab, compressed into minutes, with faults; not part
# of check (SOAK_ARGS="--minutes 30" by default).
SOAK_ARGS ?= --minutes 30
soak: deps
	@$(MAKE) --no-print-directory all
	@/usr/bin/python3 tests/soak/soak.py $(SOAK_ARGS)

# The lab rows also need debootstrap (a Debian 13 remote, built once and
# cached outside the tree) and golang-go (AWS's plugin, side by side).
bench: deps
	@sh tests/rig/deps.sh bench
	@$(MAKE) --no-print-directory all $(TOOLS)
	@sh tests/bench/run.sh

# Only the realistic rows (JupyterLab 4, paced agent, AWS 100 ms away).
bench-lab: deps
	@sh tests/rig/deps.sh bench
	@$(MAKE) --no-print-directory all $(TOOLS)
	@BENCH_ONLY=lab sh tests/bench/run.sh

# core/io/compat.c's portable fallbacks (what macOS runs) forced on here, in
# a copy of the tree (build-portable/): no Linux-only call left outside
# compat.c, the unit tests, and the integration tests of what the
# fallbacks do: background tunnels told apart from reused pids (ps),
# plugins loaded by path, the browser page.  (t_state plants /proc start
# times and checks /proc/PID/environ, both Linux's.)
PORTABLE_TESTS = unit t_background t_browser t_ssh_open t_ssm_open
portable-check: deps
	@sh tests/rig/srccopy.sh build-portable
	@$(MAKE) --no-print-directory -C build-portable PORTABLE=1 tests
	@cd build-portable && sh tests/rig/linux_only.sh build
	@cd build-portable && for t in $(PORTABLE_TESTS); do \
	    sh tests/run.sh build $$t || exit 1; done

# Debian 13 (GCC 14, libssh 0.11, libcurl 8, OpenSSL 3.5): -Werror build
# and unit tests in a debootstrapped root, cached outside the tree.
# Both roots need root (debootstrap, mount, chroot): sudo when not root.
AS_ROOT	= $(shell [ "$$(id -u)" = 0 ] || echo sudo)
check-trixie:
	@sh tests/rig/deps.sh deb
	@$(AS_ROOT) sh tests/rig/trixie_build.sh

# The Debian package, built by dpkg-buildpackage from debian/ in a copy of
# the tree (B/deb), checked by lintian, left here as jconnect_V_ARCH.deb.
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null || echo amd64)
DEB	= jconnect_$(VERSION)_$(DEB_ARCH).deb
deb: deps
	@sh tests/rig/deps.sh deb
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); \
	    [ "$$v" = "$(VERSION)" ] || { echo "make deb: debian/changelog" \
	    "is at $$v, the Makefile at $(VERSION): add an entry with" \
	    "dch -v $(VERSION)" >&2; exit 1; }
	@rm -rf $(B)/deb
	@sh tests/rig/srccopy.sh $(B)/deb/jconnect-$(VERSION)
	cd $(B)/deb/jconnect-$(VERSION) && dpkg-buildpackage -us -uc -j2
	lintian --fail-on error,warning --info --display-info \
	    $(B)/deb/jconnect_$(VERSION)_$(DEB_ARCH).changes
	cp $(B)/deb/$(DEB) $(DEB)
	@echo "make deb: $(DEB)"

# The package installed into a fresh Debian 12 root (apt resolves its
# Depends), then --version, plugins and the demo's connection from there.
deb-check: deb
	@$(AS_ROOT) sh tests/rig/deb_check.sh $(DEB)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 jconnect $(DESTDIR)$(BINDIR)/jconnect
	for p in $(PLUGINS); do \
	    install -m 0644 plugins/$$p/jc-$$p.so $(DESTDIR)$(LIBDIR)/; done
	install -m 0644 jconnect.1 $(DESTDIR)$(MANDIR)/man1/jconnect.1
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0644 completions/jconnect.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/jconnect
	install -m 0644 completions/_jconnect \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_jconnect

clean:
	rm -rf $(B) jconnect $(PLUGIN_SO) $(DEB)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
