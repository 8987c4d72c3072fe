// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq_routes - KVM_SET_GSI_ROUTING at scale (Documentation/irq-routing.rst).
 *
 * 1. One by one, the way QEMU does it: a VM with an in-kernel irqchip, 24
 *    IOAPIC routes (GSI 0-23), then IRQ_ROUTES_N (default 4072, i.e. 4096
 *    routes in all, the stock limit) MSI routes added one per call, each call
 *    pushing the whole table.  Metric irq_routes.onebyone_<N>_s.
 * 2. The limit: KVM_CAP_IRQ_ROUTING routes (65536 patched, 4096 stock) in one
 *    table, grown from step 1 by whole-table calls adding IRQ_ROUTES_STEP
 *    (default 1024) routes each (IRQ_ROUTES_STEP=1 is the QEMU pattern all
 *    the way, O(n^2) bytes copied: for real hosts).  Stock: a table above
 *    4096 must fail with EINVAL.  Then one entry changed in the full table,
 *    whole-table ABI: metric irq_routes.change1_of_<max>_ms.
 * 3. The incremental interface (KVM_CAP_IRQ_ROUTING_UPDATE, SKIP on stock):
 *    all KVM_CAP_IRQ_ROUTING routes added one per call, change and delete.
 *    Metric irq_routes.update_onebyone_<max>_s.
 * 4. irqfds on the highest GSIs deliver MSIs to the vCPU and vector their
 *    routes name, before and after the routes are changed by either ABI,
 *    reordered, removed (the irqfd goes quiet) and added back.
 * 5. Bad input: nr above the limit, duplicate GSI, bad flags, GSI beyond the
 *    limit, entries that run into an unmapped page, bad update/delete
 *    entries, too many routes: clean errno, and the table still works
 *    afterwards (step 4 runs after it).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "kselftest.h"
#include "scale_util.h"

/* Provisional number, as in the tree's uapi header (never mainline's 239). */
#ifndef KVM_CAP_IRQ_ROUTING_UPDATE
#define KVM_CAP_IRQ_ROUTING_UPDATE 300
#endif
#ifndef KVM_IRQ_ROUTING_F_UPDATE
#define KVM_IRQ_ROUTING_F_UPDATE (1U << 0)
#define KVM_IRQ_ROUTING_F_DELETE (1U << 1)
#endif

#define NR_IOAPIC_GSIS	24
#define NR_VCPUS	2
#define VECTOR_BASE	0x40

static struct kvm_irq_routing *rt;
static unsigned int max_routes;

/* MSI for GSI @gsi: fixed, edge, physical destination @dest, @vector. */
static void set_msi(struct kvm_irq_routing_entry *e, unsigned int gsi,
		    unsigned int dest, unsigned int vector)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = 0xfee00000 | (dest << 12);
	e->u.msi.data = vector;
}

static int set_routing(int vm_fd, unsigned int nr, unsigned int flags)
{
	rt->nr = nr;
	rt->flags = flags;
	return ioctl(vm_fd, KVM_SET_GSI_ROUTING, rt) ? -errno : 0;
}

/* Target of GSI @gsi's MSI in this test: vCPU gsi % NR_VCPUS. */
static void set_test_msi(struct kvm_irq_routing_entry *e, unsigned int gsi,
			 unsigned int salt)
{
	set_msi(e, gsi, gsi % NR_VCPUS, VECTOR_BASE + (gsi + salt) % 64);
}

/* Whole table: 24 IOAPIC routes, then MSI routes for GSI 24.. */
static unsigned int fill_table(unsigned int nr_msi, unsigned int salt)
{
	unsigned int i;

	for (i = 0; i < NR_IOAPIC_GSIS; i++)
		scale_route_ioapic(&rt->entries[i], i);
	for (i = 0; i < nr_msi; i++)
		set_test_msi(&rt->entries[NR_IOAPIC_GSIS + i],
			     NR_IOAPIC_GSIS + i, salt);
	return NR_IOAPIC_GSIS + nr_msi;
}

/* ---- 4: irqfd delivery on high GSIs ---- */

static volatile uint64_t irq_count[NR_VCPUS][64];
static volatile bool guest_done;

static void guest_irq_handler(struct ex_regs *regs)
{
	uint32_t id = x2apic_read_reg(APIC_ID);

	if (id < NR_VCPUS && regs->vector >= VECTOR_BASE &&
	    regs->vector < VECTOR_BASE + 64)
		irq_count[id][regs->vector - VECTOR_BASE]++;
	x2apic_write_reg(APIC_EOI, 0);
}

