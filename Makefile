# antiban: PGXS build.  `make && make install`, then `make installcheck`
# (pg_regress and TAP tests against a temporary, preloaded instance).

EXTENSION   = antiban
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" antiban.control)
MODULE_big  = antiban

CORE_SRCS   = $(wildcard src/core/*.c)
PG_SRCS     = $(wildcard src/pg/*.c) $(wildcard src/worker/*.c)
CLOUDAPI_SRCS = $(wildcard src/cloudapi/*.c)
OBJS        = $(CORE_SRCS:.c=.o) $(CLOUDAPI_SRCS:.c=.o) $(PG_SRCS:.c=.o)

SQL_PARTS   = $(sort $(wildcard src/sql/*.sql))
DATA_built  = antiban--$(EXTVERSION).sql

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=regress/regress.conf
TAP_TESTS    = 1
PROVE_TESTS  = regress/t/*.pl

PG_CPPFLAGS = -Isrc -std=gnu11 -I/usr/include/json-c -DANTIBAN_VERSION='"$(EXTVERSION)"'
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-sign-compare -Wno-cast-function-type
SHLIB_LINK  = -lcurl -ljson-c -lcrypto -lm

EXTRA_CLEAN = antiban--*.sql regress/unit/run_unit_tests tmp_check tmp_check_iso \
              results regression.diffs regression.out log

# The JIT's bitcode would only inline our SQL-callable functions: skip it.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies: any header change rebuilds every object.
$(OBJS): $(wildcard src/*/*.h)

# The webhook receiver (installed next to PostgreSQL's programs) and the
# Cloud API simulator the integration tests and the demo talk to.
all: src/receiver/antiban-receiver regress/simulator/antiban-sim
src/receiver/antiban-receiver: $(wildcard src/receiver/*.c src/receiver/*.h)
	$(MAKE) -C src/receiver

install: install-receiver
install-receiver: src/receiver/antiban-receiver
	$(INSTALL_PROGRAM) src/receiver/antiban-receiver '$(DESTDIR)$(bindir)/antiban-receiver'

regress/simulator/antiban-sim: $(wildcard regress/simulator/*.c regress/simulator/*.h)
	$(MAKE) -C regress/simulator

antiban--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

# C unit tests of src/core: no server, no PostgreSQL headers (cmocka).
UNIT_SRCS = $(wildcard regress/unit/test_*.c)
regress/unit/run_unit_tests: $(UNIT_SRCS) regress/unit/main.c $(CORE_SRCS) $(wildcard src/core/*.h)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -Isrc -o $@ regress/unit/main.c $(UNIT_SRCS) $(CORE_SRCS) -lcmocka -lm

unit: regress/unit/run_unit_tests
	regress/unit/run_unit_tests

clean: clean-tools
clean-tools:
	$(MAKE) -C regress/simulator clean
	$(MAKE) -C src/receiver clean

.PHONY: unit clean-tools install-receiver
