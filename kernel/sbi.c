// Calls into the SBI firmware (OpenSBI) and powering the machine off.

#include "defs.h"
#include "memlayout.h"

#define SBI_EXT_TIME 0x54494D45  // "TIME"
#define SBI_EXT_SRST 0x53525354  // "SRST": system reset

struct sbiret {
  long error;
  long value;
};

// Make an SBI call: extension ext, function fid, two arguments.
static struct sbiret sbi_call(long ext, long fid, long arg0, long arg1)
{
  register long a0 asm("a0") = arg0;
  register long a1 asm("a1") = arg1;
  register long a6 asm("a6") = fid;
  register long a7 asm("a7") = ext;
  asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
  return (struct sbiret){a0, a1};
}

// Ask for a supervisor timer interrupt when rdtime reaches `when`.
void sbi_set_timer(uint64 when)
{
  sbi_call(SBI_EXT_TIME, 0, when, 0);
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
