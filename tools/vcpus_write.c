// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What the collector took of a failed guest before it stopped QEMU, in the
 * reports: where each vCPU was (its instruction pointer, symbolized, and
 * whether it halted) and the vmcore, as text (report) and as the "vcpus"
 * and "vmcore" members of the JSON (report --json, the HTML page).  A
 * trace without them (a good boot, an older collector) gets neither.
 */
#include <inttypes.h>
#include <string.h>

#include "util.h"
#include "writers.h"

#define SYM_LEN 160

/**
 * vcpus_write_text() - "vCPU 0 in fn+0x23/0x80 (halted)" for each vCPU,
 * then the vmcore and how to open it
 * @m: the model
 * @f: where to
 */
void vcpus_write_text(const struct boot_model *m, FILE *f)
{
	const struct model_forensics *x = &m->forensics;
	char sym[SYM_LEN];
	unsigned int i;

	if (x->has_vcpus) {
		fprintf(f, "where each vCPU was when the collector stopped the guest\n");
		if (!x->nvcpus) {
			fprintf(f, "  (QEMU named no vCPUs: ");
			print_escaped(f, x->vcpus_error, strlen(x->vcpus_error));
			fprintf(f, ")\n");
		}
		for (i = 0; i < x->nvcpus; i++) {
			const struct model_vcpu *v = &x->vcpu[i];

			fprintf(f, "  vCPU %u ", v->cpu);
			if (v->error[0]) {
				fprintf(f, "unknown: ");
				print_escaped(f, v->error, strlen(v->error));
			} else {
				fprintf(f, "in %s", htr_syms_format(&m->syms, v->ip, sym, sizeof(sym)));
				if (v->halted)
					fprintf(f, " (halted)");
				if (v->cpl)
					fprintf(f, " (user mode, CPL %u)", v->cpl);
			}
			fputc('\n', f);
		}
		fputc('\n', f);
	}
	if (!x->has_vmcore)
		return;
	if (!x->vmcore[0]) {
		fprintf(f, "no vmcore: ");
		print_escaped(f, x->vmcore_error, strlen(x->vmcore_error));
		fprintf(f, "\n\n");
		return;
	}
	fprintf(f, "vmcore: ");
	print_escaped(f, x->vmcore, strlen(x->vmcore));
	fprintf(f, " (%.1f MiB, %s VMCOREINFO", x->vmcore_bytes / 1048576.0,
		x->vmcoreinfo ? "with" : "without");
	if (x->vmcoreinfo_how[0]) {
		fprintf(f, x->vmcoreinfo ? " from " : ": ");
		print_unquoted(f, x->vmcoreinfo_how, strlen(x->vmcoreinfo_how));
	}
	fprintf(f, ")\n");
	if (x->vmcoreinfo)
		fprintf(f, "  open it with: vmcore-dmesg VMCORE; crash VMLINUX-WITH-DEBUG-INFO VMCORE\n\n");
	else
		fprintf(f, "  crash VMLINUX-WITH-DEBUG-INFO VMCORE may open it; vmcore-dmesg cannot\n\n");
}

/**
 * vcpus_write_json() - the members "vcpus" and "vmcore", when the trace has them
 * @m: the model
 * @f: where to, inside the report's object (a comma goes first)
 */
void vcpus_write_json(const struct boot_model *m, FILE *f)
{
	const struct model_forensics *x = &m->forensics;
	char sym[SYM_LEN];
	unsigned int i;

	if (x->has_vcpus) {
		fputs(",\n\"vcpus\":[", f);
		for (i = 0; i < x->nvcpus; i++) {
			const struct model_vcpu *v = &x->vcpu[i];

			fprintf(f, "%s{\"cpu\":%u", i ? "," : "", v->cpu);
			if (v->error[0]) {
				fputs(",\"ip\":null,\"ip_symbol\":null,\"error\":", f);
				print_json_string(f, v->error, strlen(v->error));
			} else {
				htr_syms_format(&m->syms, v->ip, sym, sizeof(sym));
				fprintf(f, ",\"ip\":\"0x%" PRIx64 "\",\"ip_symbol\":", v->ip);
				print_json_string(f, sym, strlen(sym));
			}
			fprintf(f, ",\"halted\":%s,\"cpl\":%u}", v->halted ? "true" : "false", v->cpl);
		}
		fputs("]", f);
	}
	if (!x->has_vmcore)
		return;
	fputs(",\n\"vmcore\":{\"path\":", f);
	if (x->vmcore[0]) {
		print_json_string(f, x->vmcore, strlen(x->vmcore));
		fprintf(f, ",\"bytes\":%" PRIu64 ",\"ms\":%" PRIu64 ",\"vmcoreinfo\":%s,\"%s\":",
			x->vmcore_bytes, x->vmcore_ms, x->vmcoreinfo ? "true" : "false",
			x->vmcoreinfo ? "vmcoreinfo_from" : "vmcoreinfo_missing");
		if (x->vmcoreinfo_how[0])
			print_json_string(f, x->vmcoreinfo_how, strlen(x->vmcoreinfo_how));
		else
			fputs("null", f);
		fputc('}', f);
	} else {
		fputs("null,\"error\":", f);
		print_json_string(f, x->vmcore_error, strlen(x->vmcore_error));
		fputc('}', f);
	}
}
