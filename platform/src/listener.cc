#include "listener.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace kurz::platform {
namespace {

// The port a listening socket is bound to, or 0 when `fd` is something else.
std::uint16_t listening_port(int fd) {
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return 0;
  int listening = 0;
  socklen_t len = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) {
    return 0;
  }
  sockaddr_storage address{};
  socklen_t address_len = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0) return 0;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return 0;
}

}  // namespace

void stop_accepting(std::uint16_t port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    if (listening_port(fd) != port) continue;
    const int inert = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (inert >= 0) {
      ::dup2(inert, fd);
      ::close(inert);
    }
  }
  closedir(dir);
}

}  // namespace kurz::platform
