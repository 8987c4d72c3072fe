// SPDX-License-Identifier: GPL-2.0-only
/*
 * many_vms - many small VMs running concurrently on one host.
 *
 * Creates N VMs, each with V vCPUs (1 or 2), one 4 KiB page of guest memory
 * and an in-kernel local APIC, then runs every vCPU in its own thread for a
 * fixed time and checks that every vCPU made progress.  Bare ioctls, no
 * selftest-library VM state: the only per-VM cost is what a minimal VMM pays.
 *
 * The guest (16-bit real mode, one page at GPA 0) switches its local APIC to
 * x2APIC mode, programs the APIC timer in periodic mode and loops on
 * "sti; hlt".  Each timer interrupt increments a per-vCPU tick counter in
 * guest memory and EOIs with a WRMSR.  HLT and the timer are handled inside
 * KVM (in-kernel irqchip), so an idle vCPU thread sleeps in KVM_RUN and never
 * exits to user space; the host reads the counters from its mapping of the
 * guest page.  This works the same under QEMU TCG with nested SVM and on a
 * real host, and costs CPU time proportional to the tick rate only.
 *
 * Layout of the guest page: real-mode IVT 0x000-0x3ff, tick counters at
 * 0x400 + 16 * vcpu, code at 0x500, stacks below 0x1000 (0x200 per vCPU).
 *
 * Phases, each timed and with /proc/meminfo snapshots around it:
 *   create   KVM_CREATE_VM, KVM_CREATE_IRQCHIP (or split), halt polling off
 *            (KVM_CAP_HALT_POLL 0), one memslot, KVM_CREATE_VCPU,
 *            KVM_SET_CPUID2, KVM_SET_SREGS, KVM_SET_REGS (+ MP state for
 *            the AP) per vCPU; timed per bucket of VMs (1000 by default)
 *   start    one thread per vCPU (small stacks carved from one mapping);
 *            the first KVM_RUN of a VM also starts KVM's per-VM
 *            kvm-nx-lpage-recovery task unless kvm.nx_huge_pages=never
 *   run      MANY_VMS_SECONDS of all vCPUs running; progress = ticks
 *            counted in the window
 *   destroy  stop (signal) and join all threads, close all fds
 *   gp       after destroy, MANY_VMS_GP_VMS (16) more VMs are created the
 *            same way with kprobe counters on the creating thread
 *            (perf_event_open, kprobe PMU) at __synchronize_srcu (one hit
 *            per SRCU grace-period wait, from synchronize_srcu or its
 *            expedited form), call_srcu (callbacks that need one later),
 *            synchronize_rcu and synchronize_rcu_expedited (apart: the
 *            first may call the second);
 *            counted per VM and per creation step, apart from the timed
 *            creation so that the probes cost it nothing.  Without the
 *            kprobe PMU (CONFIG_KPROBE_EVENTS) or permission it says why
 *            and reports no gp metrics.
 *
 * Limits.  RLIMIT_NOFILE is raised to its hard limit.  The number of VMs
 * that fit is computed from the fd budget (VM fd + one fd per vCPU), the
 * thread budget (kernel.pid_max, kernel.threads-max, RLIMIT_NPROC, cgroup
 * pids.max, keeping a margin of free pids for the rest of the machine),
 * vm.max_map_count and MemAvailable.  The default N is min(10000, what fits);
 * an explicit N that does not fit is a SKIP naming the limit.  N=max creates
 * VMs until an ioctl fails (bounded by the non-fd budgets, which would hurt
 * other users of the machine) and reports errno and the limit it maps to.
 *
 * Environment:
 *   MANY_VMS_N           VMs (default: min(10000, what fits); "max": until
 *                        creation fails)
 *   MANY_VMS_VCPUS       vCPUs per VM, 1 or 2 (1)
 *   MANY_VMS_SECONDS     run window in seconds (10)
 *   MANY_VMS_PERIOD_MS   guest APIC timer period (1000)
 *   MANY_VMS_BUCKET      VMs per creation-timing bucket (1000, or N/10 for
 *                        N < 2000)
 *   MANY_VMS_IRQCHIP     full (KVM_CREATE_IRQCHIP, default), split, or none
 *                        (no irqchip: the guest cannot take its timer, so
 *                        only the create and destroy phases run; the start
 *                        and run test is reported as a skip)
 *   MANY_VMS_HALT_POLL   0 (default: disable per VM) or keep (module default)
 *   MANY_VMS_MAP_RUN     1: mmap kvm_run of every vCPU up front as a VMM does
 *                        (one VMA per vCPU); default 0: only on an
 *                        unexpected exit
 *   MANY_VMS_SEPARATE_MAPS  1: guest page of each VM in its own VMA (as N
 *                        VMMs' memory would be); default 0: one mapping
 *   MANY_VMS_CLOSE_VM_FD 1: close each VM fd once its vCPUs exist (the vCPU
 *                        fds keep the VM alive; saves one fd per VM)
 *   MANY_VMS_STACK_KIB   user stack per vCPU thread (64)
 *   MANY_VMS_MIN_TICKS   ticks every vCPU must reach in the window (1)
 *   MANY_VMS_NUMA        as -N (the option wins)
 *   MANY_VMS_GP_VMS      VMs of the grace-period count (16; 0: none)
 *
 * Options: -h usage; -N none|spread|bind:<node> NUMA placement with libnuma
 * of each VM's vCPU threads (numa_run_on_node()) and guest page (a region
 * per node, numa_tonode_memory()): spread puts VM i on the i-th usable node
 * (CPUs and allowed memory) modulo their number, bind:<node> puts all VMs,
 * the creating thread and the process's memory policy on one node.  With
 * placement, test 3 checks that every guest page is on its VM's node
 * (get_mempolicy(MPOL_F_NODE | MPOL_F_ADDR)).  On a one-node machine it
 * says that placement is a no-op and places anyway; without NUMA in the
 * kernel (numa_available() < 0) or in a build without libnuma it says so
 * and runs unplaced.
 *
 * Metrics ("# metric many_vms.<key> <value> <unit>"): vms, vcpus,
 * create_vms_per_s, create_us_per_vm.{first,last}_bucket, create_last_first_ratio,
 * kmem_kib_per_vm (after creation) and its parts, kmem_kib_per_vm.running,
 * fds_per_vm, threads_per_vm, ticks_{min,median,max}, start_ms, destroy_ms,
 * gp.{srcu_waits,call_srcu,sync_rcu,sync_rcu_expedited}_per_vm and
 * gp.srcu_waits_per_vm.<step> (irqchip and memslot always, other steps when
 * they had any);
 * with placement, per node N: node<N>.{vms,vcpus,ticks_min,ticks_median,
 * guest_pages,guest_pages_elsewhere,memused_kib,memused_kib_per_vm} (MemUsed
 * of /sys/devices/system/node/node<N>/meminfo, before creation vs running).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/perf_event.h>

#include "kselftest.h"

/*
 * NUMA placement (-N) uses libnuma, linked statically where the build finds
 * libnuma.a (selftests/Makefile forces libnuma.o in with -u numa_available).
 * Its functions are weak references: a build with numa.h but without a
 * static libnuma links without them and says so at run time.
 */
#if __has_include("numa.h")
#include <numa.h>
#include <numaif.h>
#define HAVE_NUMA_H 1
#pragma weak numa_available
#pragma weak numa_max_node
#pragma weak numa_run_on_node
#pragma weak numa_tonode_memory
#pragma weak numa_node_size64
#pragma weak numa_get_mems_allowed
#pragma weak numa_allocate_cpumask
#pragma weak numa_node_to_cpus
#pragma weak numa_bitmask_isbitset
#pragma weak numa_bitmask_weight
#pragma weak numa_bitmask_free
#pragma weak numa_allocate_nodemask
#pragma weak numa_bitmask_setbit
#pragma weak numa_set_membind
#else
#define HAVE_NUMA_H 0
#endif

#define MAX_VCPUS_PER_VM	2
#define GUEST_PAGE		4096
#define GUEST_COUNTERS		0x400
#define GUEST_CODE		0x500
#define GUEST_STACK_TOP		0x1000
#define GUEST_STACK_SIZE	0x200
#define TIMER_VECTOR		0x20
#define TIMER_DIVIDE		128	/* TDCR 0xa */
#define DEFAULT_N		10000
#define RESERVED_FDS		32
#define MAX_REPORTED_ERRORS	10

/*
 * Guest code, 16-bit real mode, copied to GPA GUEST_CODE.  On entry:
 * BX = address of this vCPU's counters, ESI = APIC timer initial count.
 * Only relative jumps, so it runs wherever it is copied.
 */
extern const unsigned char guest_code_start[], guest_code_end[];
extern const unsigned char guest_timer_handler[], guest_iret[];
asm(".pushsection .rodata.many_vms_guest, \"a\"\n"
    ".code16\n"
    "guest_code_start:\n"
    "	cli\n"
    "	movl $0x1b, %ecx\n"		/* IA32_APIC_BASE: EN | EXTD */
    "	rdmsr\n"
    "	orl $0xc00, %eax\n"
    "	wrmsr\n"
    "	xorl %edx, %edx\n"
    "	movl $0x80f, %ecx\n"		/* SVR: enable, spurious vector 0xff */
    "	movl $0x1ff, %eax\n"
    "	wrmsr\n"
    "	movl $0x83e, %ecx\n"		/* TDCR: divide by 128 */
    "	movl $0xa, %eax\n"
    "	wrmsr\n"
    "	movl $0x832, %ecx\n"		/* LVT timer: periodic, vector 0x20 */
    "	movl $0x20020, %eax\n"
    "	wrmsr\n"
    "	movl $0x838, %ecx\n"		/* TMICT */
    "	movl %esi, %eax\n"
    "	wrmsr\n"
    "1:	incl 4(%bx)\n"			/* wake-ups */
    "	sti\n"
    "	hlt\n"
    "	jmp 1b\n"
    "guest_timer_handler:\n"
    "	incl (%bx)\n"			/* ticks */
    "	movl $0x80b, %ecx\n"		/* x2APIC EOI */
    "	xorl %eax, %eax\n"
    "	xorl %edx, %edx\n"
    "	wrmsr\n"
    "guest_iret:\n"
    "	iret\n"
    "guest_code_end:\n"
    ".code64\n"
    ".popsection\n");

