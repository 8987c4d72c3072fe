// SPDX-License-Identifier: GPL-2.0
/*
 * msix_routes - a kvm-unit-tests x86 test written for kvm-scale's
 * peer-vmm harness (scripts/peer-vmm): make the VMM route every MSI-X
 * vector of every virtio-blk-pci device it was given.
 *
 * For each transitional virtio-blk-pci function on PCI bus 0 (vendor 0x1af4,
 * device 0x1001) the test drives the legacy virtio I/O interface of BAR0
 * far enough that QEMU starts the device: reset, ACKNOWLEDGE|DRIVER, MSI-X
 * enabled in the capability, every table entry programmed (fixed delivery to
 * APIC 0) and unmasked, the config vector and one vector per queue assigned
 * and read back, then DRIVER_OK.  A device with an iothread starts its
 * dataplane at DRIVER_OK; with MSI-X enabled and an in-kernel irqchip QEMU
 * then adds one KVM MSI route and one irqfd per used vector, and one
 * ioeventfd per queue (per notify region).  Nothing is put on the queues and
 * no interrupt is ever sent: the test is about the set-up.
 *
 * Arguments (-append): "quiet" prints one line per device instead of one
 * per range of queues; "nodriverok" stops before DRIVER_OK (the routes are
 * then never installed: a control run).
 *
 * Passes when at least one device was found and every vector written reads
 * back as written.
 */
#include "libcflat.h"
#include <linux/pci_regs.h>
#include "pci.h"
#include "asm/io.h"
#include "asm/pci.h"

#define VENDOR_VIRTIO		0x1af4
#define DEVICE_VIRTIO_BLK_T	0x1001	/* transitional virtio-blk */

/* Legacy virtio-pci registers (BAR0, I/O), with MSI-X enabled. */
#define VP_GUEST_FEATURES	0x04
#define VP_QUEUE_NUM		0x0c
#define VP_QUEUE_SEL		0x0e
#define VP_STATUS		0x12
#define VP_CONFIG_VECTOR	0x14
#define VP_QUEUE_VECTOR		0x16
#define VP_NO_VECTOR		0xffff

#define ST_ACKNOWLEDGE		0x01
#define ST_DRIVER		0x02
#define ST_DRIVER_OK		0x04
#define ST_NEEDS_RESET		0x40
#define ST_FAILED		0x80

#define CAP_ID_MSIX		0x11
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_CTRL_SIZE		0x07ff

#define MSI_ADDR_BASE		0xfee00000u	/* destination APIC 0 */
#define VEC_FIRST		0x40
#define VEC_SPAN		0xa0		/* 0x40..0xdf */

static bool quiet, no_driver_ok;
static unsigned int total_devs, total_vectors, total_queues;

