// fsd: the file-system server. It serves the file system (ulib/fs.c) to
// every program over RPC, mounting it at the first call (and replaying the
// log if the machine stopped mid-commit). Programs start it
// when they first need it (ulib/fsclient.c); init does at boot.

#include "ulib/ulib.h"

int main(int argc, char **argv)
{
  // Several programs may have started a server at once: all but the
  // oldest end (ulib/fsclient.c).
  if (fs_server_oldest() != (unsigned int)sys_getenvid())
    return 0;
  rpc_serve(fs_handle);  // the first call mounts the file system
}
