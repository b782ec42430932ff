# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# Hypertrace top-level build.
#
#   make               build everything into build/ (host binaries in build/bin/)
#   make check         the whole suite: every test (plain and ASan+UBSan), fuzz smoke,
#                      freestanding check, and the patched kernel booted under QEMU
#                      (builds it first)
#   make check-host    every test that needs no kernel (make check without the boots:
#                      unit tests plain and ASan+UBSan, chan_kvm, stats, fuzz smoke,
#                      freestanding lib/, lib/ vs patch 1, tools/tests/*.t)
#   make check-series  each kernel patch builds on its own; checkpatch (slow)
#   make bench         benchmarks, with the commands that produced each figure
#   make bench-gate    the boot-time gate's sensitivity, real and virtual time
#   make bench-runtime sysbench in a TCG guest: no tracing, hypergraph per transport, ftrace
#   make fuzz          a long libFuzzer run (FUZZ_SECONDS=600)
#   make deps          install the Debian packages the project needs (root)
#   make kernel        patch and build a kernel (KSRC=your tree, default Debian's 6.1)
#   make initramfs     the test initramfs (build/initramfs.cpio.gz)
#   make demo          build all that, boot it under QEMU, decode the trace
#   make clean
#
# V=1 shows the commands.
#
# Every object is built twice from one set of rules (the tree-rules
# template below): plain in build/obj/ and under ASan+UBSan in build/asan/
# (binaries named asan-*); the fuzzers have their own tree, build/fuzz/obj/.
# The compiler writes each object's header dependencies next to it (.d,
# -MMD -MP).

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
HC_INC	    := -Ihost-collector -Ihost-collector/tests