static void guest_code(void)
{
	x2apic_enable();
	asm volatile("sti");
	while (!guest_done)
		asm volatile("pause");
	asm volatile("cli");
	GUEST_DONE();
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_DONE,
		    "vCPU %u: unexpected exit %u", vcpu->id,
		    vcpu->run->exit_reason);
	return NULL;
}

/* Fire GSI @gsi's irqfd and wait for the guest to count @vector on @dest. */
static bool fire_and_check(struct kvm_vm *vm, int efd, unsigned int dest,
			   unsigned int vector)
{
	volatile uint64_t *cnt = addr_gva2hva(vm, (vm_vaddr_t)&irq_count[dest][vector - VECTOR_BASE]);
	uint64_t before = *cnt, one = 1;
	double t0 = scale_now_s();

	TEST_ASSERT(write(efd, &one, sizeof(one)) == sizeof(one), "eventfd write");
	while (*cnt == before) {
		if (scale_now_s() - t0 > 10)
			return false;
		usleep(100);
	}
	return true;
}

/* Fire an irqfd whose GSI has no route: nothing may arrive in 300 ms. */
static bool fire_and_check_none(struct kvm_vm *vm, int efd)
{
	volatile uint64_t *cnt = addr_gva2hva(vm, (vm_vaddr_t)&irq_count[0][0]);
	uint64_t before = 0, after = 0, one = 1;
	unsigned int i;

	for (i = 0; i < NR_VCPUS * 64; i++)
		before += cnt[i];
	TEST_ASSERT(write(efd, &one, sizeof(one)) == sizeof(one), "eventfd write");
	usleep(300000);
	for (i = 0; i < NR_VCPUS * 64; i++)
		after += cnt[i];
	return after == before;
}

#define NR_IRQFDS 8
#define NR_FILLERS 200
#define FILLER_GSI 1000

/* Retargeted route of irqfd GSI @gsi: the other vCPU, vector + @salt. */
static void set_moved_msi(struct kvm_irq_routing_entry *e, unsigned int gsi,
			  unsigned int salt)
{
	set_msi(e, gsi, (gsi + 1) % NR_VCPUS, VECTOR_BASE + (gsi + salt) % 64);
}

