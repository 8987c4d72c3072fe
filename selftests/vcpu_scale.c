// SPDX-License-Identifier: GPL-2.0-only
/*
 * vcpu_scale - create as many vCPUs as KVM allows in one VM and run them all.
 *
 * Every vCPU enables x2APIC, reads its own x2APIC ID and reports it to the
 * host with a ucall.  The host checks that each vCPU reported its own vCPU id
 * and that every id came back exactly once.  vCPU creation is timed in
 * buckets, and the kernel memory used per vCPU is estimated from /proc/meminfo
 * (Slab + KernelStack + PageTables + VmallocUsed + Percpu) around each bucket.
 *
 * Results are TAP; numbers that the report generator consumes are printed as
 * "# metric <key> <value> <unit>".
 *
 * Limits of the 6.12 selftest library and how they are avoided:
 *  - The guest's ucall pool has KVM_MAX_UCALLS slots (512) in the v1
 *    library.  Other libraries have KVM_MAX_VCPUS slots, or (v2,
 *    KVM_MIN_UCALLS) one per vCPU the VM is created for, which the
 *    __vm_create() below sizes for N; both use the fallback below.
 *    A vCPU holds a pool slot from
 *    a ucall until it re-enters the guest, so at most that many vCPUs may be
 *    inside a ucall at once.  Here the number of concurrently running vCPUs
 *    is bounded by the worker threads (capped at the pool size), and every
 *    vCPU is re-entered after GUEST_DONE so that it frees its slot and parks
 *    on a slot-less exit (GUEST_UCALL_NONE).
 *  - vm_create_with_vcpus() is not used; the VM is sized for N vCPUs with
 *    __vm_create() and vCPUs are added one by one with vm_vcpu_add().
 *  - The library's __vm_vcpu_add() walks the whole vCPU list to reject
 *    duplicate ids (O(N) per vCPU, O(N^2) in total, which would distort the
 *    per-bucket timing at 16k vCPUs) and asserts without telling which vCPU
 *    failed.  The binary is linked with -Wl,--wrap=__vm_vcpu_add so that
 *    vm_arch_vcpu_add() calls __wrap___vm_vcpu_add() below, which does the
 *    same work without the duplicate walk and reports index and errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "ucall_common.h"
#include "kselftest.h"

#ifndef KVM_MAX_UCALLS
#define KVM_MAX_UCALLS KVM_MAX_VCPUS
#endif

/* File descriptors needed besides one per vCPU (kvm, vm, stdio, ...). */
#define NR_EXTRA_FDS		100
/* Print at most this many individual failures. */
#define MAX_REPORTED_ERRORS	10

struct bucket {
	uint32_t first;
	uint32_t count;
	uint64_t ns;
	uint64_t ioctl_ns;
	long kmem_kib;
};

static uint32_t nr_vcpus;
static uint32_t nr_created;
static struct kvm_vcpu **vcpus;
static struct bucket *buckets;
static uint32_t nr_buckets;
static uint32_t nr_buckets_done;
/* Bucket being filled and its starting kernel memory, -1 if none. */
static int open_bucket = -1;
static long open_bucket_kmem;
static bool kmem_ok = true;
static uint64_t create_ioctl_ns;
static int vcpu_mmap_size;

/* Filled by the worker threads. */
static uint64_t *reported_id;
static uint32_t *seen;
static uint32_t next_vcpu;
static uint32_t nr_errors;