# lib/*_linux.c is the kernel platform: built only inside the kernel
LIB_SRCS     := $(filter-out %_linux.c,$(wildcard lib/*.c))
LIBHTRACE_SRCS := $(wildcard libhtrace/*.c)
TOOL_SRCS    := $(wildcard tools/*.c)
COLLECTOR_SRCS := $(wildcard host-collector/*.c)
TRACEFS_CFLAGS := $(shell pkg-config --cflags libtracefs libtraceevent 2>/dev/null)
TRACEFS_LIBS   := $(shell pkg-config --libs libtracefs libtraceevent 2>/dev/null || echo -ltracefs -ltraceevent)
COLLECTOR_LIBS := -ljansson -lelf -lz $(TRACEFS_LIBS)
TOOL_LIBS    := -lz -lelf -ljansson -lm

# every compiler run also writes the headers it read into a .d file next to
# the object, included at the end: touching a header rebuilds its users
DEPFLAGS    := -MMD -MP

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Two object trees built by the same rules: plain ($(B)/obj) and ASan+UBSan
# ($(B)/asan).  Per tree: extra compiler flags, the prefix of its binaries'
# names, and the tag its build lines show.
TREES	    := obj asan
SAN_obj     :=
SAN_asan    := $(SAN_FLAGS)
PFX_obj     :=
PFX_asan    := asan-
TAG_obj     :=
TAG_asan    := [S]

# objs TREE, SRCS - the objects of SRCS in TREE
objs	= $(patsubst %.c,$(B)/$(1)/%.o,$(2))

TEST_NAMES  := lib/tests/test_lib lib/tests/test_stress libhtrace/tests/test_reader \
	       libhtrace/tests/test_tracefile libhtrace/tests/test_model \
	       libhtrace/tests/test_printk libhtrace/tests/test_model_sched \
	       libhtrace/tests/test_model_graph libhtrace/tests/test_model_critical
TESTS	    := $(patsubst %,$(B)/tests/%,$(notdir $(TEST_NAMES)))
TESTS_ASAN  := $(patsubst %,$(B)/tests/asan-%,$(notdir $(TEST_NAMES)))
HC_TESTS    := $(B)/tests/test_chan_kvm $(B)/tests/asan-test_chan_kvm \
	       $(B)/tests/test_clock_kvm $(B)/tests/asan-test_clock_kvm \
	       $(B)/tests/test_chan_sched $(B)/tests/asan-test_chan_sched
STATS_TESTS := $(B)/tests/test_stats $(B)/tests/asan-test_stats

BINS	    := $(B)/bin/hypertrace $(B)/bin/hypertrace-collector

.PHONY: all check check-host check-asan check-series fuzz bench bench-gate bench-graph bench-runtime deps clean kernel initramfs demo l1 check-kvm
.SUFFIXES:

all: $(BINS) $(TESTS) $(B)/tests/test_chan_kvm $(B)/tests/test_clock_kvm $(B)/tests/test_chan_sched

# cc TREE, FLAGS - the recipe that compiles $< into $@ in TREE
define cc
	@mkdir -p $$(@D)
	@printf '  %-7s %s\n' 'CC $(TAG_$(1))' '$$<'
	$(Q)$(CC) $(2) $(SAN_$(1)) $(DEPFLAGS) -c $$< -o $$@
endef

# ld TREE, FLAGS, LIBS - the recipe that links the objects and archives of $^ into $@
define ld
	@mkdir -p $$(@D)
	@printf '  %-7s %s\n' 'LD $(TAG_$(1))' '$$@'
	$(Q)$(CC) $(2) $(SAN_$(1)) -o $$@ $$(filter %.o %.a,$$^) $(3)
endef

# tree-rules TREE - every object, archive and binary of one tree
define tree-rules
# guest library, hosted (tests and benchmarks), and the unit tests
$(B)/$(1)/lib/%.o: lib/%.c
$(call cc,$(1),$(LIB_CFLAGS) $(TEST_PLAT) $(INC))

$(B)/$(1)/libht-hosted.a: $(call objs,$(1),$(LIB_SRCS) lib/tests/ht_test_platform.c)
	$(Q)rm -f $$@ && ar rcs $$@ $$^

# host reader library; its tests and seed maker are built like the tests
$(B)/$(1)/libhtrace/%.o: libhtrace/%.c
$(call cc,$(1),$(HOST_CFLAGS) $(INC))

$(B)/$(1)/libhtrace/tests/%.o: libhtrace/tests/%.c
$(call cc,$(1),$(LIB_CFLAGS) $(TEST_PLAT) $(INC))

$(B)/$(1)/libhtrace/fuzz/%.o: libhtrace/fuzz/%.c
$(call cc,$(1),$(LIB_CFLAGS) $(TEST_PLAT) $(INC))

$(B)/$(1)/libhtrace.a: $(call objs,$(1),$(LIBHTRACE_SRCS))
	$(Q)rm -f $$@ && ar rcs $$@ $$^

# tools
$(B)/$(1)/tools/%.o: tools/%.c
$(call cc,$(1),$(HOST_CFLAGS) $(INC) -I$(B)/gen)

$(B)/$(1)/tools/cmd_html.o: $(B)/gen/report_html.h
$(B)/$(1)/tools/compare_html.o: $(B)/gen/compare_html.h

$(B)/$(1)/tools/tests/%.o: tools/tests/%.c
$(call cc,$(1),$(HOST_CFLAGS) $(INC) -Itools)

$(B)/bin/$(PFX_$(1))hypertrace: $(call objs,$(1),$(TOOL_SRCS)) $(B)/$(1)/libhtrace.a
$(call ld,$(1),$(HOST_CFLAGS),$(TOOL_LIBS))

# host collector
$(B)/$(1)/host-collector/%.o: host-collector/%.c
$(call cc,$(1),$(HOST_CFLAGS) $(INC) -Ihost-collector $(TRACEFS_CFLAGS))

$(B)/$(1)/host-collector/tests/%.o: host-collector/tests/%.c
$(call cc,$(1),$(HOST_CFLAGS) $(INC) $(HC_INC) $(TRACEFS_CFLAGS))

$(B)/bin/$(PFX_$(1))hypertrace-collector: $(call objs,$(1),$(COLLECTOR_SRCS)) $(B)/$(1)/libhtrace.a
$(call ld,$(1),$(HOST_CFLAGS),$(COLLECTOR_LIBS))

# tests: the hypercall channel against a uprobe stand-in for kvm:kvm_hypercall
$(B)/tests/$(PFX_$(1))test_chan_kvm: $(call objs,$(1),host-collector/tests/test_chan_kvm.c \
		host-collector/chan_kvm.c) $(B)/tests/fake_vcpu
$(call ld,$(1),$(HOST_CFLAGS),$(TRACEFS_LIBS))

# tests: the scheduler channel against the real tracefs and scheduler
$(B)/tests/$(PFX_$(1))test_chan_sched: $(call objs,$(1),host-collector/tests/test_chan_sched.c \
		host-collector/chan_sched.c)
$(call ld,$(1),$(HOST_CFLAGS),$(TRACEFS_LIBS) -lpthread)

# tests: the KVM TSC-offset clock against a fake debugfs tree
$(B)/tests/$(PFX_$(1))test_clock_kvm: $(call objs,$(1),host-collector/tests/test_clock_kvm.c \
		host-collector/clock_kvm.c)
$(call ld,$(1),$(HOST_CFLAGS),)

$(B)/tests/$(PFX_$(1))test_stats: $(call objs,$(1),tools/tests/test_stats.c tools/stats.c)
$(call ld,$(1),$(HOST_CFLAGS),-lm)

# the fuzzers' seeds, written by the real guest library and trace writer
$(B)/fuzz/$(PFX_$(1))make_seeds: $(B)/$(1)/libhtrace/fuzz/make_seeds.o $(B)/$(1)/libht-hosted.a \
		$(B)/$(1)/libhtrace.a
$(call ld,$(1),$(LIB_CFLAGS),-lz -lelf -ljansson)

# benchmarks
$(B)/$(1)/bench/%.o: bench/%.c
$(call cc,$(1),$(LIB_CFLAGS) $(TEST_PLAT) $(INC))

$(B)/bench/$(PFX_$(1))%: $(B)/$(1)/bench/%.o $(B)/$(1)/libht-hosted.a $(B)/$(1)/libhtrace.a
$(call ld,$(1),$(LIB_CFLAGS) $(PTHREAD),-lz -lelf -ljansson)
endef

# unit-test TREE, NAME - a test program linked with the hosted lib and libhtrace
define unit-test
$(B)/tests/$(PFX_$(1))$(notdir $(2)): $(B)/$(1)/$(2).o $(B)/$(1)/libht-hosted.a $(B)/$(1)/libhtrace.a
$(call ld,$(1),$(LIB_CFLAGS) $(PTHREAD),-lz -lelf -ljansson)
endef

$(foreach t,$(TREES),$(eval $(call tree-rules,$(t))))
# benchmark objects are made by a chain of pattern rules: keep them
.SECONDARY: $(patsubst %.c,$(B)/obj/%.o,$(wildcard bench/*.c))
$(foreach t,$(TREES),$(foreach n,$(TEST_NAMES),$(eval $(call unit-test,$(t),$(n)))))

# ---- guest library, freestanding (tests/freestanding.t builds it) ----------

# Only the compiler's own headers and the kernel's UAPI headers: any libc
# header pulled into lib/ fails that build.
$(B)/fsinc/.stamp:
	@mkdir -p $(@D)
	$(Q)ln -sfn /usr/include/linux $(@D)/linux
	$(Q)ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	$(Q)ln -sfn /usr/include/$(shell $(CC) -dumpmachine)/asm $(@D)/asm
	$(Q)touch $@

# ---- generated sources and test helpers --------------------------------------

# the HTML pages' templates, as C strings
$(B)/gen/%_html.h: tools/%.html.in
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@

# the fake vCPU that test_chan_kvm probes (plain only: it is the target)
$(B)/tests/fake_vcpu: $(B)/obj/host-collector/tests/fake_vcpu.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(HOST_CFLAGS) $(PTHREAD) -o $@ $^

# ---- fuzzing (clang libFuzzer, ASan + UBSan) ---------------------------------

FUZZ_BIN := $(B)/fuzz/fuzz_reader
FUZZ_TF_BIN := $(B)/fuzz/fuzz_tracefile
FUZZ_PRINTK_BIN := $(B)/fuzz/fuzz_printk
FUZZ_SECONDS ?= 600
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror $(INC) \
	       -fsanitize=address,undefined -fno-sanitize-recover=all

# a third tree, instrumented for libFuzzer
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC [F]  $<"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(FUZZ_BIN) $(FUZZ_TF_BIN) $(FUZZ_PRINTK_BIN): $(B)/fuzz/%: $(B)/fuzz/obj/libhtrace/fuzz/%.o \
		$(patsubst %.c,$(B)/fuzz/obj/%.o,$(LIBHTRACE_SRCS))
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lz -lelf -ljansson

# the whole reading side: trace bytes -> model -> every writer
FUZZ_MODEL_BIN := $(B)/fuzz/fuzz_model
FUZZ_MODEL_OBJS := $(patsubst %.c,$(B)/fuzz/obj/%.o,tools/fuzz/fuzz_model.c \
		   $(filter-out tools/hypertrace.c,$(TOOL_SRCS)) $(LIBHTRACE_SRCS))

$(B)/fuzz/obj/tools/%.o: tools/%.c $(B)/gen/report_html.h $(B)/gen/compare_html.h
	@mkdir -p $(@D)
	@echo "  CC [F]  $<"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -Itools -Ilibhtrace/fuzz -I$(B)/gen -fsanitize=fuzzer-no-link \
		$(DEPFLAGS) -c $< -o $@

$(FUZZ_MODEL_BIN): $(FUZZ_MODEL_OBJS)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lz -lelf -ljansson -lm

FUZZ_SEEDS := $(B)/fuzz/seeds/.stamp

$(FUZZ_SEEDS): $(B)/fuzz/make_seeds
	@mkdir -p $(@D) $(B)/fuzz/tf-seeds $(B)/fuzz/printk-seeds
	$(Q)$< $(@D) $(B)/fuzz/tf-seeds $(B)/fuzz/printk-seeds && cp tools/tests/fixtures/*.htf $(B)/fuzz/tf-seeds/ && touch $@

# ---- check -------------------------------------------------------------------

# every test that needs no kernel (make check-host: fast iteration), and
# what they need built
HOST_TESTS := $(TESTS) $(TESTS_ASAN) $(HC_TESTS) $(STATS_TESTS) tests/fuzz-smoke.t \
	      tests/freestanding.t tests/lib-patch-drift.t tests/htf.t tests/boot-gate-usage.t tests/boot-gate-fleet.t tests/runtime-initramfs.t \
	      tools/tests/*.t
HOST_DEPS  := all $(TESTS_ASAN) $(HC_TESTS) $(STATS_TESTS) $(B)/bin/asan-hypertrace \
	      $(FUZZ_BIN) $(FUZZ_TF_BIN) $(FUZZ_PRINTK_BIN) $(FUZZ_MODEL_BIN) $(FUZZ_SEEDS) \
	      $(B)/fsinc/.stamp
# the tests that boot the patched kernel under QEMU, and what they need
BOOT_TESTS := tests/boot/*.t host-collector/tests/*.t
BOOT_DEPS  := kernel initramfs $(B)/bin/asan-hypertrace-collector
PROVE	   := HT_FUZZ_BIN=$(FUZZ_BIN) HT_FUZZ_TF_BIN=$(FUZZ_TF_BIN) \
	      HT_FUZZ_PRINTK_BIN=$(FUZZ_PRINTK_BIN) \
	      HT_FUZZ_MODEL_BIN=$(FUZZ_MODEL_BIN) HT_BUILD=$(B) prove --exec '' -f

check-host: $(HOST_DEPS)
	@echo "  TEST    unit, stress, reader (plain and ASan+UBSan), fuzz smoke, freestanding lib, tools"
	$(Q)$(PROVE) $(HOST_TESTS)

# the whole suite, in one prove run: check-host's tests and the kernel boots
check: $(HOST_DEPS) $(BOOT_DEPS)
	@echo "  TEST    unit, stress, reader (plain and ASan+UBSan), fuzz smoke, freestanding lib, tools, kernel boots"
	$(Q)$(PROVE) $(HOST_TESTS) $(BOOT_TESTS)

# boot the patched kernel and decode its trace into build/demo/
demo: all kernel initramfs
	$(Q)scripts/demo.sh

# the L1 test machine: a KVM host under TCG, the CI kernel as L2 under its
# KVM (Documentation/nested.rst).  Not in make check yet: with it .ci/run
# took 47 min, over the 45 allowed, and its port boot failed once
l1: all kernel initramfs
	$(Q)scripts/build-l1.sh

check-kvm: l1
	$(Q)$(PROVE) tests/kvm/*.t

# every patch of the series builds on its own; checkpatch --strict (slow)
check-series:
	$(Q)scripts/check-series.sh

check-asan: $(TESTS_ASAN)
	$(Q)prove --exec '' -f $(TESTS_ASAN)

fuzz: $(FUZZ_BIN) $(FUZZ_TF_BIN) $(FUZZ_PRINTK_BIN) $(FUZZ_MODEL_BIN) $(FUZZ_SEEDS)
	@mkdir -p $(B)/fuzz/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
		$(B)/fuzz/corpus $(B)/fuzz/seeds
	@mkdir -p $(B)/fuzz/tf-corpus
	$(FUZZ_TF_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
		$(B)/fuzz/tf-corpus $(B)/fuzz/tf-seeds
	@mkdir -p $(B)/fuzz/printk-corpus
	$(FUZZ_PRINTK_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
		$(B)/fuzz/printk-corpus $(B)/fuzz/printk-seeds
	@mkdir -p $(B)/fuzz/model-corpus
	$(FUZZ_MODEL_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
		$(B)/fuzz/model-corpus $(B)/fuzz/tf-seeds

# ---- bench -------------------------------------------------------------------

bench: $(B)/bench/bench_emit $(B)/bench/bench_collector all
	$(Q)bench/run-bench.sh $(B)

# the boot-time gate's sensitivity on both clocks (about 10 minutes; boots)
bench-gate: all $(BOOT_DEPS)
	$(Q)HT_BUILD=$(B) bench/gate-sensitivity.py --boots 10 --delays 1000,2000,5000,10000,20000 \
		--method holm= --method fdr=--fdr --method speed='--normalize speed' \
		--method speed-fdr='--normalize speed --fdr'
	$(Q)HT_BUILD=$(B) bench/gate-sensitivity.py --clock icount --boots 6 --side 3 \
		--delays 20,50,100 --splits 40

# the hypergraph's boot overhead against ftrace's function_graph (boots;
# about 10 minutes on virtual time, 30 on real time)
bench-graph: all $(BOOT_DEPS)
	$(Q)HT_BUILD=$(B) bench/graph-overhead.py --clock icount
	$(Q)HT_BUILD=$(B) bench/graph-overhead.py --clock real --rounds 5 \
		--rows off,levels,graph-shmem,graph-port,graph-batch,ftrace-fg,pm-graph,graph-d2

# the runtime overhead table: sysbench inside the guest (about 10 minutes;
# boots build/kernel/bzImage, which make kernel builds)
RT_INITRD := $(B)/bench/runtime/initramfs.cpio.gz

$(RT_INITRD): bench/runtime-initramfs.sh bench/runtime-init.sh $(wildcard /usr/bin/sysbench /bin/busybox)
	@mkdir -p $(@D)
	@echo "  GEN     $@"
	$(Q)bench/runtime-initramfs.sh $@

bench-runtime: all $(RT_INITRD)
	$(Q)HT_BUILD=$(B) bench/runtime-overhead.py --rounds $(RT_ROUNDS) --rows $(RT_ROWS)

# the port row takes minutes per boot under TCG: RT_ROWS=off,shmem,port,batch,ftrace
RT_ROUNDS ?= 5
RT_ROWS ?= off,shmem,batch,ftrace

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

# the header dependencies of our objects (not the kernel's, under build/kernel)
-include $(shell find $(B)/obj $(B)/asan $(B)/fuzz/obj -name '*.d' 2>/dev/null)
