# antiban: PGXS build.  `make && make install`, then `make installcheck`
# (pg_regress and TAP tests against a temporary, preloaded instance).

EXTENSION   = antiban
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" antiban.control)
MODULE_big  = antiban

CORE_SRCS   = $(wildcard src/core/*.c)
PG_SRCS     = $(wildcard src/pg/*.c) $(wildcard src/worker/*.c)
CLOUDAPI_SRCS = $(wildcard src/cloudapi/*.c)
OBJS        = $(CORE_SRCS:.c=.o) $(CLOUDAPI_SRCS:.c=.o) $(PG_SRCS:.c=.o)

# The lead model's corpus is part of the install script (67_lead_corpus.sql,
# generated): CREATE EXTENSION trains the default model on it.
LEAD_CORPUS = regress/lead_corpus/pt.txt regress/lead_corpus/es.txt regress/lead_corpus/en.txt
LEAD_CORPUS_SQL = src/sql/67_lead_corpus.sql
SQL_PARTS   = $(sort $(wildcard src/sql/*.sql) $(LEAD_CORPUS_SQL))
DATA_built  = antiban--$(EXTVERSION).sql antiban--0.1.0--$(EXTVERSION).sql
# 0.1.0 as released, and the upgrade from it: src/sql/upgrade/before.sql, the
# whole install script, src/sql/upgrade/after.sql (see before.sql for why)
DATA        = src/sql/upgrade/antiban--0.1.0.sql
# stop words without accents (they are matched after unaccent), negations kept
DATA_TSEARCH = $(wildcard src/tsearch/*.stop)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=regress/regress.conf
TAP_TESTS    = 1
PROVE_TESTS  = regress/t/*.pl

PG_CPPFLAGS = -Isrc -std=gnu11 -I/usr/include/json-c -DANTIBAN_VERSION='"$(EXTVERSION)"'
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare -Wno-cast-function-type
SHLIB_LINK  = -lcurl -ljson-c -lcrypto -llinear -lm

EXTRA_CLEAN = antiban--*.sql $(LEAD_CORPUS_SQL) regress/unit/run_unit_tests regress/transport/transport_check tmp_check tmp_check_iso \
              results regression.diffs regression.out log regress/fuzz/bin src/dashboard/dist

# The JIT's bitcode would only inline our SQL-callable functions: skip it.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: any header change rebuilds every object.
$(OBJS): $(wildcard src/*/*.h)