struct vcpu {
	int fd;
	int vm;
	uint8_t idx;
	bool started;
	bool done;
	pthread_t thread;
	struct kvm_run *run;
};

struct bucket {
	unsigned int first, count;
	uint64_t ns, cpu_ns, median_ns;
	long kmem_kib;
};

/* Kernel memory parts read from /proc/meminfo, in KiB. */
enum { M_SLAB, M_SUNRECL, M_KSTACK, M_PT, M_SECPT, M_VMALLOC, M_PERCPU,
       M_AVAIL, M_ANON, NR_M };
static const char * const meminfo_keys[NR_M] = {
	"Slab:", "SUnreclaim:", "KernelStack:", "PageTables:", "SecPageTables:",
	"VmallocUsed:", "Percpu:", "MemAvailable:", "AnonPages:",
};

struct snap {
	long v[NR_M];
	bool ok;
};

/* Configuration. */
static unsigned int nr_vms, vcpus_per_vm = 1, run_secs = 10, period_ms = 1000;
static unsigned int bucket_size, stack_kib = 64, min_ticks = 1;
static bool probe_max, split_irqchip, no_irqchip, keep_halt_poll, map_run, separate_maps;
static bool close_vm_fd;

static int kvm_fd, run_mmap_size;
static struct kvm_cpuid2 *cpuid;
static unsigned char *guest_mem;
static size_t guest_stride;
static struct vcpu *vcpus;
static int *vm_fds;
static unsigned int nr_created;		/* VMs fully created */
static volatile int stop_flag;
static unsigned int nr_done, nr_errors;

/* NUMA placement: -N none|spread|bind:<node> (MANY_VMS_NUMA). */
enum { NUMA_NONE, NUMA_SPREAD, NUMA_BIND };
static int numa_mode = NUMA_NONE, numa_bind_node = -1;
static const char *numa_arg = "none";
static bool numa_active;		/* placing with libnuma */
static bool numa_from_option;		/* -N given: MANY_VMS_NUMA ignored */
static int *numa_nodes;			/* VM i goes to numa_nodes[i % nr_numa_nodes] */
static unsigned int nr_numa_nodes;
static unsigned char **node_mem;	/* guest memory region per entry of numa_nodes */

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void metric(const char *key, double value, const char *unit)
{
	ksft_print_msg("metric many_vms.%s %.2f %s\n", key, value, unit);
}

static void report_error(const char *fmt, ...)
{
	unsigned int n = __atomic_fetch_add(&nr_errors, 1, __ATOMIC_RELAXED);
	char msg[512];
	va_list ap;

	if (n >= MAX_REPORTED_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ksft_print_msg("%s", msg);
}

/* Reads a small text file with pre-opened-fd-free libc calls. */
static long read_long_file(const char *path, long dflt)
{
	char buf[64];
	long v = dflt;
	FILE *f = fopen(path, "r");

	if (!f)
		return dflt;
	if (fgets(buf, sizeof(buf), f)) {
		if (!strncmp(buf, "max", 3))
			v = LONG_MAX;
		else
			v = strtol(buf, NULL, 10);
	}
	fclose(f);
	return v;
}

static int meminfo_fd = -1;

static struct snap snapshot(void)
{
	struct snap s = { .ok = false };
	char buf[8192], *line, *save;
	size_t len = 0;
	ssize_t r;
	int i, found = 0;

	if (meminfo_fd < 0)
		return s;
	while (len < sizeof(buf) - 1) {
		r = pread(meminfo_fd, buf + len, sizeof(buf) - 1 - len, len);
		if (r <= 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < NR_M; i++) {
			size_t klen = strlen(meminfo_keys[i]);

			if (!strncmp(line, meminfo_keys[i], klen)) {
				s.v[i] = strtol(line + klen, NULL, 10);
				found |= 1 << i;
			}
		}
	}
	/* SecPageTables appeared in 6.0; count it as 0 where missing. */
	found |= 1 << M_SECPT;
	s.ok = found == (1 << NR_M) - 1;
	return s;
}

static long kmem_total(const struct snap *s)
{
	return s->v[M_SLAB] + s->v[M_KSTACK] + s->v[M_PT] + s->v[M_SECPT] +
	       s->v[M_VMALLOC] + s->v[M_PERCPU];
}

/* Slab usage per cache (active_objs * objsize) from /proc/slabinfo. */
struct slab_use {
	char name[64];
	long bytes;
};

static int read_slabinfo(struct slab_use **out)
{
	struct slab_use *v = NULL;
	int n = 0, cap = 0;
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		long active, num, size;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &num, &size) != 4)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			v = realloc(v, cap * sizeof(*v));
			if (!v) {
				fclose(f);
				return -1;
			}
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", name);
		v[n].bytes = active * size;
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

static int cmp_slab_desc(const void *a, const void *b)
{
	long x = ((const struct slab_use *)a)->bytes, y = ((const struct slab_use *)b)->bytes;

	return x < y ? 1 : x > y ? -1 : 0;
}

static void print_slab_delta(struct slab_use *before, int nb, unsigned int vms)
{
	struct slab_use *after;
	int na, i, j, shown = 0;

	if (nb < 0 || !vms)
		return;
	na = read_slabinfo(&after);
	if (na < 0)
		return;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			if (!strcmp(after[i].name, before[j].name)) {
				after[i].bytes -= before[j].bytes;
				break;
			}
		}
	}
	qsort(after, na, sizeof(*after), cmp_slab_desc);
	ksft_print_msg("largest slab cache growth per VM (/proc/slabinfo):\n");
	for (i = 0; i < na && shown < 12; i++) {
		if (after[i].bytes <= 0)
			break;
		ksft_print_msg("  %-28s %8.2f KiB\n", after[i].name,
			       after[i].bytes / 1024.0 / vms);
		shown++;
	}
	free(after);
}

/* Open fds; the directory stays open so that this works at RLIMIT_NOFILE. */
static int count_fds(void)
{
	static DIR *dir;
	struct dirent *d;
	int n = 0;

	if (!dir)
		dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	rewinddir(dir);
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	return n;
}

/* Number of tasks on the system (4th field of /proc/loadavg: running/total). */
static long system_tasks(void)
{
	char buf[128], *slash;
	long n = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		slash = strchr(buf, '/');
		if (slash)
			n = strtol(slash + 1, NULL, 10);
	}
	fclose(f);
	return n;
}

static long self_status(const char *key)
{
	char line[256];
	long v = -1;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen))
			v = strtol(line + klen, NULL, 10);
	fclose(f);
	return v;
}

static long map_count(void)
{
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

/* pids.max - pids.current of our cgroup (v2 or v1 pids controller). */
static long cgroup_pids_free(char *where, size_t wlen)
{
	char line[512], path[700];
	long best = LONG_MAX;
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (!f)
		return LONG_MAX;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2, *nl;
		const char *base;
		long max, cur;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		nl = strchr(c2, '\n');
		if (nl)
			*nl = '\0';
		if (c1[1] == ':')
			base = "/sys/fs/cgroup";
		else if (!strncmp(c1 + 1, "pids:", 5))
			base = "/sys/fs/cgroup/pids";
		else
			continue;
		snprintf(path, sizeof(path), "%s%s/pids.max", base, c2 + 1);
		max = read_long_file(path, LONG_MAX);
		snprintf(path, sizeof(path), "%s%s/pids.current", base, c2 + 1);
		cur = read_long_file(path, 0);
		if (max != LONG_MAX && max - cur < best) {
			best = max - cur;
			snprintf(where, wlen, "%s%s/pids.max (%ld)", base, c2 + 1, max);
		}
	}
	fclose(f);
	return best;
}

/*
 * One KVM-created task per VM unless kvm.nx_huge_pages=never (x86).  A
 * kernel with kvm-scale's many-VMs patches, recognized by their
 * kvm.per_vm_debugfs parameter, creates it only while nx_huge_pages is Y.
 */
static unsigned int kvm_tasks_per_vm(void)
{
	char buf[32] = "";
	FILE *f = fopen("/sys/module/kvm/parameters/nx_huge_pages", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (!strncmp(buf, "never", 5))
		return 0;
	if (buf[0] == 'N' && !access("/sys/module/kvm/parameters/per_vm_debugfs", F_OK))
		return 0;
	return 1;
}

/*
 * NUMA placement.  spread: VM i on the i-th usable node modulo their
 * number (a node is usable with CPUs and memory we may use); bind:<n>: all
 * VMs on node n.  A VM's vCPU threads call numa_run_on_node() when they
 * start, and its guest page comes from a region per node bound there with
 * numa_tonode_memory() (mbind) before the first touch; one region per node
 * keeps the process at a few VMAs.  A vCPU thread's own kernel allocations
 * (MMU pages on its first KVM_RUN) follow the node it runs on.  bind also
 * moves the creating thread and binds the process's memory policy to the
 * node (numa_set_membind()), so that KVM's per-VM kernel memory comes from
 * the node too; spread leaves the creating thread where it is.
 */
static bool parse_numa(const char *arg)
{
	char *end;
	long n;

	numa_arg = arg;
	if (!strcmp(arg, "none")) {
		numa_mode = NUMA_NONE;
	} else if (!strcmp(arg, "spread")) {
		numa_mode = NUMA_SPREAD;
	} else if (!strncmp(arg, "bind:", 5)) {
		errno = 0;
		n = strtol(arg + 5, &end, 10);
		if (errno || end == arg + 5 || *end || n < 0 || n > INT_MAX)
			return false;
		numa_mode = NUMA_BIND;
		numa_bind_node = n;
	} else {
		return false;
	}
	return true;
}

static unsigned int vm_slot(unsigned int i)
{
	return numa_active ? i % nr_numa_nodes : 0;
}

static int vm_node(unsigned int i)
{
	return numa_active ? numa_nodes[vm_slot(i)] : -1;
}

/* The guest page of VM i. */
static unsigned char *vm_page(unsigned int i)
{
	if (!node_mem)
		return guest_mem + (size_t)i * guest_stride;
	return node_mem[vm_slot(i)] + (size_t)(i / nr_numa_nodes) * guest_stride;
}

#if HAVE_NUMA_H
/* libnuma's error hooks (weak in libnuma): print as TAP diagnostics. */
void numa_error(char *where)
{
	ksft_print_msg("libnuma: %s: %s\n", where, strerror(errno));
}

void numa_warn(int num, char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ksft_print_msg("libnuma: %s%s", msg, strchr(msg, '\n') ? "" : "\n");
}

/* MemUsed of each node in KiB (sysfs), -1 where unreadable. */
static void node_memused(long *used, int max_node)
{
	char path[64], line[256];
	int n;

	for (n = 0; n <= max_node; n++) {
		FILE *f;

		used[n] = -1;
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", n);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *k = strstr(line, "MemUsed:");

			if (k)
				used[n] = strtol(k + 8, NULL, 10);
		}
		fclose(f);
	}
}

