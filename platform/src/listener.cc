#include "listener.h"

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kurz::platform {
namespace {

// The inodes of the TCP sockets listening on `port` in this network namespace, read from the
// kernel's tables. No descriptor is touched: probing every open descriptor with fstat or
// getsockopt would race with the reactor threads that close connections meanwhile (and could
// probe a number that was just closed and reused).
std::vector<unsigned long> listening_inodes(std::uint16_t port) {
  std::vector<unsigned long> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
      unsigned long inode = 0;
      if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode)) {
        continue;
      }
      constexpr const char* kListen = "0A";  // TCP_LISTEN
      const auto colon = local.rfind(':');
      if (state != kListen || colon == std::string::npos) continue;
      if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port) inodes.push_back(inode);
    }
  }
  return inodes;
}

// The socket inode a descriptor names, from its /proc link ("socket:[1234]"), or 0.
unsigned long socket_inode(const std::string& fd_name) {
  const std::string link_path = "/proc/self/fd/" + fd_name;
  char target[64] = {};
  const auto length = ::readlink(link_path.c_str(), target, sizeof(target) - 1);
  if (length <= 0) return 0;
  const std::string text(target, static_cast<std::size_t>(length));
  const std::string prefix = "socket:[";
  if (text.compare(0, prefix.size(), prefix) != 0) return 0;
  return std::strtoul(text.c_str() + prefix.size(), nullptr, 10);
}

}  // namespace

void stop_accepting(std::uint16_t port) {
  const auto inodes = listening_inodes(port);
  if (inodes.empty()) return;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    const auto inode = socket_inode(entry->d_name);
    if (inode == 0 || std::find(inodes.begin(), inodes.end(), inode) == inodes.end()) continue;
    const int inert = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (inert >= 0) {
      ::dup2(inert, fd);
      ::close(inert);
    }
  }
  closedir(dir);
}

}  // namespace kurz::platform
