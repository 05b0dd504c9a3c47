// httpd: a small web server: GET of files in the file system.
//
//   httpd [PORT [-d N]]   (port 80 by default; -d N: drop every Nth TCP
//                          segment it receives or sends, to test
//                          retransmission)
//
// One connection after another: it reads the request, answers a GET of a
// file with its contents (and Content-Length), anything it cannot open or
// a directory with 404, any other method with 501, and closes the
// connection. It prints a line a request, with the stack's count of
// retransmissions so far.

#include "ulib/ulib.h"

// Does the request in req (NUL-terminated) end with its blank line?
static int whole(const char *req)
{
  for (; *req != '\0'; req++)
    if (strncmp(req, "\r\n\r\n", 4) == 0 || strncmp(req, "\n\n", 2) == 0)
      return 1;
  return 0;
}

// The Content-Type for the file at path, from its name's ending.
static const char *content_type(const char *path)
{
  static const char *types[][2] = {{".html", "text/html"},
                                   {".md", "text/plain"},
                                   {".txt", "text/plain"},
                                   {".sh", "text/plain"},
                                   {".c", "text/plain"}};
  unsigned long n = strlen(path);
  for (unsigned long i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    unsigned long m = strlen(types[i][0]);
    if (n >= m && strcmp(path + n - m, types[i][0]) == 0)
      return types[i][1];
  }
  return "application/octet-stream";
}

// Send the whole string s on fd.
static void say(int fd, const char *s)
{
  write(fd, s, strlen(s));
}

// Answer the request on connection c (already read into req).
static void answer(int c, char *req)
{
  static char buf[4096];
  char *path = req + 4, *end = path;
  while (*end != ' ' && *end != '\r' && *end != '\n' && *end != '\0')
    end++;
  *end = '\0';
  if (strncmp(req, "GET ", 4) != 0) {
    say(c, "HTTP/1.0 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    printf("httpd: 501\n");
    return;
  }
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || st.type != T_FILE) {
    static const char body[] = "404 not found\n";
    snprintf(buf, sizeof(buf),
             "HTTP/1.0 404 Not Found\r\nContent-Length: %lu\r\nContent-Type: text/plain\r\n"
             "Connection: close\r\n\r\n%s",
             sizeof(body) - 1, body);
    say(c, buf);
    printf("httpd: GET %s 404\n", path);
    if (fd >= 0)
      close(fd);
    return;
  }
  snprintf(buf, sizeof(buf),
           "HTTP/1.0 200 OK\r\nContent-Length: %lu\r\nContent-Type: %s\r\n"
           "Connection: close\r\n\r\n",
           (unsigned long)st.size, content_type(path));
  say(c, buf);
  unsigned long sent = 0;
  long n;
  while ((n = read(fd, buf, sizeof(buf))) > 0 && write(c, buf, n) == n)
    sent += n;
  close(fd);
  printf("httpd: GET %s 200 %lu bytes (retransmissions %lu)\n", path, sent,
         net_stats.tcp_retransmits);
}

int main(int argc, char **argv)
{
  int port = argc > 1 ? atoi(argv[1]) : 80;
  if (argc == 4 && strcmp(argv[2], "-d") == 0)
    tcp_drop_every = atoi(argv[3]);
  if ((argc != 1 && argc != 2 && argc != 4) || port <= 0 || port > 0xFFFF) {
    fprintf(2, "usage: httpd [PORT [-d N]]\n");
    return 2;
  }
  int l = socket(SOCK_STREAM);
  long err = l < 0 ? l : listen(l, port);
  if (err < 0) {
    printf("httpd: port %d: %s\n", port, exos_strerror(err));
    return 1;
  }
  printf("httpd: port %d\n", port);
  for (;;) {
    static char req[1024];
    int c = accept(l, NULL, NULL);
    if (c < 0) {
      printf("httpd: accept: %s\n", exos_strerror(c));
      return 1;
    }
    unsigned long got = 0;
    long n;
    while (got < sizeof(req) - 1 && (n = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
      got += n;
      req[got] = '\0';
      if (whole(req))
        break;
    }
    req[got] = '\0';
    if (got > 0)
      answer(c, req);
    close(c);
  }
}