# The webhook receiver (installed next to PostgreSQL's programs) and the
# Cloud API simulator the integration tests and the demo talk to.
all: src/receiver/antiban-receiver regress/simulator/antiban-sim dashboard
src/receiver/antiban-receiver: $(wildcard src/receiver/*.c src/receiver/*.h) src/core/open_files.h Makefile
	$(MAKE) -C src/receiver DASHBOARD_DIR='$(dashboard_dir)'

install: install-receiver install-dashboard
install-receiver: src/receiver/antiban-receiver
	$(INSTALL_PROGRAM) src/receiver/antiban-receiver '$(DESTDIR)$(bindir)/antiban-receiver'

# The dashboard page the receiver's admin listener serves: our HTML, CSS and
# JS plus uPlot from npm (`npm ci` against the committed package-lock.json),
# copied into src/dashboard/dist and installed into PostgreSQL's share
# folder, where the receiver looks by default (--admin-assets).  Nothing is
# fetched at run time.
dashboard_dir   = $(datadir)/antiban_dashboard
DASHBOARD_PAGE  = $(addprefix src/dashboard/,index.html app.js style.css)
DASHBOARD_LIB   = $(addprefix src/dashboard/node_modules/uplot/dist/,uPlot.iife.min.js uPlot.min.css)
dashboard: src/dashboard/dist/.built
src/dashboard/node_modules/.package-lock.json: src/dashboard/package.json src/dashboard/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: it builds the dashboard page (Debian: apt-get install nodejs npm; or sh regress/install-deps.sh build)" >&2; exit 1; }
	cd src/dashboard && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
$(DASHBOARD_LIB): src/dashboard/node_modules/.package-lock.json
src/dashboard/dist/.built: $(DASHBOARD_PAGE) $(DASHBOARD_LIB)
	@mkdir -p src/dashboard/dist
	cp $(DASHBOARD_PAGE) $(DASHBOARD_LIB) src/dashboard/dist/
	@touch $@
install-dashboard: dashboard
	$(MKDIR_P) '$(DESTDIR)$(dashboard_dir)'
	$(INSTALL_DATA) $(addprefix src/dashboard/dist/,$(notdir $(DASHBOARD_PAGE) $(DASHBOARD_LIB))) '$(DESTDIR)$(dashboard_dir)/'

regress/simulator/antiban-sim: $(wildcard regress/simulator/*.c regress/simulator/*.h)
	$(MAKE) -C regress/simulator

# What a failed POST means, on a real libcurl against misbehaving servers (TAP 039).
all: regress/transport/transport_check
regress/transport/transport_check: regress/transport/transport_check.c src/cloudapi/transport.c src/core/transport_outcome.c $(wildcard src/cloudapi/*.h src/core/*.h)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Isrc -o $@ $(filter %.c,$^) -lcurl

antiban--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

antiban--0.1.0--$(EXTVERSION).sql: src/sql/upgrade/before.sql $(SQL_PARTS) src/sql/upgrade/after.sql
	cat $^ > $@

$(LEAD_CORPUS_SQL): $(LEAD_CORPUS)
	@! grep -q 'lead_corpus[$$]' $^ || { echo "the corpus may not contain the quote tag" >&2; exit 1; }
	{ echo '-- Generated from $^ by the Makefile: the default lead model, trained at install.'; \
	  echo 'INSERT INTO antiban.lead_training_examples (portfolio_id, source, example_key, won, texts, engagement, observed_at)'; \
	  echo 'SELECT NULL, '"'"'corpus'"'"', example_key, won, texts, engagement, observed_at'; \
	  echo 'FROM antiban.lead_corpus_examples($$lead_corpus$$'; \
	  cat $^; \
	  echo '$$lead_corpus$$);'; \
	  echo "SELECT antiban.train_lead_model(source => 'corpus', activate => 'always');"; } > $@

# C unit tests of src/core: no server, no PostgreSQL headers (cmocka).
UNIT_SRCS = $(wildcard regress/unit/test_*.c)
regress/unit/run_unit_tests: $(UNIT_SRCS) regress/unit/main.c $(CORE_SRCS) $(wildcard src/core/*.h)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -Isrc -I/usr/include/json-c -o $@ regress/unit/main.c $(UNIT_SRCS) $(CORE_SRCS) -lcmocka -ljson-c -lm

unit: regress/unit/run_unit_tests
	regress/unit/run_unit_tests

# Fuzzing (libFuzzer, clang-14): each regress/fuzz/fuzz_NAME.c is one
# harness, linked with all of src/core and the receiver's plain-C parsers,
# seeded from regress/fuzz/corpus/NAME/ when that folder exists.  Adding a
# harness is adding one file: `make fuzz` builds regress/fuzz/bin/fuzz_NAME,
# regress/fuzz/run.sh (run by run-tests.sh) runs every one it finds.
FUZZ_CC      = clang-14
FUZZ_CFLAGS  = -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -Wall -Wextra -Wno-unused-parameter -Isrc -I/usr/include/json-c
FUZZ_LINKED  = $(CORE_SRCS) src/receiver/body.c src/receiver/text_param.c src/receiver/log.c
FUZZ_NAMES   = $(patsubst regress/fuzz/fuzz_%.c,%,$(wildcard regress/fuzz/fuzz_*.c))
regress/fuzz/bin/fuzz_%: regress/fuzz/fuzz_%.c $(FUZZ_LINKED) $(wildcard src/core/*.h src/receiver/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LINKED) -ljson-c -lm

fuzz: $(FUZZ_NAMES:%=regress/fuzz/bin/fuzz_%)

clean: clean-tools
clean-tools:
	$(MAKE) -C regress/simulator clean
	$(MAKE) -C src/receiver clean

.PHONY: unit clean-tools install-receiver fuzz dashboard install-dashboard
