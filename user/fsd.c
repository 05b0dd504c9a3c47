// fsd: the file-system server. It serves the file system (ulib/fs.c) to
// every program over RPC, mounting it at the first call (and replaying the
// log if the machine stopped mid-commit). Programs start it
// when they first need it (ulib/fsclient.c); init does at boot.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  // Two programs may have started a server at once: the one with the
  // larger id ends.
  const struct env_info *envs = (const struct env_info *)UENVS;
  unsigned int self = sys_getenvid();
  for (unsigned long i = 0; i < ((const struct sysinfo *)USYSINFO)->nenv; i++)
    if (envs[i].id != 0 && envs[i].id < self && strcmp(envs[i].name, "fsd") == 0)
      return 0;
  rpc_serve(fs_handle);  // the first call mounts the file system
}
