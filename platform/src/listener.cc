#include "listener.h"

#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kurz::platform {
namespace {

constexpr std::size_t netlink_align(std::size_t length) { return (length + 3) & ~std::size_t{3}; }

// Appends the inodes of the TCP sockets of `family` listening on `port`, asked of the kernel's
// socket diagnostics (what `ss -ltn` uses): it lists the listening sockets only, however many
// connections the host has. False when the kernel could not be asked.
bool ask_listeners(int diag, int family, std::uint16_t port, std::vector<unsigned long>& inodes) {
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = static_cast<std::uint8_t>(family);
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1U << TCP_LISTEN;
  if (::send(diag, &message, sizeof(message), 0) != static_cast<ssize_t>(sizeof(message))) {
    return false;
  }
  constexpr std::size_t kHeader = netlink_align(sizeof(nlmsghdr));
  alignas(nlmsghdr) char buffer[32 * 1024];
  for (int replies = 0; replies < 1000; ++replies) {
    const auto received = ::recv(diag, buffer, sizeof(buffer), 0);
    if (received <= 0) return false;
    const auto size = static_cast<std::size_t>(received);
    for (std::size_t offset = 0; offset + sizeof(nlmsghdr) <= size;) {
      nlmsghdr header{};
      std::memcpy(&header, buffer + offset, sizeof(header));
      if (header.nlmsg_len < sizeof(nlmsghdr) || offset + header.nlmsg_len > size) return false;
      if (header.nlmsg_type == NLMSG_DONE) return true;
      if (header.nlmsg_type == NLMSG_ERROR) return false;
      if (header.nlmsg_len >= kHeader + sizeof(inet_diag_msg)) {
        inet_diag_msg socket{};
        std::memcpy(&socket, buffer + offset + kHeader, sizeof(socket));
        if (ntohs(socket.id.idiag_sport) == port) inodes.push_back(socket.idiag_inode);
      }
      offset += netlink_align(header.nlmsg_len);
    }
  }
  return false;
}

// The inodes of the TCP sockets listening on `port` in this network namespace. No descriptor of
// ours is probed: fstat or getsockopt on every open descriptor would race with the reactor threads
// that close connections meanwhile (and could probe a number just closed and reused).
std::vector<unsigned long> listening_inodes(std::uint16_t port) {
  std::vector<unsigned long> inodes;
  const int diag = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (diag < 0) return inodes;
  for (const int family : {AF_INET, AF_INET6}) {
    if (!ask_listeners(diag, family, port, inodes)) break;
  }
  ::close(diag);
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
