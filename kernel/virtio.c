// virtio over MMIO, the modern interface: finding a device, negotiating
// its features and setting up its queues (virtio 1.x, sections 3.1 and
// 4.2.3). The drivers (disk.c, net.c) use nothing optional: a device that
// refuses the modern interface, or whose queue is too small, stops the
// machine at boot, with the driver's name.

#include "defs.h"
#include "memlayout.h"
#include "virtio.h"

#define VIRTIO_SLOTS 8

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define FEATURE_VERSION_1  (1U << 0)  // bit 32 of the features, in the high word

// The registers of the first modern virtio device of type device_id, and
// its interrupt in *irq; NULL if there is none.
volatile uint8 *virtio_find(uint32 device_id, int *irq)
{
  for (int slot = 0; slot < VIRTIO_SLOTS; slot++) {
    volatile uint8 *r = KADDR(VIRTIO0_PHYS + slot * 0x1000UL);
    if (virtio_read(r, VIRTIO_MAGIC) == 0x74726976 && virtio_read(r, VIRTIO_VERSION) == 2 &&
        virtio_read(r, VIRTIO_DEVICE_ID) == device_id) {
      *irq = VIRTIO0_IRQ + slot;
      return r;
    }
  }
  return NULL;
}

// Reset the device and accept only VERSION_1 (no optional feature).
void virtio_negotiate(volatile uint8 *regs, const char *name)
{
  virtio_write(regs, VIRTIO_STATUS, 0);  // reset
  virtio_write(regs, VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
  virtio_write(regs, VIRTIO_DEVICE_FEATURES_SEL, 1);
  uint32 high = virtio_read(regs, VIRTIO_DEVICE_FEATURES);
  virtio_write(regs, VIRTIO_DRIVER_FEATURES_SEL, 1);
  virtio_write(regs, VIRTIO_DRIVER_FEATURES, high & FEATURE_VERSION_1);
  virtio_write(regs, VIRTIO_DRIVER_FEATURES_SEL, 0);
  virtio_write(regs, VIRTIO_DRIVER_FEATURES, 0);
  virtio_write(regs, VIRTIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
  if (!(virtio_read(regs, VIRTIO_STATUS) & STATUS_FEATURES_OK) || !(high & FEATURE_VERSION_1))
    panic("%s: device refused our features", name);
}

// Write a 64-bit address into a pair of registers.
static void write64(volatile uint8 *regs, int off, uint64 value)
{
  virtio_write(regs, off, (uint32)value);
  virtio_write(regs, off + 4, value >> 32);
}

// Give queue q `size` descriptors (a power of two, at most 256) in two
// kernel pages: the descriptors and the available ring in one, the used
// ring in the other.
void virtio_queue_init(volatile uint8 *regs, int q, uint16 size, struct virtq *vq, const char *name)
{
  virtio_write(regs, VIRTIO_QUEUE_SEL, q);
  if (virtio_read(regs, VIRTIO_QUEUE_NUM_MAX) < size)
    panic("%s: queue %d too small", name, q);
  uint64 ring_page = page_alloc(0, PG_KERNEL), used_page = page_alloc(0, PG_KERNEL);
  if (ring_page == 0 || used_page == 0)
    panic("%s: out of memory", name);
  vq->desc = KADDR(ring_page);
  vq->avail = KADDR(ring_page + size * sizeof(struct vq_desc));
  vq->used = KADDR(used_page);
  vq->size = size;
  vq->seen = 0;
  virtio_write(regs, VIRTIO_QUEUE_NUM, size);
  write64(regs, VIRTIO_QUEUE_DESC, ring_page);
  write64(regs, VIRTIO_QUEUE_DRIVER, ring_page + size * sizeof(struct vq_desc));
  write64(regs, VIRTIO_QUEUE_DEVICE, used_page);
  virtio_write(regs, VIRTIO_QUEUE_READY, 1);
}

// The driver is ready: the device may start.
void virtio_ready(volatile uint8 *regs)
{
  virtio_write(regs, VIRTIO_STATUS,
               STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}
