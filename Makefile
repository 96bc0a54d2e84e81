# moongate: handwritten GNU make. ./configure writes objs/Makefile.conf (CC CFLAGS LDFLAGS LIBS
# PREFIX) and objs/config.h; everything is built under objs/, mirroring the source tree.
#
#   make [all]        objs/moongate (and objs/libmoongate.a, the embeddable core)
#   make test         everything, then prove every t/**/*.t except t/bench and t/fuzz
#                     (two files at a time: PROVE_FLAGS=-j2 by default, PROVE_FLAGS= for one;
#                     TESTS="t/001-x.t ...", WERROR=1 to fail on warnings)
#   make unit         the C unit tests t/unit/test_*.c -> objs/unit/test_*
#   make check        the contracts CI keeps besides the tests: .ci/format-check (C lines changed
#                     since .ci/format-base formatted as .clang-format says) and
#                     .ci/unused-exports (no non-static symbol that no other file references)
#   make run          serve conf/moongate.conf from this tree in the foreground
#   make install      into $(DESTDIR)$(PREFIX), keeping existing config files: sbin/moongate,
#                     and the library: include/moongate.h, lib/libmoongate.{a,so},
#                     lib/pkgconfig/moongate.pc
#   make uninstall    remove what install put there but conf/, html/ and logs/
#   make docs         docs/directives.md from the modules' directive tables
#   make upgrade      replace the running server of $(PREFIX) by the installed binary: -t, then
#                     `moongate -s upgrade` (USR2, wait until the new workers serve, WINCH + QUIT)
#   make fuzz         libFuzzer targets t/fuzz/fuzz_*.c, FUZZ_TIME seconds each (default 60)
#   make bench        t/bench/run.sh (throughput), t/bench/reload.sh (reloads under load),
#                     t/bench/reload-time.sh (reload time, small and 10,000-location configs),
#                     t/bench/body.sh (CPU spent reading request bodies), t/bench/limits.sh
#                     (the cost of limit_req and limit_conn) and t/bench/syscalls.sh (system
#                     calls per request, counted with strace)
#   make clean        remove objs/ and test leftovers

.DEFAULT_GOAL := all

# `make clean` alone needs no configuration; everything else does.
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out clean,$(MAKECMDGOALS)),)
MG_NO_CONF := 1
endif
endif

ifndef MG_NO_CONF
include objs/Makefile.conf
endif

# Missing (first build, after `make clean`) or older than configure: (re-)run configure with the
# arguments it was last given. make then restarts and reads the new file.
objs/Makefile.conf: configure
	@if [ -f objs/configure.args ]; then \
	    echo "running ./configure $$(cat objs/configure.args)"; \
	    eval "./configure $$(cat objs/configure.args)"; \
	else \
	    echo "running ./configure"; ./configure; \
	fi

