// virtio over MMIO, the modern interface (virtio 1.x): the registers and
// the split virtqueue that the disk (disk.c) and the network (net.c)
// drivers share. kernel/virtio.c finds a device, negotiates its features
// and sets up its queues.
#ifndef RVEXO_VIRTIO_H
#define RVEXO_VIRTIO_H

#include "types.h"

// virtio-mmio registers (virtio 1.x, section 4.2.2).
#define VIRTIO_MAGIC               0x000  // "virt"
#define VIRTIO_VERSION             0x004
#define VIRTIO_DEVICE_ID           0x008
#define VIRTIO_DEVICE_FEATURES     0x010
#define VIRTIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_DRIVER_FEATURES     0x020
#define VIRTIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_QUEUE_SEL           0x030
#define VIRTIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_QUEUE_NUM           0x038
#define VIRTIO_QUEUE_READY         0x044
#define VIRTIO_QUEUE_NOTIFY        0x050
#define VIRTIO_INTERRUPT_STATUS    0x060
#define VIRTIO_INTERRUPT_ACK       0x064
#define VIRTIO_STATUS              0x070
#define VIRTIO_QUEUE_DESC          0x080  // low word; high word at +4
#define VIRTIO_QUEUE_DRIVER        0x090  // the available ring
#define VIRTIO_QUEUE_DEVICE        0x0a0  // the used ring
#define VIRTIO_CONFIG              0x100  // the device's own configuration

#define DEVICE_ID_NET   1
#define DEVICE_ID_BLOCK 2

// Split virtqueue structures (virtio 1.x, section 2.7).
struct vq_desc {
  uint64 addr;
  uint32 len;
  uint16 flags;
  uint16 next;
};
#define DESC_NEXT  1
#define DESC_WRITE 2  // the device writes this buffer

struct vq_avail {
  uint16 flags;
  uint16 idx;
  uint16 ring[];
};

struct vq_used_elem {
  uint32 id;
  uint32 len;
};

struct vq_used {
  uint16 flags;
  uint16 idx;
  struct vq_used_elem ring[];
};

// One queue as the driver sees it.
struct virtq {
  struct vq_desc *desc;
  struct vq_avail *avail;
  struct vq_used *used;
  uint16 size;  // descriptors (a power of two)
  uint16 seen;  // used->idx already processed
};

// The registers of the device's MMIO slot.
static inline uint32 virtio_read(volatile uint8 *regs, int off)
{
  return *(volatile uint32 *)(regs + off);
}

static inline void virtio_write(volatile uint8 *regs, int off, uint32 value)
{
  *(volatile uint32 *)(regs + off) = value;
}

volatile uint8 *virtio_find(uint32 device_id, int *irq);
void virtio_negotiate(volatile uint8 *regs, const char *name);
void virtio_queue_init(volatile uint8 *regs, int q, uint16 size, struct virtq *vq,
                       const char *name);
void virtio_ready(volatile uint8 *regs);

// Make the descriptor chain starting at head available on queue q and
// tell the device. (Inline: on every disk request's path.)
static inline void virtio_post(volatile uint8 *regs, int q, struct virtq *vq, uint16 head)
{
  vq->avail->ring[vq->avail->idx & (vq->size - 1)] = head;
  __sync_synchronize();
  vq->avail->idx++;
  __sync_synchronize();
  virtio_write(regs, VIRTIO_QUEUE_NOTIFY, q);
}

#endif