static int numa_max;
static long *node_used0;

static void numa_setup(void)
{
	struct bitmask *mems, *cpus;
	char list[256] = "";
	int n, usable = 0;
	size_t len = 0;

	if (numa_mode == NUMA_NONE)
		return;
	if (!numa_available) {
		ksft_print_msg("many_vms: built without libnuma (no static libnuma.a when it was linked): -N %s is a no-op\n",
			       numa_arg);
		return;
	}
	if (numa_available() < 0) {
		/* The kernel has no CONFIG_NUMA, or get_mempolicy() is refused. */
		ksft_print_msg("many_vms: libnuma: numa_available() < 0, no NUMA: -N %s is a no-op\n",
			       numa_arg);
		return;
	}
	numa_max = numa_max_node();
	numa_nodes = calloc(numa_max + 1, sizeof(*numa_nodes));
	node_used0 = calloc(numa_max + 1, sizeof(*node_used0));
	mems = numa_get_mems_allowed();
	cpus = numa_allocate_cpumask();
	if (!numa_nodes || !node_used0 || !mems || !cpus)
		ksft_exit_fail_msg("out of memory\n");
	for (n = 0; n <= numa_max; n++) {
		if (!numa_bitmask_isbitset(mems, n) || numa_node_size64(n, NULL) <= 0 ||
		    numa_node_to_cpus(n, cpus) || !numa_bitmask_weight(cpus))
			continue;
		usable++;
		if (len < sizeof(list))
			len += snprintf(list + len, sizeof(list) - len, "%s%d", len ? "," : "", n);
		if (numa_mode == NUMA_SPREAD)
			numa_nodes[nr_numa_nodes++] = n;
		else if (n == numa_bind_node)
			numa_nodes[nr_numa_nodes++] = n;
	}
	numa_bitmask_free(mems);
	numa_bitmask_free(cpus);
	if (numa_mode == NUMA_BIND && !nr_numa_nodes)
		ksft_exit_fail_msg("-N bind:%d: no such node with CPUs and memory we may use (usable: %s)\n",
				   numa_bind_node, usable ? list : "none");
	if (!nr_numa_nodes) {
		ksft_print_msg("many_vms: no NUMA node with CPUs and memory we may use: -N %s is a no-op\n",
			       numa_arg);
		return;
	}
	if (numa_max == 0)
		ksft_print_msg("many_vms: 1 NUMA node: placement is a no-op\n");
	numa_active = true;
	ksft_print_msg("NUMA placement %s: %d node(s), usable %s, VMs on %u; vCPU threads and guest memory placed\n",
		       numa_arg, numa_max + 1, list, nr_numa_nodes);
	if (numa_mode == NUMA_BIND) {
		struct bitmask *m = numa_allocate_nodemask();

		if (numa_run_on_node(numa_bind_node))
			ksft_exit_fail_msg("numa_run_on_node(%d) for the creating thread: %s\n",
					   numa_bind_node, strerror(errno));
		/* Page allocations of the process, KVM's included, from the node. */
		numa_bitmask_setbit(m, numa_bind_node);
		numa_set_membind(m);
		numa_bitmask_free(m);
	}
	node_memused(node_used0, numa_max);
}

/* One region per node, bound there before anything touches it. */
static void numa_alloc_guest(int prot, int flags)
{
	size_t len = (size_t)((nr_vms + nr_numa_nodes - 1) / nr_numa_nodes) * guest_stride;
	unsigned int k;

	node_mem = calloc(nr_numa_nodes, sizeof(*node_mem));
	if (!node_mem)
		ksft_exit_fail_msg("out of memory\n");
	for (k = 0; k < nr_numa_nodes; k++) {
		node_mem[k] = mmap(NULL, len, prot, flags, -1, 0);
		if (node_mem[k] == MAP_FAILED)
			ksft_exit_fail_perror("mmap(guest memory of a node)");
		numa_tonode_memory(node_mem[k], len, numa_nodes[k]);
	}
}

static void numa_place_thread(const struct vcpu *vc)
{
	if (numa_run_on_node(vm_node(vc->vm)))
		report_error("VM %u vCPU %u: numa_run_on_node(%d): %s\n", vc->vm, vc->idx,
			     vm_node(vc->vm), strerror(errno));
}

/* The node a page of ours is on (get_mempolicy MPOL_F_NODE | MPOL_F_ADDR). */
static int page_node(void *addr)
{
	int node = -1;

	if (syscall(SYS_get_mempolicy, &node, NULL, 0, addr, MPOL_F_NODE | MPOL_F_ADDR))
		return -1;
	return node;
}

static int cmp_u32(const void *a, const void *b);

/*
 * Per-node figures while the VMs still exist, and test 3: every created
 * VM's guest page is on its node.
 */
static void report_numa(const uint32_t *ticks, unsigned int nr_started)
{
	long *used = calloc(numa_max + 1, sizeof(*used));
	uint32_t *t = malloc((nr_started ? nr_started : 1) * sizeof(*t));
	unsigned int k, i, bad_total = 0, pages_total = 0;
	char key[64];

	if (!used || !t)
		ksft_exit_fail_msg("out of memory\n");
	node_memused(used, numa_max);
	for (k = 0; k < nr_numa_nodes; k++) {
		int node = numa_nodes[k];
		unsigned int vms = 0, nt = 0, on = 0, off = 0;

		for (i = k; i < nr_created; i += nr_numa_nodes) {
			int pn = page_node(vm_page(i));

			vms++;
			if (pn == node) {
				on++;
			} else {
				if (off < 3)
					ksft_print_msg("VM %u: guest page on node %d, wanted %d\n",
						       i, pn, node);
				off++;
			}
		}
		for (i = 0; i < nr_started; i++)
			if (vm_slot(vcpus[i].vm) == k)
				t[nt++] = ticks[i];
		qsort(t, nt, sizeof(*t), cmp_u32);
		ksft_print_msg("node %d: %u VMs, %u vCPUs, ticks min %u median %u, guest pages %u on the node, %u elsewhere\n",
			       node, vms, nt, nt ? t[0] : 0, nt ? t[nt / 2] : 0, on, off);
		snprintf(key, sizeof(key), "node%d.vms", node);
		metric(key, vms, "vms");
		snprintf(key, sizeof(key), "node%d.vcpus", node);
		metric(key, nt, "vcpus");
		snprintf(key, sizeof(key), "node%d.ticks_min", node);
		metric(key, nt ? t[0] : 0, "ticks");
		snprintf(key, sizeof(key), "node%d.ticks_median", node);
		metric(key, nt ? t[nt / 2] : 0, "ticks");
		snprintf(key, sizeof(key), "node%d.guest_pages", node);
		metric(key, on, "pages");
		snprintf(key, sizeof(key), "node%d.guest_pages_elsewhere", node);
		metric(key, off, "pages");
		if (used[node] >= 0 && node_used0[node] >= 0) {
			snprintf(key, sizeof(key), "node%d.memused_kib", node);
			metric(key, used[node] - node_used0[node], "KiB");
			if (vms) {
				snprintf(key, sizeof(key), "node%d.memused_kib_per_vm", node);
				metric(key, (double)(used[node] - node_used0[node]) / vms, "KiB");
			}
		}
		pages_total += vms;
		bad_total += off;
	}
	ksft_test_result(!bad_total, "NUMA %s: guest pages of %u VMs on their nodes, %u elsewhere\n",
			 numa_arg, pages_total, bad_total);
	free(used);
	free(t);
}
#else
static void numa_setup(void)
{
	if (numa_mode != NUMA_NONE)
		ksft_print_msg("many_vms: built without libnuma (no numa.h at build time): -N %s is a no-op\n",
			       numa_arg);
}

static void numa_alloc_guest(int prot, int flags)
{
}

static void numa_place_thread(const struct vcpu *vc)
{
}

static void report_numa(const uint32_t *ticks, unsigned int nr_started)
{
}
#endif

struct limit {
	const char *name;	/* what limits */
	char detail[200];	/* its value and the fix */
	long vms;		/* VMs it allows */
};

static void set_limit(struct limit *l, const char *name, long vms, const char *fmt, ...)
{
	va_list ap;

	l->name = name;
	l->vms = vms < 0 ? 0 : vms;
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof(l->detail), fmt, ap);
	va_end(ap);
}

enum { L_NOFILE, L_PIDS, L_THREADS, L_NPROC, L_CGROUP, L_MAPS, L_MEM, NR_L };
static struct limit limits[NR_L];
static unsigned int threads_per_vm;

static int fds_per_vm(void)
{
	return vcpus_per_vm + (close_vm_fd ? 0 : 1);
}

static int maps_per_vm(void)
{
	return (map_run ? vcpus_per_vm : 0) + (separate_maps ? 2 : 0);
}

