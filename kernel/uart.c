// The console: a 16550 UART. Output is polled; input arrives by interrupt
// (through the PLIC) into a small ring buffer that console_getc() drains.

#include "defs.h"
#include "env.h"
#include "smp.h"
#include "memlayout.h"

#define RHR              0  // receive holding register (read)
#define THR              0  // transmit holding register (write)
#define IER              1  // interrupt enable
#define FCR              2  // FIFO control
#define LCR              3  // line control
#define LSR              5  // line status
#define IER_RX           0x01
#define FCR_ENABLE_CLEAR 0x07
#define LCR_8N1          0x03
#define LSR_RX_READY     0x01
#define LSR_TX_EMPTY     0x20

#define UART(reg) (((volatile uint8 *)KADDR(UART0_PHYS))[reg])

// The input ring is sysinfo's console_in, exported read-only; the indices
// console_read and console_write there run free.
static int waiters;  // environments waiting in cgetc_wait (or env_wait for input)

// Configure 8 data bits, no parity, FIFOs on, and the receive interrupt.
void uart_init(void)
{
  UART(IER) = 0;
  UART(LCR) = LCR_8N1;
  UART(FCR) = FCR_ENABLE_CLEAR;
  UART(IER) = IER_RX;
}

// Send one byte, waiting until the transmitter can take it.
void uart_putc(int c)
{
  while ((UART(LSR) & LSR_TX_EMPTY) == 0)
    ;
  UART(THR) = c;
}

// Receive interrupt: move every waiting byte into the input buffer (bytes
// that do not fit are dropped), and wake the environments waiting for one.
void uart_intr(void)
{
  while (UART(LSR) & LSR_RX_READY) {
    char c = UART(RHR);
    if (sysinfo->console_write - sysinfo->console_read < CONSOLE_IN)
      sysinfo->console_in[sysinfo->console_write++ % CONSOLE_IN] = c;
  }
  for (int i = 0; i < NENV && waiters > 0; i++)
    if (envs[i].console_wait) {
      envs[i].console_wait = 0;
      envs[i].waits_for = 0;  // (an env_wait for input ends too)
      env_wake(&envs[i]);
      waiters--;
    }
}

// cgetc_wait: the next input byte, or, if none has arrived, give up the
// processor until one does and return -E_AGAIN then (the caller asks again;
// another waiter may have taken the byte).
long console_getc_wait(struct env *e)
{
  int c = console_getc();
  if (c >= 0)
    return c;
  e->console_wait = 1;
  waiters++;
  e->pub->status = ENV_NOT_RUNNABLE;
  e->tf.a0 = -E_AGAIN;
  schedule();
}

// env_wait with ENV_WAIT_INPUT: the next byte typed wakes e too.
void console_wake_on_input(struct env *e)
{
  if (!e->console_wait)
    waiters++;
  e->console_wait = 1;
}

// Environment e is being destroyed, or woken otherwise: it waits for input
// no more.
void console_forget(struct env *e)
{
  if (e->console_wait)
    waiters--;
  e->console_wait = 0;
}

// Return the next input byte, or -1 if none has arrived.
int console_getc(void)
{
  if (sysinfo->console_read == sysinfo->console_write)
    return -1;
  return (uint8)sysinfo->console_in[sysinfo->console_read++ % CONSOLE_IN];
}
