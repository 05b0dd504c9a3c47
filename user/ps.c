// ps: the processes (environments), from the kernel's exported table.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 0, 0, "usage: ps") < 0)
    return 2;
  const struct env_info *envs = (const struct env_info *)UENVS;
  const struct sysinfo *si = (const struct sysinfo *)USYSINFO;
  static const char *const status[] = {"free", "runnable", "waiting"};
  printf("  PID PARENT STATUS   PAGES NAME\n");
  for (unsigned long i = 0; i < si->nenv; i++) {
    if (envs[i].status == ENV_FREE)
      continue;
    unsigned int s = envs[i].status;
    printf("%5x %6x %-8s %5lu %s\n", envs[i].id, envs[i].parent_id, s < 3 ? status[s] : "?",
           (unsigned long)envs[i].npages, envs[i].name);
  }
  return 0;
}