/* Fills limits[]; returns the index of the tightest one. */
static int compute_limits(void)
{
	long tasks = system_tasks(), pid_max, thr_max, margin, v;
	long est_kib, fds_now, maps_now;
	struct rlimit rl;
	struct snap s = snapshot();
	char where[800] = "";
	int i, best = 0;

	threads_per_vm = vcpus_per_vm + kvm_tasks_per_vm();

	getrlimit(RLIMIT_NOFILE, &rl);
	fds_now = count_fds();
	v = ((long)rl.rlim_cur - fds_now - RESERVED_FDS) / fds_per_vm();
	set_limit(&limits[L_NOFILE], "RLIMIT_NOFILE", v,
		  "soft=hard=%lu, %d fds per VM (fs.nr_open %ld); fix: ulimit -Hn / LimitNOFILE=",
		  (unsigned long)rl.rlim_cur, fds_per_vm(),
		  read_long_file("/proc/sys/fs/nr_open", -1));

	/* Leave 10% (at least 1000) of the free pids to the rest of the system. */
	pid_max = read_long_file("/proc/sys/kernel/pid_max", LONG_MAX);
	v = pid_max - tasks;
	margin = v / 10 > 1000 ? v / 10 : 1000;
	set_limit(&limits[L_PIDS], "kernel.pid_max", (v - margin) / threads_per_vm,
		  "%ld, %ld tasks running, %u threads per VM; fix: sysctl -w kernel.pid_max=4194304",
		  pid_max, tasks, threads_per_vm);
	thr_max = read_long_file("/proc/sys/kernel/threads-max", LONG_MAX);
	v = thr_max - tasks;
	margin = v / 10 > 1000 ? v / 10 : 1000;
	set_limit(&limits[L_THREADS], "kernel.threads-max", (v - margin) / threads_per_vm,
		  "%ld; fix: sysctl -w kernel.threads-max=<more>", thr_max);

	getrlimit(RLIMIT_NPROC, &rl);
	if (geteuid() && rl.rlim_cur != RLIM_INFINITY)
		v = ((long)rl.rlim_cur - tasks) / threads_per_vm;
	else
		v = LONG_MAX;
	set_limit(&limits[L_NPROC], "RLIMIT_NPROC", v,
		  "%ld (not enforced for root); fix: ulimit -u / LimitNPROC=",
		  rl.rlim_cur == RLIM_INFINITY ? -1L : (long)rl.rlim_cur);

	v = cgroup_pids_free(where, sizeof(where));
	if (v != LONG_MAX)
		v = (v - 64) / threads_per_vm;
	set_limit(&limits[L_CGROUP], "cgroup pids.max", v,
		  "%s; fix: TasksMax=infinity for the service", where[0] ? where : "none");

	maps_now = map_count();
	v = read_long_file("/proc/sys/vm/max_map_count", LONG_MAX);
	set_limit(&limits[L_MAPS], "vm.max_map_count",
		  maps_per_vm() ? (v - maps_now - 1000) / maps_per_vm() : LONG_MAX,
		  "%ld, %d mappings per VM; fix: sysctl -w vm.max_map_count=<more>",
		  v, maps_per_vm());

	/*
	 * Upper bound per VM, from measurements (467 KiB for a running
	 * 2-vCPU VM on a 6.18 host, 267 KiB in a 6.12 tinyconfig guest):
	 * 200 KiB for the VM, 100 KiB per task (vCPU state, task struct,
	 * kernel stack, user stack pages); use at most 3/4 of MemAvailable.
	 */
	est_kib = 200 + 100 * threads_per_vm + 4;
	set_limit(&limits[L_MEM], "MemAvailable", s.ok ? s.v[M_AVAIL] / 4 * 3 / est_kib : LONG_MAX,
		  "%ld KiB available, ~%ld KiB per VM budgeted, 3/4 used",
		  s.ok ? s.v[M_AVAIL] : -1L, est_kib);

	for (i = 1; i < NR_L; i++)
		if (limits[i].vms < limits[best].vms)
			best = i;
	return best;
}

/* Maps a failed creation step's errno to the limit that most likely caused it. */
static const char *explain_errno(int err, const char *step)
{
	static char buf[300];
	struct rlimit rl;
	long tasks = system_tasks();

	switch (err) {
	case EMFILE:
		getrlimit(RLIMIT_NOFILE, &rl);
		snprintf(buf, sizeof(buf), "RLIMIT_NOFILE (%lu open files per process; %d open)",
			 (unsigned long)rl.rlim_cur, count_fds());
		return buf;
	case ENFILE:
		snprintf(buf, sizeof(buf), "fs.file-max (%ld open files system-wide)",
			 read_long_file("/proc/sys/fs/file-max", -1));
		return buf;
	case EAGAIN:
		snprintf(buf, sizeof(buf),
			 "task limits: %ld tasks; kernel.pid_max %ld, kernel.threads-max %ld, RLIMIT_NPROC, cgroup pids.max",
			 tasks, read_long_file("/proc/sys/kernel/pid_max", -1),
			 read_long_file("/proc/sys/kernel/threads-max", -1));
		return buf;
	case ENOMEM:
		if (!strcmp(step, "mmap"))
			snprintf(buf, sizeof(buf), "vm.max_map_count (%ld, %ld mappings) or memory",
				 read_long_file("/proc/sys/vm/max_map_count", -1), map_count());
		else
			snprintf(buf, sizeof(buf), "kernel memory (MemAvailable %ld KiB) or memory cgroup",
				 snapshot().v[M_AVAIL]);
		return buf;
	case ENOSPC:
		return "a KVM or system-wide ID space (e.g. ASIDs, AVIC VM IDs)";
	default:
		return "unknown";
	}
}

/* Time spent in each creation step, summed over all VMs. */
static const char * const step_names[] = {
	"KVM_CREATE_VM", "irqchip", "KVM_CAP_HALT_POLL", "KVM_SET_USER_MEMORY_REGION",
	"KVM_CREATE_VCPU", "KVM_SET_CPUID2", "KVM_GET/SET_SREGS", "KVM_SET_REGS+MP_STATE",
	"mmap(kvm_run)",
};
#define NR_STEPS (sizeof(step_names) / sizeof(step_names[0]))
static uint64_t step_ns[NR_STEPS];
static uint64_t step_t;

/*
 * Grace periods on the creation path, counted with kprobes on the creating
 * thread (the gp phase).  One group: a dummy software event leads, so that a
 * symbol that cannot be probed drops only its own counter; the group is read
 * at each step.  __synchronize_srcu runs once per SRCU wait, whichever of
 * synchronize_srcu{,_expedited} was called; synchronize_rcu may call
 * synchronize_rcu_expedited (expedited mode), so those two are reported
 * apart, not summed.
 */
static const char * const gp_syms[] = {
	"__synchronize_srcu", "call_srcu", "synchronize_rcu", "synchronize_rcu_expedited",
};
#define NR_GP (sizeof(gp_syms) / sizeof(gp_syms[0]))
static const char * const gp_keys[NR_GP] = {
	"srcu_waits", "call_srcu", "sync_rcu", "sync_rcu_expedited",
};
static const char * const gp_units[NR_GP] = {
	"waits", "callbacks", "waits", "waits",
};
/* metric suffix of each creation step (step_names) */
static const char * const gp_step_keys[] = {
	"create_vm", "irqchip", "halt_poll", "memslot", "create_vcpu", "cpuid", "sregs",
	"regs", "mmap_run",
};
_Static_assert(sizeof(gp_step_keys) / sizeof(gp_step_keys[0]) == NR_STEPS,
	       "one metric key per creation step");
#define GP_BETWEEN NR_STEPS	/* counts outside the steps (between VMs) */
static int gp_fd[NR_GP] = { -1, -1, -1, -1 };
static unsigned int gp_nr;	/* kprobe counters in the group */
static int gp_leader = -1;
static bool gp_counting;
static uint64_t gp_last[NR_GP], gp_step[NR_STEPS + 1][NR_GP];

/* Current counts into v (index = gp_syms); false if the read failed. */
static bool gp_read(uint64_t *v)
{
	/* PERF_FORMAT_GROUP | PERF_FORMAT_ID: nr, then {value, id} per event */
	uint64_t buf[1 + 2 * (1 + NR_GP)];
	unsigned int i, n = 1;	/* buf entry 0 is the dummy leader */
	ssize_t r;

	r = read(gp_leader, buf, sizeof(buf));
	if (r < (ssize_t)sizeof(uint64_t) || buf[0] != 1 + gp_nr ||
	    r != (ssize_t)(sizeof(uint64_t) * (1 + 2 * buf[0])))
		return false;
	for (i = 0; i < NR_GP; i++)
		v[i] = gp_fd[i] >= 0 ? buf[1 + 2 * n++] : 0;
	return true;
}

/* Add what the counters gained since the last mark to bucket b. */
static void gp_mark(unsigned int b)
{
	uint64_t v[NR_GP];
	unsigned int i;

	if (!gp_counting || !gp_read(v))
		return;
	for (i = 0; i < NR_GP; i++) {
		gp_step[b][i] += v[i] - gp_last[i];
		gp_last[i] = v[i];
	}
}

static void step_done(int step)
{
	uint64_t t = now_ns();

	step_ns[step] += t - step_t;
	step_t = t;
	gp_mark(step);
}

static const char *stop_step, *stop_why;
static int stop_errno = 0;
static unsigned int stop_vm;

/*
 * Create vCPU v of VM i (fd vm) and set it up to run the guest: CPUID,
 * real-mode segments, registers, MP state, and kvm_run if mapped up front.
 * Returns NULL, or the step that failed (errno set).
 */