static void test_irqfd_high_gsis(bool have_update)
{
	struct kvm_vcpu *vcpus[NR_VCPUS];
	unsigned int gsi[NR_IRQFDS], i, n, bad = 0;
	pthread_t threads[NR_VCPUS];
	int efd[NR_IRQFDS + NR_FILLERS];
	struct kvm_vm *vm;

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	vm_install_exception_handler(vm, 0, NULL);
	for (i = VECTOR_BASE; i < VECTOR_BASE + 64; i++)
		vm_install_exception_handler(vm, i, guest_irq_handler);

	/* The highest GSIs the kernel accepts, plus a few in the middle. */
	for (i = 0; i < NR_IRQFDS; i++)
		gsi[i] = i < NR_IRQFDS / 2 ? max_routes - 1 - i :
			 max_routes / 2 + i;

	/* Whole table: the IOAPIC routes and the irqfd GSIs. */
	n = fill_table(0, 0);
	for (i = 0; i < NR_IRQFDS; i++)
		set_test_msi(&rt->entries[n++], gsi[i], 0);
	TEST_ASSERT(!set_routing(vm->fd, n, 0), "KVM_SET_GSI_ROUTING");

	/*
	 * Half of the irqfds, NR_FILLERS irqfds on unrouted GSIs (KVM's irqfd
	 * lookup tables grow under the first ones), the other half.
	 */
	for (i = 0; i < NR_IRQFDS + NR_FILLERS; i++) {
		struct kvm_irqfd irqfd = {};
		unsigned int j = i;

		if (i >= NR_IRQFDS / 2 + NR_FILLERS)
			j = i - NR_FILLERS;
		else if (i >= NR_IRQFDS / 2)
			j = i + NR_IRQFDS / 2;
		irqfd.gsi = j < NR_IRQFDS ? gsi[j] : FILLER_GSI + j;

		efd[j] = eventfd(0, EFD_CLOEXEC);
		TEST_ASSERT(efd[j] >= 0, "eventfd");
		irqfd.fd = efd[j];
		TEST_ASSERT(!ioctl(vm->fd, KVM_IRQFD, &irqfd),
			    "KVM_IRQFD gsi %u: %s", irqfd.gsi, strerror(errno));
	}

	for (i = 0; i < NR_VCPUS; i++)
		pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]);

	/* Let the vCPUs enable x2APIC and interrupts. */
	usleep(300000);
	for (i = 0; i < NR_IRQFDS; i++)
		bad += !fire_and_check(vm, efd[i], gsi[i] % NR_VCPUS,
				       VECTOR_BASE + gsi[i] % 64);

	/* Retarget every GSI (other vCPU, other vector): whole table. */
	n = fill_table(0, 0);
	for (i = 0; i < NR_IRQFDS; i++)
		set_moved_msi(&rt->entries[n++], gsi[i], 7);
	TEST_ASSERT(!set_routing(vm->fd, n, 0), "KVM_SET_GSI_ROUTING");
	for (i = 0; i < NR_IRQFDS; i++)
		bad += !fire_and_check(vm, efd[i], (gsi[i] + 1) % NR_VCPUS,
				       VECTOR_BASE + (gsi[i] + 7) % 64);

	/*
	 * Whole tables that move entries around, each compared with the one
	 * before it: the same routes in another order (irqfd GSIs reversed,
	 * IOAPIC last), then without the route of gsi[0], the highest GSI
	 * (its irqfd must go quiet), then with it back at the end, retargeted.
	 */
	n = 0;
	for (i = NR_IRQFDS; i-- > 0;)
		set_moved_msi(&rt->entries[n++], gsi[i], 7);
	for (i = 0; i < NR_IOAPIC_GSIS; i++)
		scale_route_ioapic(&rt->entries[n++], i);
	TEST_ASSERT(!set_routing(vm->fd, n, 0), "KVM_SET_GSI_ROUTING reordered");
	for (i = 0; i < NR_IRQFDS; i++)
		bad += !fire_and_check(vm, efd[i], (gsi[i] + 1) % NR_VCPUS,
				       VECTOR_BASE + (gsi[i] + 7) % 64);
	rt->entries[NR_IRQFDS - 1] = rt->entries[--n];
	TEST_ASSERT(!set_routing(vm->fd, n, 0), "KVM_SET_GSI_ROUTING without gsi %u",
		    gsi[0]);
	bad += !fire_and_check_none(vm, efd[0]);
	for (i = 1; i < NR_IRQFDS; i++)
		bad += !fire_and_check(vm, efd[i], (gsi[i] + 1) % NR_VCPUS,
				       VECTOR_BASE + (gsi[i] + 7) % 64);
	set_moved_msi(&rt->entries[n++], gsi[0], 11);
	TEST_ASSERT(!set_routing(vm->fd, n, 0), "KVM_SET_GSI_ROUTING gsi %u back",
		    gsi[0]);
	bad += !fire_and_check(vm, efd[0], (gsi[0] + 1) % NR_VCPUS,
			       VECTOR_BASE + (gsi[0] + 11) % 64);

	if (have_update) {
		/* Back, one GSI per update call. */
		for (i = 0; i < NR_IRQFDS; i++) {
			set_test_msi(&rt->entries[0], gsi[i], 0);
			TEST_ASSERT(!set_routing(vm->fd, 1, KVM_IRQ_ROUTING_F_UPDATE),
				    "KVM_SET_GSI_ROUTING update");
		}
		for (i = 0; i < NR_IRQFDS; i++)
			bad += !fire_and_check(vm, efd[i], gsi[i] % NR_VCPUS,
					       VECTOR_BASE + gsi[i] % 64);
	}

	*(volatile bool *)addr_gva2hva(vm, (vm_vaddr_t)&guest_done) = true;
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < NR_IRQFDS + NR_FILLERS; i++)
		close(efd[i]);
	kvm_vm_free(vm);

	ksft_test_result(!bad, "irqfds on GSIs up to %u deliver to the routed vCPU/vector (%u misses)\n",
			 max_routes - 1, bad);
}

/* ---- 5: bad input ---- */

/* A /proc/meminfo field in KiB, or -1. */
static long meminfo_kib(const char *field)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtol(line + strlen(field), NULL, 10);
	fclose(f);
	return v;
}

#define BAD_INPUT_ROUNDS 300

