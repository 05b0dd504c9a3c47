// free: memory in use and free, from the kernel's exported page table.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  if (exos_args(&argc, &argv, 0, 0, "usage: free") < 0)
    return 2;
  const struct sysinfo *si = (const struct sysinfo *)USYSINFO;
  const struct page_info *pages = (const struct page_info *)UPAGES;
  unsigned long by_type[8] = {0};
  for (unsigned long i = 0; i < si->npages; i++)
    by_type[pages[i].type < 8 ? pages[i].type : 7]++;
  printf("pages: %lu in all, %lu free (%lu KiB)\n", si->npages, si->nfree, si->nfree * 4);
  printf("in use: %lu user, %lu page tables, %lu u-areas, %lu kernel\n", by_type[PG_USER],
         by_type[PG_PT0] + by_type[PG_PT1] + by_type[PG_PT2], by_type[PG_UAREA],
         by_type[PG_KERNEL]);
  return 0;
}