static const char *create_vcpu(int vm, unsigned int i, unsigned int v,
			       const struct kvm_regs *regs_tmpl)
{
	struct vcpu *vc = &vcpus[i * vcpus_per_vm + v];
	struct kvm_regs regs = *regs_tmpl;
	struct kvm_sregs sregs;

	vc->vm = i;
	vc->idx = v;
	vc->fd = ioctl(vm, KVM_CREATE_VCPU, v);
	if (vc->fd < 0)
		return "KVM_CREATE_VCPU";
	step_done(4);
	if (ioctl(vc->fd, KVM_SET_CPUID2, cpuid))
		return "KVM_SET_CPUID2";
	step_done(5);
	if (ioctl(vc->fd, KVM_GET_SREGS, &sregs))
		return "KVM_GET_SREGS";
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	sregs.ds.selector = sregs.es.selector = sregs.ss.selector = 0;
	sregs.ds.base = sregs.es.base = sregs.ss.base = 0;
	if (ioctl(vc->fd, KVM_SET_SREGS, &sregs))
		return "KVM_SET_SREGS";
	step_done(6);
	regs.rbx = GUEST_COUNTERS + 16 * v;
	regs.rsp = GUEST_STACK_TOP - GUEST_STACK_SIZE * v;
	if (ioctl(vc->fd, KVM_SET_REGS, &regs))
		return "KVM_SET_REGS";
	if (v) {
		/* With an in-kernel APIC, APs wait for INIT/SIPI. */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (ioctl(vc->fd, KVM_SET_MP_STATE, &mp))
			return "KVM_SET_MP_STATE";
	}
	step_done(7);
	if (map_run) {
		vc->run = mmap(NULL, run_mmap_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, vc->fd, 0);
		if (vc->run == MAP_FAILED) {
			vc->run = NULL;
			return "mmap";
		}
		step_done(8);
	}
	return NULL;
}

/* Record why VM i could not be created and undo what exists of it. */
static void fail_vm(unsigned int i, const char *step)
{
	unsigned int v;

	stop_errno = errno;
	stop_step = step;
	stop_vm = i;
	stop_why = explain_errno(errno, step);
	/* Undo the partial VM so that everything counted is complete. */
	for (v = 0; v < vcpus_per_vm; v++) {
		struct vcpu *vc = &vcpus[i * vcpus_per_vm + v];

		if (vc->run)
			munmap(vc->run, run_mmap_size);
		if (vc->fd >= 0)
			close(vc->fd);
		vc->fd = -1;
		vc->run = NULL;
	}
	if (vm_fds[i] >= 0)
		close(vm_fds[i]);
	vm_fds[i] = -1;
}

/* Create VM i: irqchip, halt polling, its memslot and its vCPUs. */
static bool create_vm(unsigned int i, struct kvm_regs *regs_tmpl)
{
	unsigned char *mem = vm_page(i);
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_PAGE,
		.userspace_addr = (uintptr_t)mem,
	};
	struct kvm_enable_cap cap = { 0 };
	const char *step;
	unsigned int v;
	int vm, r;

	step_t = now_ns();
	step = "KVM_CREATE_VM";
	vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm < 0)
		goto fail;
	vm_fds[i] = vm;
	step_done(0);

	if (no_irqchip) {
		r = 0;
	} else if (split_irqchip) {
		step = "KVM_CAP_SPLIT_IRQCHIP";
		cap.cap = KVM_CAP_SPLIT_IRQCHIP;
		cap.args[0] = 24;
		r = ioctl(vm, KVM_ENABLE_CAP, &cap);
	} else {
		step = "KVM_CREATE_IRQCHIP";
		r = ioctl(vm, KVM_CREATE_IRQCHIP, 0);
	}
	if (r)
		goto fail;
	step_done(1);

	if (!keep_halt_poll && ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_HALT_POLL) > 0) {
		step = "KVM_CAP_HALT_POLL";
		memset(&cap, 0, sizeof(cap));
		cap.cap = KVM_CAP_HALT_POLL;
		if (ioctl(vm, KVM_ENABLE_CAP, &cap))
			goto fail;
	}
	step_done(2);

	step = "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		goto fail;
	step_done(3);

	for (v = 0; v < vcpus_per_vm; v++) {
		step = create_vcpu(vm, i, v, regs_tmpl);
		if (step)
			goto fail;
	}
	if (close_vm_fd) {
		close(vm);
		vm_fds[i] = -1;
	}
	return true;

fail:
	fail_vm(i, step);
	return false;
}

static uint32_t read_ticks(const struct vcpu *vc);

static void sig_nop(int sig)
{
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vc = arg;
	int r;

	if (numa_active)
		numa_place_thread(vc);
	while (!stop_flag) {
		r = ioctl(vc->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			report_error("VM %u vCPU %u: KVM_RUN: errno %d (%s)\n", vc->vm,
				     vc->idx, errno, strerror(errno));
			break;
		}
		/* Nothing in the guest exits to user space: report the exit. */
		if (!vc->run) {
			vc->run = mmap(NULL, run_mmap_size, PROT_READ, MAP_SHARED, vc->fd, 0);
			if (vc->run == MAP_FAILED)
				vc->run = NULL;
		}
		{
			struct kvm_regs regs = { 0 };
			struct kvm_sregs sregs = { 0 };
			unsigned long long addr = 0;
			int len = 0, wr = 0;

			ioctl(vc->fd, KVM_GET_REGS, &regs);
			ioctl(vc->fd, KVM_GET_SREGS, &sregs);
			if (vc->run && vc->run->exit_reason == KVM_EXIT_MMIO) {
				addr = vc->run->mmio.phys_addr;
				len = vc->run->mmio.len;
				wr = vc->run->mmio.is_write;
			} else if (vc->run && vc->run->exit_reason == KVM_EXIT_IO) {
				addr = vc->run->io.port;
				len = vc->run->io.size;
				wr = vc->run->io.direction;
			}
			report_error("VM %u vCPU %u: unexpected exit reason %d (addr 0x%llx len %d write %d), cs:ip %04x:%llx (cs.base 0x%llx) sp %llx flags %llx ticks %u\n",
				     vc->vm, vc->idx, vc->run ? (int)vc->run->exit_reason : -1,
				     addr, len, wr, sregs.cs.selector, (unsigned long long)regs.rip,
				     (unsigned long long)sregs.cs.base, (unsigned long long)regs.rsp,
				     (unsigned long long)regs.rflags, read_ticks(vc));
		}
		break;
	}
	__atomic_store_n(&vc->done, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&nr_done, 1, __ATOMIC_RELAXED);
	return NULL;
}

static uint32_t read_ticks(const struct vcpu *vc)
{
	const unsigned char *mem = vm_page(vc->vm);

	return __atomic_load_n((const uint32_t *)(mem + GUEST_COUNTERS + 16 * vc->idx),
			       __ATOMIC_RELAXED);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned int env_uint(const char *name, unsigned int dflt, unsigned int min,
			     unsigned int max)
{
	char *s = getenv(name), *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || s[0] == '-' || v < min || v > max) {
		ksft_print_msg("%s=%s: expected an integer in [%u, %u]\n", name, s, min, max);
		ksft_exit_fail();
	}
	return v;
}

static bool env_flag(const char *name)
{
	char *s = getenv(name);

	return s && *s && strcmp(s, "0");
}

static void load_guest(unsigned char *mem)
{
	uint16_t *ivt = (uint16_t *)mem;
	uint16_t handler = GUEST_CODE + (guest_timer_handler - guest_code_start);
	uint16_t iret = GUEST_CODE + (guest_iret - guest_code_start);
	int vec;

	for (vec = 0; vec < 256; vec++) {
		ivt[2 * vec] = vec == TIMER_VECTOR ? handler : iret;
		ivt[2 * vec + 1] = 0;
	}
	memcpy(mem + GUEST_CODE, guest_code_start, guest_code_end - guest_code_start);
}

/* What the phases of main() hand to each other. */
struct phases {
	struct snap s0, s1, s2;		/* before create, after create, running */
	struct slab_use *slab0;
	int nslab0, fds0, fds1;
	long rss0, threads0, threads1;
	uint64_t cpu0, t_create;
	struct bucket *buckets;
	unsigned int nr_buckets, total_vcpus, nr_threads, nr_started;
	uint64_t *vm_ns;
	uint32_t *start_ticks, *ticks;
	struct kvm_regs regs_tmpl;
};

/* Options: MANY_VMS_* from the environment. */
static void parse_env(void)
{
	char *env;

	vcpus_per_vm = env_uint("MANY_VMS_VCPUS", 1, 1, MAX_VCPUS_PER_VM);
	run_secs = env_uint("MANY_VMS_SECONDS", 10, 1, 86400);
	period_ms = env_uint("MANY_VMS_PERIOD_MS", 1000, 1, 500000);
	stack_kib = env_uint("MANY_VMS_STACK_KIB", 64, 16, 8192);
	min_ticks = env_uint("MANY_VMS_MIN_TICKS", 1, 0, UINT_MAX);
	bucket_size = env_uint("MANY_VMS_BUCKET", 0, 0, UINT_MAX);
	env = getenv("MANY_VMS_IRQCHIP");
	if (env && *env && strcmp(env, "full")) {
		if (!strcmp(env, "split"))
			split_irqchip = true;
		else if (!strcmp(env, "none"))
			no_irqchip = true;
		else
			ksft_exit_fail_msg("MANY_VMS_IRQCHIP=%s: expected full, split or none\n", env);
	}
	env = getenv("MANY_VMS_HALT_POLL");
	if (env && *env && strcmp(env, "0")) {
		if (strcmp(env, "keep"))
			ksft_exit_fail_msg("MANY_VMS_HALT_POLL=%s: expected 0 or keep\n", env);
		keep_halt_poll = true;
	}
	map_run = env_flag("MANY_VMS_MAP_RUN");
	separate_maps = env_flag("MANY_VMS_SEPARATE_MAPS");
	close_vm_fd = env_flag("MANY_VMS_CLOSE_VM_FD");
	env = getenv("MANY_VMS_NUMA");
	if (env && *env && !numa_from_option && !parse_numa(env))
		ksft_exit_fail_msg("MANY_VMS_NUMA=%s: expected none, spread or bind:<node>\n", env);
	env = getenv("MANY_VMS_N");
	if (env && !strcmp(env, "max"))
		probe_max = true;
	else
		nr_vms = env_uint("MANY_VMS_N", 0, 0, 10000000);
}