static uint8_t find_cap(pcidevaddr_t bdf, uint8_t id)
{
	uint8_t pos;
	int guard = 48;

	if (!(pci_config_readw(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = pci_config_readb(bdf, PCI_CAPABILITY_LIST) & ~3;
	while (pos && guard--) {
		if (pci_config_readb(bdf, pos) == id)
			return pos;
		pos = pci_config_readb(bdf, pos + 1) & ~3;
	}
	return 0;
}

static void msix_entry_write(volatile uint32_t *e, unsigned int i)
{
	e[0] = MSI_ADDR_BASE;
	e[1] = 0;
	e[2] = VEC_FIRST + i % VEC_SPAN;
	e[3] = 0;	/* unmasked */
}

static void setup_device(pcidevaddr_t bdf)
{
	struct pci_dev dev;
	uint16_t io, ctrl, v;
	uint32_t tbl, bar0, barv;
	uint8_t cap, bir;
	unsigned int nent, i, q, bad = 0, first_bad = 0;
	volatile uint32_t *table;
	uint64_t base;

	report_prefix_pushf("%02x:%02x.%x", PCI_BDF_GET_BUS(bdf),
			    PCI_BDF_GET_DEVFN(bdf) >> 3, PCI_BDF_GET_DEVFN(bdf) & 7);
	/*
	 * The BARs as the firmware placed them, read without sizing: sizing
	 * a BAR while decoding is on makes QEMU unmap and remap it, and drop
	 * and re-add every ioeventfd in it, which no guest driver does.
	 */
	bar0 = pci_config_readl(bdf, PCI_BASE_ADDRESS_0);
	if (!(bar0 & PCI_BASE_ADDRESS_SPACE_IO) || !(bar0 & PCI_BASE_ADDRESS_IO_MASK)) {
		report_fail("BAR0 %#x is not a legacy virtio I/O BAR", bar0);
		goto out;
	}
	io = bar0 & PCI_BASE_ADDRESS_IO_MASK;
	cap = find_cap(bdf, CAP_ID_MSIX);
	if (!cap) {
		report_fail("no MSI-X capability");
		goto out;
	}
	ctrl = pci_config_readw(bdf, cap + 2);
	nent = (ctrl & MSIX_CTRL_SIZE) + 1;
	tbl = pci_config_readl(bdf, cap + 4);
	bir = tbl & 7;
	barv = bir < 6 ? pci_config_readl(bdf, PCI_BASE_ADDRESS_0 + 4 * bir) : 1;
	if (barv & PCI_BASE_ADDRESS_SPACE_IO) {
		report_fail("MSI-X table BAR%u is not a memory BAR", bir);
		goto out;
	}
	base = barv & PCI_BASE_ADDRESS_MEM_MASK;
	if ((barv & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 && bir < 5)
		base |= (uint64_t)pci_config_readl(bdf, PCI_BASE_ADDRESS_0 + 4 * (bir + 1)) << 32;
	if (!base) {
		report_fail("MSI-X table BAR%u is not assigned", bir);
		goto out;
	}
	table = (volatile uint32_t *)(uintptr_t)(base + (tbl & ~7u));
	dev.bdf = bdf;
	pci_cmd_set_clr(&dev, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			PCI_COMMAND_MASTER, 0);

	outb(0, io + VP_STATUS);	/* reset (also undoes the BIOS's use) */
	outb(ST_ACKNOWLEDGE, io + VP_STATUS);
	outb(ST_ACKNOWLEDGE | ST_DRIVER, io + VP_STATUS);
	outl(0, io + VP_GUEST_FEATURES);

	/* MSI-X on, function unmasked; the vector registers appear. */
	pci_config_writew(bdf, cap + 2, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	for (i = 0; i < nent; i++)
		msix_entry_write(table + 4 * i, i);

	outw(0, io + VP_CONFIG_VECTOR);
	v = inw(io + VP_CONFIG_VECTOR);
	if (v != 0) {
		bad++;
		first_bad = 0;
	}
	/* QEMU ignores a queue select >= its VIRTIO_QUEUE_MAX (1024). */
	for (q = 0; q < 0xffff; q++) {
		uint16_t want = q + 1;

		outw(q, io + VP_QUEUE_SEL);
		if (inw(io + VP_QUEUE_SEL) != q || !inw(io + VP_QUEUE_NUM))
			break;
		if (want >= nent)	/* more queues than vectors: share the last */
			want = nent - 1;
		outw(want, io + VP_QUEUE_VECTOR);
		v = inw(io + VP_QUEUE_VECTOR);
		if (v != want && !bad++)
			first_bad = q + 1;
	}
	if (!quiet)
		report_info("%u MSI-X entries at BAR%u+%#x, config vector 0, queues 0-%u -> vectors 1-%u",
			    nent, bir, tbl & ~7u, q ? q - 1 : 0, q < nent ? q : nent - 1);

	if (!no_driver_ok)
		outb(ST_ACKNOWLEDGE | ST_DRIVER | ST_DRIVER_OK, io + VP_STATUS);
	v = inb(io + VP_STATUS);

	total_devs++;
	total_queues += q;
	total_vectors += q < nent ? q + 1 : nent;
	report(q > 0 && !bad, "%u queues, %u vectors assigned and read back%s",
	       q, q < nent ? q + 1 : nent, no_driver_ok ? " (no DRIVER_OK)" : ", DRIVER_OK");
	if (bad)
		report_info("%u vectors did not read back, first: %s %u (QEMU says NO_VECTOR when it cannot use one)",
			    bad, first_bad ? "queue" : "config", first_bad ? first_bad - 1 : 0);
	report(!(v & (ST_NEEDS_RESET | ST_FAILED)), "device status %#x after set-up", v);
out:
	report_prefix_pop();
}

int main(int argc, char **argv)
{
	int i, devfn;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "quiet"))
			quiet = true;
		else if (!strcmp(argv[i], "nodriverok"))
			no_driver_ok = true;
		else
			report_info("unknown argument '%s' ignored", argv[i]);
	}
	report_prefix_push("msix_routes");
	for (devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
		pcidevaddr_t bdf = devfn;

		if (!pci_dev_exists(bdf))
			continue;
		if (pci_config_readw(bdf, PCI_VENDOR_ID) != VENDOR_VIRTIO ||
		    pci_config_readw(bdf, PCI_DEVICE_ID) != DEVICE_VIRTIO_BLK_T)
			continue;
		setup_device(bdf);
	}
	report(total_devs > 0, "%u virtio-blk devices, %u queues, %u MSI-X vectors in use",
	       total_devs, total_queues, total_vectors);
	report_prefix_pop();
	return report_summary();
}