static void guest_code(void)
{
	x2apic_enable();
	GUEST_SYNC(x2apic_read_reg(APIC_ID));
	GUEST_DONE();

	/*
	 * The host re-enters once more after GUEST_DONE so that the ucall
	 * above releases its slot in the (KVM_MAX_UCALLS sized) ucall pool.
	 * Park on an exit that does not take a slot.
	 */
	for (;;)
		GUEST_UCALL_NONE();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Kernel memory in KiB as Slab + KernelStack + PageTables + VmallocUsed +
 * Percpu from /proc/meminfo, or -1 if it cannot be read.  The file is kept
 * open so that reading it still works when vCPU fds exhaust RLIMIT_NOFILE.
 */
static long kernel_mem_kib(void)
{
	static const char * const keys[] = {
		"Slab:", "KernelStack:", "PageTables:", "VmallocUsed:", "Percpu:",
	};
	static int fd = -1;
	char buf[8192], *line, *save;
	size_t len = 0, i;
	long total = 0;
	ssize_t r;
	int found = 0;

	if (fd < 0)
		fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;

	while (len < sizeof(buf) - 1) {
		r = pread(fd, buf + len, sizeof(buf) - 1 - len, len);
		if (r <= 0)
			break;
		len += r;
	}
	buf[len] = '\0';

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < ARRAY_SIZE(keys); i++) {
			size_t klen = strlen(keys[i]);

			if (!strncmp(line, keys[i], klen)) {
				total += strtol(line + klen, NULL, 10);
				found++;
			}
		}
	}

	return found == ARRAY_SIZE(keys) ? total : -1;
}

static void print_buckets(void)
{
	uint32_t b;

	ksft_print_msg("%-7s %-13s %7s %9s %15s %14s\n", "bucket", "vcpus",
		       "count", "us/vcpu", "ioctl_us/vcpu", "kmem_KiB/vcpu");
	for (b = 0; b < nr_buckets_done; b++) {
		struct bucket *bk = &buckets[b];
		char range[32];
		char kmem[32];

		snprintf(range, sizeof(range), "%u-%u", bk->first,
			 bk->first + bk->count - 1);
		if (kmem_ok)
			snprintf(kmem, sizeof(kmem), "%.2f",
				 (double)bk->kmem_kib / bk->count);
		else
			snprintf(kmem, sizeof(kmem), "n/a");
		ksft_print_msg("%-7u %-13s %7u %9.1f %15.1f %14s\n", b, range,
			       bk->count, bk->ns / 1000.0 / bk->count,
			       bk->ioctl_ns / 1000.0 / bk->count, kmem);
	}
}

static void print_metric(const char *key, double value, const char *unit)
{
	ksft_print_msg("metric %s %.2f %s\n", key, value, unit);
}

static void close_bucket(void)
{
	long kmem;

	if (open_bucket < 0)
		return;
	kmem = kernel_mem_kib();
	if (kmem < 0 || open_bucket_kmem < 0)
		kmem_ok = false;
	buckets[open_bucket].kmem_kib = kmem - open_bucket_kmem;
	open_bucket = -1;
}

static void print_create_metrics(void)
{
	struct bucket *first, *last;
	uint64_t total_ns = 0;
	long total_kib = 0;
	uint32_t b;

	ksft_print_msg("metric vcpu_scale.vcpus %u vcpus\n", nr_created);
	if (!nr_buckets_done)
		return;

	first = &buckets[0];
	last = &buckets[nr_buckets_done - 1];
	for (b = 0; b < nr_buckets_done; b++) {
		total_ns += buckets[b].ns;
		total_kib += buckets[b].kmem_kib;
	}

	print_metric("vcpu_scale.create_us_per_vcpu.first_bucket",
		     first->ns / 1000.0 / first->count, "us");
	print_metric("vcpu_scale.create_us_per_vcpu.last_bucket",
		     last->ns / 1000.0 / last->count, "us");
	print_metric("vcpu_scale.create_ioctl_us_per_vcpu.last_bucket",
		     last->ioctl_ns / 1000.0 / last->count, "us");
	print_metric("vcpu_scale.create_total_ms", total_ns / 1e6, "ms");
	if (kmem_ok) {
		print_metric("vcpu_scale.kmem_kib_per_vcpu",
			     (double)total_kib / nr_created, "KiB");
		print_metric("vcpu_scale.kmem_kib_per_vcpu.last_bucket",
			     (double)last->kmem_kib / last->count, "KiB");
	}
}

/* Called by vm_arch_vcpu_add() instead of __vm_vcpu_add(), see above. */
struct kvm_vcpu *__wrap___vm_vcpu_add(struct kvm_vm *vm, uint32_t vcpu_id);