#define EXPECT(call, err, what) do {					\
	int __r = (call);						\
	if (__r != (err)) {						\
		ksft_print_msg("%s: got %d, expected %d\n", what, __r, err);	\
		fails++;						\
	}								\
} while (0)

/*
 * The current table (rt->entries[0..@nr)) with its last entry changed and
 * moved up against an unmapped page, and one more entry beyond: KVM reads
 * up to the change, then faults.
 */
static int set_routing_fault(int vm_fd, unsigned int nr)
{
	size_t len = sizeof(struct kvm_irq_routing) +
		     nr * sizeof(struct kvm_irq_routing_entry);
	size_t page = getpagesize(), map = (len / page + 2) * page;
	struct kvm_irq_routing *f;
	char *p;
	int r;

	p = mmap(NULL, map, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(p != MAP_FAILED, "mmap");
	TEST_ASSERT(!munmap(p + map - page, page), "munmap");
	f = (struct kvm_irq_routing *)(p + map - page - len);
	memcpy(f, rt, len);
	f->nr = nr + 1;
	f->flags = 0;
	f->entries[nr - 1].u.msi.data ^= 1;
	r = ioctl(vm_fd, KVM_SET_GSI_ROUTING, f) ? -errno : 0;
	munmap(p, map - page);
	return r;
}

/* Calls that must fail (and one harmless delete); returns the mismatches. */
static int bad_input_round(int vm_fd, bool have_update)
{
	unsigned int n = fill_table(4, 0);
	int fails = 0;

	EXPECT(set_routing(vm_fd, n, 0), 0, "valid table");
	EXPECT(set_routing_fault(vm_fd, n), -EFAULT,
	       "entries run into an unmapped page");
	EXPECT(set_routing(vm_fd, n, 0), 0, "valid table again");
	EXPECT(set_routing(vm_fd, max_routes + 1, 0), -EINVAL, "nr above limit");
	set_test_msi(&rt->entries[n], NR_IOAPIC_GSIS, 1);
	EXPECT(set_routing(vm_fd, n + 1, 0), -EINVAL, "duplicate MSI gsi");
	scale_route_ioapic(&rt->entries[n], 3);
	EXPECT(set_routing(vm_fd, n + 1, 0), -EINVAL, "duplicate irqchip gsi");
	EXPECT(set_routing(vm_fd, n, 1U << 7), -EINVAL, "unknown flag");
	EXPECT(set_routing(vm_fd, n, KVM_IRQ_ROUTING_F_DELETE), -EINVAL,
	       "DELETE without UPDATE");
	set_test_msi(&rt->entries[n], max_routes, 0);
	EXPECT(set_routing(vm_fd, n + 1, 0), -EINVAL, "gsi == limit");
	set_test_msi(&rt->entries[n], 0xffffffff, 0);
	EXPECT(set_routing(vm_fd, n + 1, 0), -EINVAL, "gsi 0xffffffff");
	set_test_msi(&rt->entries[n], 100, 0);
	rt->entries[n].flags = 0x80;
	EXPECT(set_routing(vm_fd, n + 1, 0), -EINVAL, "bad MSI entry flags");
	scale_route_ioapic(&rt->entries[n], 100);
	EXPECT(set_routing(vm_fd, n + 1, 0), -EINVAL, "IOAPIC pin 100");
	if (!have_update)
		return fails;

	set_test_msi(&rt->entries[0], 200, 0);
	set_test_msi(&rt->entries[1], 200, 3);
	EXPECT(set_routing(vm_fd, 2, KVM_IRQ_ROUTING_F_UPDATE), -EINVAL,
	       "update: duplicate MSI gsi");
	set_test_msi(&rt->entries[0], max_routes, 0);
	EXPECT(set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE), -EINVAL,
	       "update: gsi == limit");
	set_test_msi(&rt->entries[0], 200, 0);
	EXPECT(set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE |
			   KVM_IRQ_ROUTING_F_DELETE), -EINVAL,
	       "delete: entry with a type");
	memset(&rt->entries[0], 0, sizeof(rt->entries[0]));
	rt->entries[0].gsi = 12345;
	EXPECT(set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE |
			   KVM_IRQ_ROUTING_F_DELETE), 0, "delete: unrouted gsi");
	return fails;
}