/* /dev/kvm, the capabilities needed, supported CPUID, RLIMIT_NOFILE. */
static void open_kvm(void)
{
	struct rlimit rl;
	unsigned int i;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		ksft_exit_skip("/dev/kvm: %s\n", strerror(errno));
	if ((!no_irqchip && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0) ||
	    (split_irqchip && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP) <= 0))
		ksft_exit_skip("no in-kernel irqchip (KVM_CAP_%sIRQCHIP)\n",
			       split_irqchip ? "SPLIT_" : "");
	run_mmap_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_mmap_size < (int)sizeof(struct kvm_run))
		ksft_exit_fail_msg("KVM_GET_VCPU_MMAP_SIZE: %d\n", run_mmap_size);
	meminfo_fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);

	/* Supported CPUID for the guest (it needs the x2APIC bit). */
	for (i = 64; ; i *= 2) {
		cpuid = calloc(1, sizeof(*cpuid) + i * sizeof(cpuid->entries[0]));
		if (!cpuid)
			ksft_exit_fail_msg("out of memory\n");
		cpuid->nent = i;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
			break;
		if (errno != E2BIG || i > 4096)
			ksft_exit_fail_msg("KVM_GET_SUPPORTED_CPUID: %s\n", strerror(errno));
		free(cpuid);
	}

	/* RLIMIT_NOFILE: soft up to the hard limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl))
		ksft_exit_fail_perror("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			ksft_exit_fail_perror("setrlimit(RLIMIT_NOFILE)");
	}
}

/* The host's limits, and N (nr_vms) and the bucket size from them. */
static void choose_size(struct phases *p)
{
	unsigned int i;
	int tight;

	tight = compute_limits();
	ksft_print_msg("host limits, in VMs of %u vCPU(s) (%d fds, %u threads, %d mappings each):\n",
		       vcpus_per_vm, fds_per_vm(), threads_per_vm, maps_per_vm());
	for (i = 0; i < NR_L; i++) {
		if (limits[i].vms == LONG_MAX)
			ksft_print_msg("  %-20s unlimited  %s\n", limits[i].name, limits[i].detail);
		else
			ksft_print_msg("  %-20s %9ld  %s\n", limits[i].name, limits[i].vms,
				       limits[i].detail);
	}
	ksft_print_msg("first limit: %s at %ld VMs\n", limits[tight].name, limits[tight].vms);

	if (probe_max) {
		/* Bounded by everything except the fd limit, which we want to hit. */
		long cap = LONG_MAX;

		for (i = 0; i < NR_L; i++)
			if (i != L_NOFILE && limits[i].vms < cap)
				cap = limits[i].vms;
		nr_vms = cap > 1000000 ? 1000000 : cap;
		ksft_print_msg("N=max: creating up to %u VMs until creation fails\n", nr_vms);
	} else if (!nr_vms) {
		nr_vms = limits[tight].vms < DEFAULT_N ? limits[tight].vms : DEFAULT_N;
		if (nr_vms < 1)
			ksft_exit_skip("no room for a single VM: %s (%s)\n", limits[tight].name,
				       limits[tight].detail);
	} else if (limits[tight].vms < (long)nr_vms) {
		ksft_exit_skip("this environment cannot hold %u VMs x %u vCPUs: %s allows %ld (%s)\n",
			       nr_vms, vcpus_per_vm, limits[tight].name, limits[tight].vms,
			       limits[tight].detail);
	}
	if (!bucket_size)
		bucket_size = nr_vms >= 2000 ? 1000 : (nr_vms / 10 ? nr_vms / 10 : 1);
	p->nr_buckets = (nr_vms + bucket_size - 1) / bucket_size;
	p->total_vcpus = nr_vms * vcpus_per_vm;

	ksft_print_msg("%u VMs x %u vCPUs, %s irqchip, halt polling %s, timer %u ms, run %u s, bucket %u, kvm_run %s, guest memory %s, VM fds %s\n",
		       nr_vms, vcpus_per_vm,
		       no_irqchip ? "no" : split_irqchip ? "split" : "full",
		       keep_halt_poll ? "module default" : "off", period_ms, run_secs, bucket_size,
		       map_run ? "mapped" : "not mapped", separate_maps ? "one VMA per VM" : "one VMA",
		       close_vm_fd ? "closed" : "kept");
}