struct kvm_vcpu *__wrap___vm_vcpu_add(struct kvm_vm *vm, uint32_t vcpu_id)
{
	struct kvm_vcpu *vcpu;
	uint64_t t0;
	int fd, err;

	t0 = now_ns();
	fd = __vm_ioctl(vm, KVM_CREATE_VCPU, (void *)(unsigned long)vcpu_id);
	err = errno;
	create_ioctl_ns += now_ns() - t0;

	if (fd < 0) {
		ksft_print_msg("KVM_CREATE_VCPU failed for vCPU index %u: errno %d (%s)\n",
			       vcpu_id, err, strerror(err));
		close_bucket();
		print_buckets();
		print_create_metrics();
		ksft_test_result_fail("created %u vCPUs (failed at index %u, errno %d)\n",
				      nr_vcpus, vcpu_id, err);
		ksft_test_result_skip("all %u vCPUs ran and reported their own x2APIC id once\n",
				      nr_vcpus);
		ksft_finished();
	}

	vcpu = calloc(1, sizeof(*vcpu));
	TEST_ASSERT(vcpu, "Insufficient memory for vCPU %u", vcpu_id);

	vcpu->vm = vm;
	vcpu->id = vcpu_id;
	vcpu->fd = fd;
	vcpu->run = mmap(NULL, vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	TEST_ASSERT(vcpu->run != MAP_FAILED,
		    "mmap() of kvm_run failed for vCPU index %u, errno %d",
		    vcpu_id, errno);

	list_add(&vcpu->list, &vm->vcpus);

	return vcpu;
}

static void report_error(const char *fmt, ...)
{
	uint32_t n = __atomic_fetch_add(&nr_errors, 1, __ATOMIC_RELAXED);
	char msg[1200];
	va_list ap;

	if (n >= MAX_REPORTED_ERRORS)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One call, so that lines from different workers do not mix. */
	ksft_print_msg("%s", msg);
}

/* Run @vcpu once and return the ucall command, or -1 on KVM_RUN failure. */
static int run_once(struct kvm_vcpu *vcpu, struct ucall *uc)
{
	struct kvm_vcpu_events events;
	struct kvm_regs regs;
	int r = _vcpu_run(vcpu);

	if (r) {
		report_error("vCPU %u: KVM_RUN failed, errno %d (%s)\n",
			     vcpu->id, errno, strerror(errno));
		return -1;
	}
	if (vcpu->run->exit_reason == KVM_EXIT_SHUTDOWN) {
		/*
		 * A triple fault.  With SVM the state is already reset when
		 * the fault came from the CPU (RIP 0xfff0); a fault KVM made
		 * up itself leaves the guest's state in place.
		 */
		vcpu_regs_get(vcpu, &regs);
		vcpu_events_get(vcpu, &events);
		report_error("vCPU %u: shutdown at RIP 0x%llx RSP 0x%llx, exception %u injected %u pending %u, irq %u injected %u, nmi %u\n",
			     vcpu->id, regs.rip, regs.rsp, events.exception.nr,
			     events.exception.injected, events.exception.pending,
			     events.interrupt.nr, events.interrupt.injected,
			     events.nmi.injected);
	}
	return get_ucall(vcpu, uc);
}

static void run_vcpu(struct kvm_vcpu *vcpu)
{
	struct ucall uc;
	int cmd;

	cmd = run_once(vcpu, &uc);
	if (cmd == UCALL_ABORT) {
		report_error("vCPU %u: guest assertion: %s\n", vcpu->id, uc.buffer);
		return;
	}
	if (cmd != UCALL_SYNC) {
		if (cmd >= 0)
			report_error("vCPU %u: expected UCALL_SYNC, got ucall %d (exit reason %u)\n",
				     vcpu->id, cmd, vcpu->run->exit_reason);
		return;
	}

	reported_id[vcpu->id] = uc.args[1];
	if (uc.args[1] < nr_vcpus)
		__atomic_fetch_add(&seen[uc.args[1]], 1, __ATOMIC_RELAXED);

	cmd = run_once(vcpu, &uc);
	if (cmd != UCALL_DONE) {
		if (cmd >= 0)
			report_error("vCPU %u: expected UCALL_DONE, got ucall %d (exit reason %u)\n",
				     vcpu->id, cmd, vcpu->run->exit_reason);
		return;
	}

	/* Let the guest free its ucall slot; it parks on a bare PIO exit. */
	cmd = run_once(vcpu, &uc);
	if (cmd != UCALL_NONE || vcpu->run->exit_reason != KVM_EXIT_IO) {
		if (cmd >= 0)
			report_error("vCPU %u: expected a bare PIO exit after GUEST_DONE, got ucall %d (exit reason %u)\n",
				     vcpu->id, cmd, vcpu->run->exit_reason);
	}
}

static void *worker(void *arg)
{
	uint32_t i;

	for (;;) {
		i = __atomic_fetch_add(&next_vcpu, 1, __ATOMIC_RELAXED);
		if (i >= nr_vcpus)
			break;
		run_vcpu(vcpus[i]);
	}
	return NULL;
}

static void usage(const char *name)
{
	printf("Usage: %s [-h] [-n vcpus] [-b bucket] [-t threads]\n"
	       "  -n vcpus    number of vCPUs to create and run (default: $VCPU_SCALE_VCPUS,\n"
	       "              or KVM_CAP_MAX_VCPUS when that is unset or 0)\n"
	       "  -b bucket   vCPUs per timing bucket (default: $VCPU_SCALE_BUCKET,\n"
	       "              or max(vcpus / 8, 1))\n"
	       "  -t threads  worker threads running the vCPUs (default: 2 * online CPUs,\n"
	       "              capped to vcpus and to %d, the selftest ucall pool size)\n"
	       "  -h          this help\n", name, KVM_MAX_UCALLS);
}

static uint32_t parse_count(const char *name, char opt, const char *arg)
{
	unsigned long val;
	char *end;

	errno = 0;
	val = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || !val ||
	    val > UINT32_MAX) {
		fprintf(stderr, "%s: invalid argument '-%c %s': expected an integer between 1 and %u\n",
			name, opt, arg, UINT32_MAX);
		usage(name);
		exit(KSFT_FAIL);
	}
	return val;
}

