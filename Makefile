# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Hypertrace top-level build.
#
#   make               build everything into build/ (host binaries in build/bin/)
#   make check         every test (plain and ASan+UBSan), fuzz smoke, freestanding check,
#                      and the patched kernel booted under QEMU (builds it first)
#   make check-series  each kernel patch builds on its own; checkpatch (slow)
#   make bench         benchmarks, with the commands that produced each figure
#   make fuzz          a long libFuzzer run (FUZZ_SECONDS=600)
#   make deps          install the Debian packages the project needs (root)
#   make kernel        patch and build a kernel (KSRC=your tree, default Debian's 6.1)
#   make initramfs     the test initramfs (build/initramfs.cpio.gz)
#   make demo          build all that, boot it under QEMU, decode the trace
#   make clean
#
# V=1 shows the commands.

B	:= build
CC	?= cc
CLANG	?= clang

HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# lib/ is kernel code: GNU C, freestanding-safe
LIB_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror
INC	    := -Ilib -Ilibhtrace -Itests
TEST_PLAT   := -Ilib/tests -DHT_PLATFORM_HEADER='"ht_test_platform.h"'
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all \
	       -fno-omit-frame-pointer
PTHREAD     := -pthread

# lib/*_linux.c is the kernel platform: built only inside the kernel
LIB_SRCS     := $(filter-out %_linux.c,$(wildcard lib/*.c))
LIBHTRACE_SRCS := $(wildcard libhtrace/*.c)
TOOL_SRCS    := $(wildcard tools/*.c)
COLLECTOR_SRCS := $(wildcard host-collector/*.c)
TRACEFS_CFLAGS := $(shell pkg-config --cflags libtracefs libtraceevent 2>/dev/null)
TRACEFS_LIBS   := $(shell pkg-config --libs libtracefs libtraceevent 2>/dev/null || echo -ltracefs -ltraceevent)
COLLECTOR_LIBS := -ljansson -lelf -lz $(TRACEFS_LIBS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Objects: plain ($(B)/obj) and sanitized ($(B)/asan) trees
obj	= $(patsubst %.c,$(B)/obj/%.o,$(1))
asan	= $(patsubst %.c,$(B)/asan/%.o,$(1))

LIB_HOSTED  := $(B)/obj/libht-hosted.a
LIB_HOSTED_ASAN := $(B)/asan/libht-hosted.a
LIBHTRACE   := $(B)/obj/libhtrace.a
LIBHTRACE_ASAN := $(B)/asan/libhtrace.a

TEST_NAMES  := lib/tests/test_lib lib/tests/test_stress libhtrace/tests/test_reader \
	       libhtrace/tests/test_tracefile
TESTS	    := $(patsubst %,$(B)/tests/%,$(notdir $(TEST_NAMES)))
TESTS_ASAN  := $(patsubst %,$(B)/tests/asan-%,$(notdir $(TEST_NAMES)))

BINS	    := $(B)/bin/hypertrace $(B)/bin/hypertrace-collector

.PHONY: all check check-asan check-series fuzz bench deps clean kernel initramfs demo
.SUFFIXES:

all: $(BINS) $(TESTS) $(B)/tests/test_chan_kvm $(B)/tests/test_clock_kvm

# ---- guest library, hosted (tests and benchmarks) ---------------------------

$(B)/obj/lib/%.o: lib/%.c $(wildcard lib/*.h lib/tests/*.h)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(LIB_CFLAGS) $(TEST_PLAT) $(INC) -c $< -o $@

$(B)/asan/lib/%.o: lib/%.c $(wildcard lib/*.h lib/tests/*.h)
	@mkdir -p $(@D)
	@echo "  CC [S]  $<"
	$(Q)$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) $(TEST_PLAT) $(INC) -c $< -o $@

$(LIB_HOSTED): $(call obj,$(LIB_SRCS) lib/tests/ht_test_platform.c)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_HOSTED_ASAN): $(call asan,$(LIB_SRCS) lib/tests/ht_test_platform.c)
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- guest library, freestanding (tests/freestanding.t builds it) ----------

# Only the compiler's own headers and the kernel's UAPI headers: any libc
# header pulled into lib/ fails that build.
$(B)/fsinc/.stamp:
	@mkdir -p $(@D)
	$(Q)ln -sfn /usr/include/linux $(@D)/linux
	$(Q)ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	$(Q)ln -sfn /usr/include/$(shell $(CC) -dumpmachine)/asm $(@D)/asm
	$(Q)touch $@

# ---- host reader library -----------------------------------------------------

$(B)/obj/libhtrace/%.o: libhtrace/%.c $(wildcard libhtrace/*.h lib/hypertrace_abi.h)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) -c $< -o $@

$(B)/asan/libhtrace/%.o: libhtrace/%.c $(wildcard libhtrace/*.h lib/hypertrace_abi.h)
	@mkdir -p $(@D)
	@echo "  CC [S]  $<"
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(INC) -c $< -o $@

$(LIBHTRACE): $(call obj,$(LIBHTRACE_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBHTRACE_ASAN): $(call asan,$(LIBHTRACE_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- tools -------------------------------------------------------------------

# the HTML report's template, as a C string
$(B)/gen/report_html.h: tools/report.html.in
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

$(B)/obj/tools/cmd_html.o: $(B)/gen/report_html.h

$(B)/obj/tools/%.o: tools/%.c $(wildcard tools/*.h libhtrace/*.h lib/hypertrace_abi.h)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) -I$(B)/gen -c $< -o $@

$(B)/bin/hypertrace: $(call obj,$(TOOL_SRCS)) $(LIBHTRACE)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ -lz -lelf -ljansson -lm

# ---- host collector ----------------------------------------------------------

$(B)/obj/host-collector/%.o: host-collector/%.c $(wildcard host-collector/*.h libhtrace/*.h lib/hypertrace_abi.h)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) -Ihost-collector $(TRACEFS_CFLAGS) -c $< -o $@

$(B)/bin/hypertrace-collector: $(call obj,$(COLLECTOR_SRCS)) $(LIBHTRACE)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $^ $(COLLECTOR_LIBS)

# hypertrace under ASan+UBSan, for the tests that feed it damaged traces
$(B)/bin/asan-hypertrace: $(TOOL_SRCS) $(LIBHTRACE_SRCS) $(wildcard tools/*.h libhtrace/*.h) $(B)/gen/report_html.h
	@mkdir -p $(@D)
	@echo "  LD [S]  $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(INC) -I$(B)/gen -o $@ $(TOOL_SRCS) $(LIBHTRACE_SRCS) \
		-lz -lelf -ljansson -lm

# the same under ASan+UBSan, for the hostile-guest test
$(B)/bin/asan-hypertrace-collector: $(COLLECTOR_SRCS) $(LIBHTRACE_SRCS) $(wildcard host-collector/*.h libhtrace/*.h)
	@mkdir -p $(@D)
	@echo "  LD [S]  $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(INC) -Ihost-collector $(TRACEFS_CFLAGS) -o $@ \
		$(COLLECTOR_SRCS) $(LIBHTRACE_SRCS) $(COLLECTOR_LIBS)

# ---- tests -------------------------------------------------------------------

# the hypercall channel against a uprobe stand-in for kvm:kvm_hypercall
HC_INC   := -Ihost-collector -Ihost-collector/tests
HC_DEPS  := $(wildcard host-collector/*.h host-collector/tests/*.h) $(wildcard tests/*.h lib/*.h)
HC_TESTS := $(B)/tests/test_chan_kvm $(B)/tests/asan-test_chan_kvm \
	    $(B)/tests/test_clock_kvm $(B)/tests/asan-test_clock_kvm

$(B)/tests/fake_vcpu: host-collector/tests/fake_vcpu.c $(HC_DEPS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) $(HC_INC) $(PTHREAD) -o $@ $<

$(B)/tests/test_chan_kvm: host-collector/tests/test_chan_kvm.c host-collector/chan_kvm.c $(HC_DEPS) $(B)/tests/fake_vcpu
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) $(HC_INC) $(TRACEFS_CFLAGS) -o $@ $(filter %.c,$^) $(TRACEFS_LIBS)

$(B)/tests/asan-test_chan_kvm: host-collector/tests/test_chan_kvm.c host-collector/chan_kvm.c $(HC_DEPS) $(B)/tests/fake_vcpu
	@mkdir -p $(@D)
	@echo "  LD [S]  $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(INC) $(HC_INC) $(TRACEFS_CFLAGS) -o $@ $(filter %.c,$^) $(TRACEFS_LIBS)

# the KVM TSC-offset clock against a fake debugfs tree
CK_DEPS := host-collector/clock_kvm.h libhtrace/tracefile.h tests/tap.h

$(B)/tests/test_clock_kvm: host-collector/tests/test_clock_kvm.c host-collector/clock_kvm.c $(CK_DEPS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) $(HC_INC) -o $@ $(filter %.c,$^)

$(B)/tests/asan-test_clock_kvm: host-collector/tests/test_clock_kvm.c host-collector/clock_kvm.c $(CK_DEPS)
	@mkdir -p $(@D)
	@echo "  LD [S]  $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(INC) $(HC_INC) -o $@ $(filter %.c,$^)

TEST_DEPS := $(wildcard tests/*.h lib/*.h lib/tests/*.h libhtrace/*.h)

$(B)/tests/test_lib: lib/tests/test_lib.c $(LIB_HOSTED) $(LIBHTRACE) $(TEST_DEPS)
$(B)/tests/test_stress: lib/tests/test_stress.c $(LIB_HOSTED) $(LIBHTRACE) $(TEST_DEPS)
$(B)/tests/test_reader: libhtrace/tests/test_reader.c $(LIB_HOSTED) $(LIBHTRACE) $(TEST_DEPS)
$(B)/tests/asan-test_lib: lib/tests/test_lib.c $(LIB_HOSTED_ASAN) $(LIBHTRACE_ASAN) $(TEST_DEPS)
$(B)/tests/asan-test_stress: lib/tests/test_stress.c $(LIB_HOSTED_ASAN) $(LIBHTRACE_ASAN) $(TEST_DEPS)
$(B)/tests/asan-test_reader: libhtrace/tests/test_reader.c $(LIB_HOSTED_ASAN) $(LIBHTRACE_ASAN) $(TEST_DEPS)
$(B)/tests/test_tracefile: libhtrace/tests/test_tracefile.c $(LIB_HOSTED) $(LIBHTRACE) $(TEST_DEPS)
$(B)/tests/asan-test_tracefile: libhtrace/tests/test_tracefile.c $(LIB_HOSTED_ASAN) $(LIBHTRACE_ASAN) $(TEST_DEPS)

$(B)/tests/test_%:
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LIB_CFLAGS) $(TEST_PLAT) $(INC) $(PTHREAD) -o $@ \
		$(filter %.c %.a,$^) -lz -lelf

$(B)/tests/asan-test_%:
	@mkdir -p $(@D)
	@echo "  LD [S]  $@"
	$(Q)$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) $(TEST_PLAT) $(INC) $(PTHREAD) -o $@ \
		$(filter %.c %.a,$^) -lz -lelf

$(B)/tests/test_stats: tools/tests/test_stats.c tools/stats.c tools/stats.h $(TEST_DEPS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(INC) -Itools -o $@ $(filter %.c,$^) -lm

$(B)/tests/asan-test_stats: tools/tests/test_stats.c tools/stats.c tools/stats.h $(TEST_DEPS)
	@mkdir -p $(@D)
	@echo "  LD [S]  $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) $(INC) -Itools -o $@ $(filter %.c,$^) -lm

STATS_TESTS := $(B)/tests/test_stats $(B)/tests/asan-test_stats

# ---- fuzzing (clang libFuzzer, ASan + UBSan) ---------------------------------

FUZZ_BIN := $(B)/fuzz/fuzz_reader
FUZZ_SECONDS ?= 600

$(FUZZ_BIN): libhtrace/fuzz/fuzz_reader.c $(LIBHTRACE_SRCS) $(wildcard libhtrace/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror $(INC) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ libhtrace/fuzz/fuzz_reader.c $(LIBHTRACE_SRCS) -lz -lelf

FUZZ_TF_BIN := $(B)/fuzz/fuzz_tracefile

$(FUZZ_TF_BIN): libhtrace/fuzz/fuzz_tracefile.c $(LIBHTRACE_SRCS) $(wildcard libhtrace/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror $(INC) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ libhtrace/fuzz/fuzz_tracefile.c $(LIBHTRACE_SRCS) -lz -lelf

FUZZ_SEEDS := $(B)/fuzz/seeds/.stamp

$(B)/fuzz/make_seeds: libhtrace/fuzz/make_seeds.c $(LIB_HOSTED) $(LIBHTRACE) $(TEST_DEPS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LIB_CFLAGS) $(TEST_PLAT) $(INC) -o $@ $(filter %.c %.a,$^) -lz -lelf

$(FUZZ_SEEDS): $(B)/fuzz/make_seeds
	@mkdir -p $(@D) $(B)/fuzz/tf-seeds
	$(Q)$< $(@D) $(B)/fuzz/tf-seeds && touch $@

# ---- check -------------------------------------------------------------------

check: all $(TESTS_ASAN) $(HC_TESTS) $(STATS_TESTS) $(B)/bin/asan-hypertrace $(FUZZ_BIN) $(FUZZ_TF_BIN) $(FUZZ_SEEDS) $(B)/fsinc/.stamp kernel initramfs \
	$(B)/bin/asan-hypertrace-collector
	@echo "  TEST    unit, stress, reader (plain and ASan+UBSan), fuzz smoke, freestanding lib, kernel boots"
	$(Q)HT_FUZZ_BIN=$(FUZZ_BIN) HT_FUZZ_TF_BIN=$(FUZZ_TF_BIN) HT_BUILD=$(B) prove --exec '' -f \
		$(TESTS) $(TESTS_ASAN) $(HC_TESTS) $(STATS_TESTS) tests/fuzz-smoke.t tests/freestanding.t tests/lib-patch-drift.t \
		tools/tests/*.t tests/boot/*.t host-collector/tests/*.t

# boot the patched kernel and decode its trace into build/demo/
demo: all kernel initramfs
	$(Q)scripts/demo.sh

# every patch of the series builds on its own; checkpatch --strict (slow)
check-series:
	$(Q)scripts/check-series.sh

check-asan: $(TESTS_ASAN)
	$(Q)prove --exec '' -f $(TESTS_ASAN)

fuzz: $(FUZZ_BIN) $(FUZZ_TF_BIN) $(FUZZ_SEEDS)
	@mkdir -p $(B)/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
		$(B)/fuzz/corpus $(B)/fuzz/seeds
	@mkdir -p $(B)/fuzz/tf-corpus
	$(FUZZ_TF_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
		$(B)/fuzz/tf-corpus $(B)/fuzz/tf-seeds

# ---- bench -------------------------------------------------------------------

$(B)/bench/%: bench/%.c $(LIB_HOSTED) $(LIBHTRACE) $(TEST_DEPS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(LIB_CFLAGS) $(TEST_PLAT) $(INC) $(PTHREAD) -o $@ \
		$(filter %.c %.a,$^) -lz -lelf

bench: $(B)/bench/bench_emit $(B)/bench/bench_collector all
	$(Q)bench/run-bench.sh $(B)

deps:
	scripts/install-deps.sh

# ---- the patched kernel and the test initramfs -------------------------------

KSRC ?=

kernel:
	$(Q)scripts/build-kernel.sh $(KSRC)

initramfs: $(B)/initramfs.cpio.gz

$(B)/initramfs.cpio.gz: initramfs/init.c initramfs/mkinitramfs.sh
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)initramfs/mkinitramfs.sh $@

clean:
	rm -rf $(B)
