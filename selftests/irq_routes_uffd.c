// SPDX-License-Identifier: GPL-2.0-only
/*
 * irq_routes_uffd - a KVM_SET_GSI_ROUTING table that userspace keeps from
 * being read must not hold up anyone else (Documentation/irq-routing.rst).
 *
 * 1. VM A has a whole routing table installed and an irqfd with a resampler.
 *    It is given a new table whose second page is registered with
 *    userfaultfd and never filled while the test looks: the ioctl sleeps in
 *    the fault.  Meanwhile VM A's irqfd is deassigned (its shutdown work on
 *    KVM's global irqfd cleanup workqueue takes VM A's irq_lock), then VM B
 *    assigns and deassigns an irqfd with a resampler, which flushes that
 *    workqueue.  VM B's deassign must finish within -t seconds (default 10).
 *    If VM A's table is read under VM A's irq_lock, VM A's irqfd shutdown
 *    waits for the fault and VM B's deassign waits for that: it stalls until
 *    the test resolves the fault.
 * 2. Error precedence: a table whose first entry is invalid (GSI beyond the
 *    limit) and which runs into an unmapped page fails with EFAULT, as it
 *    always did (the table is copied in before it is checked), also when the
 *    VM already has a table installed.
 *
 * Needs a userfaultfd that handles kernel-mode faults: the userfaultfd()
 * syscall without UFFD_USER_MODE_ONLY (root or vm.unprivileged_userfaultfd)
 * or /dev/userfaultfd; SKIP otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "kvm_util.h"
#include "kselftest.h"
#include "scale_util.h"

#define NR_IOAPIC_GSIS	24
#define NR_MSI		100
#define NR_ROUTES	(NR_IOAPIC_GSIS + NR_MSI)
#define RESAMPLE_GSI	5

static double timeout_s = 10;
static long page_size;

static void set_msi(struct kvm_irq_routing_entry *e, unsigned int gsi,
		    unsigned int salt)
{
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = 0xfee00000;
	e->u.msi.data = 0x40 + (gsi + salt) % 64;
}

/* 24 IOAPIC routes and NR_MSI MSI routes into @rt. */
static void fill_table(struct kvm_irq_routing *rt, unsigned int salt)
{
	unsigned int i;

	rt->nr = NR_ROUTES;
	rt->flags = 0;
	for (i = 0; i < NR_IOAPIC_GSIS; i++)
		scale_route_ioapic(&rt->entries[i], i);
	for (i = NR_IOAPIC_GSIS; i < NR_ROUTES; i++)
		set_msi(&rt->entries[i], i, salt);
}

static struct kvm_irq_routing *alloc_table(void)
{
	struct kvm_irq_routing *rt;

	rt = calloc(1, sizeof(*rt) + NR_ROUTES * sizeof(rt->entries[0]));
	TEST_ASSERT(rt, "calloc");
	return rt;
}

static int set_routing(int vm_fd, struct kvm_irq_routing *rt)
{
	return ioctl(vm_fd, KVM_SET_GSI_ROUTING, rt) ? -errno : 0;
}

static struct kvm_vm *create_vm(void)
{
	struct kvm_irq_routing *rt = alloc_table();
	struct kvm_vm *vm = vm_create_barebones();
	int r;

	vm_create_irqchip(vm);
	fill_table(rt, 0);
	r = set_routing(vm->fd, rt);
	TEST_ASSERT(!r, "KVM_SET_GSI_ROUTING: %s", strerror(-r));
	free(rt);
	return vm;
}

static int irqfd(struct kvm_vm *vm, int efd, int resample_fd, bool deassign)
{
	struct kvm_irqfd args = {
		.fd = efd,
		.gsi = RESAMPLE_GSI,
		.flags = deassign ? KVM_IRQFD_FLAG_DEASSIGN :
				    KVM_IRQFD_FLAG_RESAMPLE,
		.resamplefd = deassign ? 0 : resample_fd,
	};

	return ioctl(vm->fd, KVM_IRQFD, &args) ? -errno : 0;
}

/* A userfaultfd that also catches faults of the kernel on user memory. */
static int open_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd, dev;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (dev < 0)
			return -1;