static void raise_nofile_limit(rlim_t wanted)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		ksft_exit_fail_perror("getrlimit(RLIMIT_NOFILE)");
	if (rl.rlim_cur >= wanted)
		return;

	rl.rlim_cur = wanted;
	if (rl.rlim_max < wanted) {
		rlim_t old_max = rl.rlim_max;

		rl.rlim_max = wanted;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			ksft_exit_skip("RLIMIT_NOFILE hard limit %lu is below the %lu needed and cannot be raised: %s\n",
				       (unsigned long)old_max,
				       (unsigned long)wanted, strerror(errno));
	} else if (setrlimit(RLIMIT_NOFILE, &rl)) {
		ksft_exit_fail_perror("setrlimit(RLIMIT_NOFILE)");
	}
}

/* Options: VCPU_SCALE_VCPUS, VCPU_SCALE_BUCKET, then -n, -b, -t. */
static void parse_options(int argc, char *argv[], uint32_t *bucket_size, uint32_t *nr_threads)
{
	char *env;
	int opt;

	/*
	 * The harness passes its VCPU_SCALE_VCPUS option through the
	 * environment (the guest kernel command line hands it to init);
	 * -n overrides it, 0 means KVM_CAP_MAX_VCPUS.
	 */
	env = getenv("VCPU_SCALE_VCPUS");
	if (env && *env && strcmp(env, "0"))
		nr_vcpus = parse_count(argv[0], 'n', env);
	env = getenv("VCPU_SCALE_BUCKET");
	if (env && *env && strcmp(env, "0"))
		*bucket_size = parse_count(argv[0], 'b', env);

	while ((opt = getopt(argc, argv, "hn:b:t:")) != -1) {
		switch (opt) {
		case 'n':
			nr_vcpus = parse_count(argv[0], opt, optarg);
			break;
		case 'b':
			*bucket_size = parse_count(argv[0], opt, optarg);
			break;
		case 't':
			*nr_threads = parse_count(argv[0], opt, optarg);
			break;
		case 'h':
			usage(argv[0]);
			exit(KSFT_PASS);
		default:
			usage(argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		usage(argv[0]);
		exit(KSFT_FAIL);
	}
}

/* N from KVM_CAP_MAX_VCPUS / KVM_CAP_MAX_VCPU_ID; SKIP if N does not fit. */
static void check_caps(void)
{
	int max_vcpus, max_vcpu_id;

	if (access(KVM_DEV_PATH, R_OK | W_OK))
		ksft_exit_skip("%s not available: %s\n", KVM_DEV_PATH, strerror(errno));

	max_vcpus = kvm_check_cap(KVM_CAP_MAX_VCPUS);
	max_vcpu_id = kvm_check_cap(KVM_CAP_MAX_VCPU_ID);
	if (!max_vcpu_id)
		max_vcpu_id = max_vcpus;
	ksft_print_msg("KVM_CAP_MAX_VCPUS %d, KVM_CAP_MAX_VCPU_ID %d\n",
		       max_vcpus, max_vcpu_id);
	ksft_print_msg("metric vcpu_scale.max_vcpus_cap %d vcpus\n", max_vcpus);

	if (!nr_vcpus)
		nr_vcpus = max_vcpus;
	if (nr_vcpus > (uint32_t)max_vcpus)
		ksft_exit_skip("%u vCPUs requested but KVM_CAP_MAX_VCPUS is %d\n",
			       nr_vcpus, max_vcpus);
	if (nr_vcpus > (uint32_t)max_vcpu_id)
		ksft_exit_skip("%u vCPUs requested but KVM_CAP_MAX_VCPU_ID is %d\n",
			       nr_vcpus, max_vcpu_id);

	raise_nofile_limit((rlim_t)nr_vcpus + NR_EXTRA_FDS);
}

/* Bucket size, worker threads and the per-vCPU arrays. */
static pthread_t *size_run(uint32_t *bucket_size, uint32_t *nr_threads)
{
	uint32_t max_threads;
	pthread_t *threads;
	long online;

	if (!*bucket_size)
		*bucket_size = max(nr_vcpus / 8, 1u);
	*bucket_size = min(*bucket_size, nr_vcpus);
	nr_buckets = DIV_ROUND_UP(nr_vcpus, *bucket_size);

	online = sysconf(_SC_NPROCESSORS_ONLN);
	if (!*nr_threads)
		*nr_threads = 2 * (online > 0 ? online : 1);
	/* Each running vCPU may hold one slot of the guest's ucall pool. */
	max_threads = min_t(uint32_t, nr_vcpus, KVM_MAX_UCALLS);
	if (*nr_threads > max_threads) {
		ksft_print_msg("capping worker threads from %u to %u\n",
			       *nr_threads, max_threads);
		*nr_threads = max_threads;
	}

	vcpus = calloc(nr_vcpus, sizeof(*vcpus));
	reported_id = calloc(nr_vcpus, sizeof(*reported_id));
	seen = calloc(nr_vcpus, sizeof(*seen));
	buckets = calloc(nr_buckets, sizeof(*buckets));
	threads = calloc(*nr_threads, sizeof(*threads));
	TEST_ASSERT(vcpus && reported_id && seen && buckets && threads,
		    "Insufficient memory");
	memset(reported_id, 0xff, nr_vcpus * sizeof(*reported_id));

	ksft_set_plan(2);
	ksft_print_msg("vCPUs %u, bucket size %u, worker threads %u, online CPUs %ld\n",
		       nr_vcpus, *bucket_size, *nr_threads, online);
	return threads;
}

/* Phase 1: create the N vCPUs one by one, timed and measured per bucket. */
static struct kvm_vm *create_vcpus(uint32_t bucket_size)
{
	struct kvm_vm *vm;
	uint32_t b, i;
	uint64_t t0;

	/* Guest memory sized for N vCPU stacks, no vCPUs created yet. */
	vm = __vm_create(VM_SHAPE_DEFAULT, nr_vcpus, 0);

	vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
	TEST_ASSERT(vcpu_mmap_size >= (int)sizeof(struct kvm_run),
		    "KVM_GET_VCPU_MMAP_SIZE returned %d", vcpu_mmap_size);

	for (b = 0; b < nr_buckets; b++) {
		struct bucket *bk = &buckets[b];
		uint64_t ioctl_before = create_ioctl_ns;
		uint32_t first = b * bucket_size;
		uint32_t end = first + min(bucket_size, nr_vcpus - first);

		bk->first = first;
		open_bucket_kmem = kernel_mem_kib();
		t0 = now_ns();
		for (i = first; i < end; i++) {
			vcpus[i] = vm_vcpu_add(vm, i, guest_code);
			/* Keep a partial bucket valid in case creation fails. */
			nr_created = i + 1;
			bk->count = i - first + 1;
			bk->ns = now_ns() - t0;
			bk->ioctl_ns = create_ioctl_ns - ioctl_before;
			nr_buckets_done = b + 1;
			open_bucket = b;
		}
		close_bucket();
		/* Progress, and a record if a later bucket never finishes. */
		ksft_print_msg("bucket %u: %u vCPUs created, %.1f us/vcpu\n",
			       b, end, bk->ns / 1000.0 / bk->count);
	}

	print_buckets();
	print_create_metrics();
	ksft_test_result_pass("created %u vCPUs\n", nr_vcpus);
	return vm;
}

/* Phase 2: the workers run every vCPU; each must report its own ID once. */
static void run_vcpus(pthread_t *threads, uint32_t nr_threads)
{
	uint32_t i, bad;
	uint64_t t0;
	int r;

	t0 = now_ns();
	for (i = 0; i < nr_threads; i++) {
		r = pthread_create(&threads[i], NULL, worker, NULL);
		TEST_ASSERT(!r, "pthread_create() of worker %u failed: %s",
			    i, strerror(r));
	}
	for (i = 0; i < nr_threads; i++)
		pthread_join(threads[i], NULL);
	print_metric("vcpu_scale.run_total_ms", (now_ns() - t0) / 1e6, "ms");

	bad = 0;
	for (i = 0; i < nr_vcpus; i++) {
		if (reported_id[i] == i && seen[i] == 1)
			continue;
		if (bad++ < MAX_REPORTED_ERRORS)
			ksft_print_msg("vCPU %u: reported x2APIC id %lu, id %u reported %u times\n",
				       i, (unsigned long)reported_id[i], i, seen[i]);
	}
	if (bad || nr_errors)
		ksft_print_msg("%u vCPUs with a wrong or missing id, %u run errors\n",
			       bad, nr_errors);
	ksft_test_result(!bad && !nr_errors,
			 "all %u vCPUs ran and reported their own x2APIC id once\n",
			 nr_vcpus);
}

/* Phase 3: destroy the VM, timed. */
static void destroy_vm(struct kvm_vm *vm, uint32_t nr_threads)
{
	uint64_t t0 = now_ns();

	kvm_vm_free(vm);
	print_metric("vcpu_scale.destroy_total_ms", (now_ns() - t0) / 1e6, "ms");
	ksft_print_msg("metric vcpu_scale.threads %u threads\n", nr_threads);
}

int main(int argc, char *argv[])
{
	uint32_t bucket_size = 0, nr_threads = 0;
	pthread_t *threads;
	struct kvm_vm *vm;

	parse_options(argc, argv, &bucket_size, &nr_threads);

	/* Keep partial output if the runner kills us on a timeout. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();

	check_caps();
	threads = size_run(&bucket_size, &nr_threads);
	vm = create_vcpus(bucket_size);
	run_vcpus(threads, nr_threads);
	destroy_vm(vm, nr_threads);

	free(threads);
	free(buckets);
	free(seen);
	free(reported_id);
	free(vcpus);

	ksft_finished();
}
