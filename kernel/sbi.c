// Calls into the SBI firmware (OpenSBI), powering the machine off, and the
// two things the firmware is asked most often, which the machine may let
// the kernel do itself: setting this hart's timer (the Sstc extension's
// stimecmp register) and interrupting other harts (an ACLINT SSWI device,
// QEMU virt's aclint=on). Each is a trap into M-mode and back through
// SBI, a few hundred instructions; done directly, a few. fdt.c finds out
// which the machine has.

#include "defs.h"
#include "memlayout.h"
#include "riscv.h"

#define SBI_EXT_TIME 0x54494D45  // "TIME"
#define SBI_EXT_SRST 0x53525354  // "SRST": system reset
#define SBI_EXT_HSM  0x48534D    // "HSM": hart state management
#define SBI_EXT_IPI  0x735049    // "sPI": inter-processor interrupts
#define CSR_STIMECMP 0x14D       // Sstc: the supervisor timer's compare register

struct sbiret {
  long error;
  long value;
};

// Make an SBI call: extension ext, function fid, up to five arguments.
static struct sbiret sbi_call5(long ext, long fid, long arg0, long arg1, long arg2, long arg3,
                               long arg4)
{
  register long a0 asm("a0") = arg0;
  register long a1 asm("a1") = arg1;
  register long a2 asm("a2") = arg2;
  register long a3 asm("a3") = arg3;
  register long a4 asm("a4") = arg4;
  register long a6 asm("a6") = fid;
  register long a7 asm("a7") = ext;
  asm volatile("ecall"
               : "+r"(a0), "+r"(a1)
               : "r"(a2), "r"(a3), "r"(a4), "r"(a6), "r"(a7)
               : "memory");
  return (struct sbiret){a0, a1};
}

// An SBI call with two arguments (the timer's, on every slice: kept short).
static struct sbiret sbi_call(long ext, long fid, long arg0, long arg1)
{
  register long a0 asm("a0") = arg0;
  register long a1 asm("a1") = arg1;
  register long a6 asm("a6") = fid;
  register long a7 asm("a7") = ext;
  asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
  return (struct sbiret){a0, a1};
}

// May this hart set its own timer, Sstc's stimecmp? Not if it lacks Sstc,
// nor if the firmware (one older than the extension) left menvcfg.STCE
// clear, whatever the device tree says: then any access to stimecmp is an
// illegal instruction. So read it, with the trap vector pointed for the
// while at stimecmp_trap (trapvec.S), which steps over the read and
// clears a0. Interrupts are off.
int stimecmp_usable(void)
{
  extern char stimecmp_trap[];
  uint64 vec = csr_read(stvec);
  csr_write(stvec, (uint64)stimecmp_trap);
  register long ok asm("a0") = 1;
  asm volatile("csrr t0, %1" : "+r"(ok) : "i"(CSR_STIMECMP) : "t0", "memory");
  csr_write(stvec, vec);
  return ok;
}

// Ask for a supervisor timer interrupt when rdtime reaches `when` (one
// that is pending now is cleared until then).
void set_timer(uint64 when)
{
  if (bootinfo.sstc)
    asm volatile("csrw %0, %1" ::"i"(CSR_STIMECMP), "r"(when));
  else
    sbi_call(SBI_EXT_TIME, 0, when, 0);
}

// Raise a supervisor software interrupt on the harts in mask (bit h: hart
// h). An SSWI device has a 32-bit register for each hart: writing 1 sets
// that hart's sip.SSIP, which the hart clears itself (trap.c).
void send_ipi(uint64 mask)
{
  if (bootinfo.sswi_pa == 0) {
    sbi_call(SBI_EXT_IPI, 0, mask, 0);
    return;
  }
  volatile uint32 *setssip = KADDR(bootinfo.sswi_pa);
  for (int h = 0; mask != 0; h++, mask >>= 1)
    if (mask & 1)
      setssip[h] = 1;
}

// Start hart `hart` in S-mode at physical address start, with a0 = its id
// and a1 = opaque. Returns 0 or the SBI error.
long sbi_hart_start(uint64 hart, uint64 start, uint64 opaque)
{
  return sbi_call5(SBI_EXT_HSM, 0, hart, start, opaque, 0, 0).error;
}

// Power the machine off. Under QEMU the SiFive test device ends the emulator
// with exit status `status` (0: success); SBI system reset is the fallback.
void poweroff(int status)
{
  volatile uint32 *testdev = KADDR(TESTDEV_PHYS);
  if (status == 0)
    *testdev = 0x5555;  // FINISHER_PASS
  else
    *testdev = ((uint32)status << 16) | 0x3333;       // FINISHER_FAIL
  sbi_call(SBI_EXT_SRST, 0, 0, status == 0 ? 0 : 1);  // shutdown
  for (;;)
    asm volatile("wfi");
}