#ifdef USERFAULTFD_IOC_NEW
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
#endif
		close(dev);
		if (fd < 0)
			return -1;
	}
	TEST_ASSERT(!ioctl(fd, UFFDIO_API, &api), "UFFDIO_API: %s",
		    strerror(errno));
	return fd;
}

struct call {
	pthread_t thread;
	int vm_fd;
	struct kvm_irq_routing *rt;
	struct kvm_vm *vm;
	int efd, rfd;
	int ret;
	volatile bool done;
};

static void *set_routing_thread(void *arg)
{
	struct call *c = arg;

	c->ret = set_routing(c->vm_fd, c->rt);
	c->done = true;
	return NULL;
}

static void *deassign_thread(void *arg)
{
	struct call *c = arg;

	c->ret = irqfd(c->vm, c->efd, -1, true);
	c->done = true;
	return NULL;
}

/* Another VM's irqfd with a resampler: assign, deassign (flushes the wq). */
static void *other_vm_thread(void *arg)
{
	struct call *c = arg;

	c->ret = irqfd(c->vm, c->efd, c->rfd, false);
	if (!c->ret)
		c->ret = irqfd(c->vm, c->efd, -1, true);
	c->done = true;
	return NULL;
}

static bool wait_done(struct call *c, double secs)
{
	double end = scale_now_s() + secs;

	while (!c->done && scale_now_s() < end)
		usleep(10000);
	return c->done;
}