static void test_bad_input(int kvm_fd, bool have_update)
{
	int vm_fd = scale_create_vm_irqchip(kvm_fd), fails = 0, round;
	long slab0 = 0, vmalloc0 = 0, dslab, dvmalloc;
	unsigned int n;

	/*
	 * Many rounds: nothing may be left behind (unreclaimable slab and
	 * vmalloc usage must not grow with the rounds; a leaked bitmap or
	 * entry array per failing call would add megabytes).
	 */
	for (round = 0; round < BAD_INPUT_ROUNDS && !fails; round++) {
		if (round == 1) {
			slab0 = meminfo_kib("SUnreclaim:");
			vmalloc0 = meminfo_kib("VmallocUsed:");
		}
		fails += bad_input_round(vm_fd, have_update);
	}
	dslab = meminfo_kib("SUnreclaim:") - slab0;
	dvmalloc = meminfo_kib("VmallocUsed:") - vmalloc0;
	ksft_print_msg("%d rounds of bad input: SUnreclaim %+ld KiB, VmallocUsed %+ld KiB\n",
		       round - 1, dslab, dvmalloc);
	if (dslab > 1024 || dvmalloc > 1024) {
		ksft_print_msg("kernel memory grew with the rounds\n");
		fails++;
	}

	if (have_update) {
		/*
		 * Full table (24 IOAPIC + MSI up to the limit), then a second
		 * (PIC) route for GSI 0 would exceed the route limit.
		 */
		n = fill_table(max_routes - NR_IOAPIC_GSIS, 0);
		EXPECT(set_routing(vm_fd, n, 0), 0, "full table");
		scale_route_ioapic(&rt->entries[0], 0);
		rt->entries[1] = rt->entries[0];
		rt->entries[1].u.irqchip.irqchip = KVM_IRQCHIP_PIC_MASTER;
		EXPECT(set_routing(vm_fd, 2, KVM_IRQ_ROUTING_F_UPDATE), -ENOSPC,
		       "update: more routes than the limit");
		rt->entries[1].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		EXPECT(set_routing(vm_fd, 2, KVM_IRQ_ROUTING_F_UPDATE), -EINVAL,
		       "update: gsi on the same irqchip twice");
	}
	/* Still usable: a valid table goes in. */
	n = fill_table(16, 5);
	EXPECT(set_routing(vm_fd, n, 0), 0, "valid table after errors");
	close(vm_fd);
	ksft_test_result(!fails, "bad input gives clean errors (%d wrong)\n", fails);
}

