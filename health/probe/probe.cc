#include "probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace kurz::health {
namespace {

using Clock = std::chrono::steady_clock;

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

bool is_ipv6_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

std::optional<ProbeUrl> fail(std::string* error, const char* reason) {
  if (error != nullptr) *error = reason;
  return std::nullopt;
}

// Closes the descriptor on every path out of probe().
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "127.0.0.1:8080" or "[::1]:8080", for messages
};

std::string describe(const sockaddr* sa, std::uint16_t port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(port);
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
  ::inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(port);
}

// Resolves without the resolver for literals and `localhost` (a runtime image may lack NSS files).
std::vector<Address> resolve(const ProbeUrl& url, std::string* error) {
  std::vector<Address> out;
  Address a;
  in_addr v4{};
  in6_addr v6{};
  const std::string host = url.host == "localhost" ? std::string("127.0.0.1") : url.host;
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(url.port);
    sin->sin_addr = v4;
    a.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(url.port);
    sin6->sin6_addr = v6;
    a.length = sizeof(sockaddr_in6);
  }
  if (a.length != 0) {
    a.text = describe(reinterpret_cast<const sockaddr*>(&a.storage), url.port);
    out.push_back(a);
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(url.port);
  const int rc = ::getaddrinfo(url.host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    *error = "resolve " + url.host + ": " + ::gai_strerror(rc);
    return out;
  }
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Address r;
    std::memcpy(&r.storage, ai->ai_addr, ai->ai_addrlen);
    r.length = ai->ai_addrlen;
    r.text = describe(ai->ai_addr, url.port);
    out.push_back(r);
  }
  ::freeaddrinfo(list);
  if (out.empty()) *error = "resolve " + url.host + ": no address";
  return out;
}

// Milliseconds left before `deadline`, at least 0, rounded up so that poll never spins.
int remaining_ms(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

// Waits for `events` on `fd`; false on timeout. Retries on EINTR.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const int ms = remaining_ms(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, ms);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let the next syscall report the error
  }
}

enum class Step { kDone, kFailed, kTimedOut };

Step connect_to(const Address& addr, Clock::time_point deadline, int* fd_out, std::string* error) {
  const int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket: " + std::string(std::strerror(errno));
    return Step::kFailed;
  }
  *fd_out = fd;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length) == 0) {
    return Step::kDone;
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    *error = "connect " + addr.text + ": " + std::strerror(errno);
    return Step::kFailed;
  }
  if (!wait_for(fd, POLLOUT, deadline)) return Step::kTimedOut;
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
  if (so_error != 0) {
    *error = "connect " + addr.text + ": " + std::strerror(so_error);
    return Step::kFailed;
  }
  return Step::kDone;
}

Step send_all(int fd, const std::string& data, Clock::time_point deadline, std::string* error) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline)) return Step::kTimedOut;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      *error = "send: " + std::string(std::strerror(errno));
      return Step::kFailed;
    }
  }
  return Step::kDone;
}

// Reads until the end of the status line; only that line matters.
Step read_status_line(int fd, Clock::time_point deadline, std::string* line, std::string* error) {
  constexpr std::size_t kMaxLine = 1024;
  std::string buf;
  char chunk[512];
  for (;;) {
    const auto eol = buf.find('\n');
    if (eol != std::string::npos) {
      *line = buf.substr(0, eol);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      return Step::kDone;
    }
    if (buf.size() > kMaxLine) {
      *error = "status line too long";
      return Step::kFailed;
    }
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      *error = "connection closed before the status line";
      return Step::kFailed;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!wait_for(fd, POLLIN, deadline)) return Step::kTimedOut;
    } else if (errno != EINTR) {
      *error = "receive: " + std::string(std::strerror(errno));
      return Step::kFailed;
    }
  }
}

// "HTTP/1.1 200 OK" → 200; 0 when the line is not an HTTP status line.
int parse_status(const std::string& line) {
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || line[8] != ' ') return 0;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return 0;
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ') return 0;
  return status >= 100 ? status : 0;
}

}  // namespace

std::optional<ProbeUrl> parse_probe_url(std::string_view url, std::string* error) {
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail(error, "URL contains whitespace or a control character");
    }
  }
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size()) return fail(error, "URL must start with http://");
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = url[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[i]) return fail(error, "URL must start with http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) return fail(error, "URL has user info");

  ProbeUrl out;
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(error, "unterminated IPv6 literal");
    const std::string_view v6 = authority.substr(1, close - 1);
    for (const char c : v6) {
      if (!is_ipv6_char(c)) return fail(error, "invalid IPv6 literal");
    }
    out.host = std::string(v6);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(error, "invalid text after IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return fail(error, "empty port");
    }
  } else {
    const auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail(error, "empty port");
    }
    for (const char c : out.host) {
      if (!is_host_char(c)) return fail(error, "invalid character in host");
    }
  }
  if (out.host.empty()) return fail(error, "URL has no host");
  if (!port_text.empty()) {
    if (port_text.size() > 5) return fail(error, "port out of range");
    unsigned value = 0;
    for (const char c : port_text) {
      if (c < '0' || c > '9') return fail(error, "port is not a number");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return fail(error, "port out of range");
    out.port = static_cast<std::uint16_t>(value);
  }
  path = path.substr(0, path.find('#'));
  if (path.empty()) {
    out.path = "/";
  } else if (path.front() == '?') {
    out.path = "/" + std::string(path);
  } else {
    out.path = std::string(path);
  }
  return out;
}

std::string host_header(const ProbeUrl& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != 80) host += ":" + std::to_string(url.port);
  return host;
}

ProbeResult probe(const ProbeUrl& url, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  ProbeResult result;
  const auto timed_out = [&] {
    result.message = "timed out after " + std::to_string(timeout.count()) + " ms";
    return result;
  };

  const std::vector<Address> addresses = resolve(url, &result.message);
  if (addresses.empty()) return result;

  // Try each address in turn, as curl does; report the last failure.
  int fd = -1;
  for (const Address& addr : addresses) {
    int candidate = -1;
    const Step step = connect_to(addr, deadline, &candidate, &result.message);
    Socket guard(candidate);
    if (step == Step::kTimedOut) return timed_out();
    if (step == Step::kDone) {
      fd = guard.release();
      break;
    }
  }
  if (fd < 0) return result;
  const Socket socket(fd);
  result.message.clear();

  const std::string request = "GET " + url.path + " HTTP/1.1\r\nHost: " + host_header(url) +
                              "\r\nConnection: close\r\nUser-Agent: kurz-probe\r\n\r\n";
  Step step = send_all(socket.fd(), request, deadline, &result.message);
  if (step == Step::kTimedOut) return timed_out();
  if (step == Step::kFailed) return result;

  std::string line;
  step = read_status_line(socket.fd(), deadline, &line, &result.message);
  if (step == Step::kTimedOut) return timed_out();
  if (step == Step::kFailed) return result;

  result.status = parse_status(line);
  if (result.status == 0) {
    result.message = "malformed status line";
  } else if (result.status == 200) {
    result.ok = true;
  } else {
    result.message = "status " + std::to_string(result.status);
  }
  return result;
}

}  // namespace kurz::health