SRCS := $(wildcard core/*.c core/http/*.c core/stream/*.c modules/*.c lua/*.c)
OBJS := $(SRCS:%.c=objs/%.o)
LIB_OBJS := $(filter-out objs/core/main.o,$(OBJS))
UNIT_BINS := $(patsubst t/unit/%.c,objs/unit/%,$(wildcard t/unit/test_*.c))
INCS := -Iobjs -Icore -Icore/http -Icore/stream -Imodules -Ilua
TESTS ?= $(shell find t -name '*.t' -not -path 't/nginx/*' -not -path 't/bench/*' -not -path 't/fuzz/*' | sort)
# Two test files at a time: each file has its own servroot (t/servroot/<test>) and ports taken
# under flock, so files share nothing; waits in the tests are sized for a loaded machine.
# Not for test-nginx: OpenResty's harness gives every file the same t/servroot.
PROVE_FLAGS ?= -j2
TEST_NGINX_PROVE_FLAGS ?=
FUZZ_TIME ?= 60

# -fPIC: the same objects make the binary, libmoongate.a and libmoongate.so
OBJ_CFLAGS = $(CFLAGS) -fPIC
ALL_CFLAGS = $(OBJ_CFLAGS) $(if $(filter 1,$(WERROR)),-Werror)
VERSION := $(shell sed -n 's/^\#define MOONGATE_VERSION "\(.*\)"/\1/p' core/mg.h)
SONAME := libmoongate.so.$(firstword $(subst ., ,$(VERSION)))

.PHONY: all test test-nginx unit check run install uninstall docs upgrade fuzz bench clean

all: objs/moongate objs/libmoongate.so

# Every object depends on objs/Makefile.conf and the flags this Makefile adds (objs/cflags,
# rewritten when they change): a re-configure (e.g. --with-asan) or new flags rebuild all.
objs/%.o: %.c objs/Makefile.conf objs/cflags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCS) -MMD -MP -c -o $@ $<

# Recreated from scratch, and whenever the list of objects changes: an object of a deleted or
# renamed source left in the archive would clash under --whole-archive.
objs/libmoongate.a: $(LIB_OBJS) objs/libmoongate.list
	@rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

objs/libmoongate.list: FORCE
	@echo '$(LIB_OBJS)' | cmp -s - $@ || echo '$(LIB_OBJS)' > $@

objs/cflags: FORCE
	@echo '$(OBJ_CFLAGS)' | cmp -s - $@ || echo '$(OBJ_CFLAGS)' > $@

FORCE:

objs/libmoongate.so: objs/libmoongate.a
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -o $@ \
	    -Wl,--whole-archive objs/libmoongate.a -Wl,--no-whole-archive $(LIBS)

# moongate.pc, written by install for its PREFIX. The public header names libevent's and
# LuaJIT's types: a program using them gets their flags. The rpath lets a program built
# against a PREFIX outside the loader's path run as it is.
define write_pc
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include' 'libdir=$${prefix}/lib' '' \
	    'Name: moongate' \
	    'Description: reverse proxy and web server scriptable in LuaJIT, as a library' \
	    'Version: $(VERSION)' \
	    'Requires: luajit libevent' \
	    'Requires.private: libpcre2-8 zlib libcrypt openssl libnghttp2' \
	    'Cflags: -I$${includedir}' \
	    'Libs: -L$${libdir} -Wl,-rpath,$${libdir} -lmoongate' \
	    'Libs.private: -lm -ldl -lpthread' > $(1)
endef

# --whole-archive: modules are reached through the module table, not by symbol references from
# main.o, so the linker must not drop any member; -Wl,-E keeps the binary's symbols visible to
# code loaded at run time (Lua C modules through lua_package_cpath, LuaJIT's ffi.C).
objs/moongate: objs/core/main.o objs/libmoongate.a
	$(CC) $(LDFLAGS) -Wl,-E -o $@ objs/core/main.o \
	    -Wl,--whole-archive objs/libmoongate.a -Wl,--no-whole-archive $(LIBS)

# A unit test is a standalone program that may #include the .c it tests (h2o style); whatever
# else it calls comes from libmoongate.a, whose members are pulled in only for symbols still
# undefined, so the included .c never clashes with its own archive copy.
unit: $(UNIT_BINS)

$(UNIT_BINS): objs/unit/%: t/unit/%.c objs/libmoongate.a objs/Makefile.conf
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(INCS) -It/unit -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< \
	    objs/libmoongate.a $(LIBS)

# tools/docgen.c prints docs/directives.md from the directive tables (t/006-docs.t compares)
objs/docgen: tools/docgen.c objs/libmoongate.a objs/Makefile.conf
	$(CC) $(ALL_CFLAGS) $(INCS) -MMD -MP -MF $@.d $(LDFLAGS) -o $@ $< objs/libmoongate.a $(LIBS)

docs: objs/docgen
	@mkdir -p docs
	objs/docgen > docs/directives.md.tmp && mv docs/directives.md.tmp docs/directives.md
	objs/docgen --lua > docs/lua-api.md.tmp && mv docs/lua-api.md.tmp docs/lua-api.md

# With TEST_NGINX_LIB given, t/nginx/*.t (OpenResty's harness itself) run too
test: objs/moongate objs/libmoongate.so objs/docgen unit
	prove -I t/lib $(PROVE_FLAGS) $(TESTS)
	@if [ -n "$(TEST_NGINX_LIB)" ]; then \
	    $(MAKE) --no-print-directory test-nginx TEST_NGINX_FILES="$(wildcard t/nginx/*.t)"; \
	fi

# Some t/4xx files under OpenResty's Test::Nginx::Socket (TEST_NGINX_LIB: its lib/ directory),
# driving objs/moongate directly: t/nginx/lib/Test/Moongate.pm, loaded first (-m: the files'
# `use lib "t/lib"` would otherwise find the project's), hands `use Test::Moongate` to it.
TEST_NGINX_FILES = t/400-lua-directives.t t/401-lua-output.t t/402-lua-var-ctx-log.t \
	t/403-lua-header.t t/404-lua-req.t t/405-lua-string.t t/410-lua-shdict.t \
	t/436-lua-semaphore.t t/448-lua-nginx-string-cookie.t t/449-lua-nginx-websocket.t \
	t/450-lua-nginx-dns.t t/451-lua-nginx-redis-connector.t t/452-lua-balancer-tls-bind.t \
	t/453-lua-worker-thread.t t/455-lua-balancer-pools.t t/456-lua-nginx-memcached.t \
	t/457-lua-nginx-redis.t t/458-set-misc-base32.t t/459-lua-trim-thread-cache.t t/nginx/*.t
test-nginx: objs/moongate
	@if [ -z "$(TEST_NGINX_LIB)" ] || [ ! -f "$(TEST_NGINX_LIB)/Test/Nginx/Socket.pm" ]; then \
	    echo "test-nginx: skipped: set TEST_NGINX_LIB to the lib/ of OpenResty's test-nginx"; \
	else \
	    TEST_NGINX_BINARY=$(CURDIR)/objs/moongate PERL5OPT=-mTest::Moongate \
	    PERL5LIB=$(CURDIR)/t/nginx/lib:$(TEST_NGINX_LIB) prove $(TEST_NGINX_PROVE_FLAGS) $(TEST_NGINX_FILES); \
	fi

# unused-exports reads the objects of the build
check: objs/moongate
	sh .ci/format-check
	sh .ci/unused-exports

run: objs/moongate
	@mkdir -p logs
	objs/moongate -p $(CURDIR)/ -c conf/moongate.conf -g 'daemon off; master_process off;'

# As nginx: config files are always installed as NAME.default, and as NAME only when absent;
# html/ only when the directory does not exist yet.
install: objs/moongate objs/libmoongate.so
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/conf $(DESTDIR)$(PREFIX)/logs
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 objs/moongate $(DESTDIR)$(PREFIX)/sbin/moongate
	install -m 644 core/moongate.h $(DESTDIR)$(PREFIX)/include/moongate.h
	install -m 644 objs/libmoongate.a $(DESTDIR)$(PREFIX)/lib/libmoongate.a
	install -m 755 objs/libmoongate.so $(DESTDIR)$(PREFIX)/lib/libmoongate.so.$(VERSION)
	ln -sf libmoongate.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libmoongate.so
	$(call write_pc,$(DESTDIR)$(PREFIX)/lib/pkgconfig/moongate.pc)
	for f in conf/*; do \
	    [ -f "$$f" ] || continue; \
	    n=$${f#conf/}; \
	    install -m 644 "$$f" "$(DESTDIR)$(PREFIX)/conf/$$n.default"; \
	    [ -e "$(DESTDIR)$(PREFIX)/conf/$$n" ] || \
	        install -m 644 "$$f" "$(DESTDIR)$(PREFIX)/conf/$$n"; \
	done
	[ -d $(DESTDIR)$(PREFIX)/html ] || cp -R html $(DESTDIR)$(PREFIX)/html

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/moongate $(DESTDIR)$(PREFIX)/include/moongate.h \
	    $(DESTDIR)$(PREFIX)/lib/libmoongate.a $(DESTDIR)$(PREFIX)/lib/libmoongate.so \
	    $(DESTDIR)$(PREFIX)/lib/$(SONAME) $(DESTDIR)$(PREFIX)/lib/libmoongate.so.$(VERSION) \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/moongate.pc
	-rmdir $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/sbin 2>/dev/null

# `moongate -s upgrade` does the dance: USR2, wait until the new master's workers accept, then
# WINCH and QUIT the old master (it drains: nothing in flight is lost); when the new binary fails
# to start or to serve within upgrade_timeout, the old master serves on and it exits 1 saying why.
upgrade:
	$(PREFIX)/sbin/moongate -p $(PREFIX)/ -t
	$(PREFIX)/sbin/moongate -p $(PREFIX)/ -s upgrade

fuzz: objs/Makefile.conf
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_CFLAGS="$(DEP_CFLAGS)" FUZZ_LIBS="$(LIBS)" sh t/fuzz/run.sh

bench: objs/moongate
	bash t/bench/run.sh
	sh t/bench/reload.sh
	sh t/bench/reload-time.sh
	bash t/bench/body.sh
	bash t/bench/limits.sh
	bash t/bench/syscalls.sh

clean:
	rm -rf objs t/servroot*

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) objs/docgen.d