/* Per-vCPU and per-VM arrays, guest memory and the vCPU register template. */
static void alloc_state(struct phases *p)
{
	unsigned int i;

	vcpus = calloc(p->total_vcpus, sizeof(*vcpus));
	vm_fds = malloc(nr_vms * sizeof(*vm_fds));
	p->buckets = calloc(p->nr_buckets, sizeof(*p->buckets));
	p->start_ticks = calloc(p->total_vcpus, sizeof(*p->start_ticks));
	p->ticks = calloc(p->total_vcpus, sizeof(*p->ticks));
	p->vm_ns = calloc(bucket_size, sizeof(*p->vm_ns));
	if (!vcpus || !vm_fds || !p->buckets || !p->start_ticks || !p->ticks || !p->vm_ns)
		ksft_exit_fail_msg("out of memory\n");
	for (i = 0; i < p->total_vcpus; i++)
		vcpus[i].fd = -1;
	for (i = 0; i < nr_vms; i++)
		vm_fds[i] = -1;

	/*
	 * Guest memory: one page per VM, or one page per VM in its own VMA;
	 * with NUMA placement one such region per node.
	 */
	guest_stride = separate_maps ? 2 * GUEST_PAGE : GUEST_PAGE;
	if (numa_active) {
		numa_alloc_guest(separate_maps ? PROT_NONE : PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	} else {
		guest_mem = mmap(NULL, (size_t)nr_vms * guest_stride,
				 separate_maps ? PROT_NONE : PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (guest_mem == MAP_FAILED)
			ksft_exit_fail_perror("mmap(guest memory)");
	}

	memset(&p->regs_tmpl, 0, sizeof(p->regs_tmpl));
	p->regs_tmpl.rip = GUEST_CODE;
	p->regs_tmpl.rflags = 2;
	p->regs_tmpl.rsi = (uint64_t)period_ms * 1000000 / TIMER_DIVIDE;
	if (p->regs_tmpl.rsi > UINT32_MAX)
		p->regs_tmpl.rsi = UINT32_MAX;
}

/* Create the VMs of one bucket; false when none could be created. */
static bool create_bucket(struct phases *p, unsigned int b)
{
	struct bucket *bk = &p->buckets[b];
	unsigned int i, end;
	struct snap sb = snapshot(), se;
	uint64_t tb;

	bk->first = b * bucket_size;
	end = bk->first + bucket_size < nr_vms ? bk->first + bucket_size : nr_vms;
	bk->cpu_ns = cpu_ns();
	tb = now_ns();
	for (i = bk->first; i < end; i++) {
		unsigned char *mem = vm_page(i);
		uint64_t tv = now_ns();

		if (separate_maps && mprotect(mem, GUEST_PAGE, PROT_READ | PROT_WRITE)) {
			stop_errno = errno;
			stop_step = "mprotect";
			stop_vm = i;
			stop_why = explain_errno(errno, "mmap");
			break;
		}
		load_guest(mem);
		if (!create_vm(i, &p->regs_tmpl))
			break;
		p->vm_ns[i - bk->first] = now_ns() - tv;
		nr_created++;
	}
	bk->ns = now_ns() - tb;
	bk->cpu_ns = cpu_ns() - bk->cpu_ns;
	bk->count = nr_created - bk->first;
	if (bk->count) {
		qsort(p->vm_ns, bk->count, sizeof(*p->vm_ns), cmp_u64);
		bk->median_ns = p->vm_ns[bk->count / 2];
	}
	se = snapshot();
	bk->kmem_kib = kmem_total(&se) - kmem_total(&sb);
	if (!bk->count)
		return false;
	/* Progress while creating: a long run shows where it is. */
	ksft_print_msg("bucket %u: VMs %u-%u, %.1f us/VM (median %.1f, cpu %.1f), %.1f KiB/VM\n",
		       b, bk->first, bk->first + bk->count - 1,
		       bk->ns / 1e3 / bk->count, bk->median_ns / 1e3,
		       bk->cpu_ns / 1e3 / bk->count, (double)bk->kmem_kib / bk->count);
	return true;
}

/* Phase 1: create all VMs, bucket by bucket, with snapshots around it. */
static void phase_create(struct phases *p)
{
	unsigned int b;
	uint64_t t0;

	p->fds0 = count_fds();
	p->rss0 = self_status("RssAnon:");
	p->nslab0 = read_slabinfo(&p->slab0);
	p->s0 = snapshot();
	p->cpu0 = cpu_ns();
	t0 = now_ns();
	for (b = 0; b < p->nr_buckets && !stop_step; b++)
		if (!create_bucket(p, b))
			break;
	p->t_create = now_ns() - t0;
	p->cpu0 = cpu_ns() - p->cpu0;
	p->s1 = snapshot();
	p->fds1 = count_fds();
	for (p->nr_buckets = 0; p->nr_buckets < b && p->buckets[p->nr_buckets].count;
	     p->nr_buckets++)
		;
}

/* The creation table, its metrics and test 1. */
static void report_create(struct phases *p)
{
	const struct snap *s0 = &p->s0, *s1 = &p->s1;
	unsigned int i, b;

	if (stop_step)
		ksft_print_msg("creation stopped at VM %u (%s): errno %d (%s); limit: %s\n",
			       stop_vm, stop_step, stop_errno, strerror(stop_errno), stop_why);
	ksft_print_msg("created %u VMs (%u vCPUs) in %.2f s: %.0f VMs/s\n", nr_created,
		       nr_created * vcpus_per_vm, p->t_create / 1e9,
		       nr_created ? nr_created / (p->t_create / 1e9) : 0);
	ksft_print_msg("%-7s %-13s %6s %10s %10s %10s %12s\n", "bucket", "VMs", "count", "us/VM",
		       "median_us", "cpu_us/VM", "kmem_KiB/VM");
	for (b = 0; b < p->nr_buckets; b++) {
		struct bucket *bk = &p->buckets[b];
		char range[32];

		snprintf(range, sizeof(range), "%u-%u", bk->first, bk->first + bk->count - 1);
		ksft_print_msg("%-7u %-13s %6u %10.1f %10.1f %10.1f %12.1f\n", b, range,
			       bk->count, bk->ns / 1e3 / bk->count, bk->median_ns / 1e3,
			       bk->cpu_ns / 1e3 / bk->count, (double)bk->kmem_kib / bk->count);
	}

	metric("vms", nr_created, "vms");
	metric("vcpus", nr_created * vcpus_per_vm, "vcpus");
	if (nr_created) {
		struct bucket *first = &p->buckets[0], *last = &p->buckets[p->nr_buckets - 1];
		unsigned int first_bucket_n;

		/* A short last bucket is noisy: compare with the last full one. */
		if (p->nr_buckets > 1 && last->count < bucket_size / 2)
			last--;
		first_bucket_n = first->count;
		metric("create_vms_per_s", nr_created / (p->t_create / 1e9), "vms/s");
		metric("create_cpu_us_per_vm", p->cpu0 / 1e3 / nr_created, "us");
		metric("create_us_per_vm.first_bucket", first->ns / 1e3 / first->count, "us");
		metric("create_us_per_vm.last_bucket", last->ns / 1e3 / last->count, "us");
		metric("create_last_first_ratio",
		       ((double)last->ns / last->count) / ((double)first->ns / first_bucket_n), "x");
		metric("create_median_us.first_bucket", first->median_ns / 1e3, "us");
		metric("create_median_us.last_bucket", last->median_ns / 1e3, "us");
		metric("create_median_last_first_ratio",
		       (double)last->median_ns / first->median_ns, "x");
		metric("create_cpu_us_per_vm.first_bucket", first->cpu_ns / 1e3 / first->count, "us");
		metric("create_cpu_us_per_vm.last_bucket", last->cpu_ns / 1e3 / last->count, "us");
		metric("kmem_kib_per_vm.first_bucket", (double)first->kmem_kib / first->count, "KiB");
		metric("kmem_kib_per_vm.last_bucket", (double)last->kmem_kib / last->count, "KiB");
		if (s0->ok && s1->ok) {
			metric("kmem_kib_per_vm", (double)(kmem_total(s1) - kmem_total(s0)) / nr_created, "KiB");
			metric("slab_kib_per_vm", (double)(s1->v[M_SLAB] - s0->v[M_SLAB]) / nr_created, "KiB");
			metric("pagetables_kib_per_vm", (double)(s1->v[M_PT] - s0->v[M_PT]) / nr_created, "KiB");
			metric("vmalloc_kib_per_vm", (double)(s1->v[M_VMALLOC] - s0->v[M_VMALLOC]) / nr_created, "KiB");
			metric("percpu_kib_per_vm", (double)(s1->v[M_PERCPU] - s0->v[M_PERCPU]) / nr_created, "KiB");
			/* Includes pages that no counter above sees (VMCB, MSR bitmap). */
			metric("memavailable_drop_kib_per_vm",
			       (double)(s0->v[M_AVAIL] - s1->v[M_AVAIL]) / nr_created, "KiB");
		}
		ksft_print_msg("creation time per VM by step:\n");
		for (i = 0; i < NR_STEPS; i++)
			if (step_ns[i])
				ksft_print_msg("  %-28s %9.1f us\n", step_names[i],
					       step_ns[i] / 1e3 / nr_created);
		metric("fds_per_vm", (double)(p->fds1 - p->fds0) / nr_created, "fds");
		print_slab_delta(p->slab0, p->nslab0, nr_created);
	}
	if (probe_max || !stop_step)
		ksft_test_result(nr_created > 0, "created %u of %u VMs x %u vCPUs%s%s\n",
				 nr_created, nr_vms, vcpus_per_vm,
				 stop_step ? ", stopped by " : "", stop_step ? stop_why : "");
	else
		ksft_test_result_fail("created %u of %u VMs x %u vCPUs: %s failed, errno %d, limit: %s\n",
				      nr_created, nr_vms, vcpus_per_vm, stop_step, stop_errno, stop_why);
}

/* Phase 2: one thread per vCPU, small stacks from one mapping. */
static void phase_start(struct phases *p)
{
	struct sigaction sa;
	pthread_attr_t attr;
	unsigned char *stacks;
	unsigned int i;
	uint64_t t0;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_nop;
	sigaction(SIGUSR1, &sa, NULL);
	p->nr_threads = nr_created * vcpus_per_vm;
	stacks = mmap(NULL, (size_t)p->nr_threads * stack_kib * 1024, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (stacks == MAP_FAILED)
		ksft_exit_fail_perror("mmap(thread stacks)");
	pthread_attr_init(&attr);
	p->threads0 = self_status("Threads:");
	t0 = now_ns();
	for (i = 0; i < p->nr_threads; i++) {
		r = pthread_attr_setstack(&attr, stacks + (size_t)i * stack_kib * 1024,
					  stack_kib * 1024);
		if (!r)
			r = pthread_create(&vcpus[i].thread, &attr, vcpu_thread, &vcpus[i]);
		if (r) {
			ksft_print_msg("thread for vCPU %u (VM %u) not created: errno %d (%s); limit: %s\n",
				       i, vcpus[i].vm, r, strerror(r), explain_errno(r, "pthread_create"));
			break;
		}
		vcpus[i].started = true;
		p->nr_started++;
	}
	metric("start_ms", (now_ns() - t0) / 1e6, "ms");
}

/* Phase 3: the run window; ticks per vCPU, memory while running, test 2. */
static void phase_run(struct phases *p)
{
	unsigned int i, nr_started = p->nr_started;
	unsigned int vm_min = UINT_MAX, starved = 0, starved_vms = 0, stopped;
	uint32_t *ticks = p->ticks, *sorted;
	uint64_t t0, deadline;
	double window, expected;
	long rss1;

	/* Let every vCPU reach the guest loop, then open the window. */
	usleep(500 * 1000 + (period_ms < 5000 ? period_ms : 5000) * 1000);
	p->threads1 = self_status("Threads:");
	for (i = 0; i < nr_started; i++)
		p->start_ticks[i] = read_ticks(&vcpus[i]);
	t0 = now_ns();
	deadline = t0 + run_secs * 1000000000ull;
	while (now_ns() < deadline && nr_done < nr_started)
		usleep(100 * 1000);
	for (i = 0; i < nr_started; i++)
		ticks[i] = read_ticks(&vcpus[i]) - p->start_ticks[i];
	p->s2 = snapshot();

	window = (now_ns() - t0) / 1e9;
	stopped = nr_done;
	sorted = malloc(nr_started * sizeof(*sorted));
	expected = window * 1000.0 / period_ms;
	for (i = 0; i < nr_started; i++) {
		if (ticks[i] < min_ticks) {
			if (starved < MAX_REPORTED_ERRORS)
				ksft_print_msg("VM %u vCPU %u: %u ticks in the window\n",
					       vcpus[i].vm, vcpus[i].idx, ticks[i]);
			starved++;
			if (!vcpus[i].idx || ticks[i - 1] >= min_ticks)
				starved_vms++;
		}
	}
	for (i = 0; i + vcpus_per_vm <= nr_started; i += vcpus_per_vm) {
		unsigned int sum = 0, v;

		for (v = 0; v < vcpus_per_vm; v++)
			sum += ticks[i + v];
		if (sum < vm_min)
			vm_min = sum;
	}
	memcpy(sorted, ticks, nr_started * sizeof(*sorted));
	qsort(sorted, nr_started, sizeof(*sorted), cmp_u32);
	ksft_print_msg("window %.1f s, %u threads running, expected ~%.1f ticks per vCPU\n",
		       window, nr_started, expected);
	ksft_print_msg("ticks per vCPU: min %u, median %u, max %u; per VM min %u\n",
		       sorted[0], sorted[nr_started / 2], sorted[nr_started - 1], vm_min);
	metric("ticks_min", sorted[0], "ticks");
	metric("ticks_median", sorted[nr_started / 2], "ticks");
	metric("ticks_max", sorted[nr_started - 1], "ticks");
	metric("ticks_min_expected_ratio", expected > 0 ? sorted[0] / expected : 0, "x");
	if (p->rss0 >= 0 && (rss1 = self_status("RssAnon:")) >= 0)
		metric("user_kib_per_vm.running", (double)(rss1 - p->rss0) / nr_created, "KiB");
	if (p->threads0 > 0 && p->threads1 > 0)
		metric("threads_per_vm", (double)(p->threads1 - p->threads0) / nr_created, "threads");
	if (p->s0.ok && p->s2.ok) {
		const struct snap *s0 = &p->s0, *s2 = &p->s2;

		metric("kmem_kib_per_vm.running", (double)(kmem_total(s2) - kmem_total(s0)) / nr_created, "KiB");
		metric("kernelstack_kib_per_vm.running", (double)(s2->v[M_KSTACK] - s0->v[M_KSTACK]) / nr_created, "KiB");
		metric("secpagetables_kib_per_vm.running", (double)(s2->v[M_SECPT] - s0->v[M_SECPT]) / nr_created, "KiB");
		metric("memavailable_drop_kib_per_vm.running",
		       (double)(s0->v[M_AVAIL] - s2->v[M_AVAIL]) / nr_created, "KiB");
	}
	free(sorted);

	ksft_test_result(nr_started == p->nr_threads && !starved && !nr_errors && !stopped,
			 "%u VMs (%u vCPUs) ran concurrently for %u s: %u vCPUs in %u VMs below %u ticks, %u errors\n",
			 nr_started / vcpus_per_vm, nr_started, run_secs, starved, starved_vms,
			 min_ticks, nr_errors);
}

/* Phase 4: stop and join the threads, close every fd, memory left behind. */
static void phase_destroy(struct phases *p)
{
	unsigned int i;
	struct snap s3;
	uint64_t t0;
	int r;

	t0 = now_ns();
	stop_flag = 1;
	for (r = 0; r < 100 && __atomic_load_n(&nr_done, __ATOMIC_RELAXED) < p->nr_started; r++) {
		for (i = 0; i < p->nr_started; i++)
			if (!__atomic_load_n(&vcpus[i].done, __ATOMIC_ACQUIRE))
				pthread_kill(vcpus[i].thread, SIGUSR1);
		usleep(20 * 1000);
	}
	for (i = 0; i < p->nr_started; i++)
		pthread_join(vcpus[i].thread, NULL);
	metric("stop_ms", (now_ns() - t0) / 1e6, "ms");
	for (i = 0; i < p->total_vcpus; i++) {
		if (vcpus[i].run)
			munmap(vcpus[i].run, run_mmap_size);
		if (vcpus[i].fd >= 0)
			close(vcpus[i].fd);
	}
	for (i = 0; i < nr_vms; i++)
		if (vm_fds[i] >= 0)
			close(vm_fds[i]);
	metric("destroy_ms", (now_ns() - t0) / 1e6, "ms");
	/* VM teardown finishes asynchronously (RCU, workqueues). */
	sleep(2);
	s3 = snapshot();
	if (p->s0.ok && s3.ok)
		ksft_print_msg("kernel memory not returned 2 s after teardown: %.1f KiB per VM\n",
			       (double)(kmem_total(&s3) - kmem_total(&p->s0)) / nr_created);
}

/*
 * Open the counters (disabled) on this thread: a dummy software leader and
 * one kprobe per gp_syms entry; NULL, or why nothing can be counted.  A
 * symbol that cannot be probed is left out and said.
 */
static const char *gp_open(void)
{
	static char why[160];
	struct perf_event_attr attr;
	long type;
	unsigned int i;

	type = read_long_file("/sys/bus/event_source/devices/kprobe/type", -1);
	if (type < 0)
		return "no kprobe PMU (/sys/bus/event_source/devices/kprobe: CONFIG_KPROBE_EVENTS)";
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID;
	attr.disabled = 1;
	gp_leader = syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0);
	if (gp_leader < 0) {
		snprintf(why, sizeof(why), "perf_event_open (software dummy): %s", strerror(errno));
		return why;
	}
	gp_nr = 0;
	for (i = 0; i < NR_GP; i++) {
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = type;
		attr.config1 = (uintptr_t)gp_syms[i];	/* kprobe_func; config 0: entry */
		attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_ID;
		gp_fd[i] = syscall(__NR_perf_event_open, &attr, 0, -1, gp_leader, 0);
		if (gp_fd[i] < 0) {
			ksft_print_msg("gp: %s not counted: %s\n", gp_syms[i], strerror(errno));
			continue;
		}
		gp_nr++;
	}
	if (!gp_nr) {
		close(gp_leader);
		gp_leader = -1;
		return "no kprobe could be opened (see the lines above)";
	}
	return NULL;
}

static void gp_close(void)
{
	unsigned int i;

	if (gp_leader >= 0)
		close(gp_leader);
	gp_leader = -1;
	/* gp_fd[] stays: it says which counters were open (the fds are closed) */
	for (i = 0; i < NR_GP; i++)
		if (gp_fd[i] >= 0)
			close(gp_fd[i]);
}

/* Close the vCPU fds, kvm_run mappings and VM fds of gp VMs 0..made-1. */
static void gp_destroy(unsigned int made)
{
	unsigned int i;

	for (i = 0; i < made * vcpus_per_vm; i++) {
		if (vcpus[i].run)
			munmap(vcpus[i].run, run_mmap_size);
		vcpus[i].run = NULL;
		if (vcpus[i].fd >= 0)
			close(vcpus[i].fd);
		vcpus[i].fd = -1;
	}
	for (i = 0; i < made; i++) {
		if (vm_fds[i] >= 0)
			close(vm_fds[i]);
		vm_fds[i] = -1;
	}
}

/* The per-step table of the gp phase. */
static void gp_print(unsigned int made, const uint64_t *tot)
{
	unsigned int st, k;

	ksft_print_msg("gp: per VM creation, %u VMs, kprobes on the creating thread:\n", made);
	ksft_print_msg("  %-28s %11s %10s %10s %12s\n", "step", "srcu_waits", "call_srcu",
		       "sync_rcu", "sync_rcu_exp");
	for (st = 0; st <= NR_STEPS + 1; st++) {
		const uint64_t *v = st <= NR_STEPS ? gp_step[st] : tot;
		bool any = false;

		for (k = 0; k < NR_GP; k++)
			any |= v[k] != 0;
		if (st <= NR_STEPS && !any)
			continue;
		ksft_print_msg("  %-28s %11.2f %10.2f %10.2f %12.2f\n",
			       st < NR_STEPS ? step_names[st] : st == NR_STEPS ? "(between steps)" : "total",
			       (double)v[0] / made, (double)v[1] / made,
			       (double)v[2] / made, (double)v[3] / made);
	}
}

/*
 * Phase 5: MANY_VMS_GP_VMS more VMs (indexes 0.., after destroy; at most as
 * many as the timed phase created, whose guest pages are writable), created
 * like the others with the kprobe counters on; per VM and per step.  A VM
 * that fails part-way is undone and its counts are not kept.
 */
static void phase_gp(struct phases *p)
{
	unsigned int n = env_uint("MANY_VMS_GP_VMS", 16, 0, 1024), i, k, st, made = 0;
	uint64_t tot[NR_GP] = { 0 }, saved[NR_STEPS + 1][NR_GP];
	const char *why;
	char key[96];

	if (!n)
		return;
	if (n > nr_created)
		n = nr_created;
	why = gp_open();
	if (why) {
		ksft_print_msg("gp: SKIP: grace periods of VM creation not counted: %s\n", why);
		return;
	}
	for (i = 0; i < n * vcpus_per_vm; i++) {
		vcpus[i].fd = -1;
		vcpus[i].run = NULL;
	}
	for (i = 0; i < n; i++)
		vm_fds[i] = -1;
	stop_step = NULL;
	memset(gp_step, 0, sizeof(gp_step));
	ioctl(gp_leader, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
	ioctl(gp_leader, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
	if (!gp_read(gp_last)) {
		ksft_print_msg("gp: SKIP: cannot read the counters: %s\n", strerror(errno));
		gp_close();
		return;
	}
	gp_counting = true;
	for (i = 0; i < n; i++) {
		load_guest(vm_page(i));
		gp_mark(GP_BETWEEN);
		memcpy(saved, gp_step, sizeof(saved));
		if (!create_vm(i, &p->regs_tmpl)) {
			memcpy(gp_step, saved, sizeof(saved));
			break;
		}
		made++;
	}
	gp_mark(GP_BETWEEN);
	gp_counting = false;
	ioctl(gp_leader, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
	gp_destroy(made);
	gp_close();
	if (!made) {
		ksft_print_msg("gp: no VM created (%s failed)\n", stop_step ? stop_step : "?");
		return;
	}
	for (st = 0; st <= NR_STEPS; st++)
		for (k = 0; k < NR_GP; k++)
			tot[k] += gp_step[st][k];
	gp_print(made, tot);
	for (k = 0; k < NR_GP; k++) {
		if (gp_fd[k] < 0)
			continue;
		snprintf(key, sizeof(key), "gp.%s_per_vm", gp_keys[k]);
		metric(key, (double)tot[k] / made, gp_units[k]);
	}
	/* irqchip and memslot always (the steps that wait on 6.12), others if any */
	for (st = 0; st < NR_STEPS && gp_fd[0] >= 0; st++) {
		if (!gp_step[st][0] && st != 1 && st != 3)
			continue;
		snprintf(key, sizeof(key), "gp.srcu_waits_per_vm.%s", gp_step_keys[st]);
		metric(key, (double)gp_step[st][0] / made, "waits");
	}
}

static void print_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-h] [-N none|spread|bind:<node>]\n"
		" -N: NUMA placement of each VM's vCPU threads and guest memory\n"
		"     (libnuma): spread: VM i on usable node i mod their number,\n"
		"     bind:<node>: all VMs, the creating thread and the memory\n"
		"     policy on <node>,\n"
		"     none: no placement (default; also MANY_VMS_NUMA)\n"
		"Sizes and the rest come from the environment: MANY_VMS_N (default: what\n"
		"fits, at most 10000; max: until creation fails), MANY_VMS_VCPUS (1-2),\n"
		"MANY_VMS_SECONDS (10), MANY_VMS_PERIOD_MS (1000), MANY_VMS_BUCKET,\n"
		"MANY_VMS_IRQCHIP (full|split), MANY_VMS_HALT_POLL (0|keep),\n"
		"MANY_VMS_MAP_RUN, MANY_VMS_SEPARATE_MAPS, MANY_VMS_CLOSE_VM_FD,\n"
		"MANY_VMS_STACK_KIB (64), MANY_VMS_MIN_TICKS (1), MANY_VMS_NUMA,\n"
		"MANY_VMS_GP_VMS (16: VMs created once more, after the rest, with\n"
		"kprobe counters of the grace periods creation waits for; 0: none).\n"
		"See the comment at the top of many_vms.c and Documentation/many-vms.rst.\n",
		prog);
}

/* Options, before the environment: -N overrides MANY_VMS_NUMA. */
static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "hN:")) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout, argv[0]);
			exit(KSFT_PASS);
		case 'N':
			numa_from_option = true;
			if (!parse_numa(optarg)) {
				fprintf(stderr, "%s: -N %s: expected none, spread or bind:<node>\n",
					argv[0], optarg);
				print_usage(stderr, argv[0]);
				exit(KSFT_FAIL);
			}
			break;
		default:
			print_usage(stderr, argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		print_usage(stderr, argv[0]);
		exit(KSFT_FAIL);
	}
}

int main(int argc, char **argv)
{
	static struct phases p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	ksft_print_header();
	parse_env();

	open_kvm();
	numa_setup();
	choose_size(&p);
	ksft_set_plan(numa_active ? 3 : 2);
	alloc_state(&p);

	phase_create(&p);
	report_create(&p);
	if (!nr_created) {
		ksft_test_result_skip("no VM to run\n");
		if (numa_active)
			ksft_test_result_skip("no VM to place\n");
		ksft_finished();
	}
	if (no_irqchip) {
		ksft_test_result_skip("MANY_VMS_IRQCHIP=none: creation only, no vCPU runs\n");
		if (numa_active)
			ksft_test_result_skip("no VM ran\n");
		phase_destroy(&p);
		phase_gp(&p);
		ksft_finished();
	}
	phase_start(&p);
	phase_run(&p);
	if (numa_active)
		report_numa(p.ticks, p.nr_started);
	phase_destroy(&p);
	phase_gp(&p);
	ksft_finished();
}