int main(void)
{
	unsigned int n_onebyone, step, i, n, want_max;
	int kvm_fd, vm_fd, r;
	bool have_update;
	double t0, t;

	ksft_print_header();
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		ksft_exit_skip("/dev/kvm: %s\n", strerror(errno));

	max_routes = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	have_update = ioctl(kvm_fd, KVM_CHECK_EXTENSION,
			    KVM_CAP_IRQ_ROUTING_UPDATE) > 0;
	want_max = scale_env_ulong("IRQ_ROUTES_MAX", 65536);
	n_onebyone = scale_env_ulong("IRQ_ROUTES_N", 4072);
	step = scale_env_ulong("IRQ_ROUTES_STEP", 1024) ?: 1;
	if (n_onebyone + NR_IOAPIC_GSIS > max_routes)
		n_onebyone = max_routes - NR_IOAPIC_GSIS;
	ksft_print_msg("KVM_CAP_IRQ_ROUTING %u, KVM_CAP_IRQ_ROUTING_UPDATE %s\n",
		       max_routes, have_update ? "yes" : "no");
	ksft_set_plan(6);

	rt = calloc(1, sizeof(*rt) + (size_t)(max(max_routes, want_max) + 2) *
		    sizeof(struct kvm_irq_routing_entry));
	TEST_ASSERT(rt, "calloc");

	/* 1: one by one, whole table per call. */
	vm_fd = scale_create_vm_irqchip(kvm_fd);
	/* Like QEMU: append one entry to the array, push the whole array. */
	n = fill_table(0, 0);
	t0 = scale_now_s();
	for (i = 0; i <= n_onebyone; i++) {
		if (i)
			set_test_msi(&rt->entries[n], n, 0), n++;
		r = set_routing(vm_fd, n, 0);
		TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING %u routes: %s", n, strerror(-r));
	}
	t = scale_now_s() - t0;
	ksft_print_msg("metric irq_routes.onebyone_%u_s %.3f s\n", n_onebyone, t);
	ksft_test_result_pass("%u MSI routes added one by one (whole table per call): %.3f s\n",
			      n_onebyone, t);

	/* 2: up to the limit with the whole-table ABI. */
	if (max_routes < want_max) {
		n = fill_table(want_max - NR_IOAPIC_GSIS, 0);
		r = set_routing(vm_fd, n, 0);
		ksft_print_msg("metric irq_routes.max_routes %u routes\n", max_routes);
		ksft_test_result(r == -EINVAL, "a %u-route table is refused (%s), limit %u\n",
				 n, strerror(-r), max_routes);
	} else {
		unsigned int total = max_routes - NR_IOAPIC_GSIS, mid;

		t0 = scale_now_s();
		for (i = n_onebyone; i < total; ) {
			i = i + step < total ? i + step : total;
			for (; n < NR_IOAPIC_GSIS + i; n++)
				set_test_msi(&rt->entries[n], n, 0);
			r = set_routing(vm_fd, n, 0);
			TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING %u routes: %s", n,
				    strerror(-r));
		}
		t = scale_now_s() - t0;
		ksft_print_msg("metric irq_routes.max_routes %u routes\n", n);
		ksft_print_msg("grew %u -> %u routes, %u per call: %.3f s\n",
			       n_onebyone + NR_IOAPIC_GSIS, n, step, t);
		/* Change one entry in the middle, then change it back. */
		mid = total / 2;
		t0 = scale_now_s();
		for (i = 0; i < 10; i++) {
			set_test_msi(&rt->entries[NR_IOAPIC_GSIS + mid],
				     NR_IOAPIC_GSIS + mid, i + 1);
			r = set_routing(vm_fd, n, 0);
			TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING: %s", strerror(-r));
		}
		t = (scale_now_s() - t0) / 10;
		ksft_print_msg("metric irq_routes.change1_of_%u_ms %.3f ms\n", n, t * 1e3);
		ksft_test_result_pass("%u routes in one table; changing 1 of them (whole table): %.3f ms per call\n",
				      n, t * 1e3);
	}
	close(vm_fd);

	/* 3: incremental interface. */
	if (!have_update) {
		ksft_test_result_skip("KVM_CAP_IRQ_ROUTING_UPDATE not supported\n");
	} else {
		unsigned int total = max_routes - NR_IOAPIC_GSIS;

		vm_fd = scale_create_vm_irqchip(kvm_fd);
		n = fill_table(0, 0);
		TEST_ASSERT(!set_routing(vm_fd, n, 0), "initial table");
		t0 = scale_now_s();
		for (i = 0; i < total; i++) {
			set_test_msi(&rt->entries[0], NR_IOAPIC_GSIS + i, 0);
			r = set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE);
			TEST_ASSERT(!r, "update GSI %u: %s", NR_IOAPIC_GSIS + i,
				    strerror(-r));
		}
		t = scale_now_s() - t0;
		ksft_print_msg("metric irq_routes.update_onebyone_%u_s %.3f s\n",
			       max_routes, t);
		/* Change one, delete one, re-add it. */
		t0 = scale_now_s();
		for (i = 0; i < 10; i++) {
			set_test_msi(&rt->entries[0], max_routes / 2, i + 1);
			r = set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE);
			TEST_ASSERT(!r, "update: %s", strerror(-r));
		}
		ksft_print_msg("metric irq_routes.update_change1_ms %.3f ms\n",
			       (scale_now_s() - t0) * 1e3 / 10);
		memset(&rt->entries[0], 0, sizeof(rt->entries[0]));
		rt->entries[0].gsi = max_routes - 1;
		r = set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE | KVM_IRQ_ROUTING_F_DELETE);
		TEST_ASSERT(!r, "delete: %s", strerror(-r));
		set_test_msi(&rt->entries[0], max_routes - 1, 0);
		r = set_routing(vm_fd, 1, KVM_IRQ_ROUTING_F_UPDATE);
		TEST_ASSERT(!r, "re-add: %s", strerror(-r));
		close(vm_fd);
		ksft_test_result_pass("%u routes added one per KVM_IRQ_ROUTING_F_UPDATE call: %.3f s\n",
				      max_routes, t);
	}

	/* 4 and 5. */
	test_bad_input(kvm_fd, have_update);
	test_irqfd_high_gsis(have_update);

	/* The route limit itself, for the A/B table. */
	ksft_test_result(max_routes >= 4096, "KVM_CAP_IRQ_ROUTING %u\n", max_routes);
	close(kvm_fd);
	ksft_finished();
}
