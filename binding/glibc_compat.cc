// Keeps the prebuilds' glibc baseline at 2.34 although they are built against
// glibc 2.36 (Debian bookworm) with libstdc++ linked in statically.
//
// libstdc++.a from GCC 12 reaches std::random_device through
// std::runtime_error's string (stdexcept.o -> cow-string-inst.o -> random.o),
// and random.o calls arc4random, new in glibc 2.36. neonn never makes a
// random_device, but the reference alone would make the dynamic loader refuse
// the addon on glibc 2.34/2.35 (Ubuntu 22.04, RHEL 9). This definition is
// hidden (binding/exports.map keeps every symbol but the Node-API entry points
// local), so it satisfies libstdc++.a only; Node and other libraries still get
// glibc's. getrandom() is glibc 2.25.
// test/package/prebuild-abi.test.ts checks the baseline.
#include <cerrno>
#include <cstdint>

#if defined(__GLIBC__)
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) {
  uint32_t v = 0;
  for (;;) {
    ssize_t n = getrandom(&v, sizeof v, 0);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
    if (n < 0 && errno != EINTR) break;
  }
  // getrandom unavailable (a kernel older than 3.17): /dev/urandom.
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, &v, sizeof v);
    close(fd);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
  }
  return v;
}
#endif