static void test_stuck_table(void)
{
	struct call set = {}, dea = {}, other = {};
	struct kvm_irq_routing *full = alloc_table();
	struct uffdio_register reg = {};
	struct uffdio_copy copy = {};
	struct uffd_msg msg;
	struct pollfd pfd;
	struct kvm_vm *a, *b;
	char *map, *src;
	bool faulted, other_done;
	double t0, t_other = -1;
	int uffd, efd_a, rfd_a, efd_b, rfd_b;
	size_t bytes;

	uffd = open_uffd();
	if (uffd < 0) {
		ksft_test_result_skip("stuck table: no userfaultfd for kernel faults (%s)\n",
				      strerror(errno));
		return;
	}

	a = create_vm();
	b = create_vm();
	efd_a = eventfd(0, EFD_CLOEXEC);
	rfd_a = eventfd(0, EFD_CLOEXEC);
	efd_b = eventfd(0, EFD_CLOEXEC);
	rfd_b = eventfd(0, EFD_CLOEXEC);
	TEST_ASSERT(efd_a >= 0 && rfd_a >= 0 && efd_b >= 0 && rfd_b >= 0,
		    "eventfd");
	TEST_ASSERT(!irqfd(a, efd_a, rfd_a, false), "VM A: KVM_IRQFD resample");

	/* The new table: header and first entries on page 0, the rest on 1. */
	bytes = sizeof(*full) + NR_ROUTES * sizeof(full->entries[0]);
	TEST_ASSERT(bytes > (size_t)page_size && bytes <= 2 * (size_t)page_size,
		    "table of %zu bytes must span two pages", bytes);
	fill_table(full, 1);
	map = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(map != MAP_FAILED, "mmap");
	memcpy(map, full, page_size);
	reg.range.start = (unsigned long)map + page_size;
	reg.range.len = page_size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	TEST_ASSERT(!ioctl(uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER: %s",
		    strerror(errno));

	set.vm_fd = a->fd;
	set.rt = (struct kvm_irq_routing *)map;
	pthread_create(&set.thread, NULL, set_routing_thread, &set);

	/* Wait for KVM_SET_GSI_ROUTING to sleep in the fault. */
	pfd.fd = uffd;
	pfd.events = POLLIN;
	faulted = poll(&pfd, 1, timeout_s * 1000) == 1 &&
		  read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
		  msg.event == UFFD_EVENT_PAGEFAULT;
	if (!faulted)
		ksft_print_msg("KVM_SET_GSI_ROUTING did not fault on the table (%s)\n",
			       set.done ? "returned" : "still running");

	/* VM A's irqfd shutdown, queued on the global cleanup workqueue. */
	dea.vm = a;
	dea.efd = efd_a;
	pthread_create(&dea.thread, NULL, deassign_thread, &dea);
	usleep(200000);

	/* VM B flushes that workqueue: it must not wait for VM A's table. */
	other.vm = b;
	other.efd = efd_b;
	other.rfd = rfd_b;
	t0 = scale_now_s();
	pthread_create(&other.thread, NULL, other_vm_thread, &other);
	other_done = wait_done(&other, timeout_s);
	if (other_done)
		t_other = scale_now_s() - t0;
	ksft_print_msg("while VM A's KVM_SET_GSI_ROUTING sleeps in a fault: VM A deassign %s, VM B assign+deassign %s",
		       dea.done ? "done" : "blocked",
		       other_done ? "done" : "blocked");
	if (other_done)
		printf(" in %.3f s\n", t_other);
	else
		printf(" after %.0f s\n", timeout_s);

	/* Resolve the fault: everybody finishes. */
	src = aligned_alloc(page_size, page_size);
	TEST_ASSERT(src, "aligned_alloc");
	memcpy(src, (char *)full + page_size, bytes - page_size);
	copy.dst = (unsigned long)map + page_size;
	copy.src = (unsigned long)src;
	copy.len = page_size;
	TEST_ASSERT(!ioctl(uffd, UFFDIO_COPY, &copy), "UFFDIO_COPY: %s",
		    strerror(errno));
	pthread_join(set.thread, NULL);
	pthread_join(dea.thread, NULL);
	pthread_join(other.thread, NULL);
	TEST_ASSERT(!set.ret, "VM A KVM_SET_GSI_ROUTING: %s", strerror(-set.ret));
	TEST_ASSERT(!dea.ret, "VM A deassign: %s", strerror(-dea.ret));
	TEST_ASSERT(!other.ret, "VM B irqfd: %s", strerror(-other.ret));

	if (other_done)
		ksft_print_msg("metric irq_routes_uffd.other_vm_deassign_s %.3f s\n",
			       t_other);
	ksft_test_result(faulted && other_done,
			 "another VM's irqfd deassign does not wait for a table stuck in a fault (%s)\n",
			 other_done ? "finished" : "stalled");

	munmap(map, 2 * page_size);
	free(src);
	free(full);
	close(uffd);
	close(efd_a);
	close(rfd_a);
	close(efd_b);
	close(rfd_b);
	kvm_vm_free(a);
	kvm_vm_free(b);
}

static void test_error_precedence(void)
{
	struct kvm_irq_routing *rt;
	struct kvm_vm *vm = create_vm();
	size_t bytes = sizeof(*rt) + NR_ROUTES * sizeof(rt->entries[0]);
	char *map;
	int r;

	/* The table runs from page 0 into page 1, which is not mapped. */
	map = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(map != MAP_FAILED, "mmap");
	TEST_ASSERT(bytes > (size_t)page_size, "table must span two pages");
	rt = (struct kvm_irq_routing *)map;
	rt->nr = NR_ROUTES;
	rt->flags = 0;
	/* Invalid first entry: a GSI far beyond any route limit. */
	scale_route_ioapic(&rt->entries[0], 0);
	rt->entries[0].gsi = 0x7fffffff;
	TEST_ASSERT(!munmap(map + page_size, page_size), "munmap");

	r = set_routing(vm->fd, rt);
	ksft_test_result(r == -EFAULT,
			 "invalid and partly unmapped table: %s (want EFAULT, as 6.12)\n",
			 strerror(-r));

	munmap(map, page_size);
	kvm_vm_free(vm);
}

static void help(const char *name)
{
	printf("usage: %s [-t timeout_s]\n", name);
	printf(" -t: how long another VM's irqfd deassign may take (default %.0f s)\n",
	       timeout_s);
	exit(KSFT_SKIP);
}

int main(int argc, char *argv[])
{
	int opt;

	while ((opt = getopt(argc, argv, "ht:")) != -1) {
		switch (opt) {
		case 't':
			timeout_s = atof(optarg);
			TEST_ASSERT(timeout_s > 0, "-t must be positive");
			break;
		case 'h':
		default:
			help(argv[0]);
		}
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQ_ROUTING));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_IRQFD_RESAMPLE));
	page_size = getpagesize();

	ksft_print_header();
	ksft_set_plan(2);
	test_stuck_table();
	test_error_precedence();
	ksft_finished();
}
