#include "probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace kurz::health {
namespace {

using std::chrono::milliseconds;

// ---- URL parsing -------------------------------------------------------------------------------

struct UrlCase {
  const char* url;
  bool valid;
  const char* host;
  std::uint16_t port;
  const char* path;
};

TEST(ParseProbeUrl, Table) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:8080/health/live", true, "127.0.0.1", 8080, "/health/live"},
      {"http://localhost/health/ready", true, "localhost", 80, "/health/ready"},
      {"http://links:9000", true, "links", 9000, "/"},
      {"HTTP://Example.COM/", true, "Example.COM", 80, "/"},
      {"http://host/p?x=1#frag", true, "host", 80, "/p?x=1"},
      {"http://host?x=1", true, "host", 80, "/?x=1"},
      {"http://[::1]:8080/x", true, "::1", 8080, "/x"},
      {"http://h:65535/", true, "h", 65535, "/"},
      {"https://host/", false, "", 0, ""},
      {"ftp://host/", false, "", 0, ""},
      {"host:80/", false, "", 0, ""},
      {"http://", false, "", 0, ""},
      {"http:///path", false, "", 0, ""},
      {"http://:80/", false, "", 0, ""},
      {"http://host:/", false, "", 0, ""},
      {"http://host:0/", false, "", 0, ""},
      {"http://host:65536/", false, "", 0, ""},
      {"http://host:123456/", false, "", 0, ""},
      {"http://host:8o/", false, "", 0, ""},
      {"http://user@host/", false, "", 0, ""},
      {"http://ho_st/", false, "", 0, ""},
      {"http://host/a b", false, "", 0, ""},
      {"http://host/a\r\nX: y", false, "", 0, ""},
      {"http://[::1/", false, "", 0, ""},
      {"http://[::1]x/", false, "", 0, ""},
      {"", false, "", 0, ""},
  };
  for (const UrlCase& c : cases) {
    SCOPED_TRACE(c.url);
    std::string error;
    const auto url = parse_probe_url(c.url, &error);
    ASSERT_EQ(url.has_value(), c.valid) << error;
    if (!c.valid) {
      EXPECT_FALSE(error.empty());
      continue;
    }
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->path, c.path);
  }
}

TEST(HostHeader, OmitsDefaultPortAndBracketsIpv6) {
  EXPECT_EQ(host_header(ProbeUrl{"links", 80, "/"}), "links");
  EXPECT_EQ(host_header(ProbeUrl{"127.0.0.1", 8080, "/"}), "127.0.0.1:8080");
  EXPECT_EQ(host_header(ProbeUrl{"::1", 8080, "/"}), "[::1]:8080");
}

// ---- Probing a real socket ---------------------------------------------------------------------

// A one-thread HTTP server on 127.0.0.1, port 0. It reads each request's head, then answers with
// `response` and closes, or, when `response` is empty, holds the connection open without a word.
class TinyServer {
 public:
  explicit TinyServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  TinyServer(const TinyServer&) = delete;
  TinyServer& operator=(const TinyServer&) = delete;
  ~TinyServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::uint16_t port() const { return port_; }
  std::string request() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return request_;
  }

 private:
  bool wait_readable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void run() {
    while (wait_readable(fd_)) {
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      std::string head;
      char buf[512];
      while (head.find("\r\n\r\n") == std::string::npos && wait_readable(conn)) {
        const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        request_ = head;
      }
      if (response_.empty()) {
        while (!stop_) std::this_thread::sleep_for(milliseconds(10));
      } else {
        ::send(conn, response_.data(), response_.size(), MSG_NOSIGNAL);
      }
      ::close(conn);
    }
  }

  std::string response_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string request_;
  std::thread thread_;
};

ProbeUrl local(std::uint16_t port, const char* path = "/health/ready") {
  return ProbeUrl{"127.0.0.1", port, path};
}

TEST(Probe, Status200Succeeds) {
  TinyServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  const ProbeResult r = probe(local(server.port()), milliseconds(2000));
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(server.request(),
            "GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) +
                "\r\nConnection: close\r\nUser-Agent: kurz-probe\r\n\r\n");
}

TEST(Probe, LocalhostNeedsNoResolver) {
  TinyServer server("HTTP/1.0 200 OK\r\n\r\n");
  const ProbeResult r = probe(ProbeUrl{"localhost", server.port(), "/"}, milliseconds(2000));
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Probe, Status503Fails) {
  TinyServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  const ProbeResult r = probe(local(server.port()), milliseconds(2000));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.message, "status 503");
}

TEST(Probe, GarbageFails) {
  TinyServer server("SSH-2.0-OpenSSH\r\n");
  const ProbeResult r = probe(local(server.port()), milliseconds(2000));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "malformed status line");
}

TEST(Probe, SilentServerTimesOutWithinTheBound) {
  TinyServer server("");
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult r = probe(local(server.port()), milliseconds(200));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "timed out after 200 ms");
  EXPECT_GE(elapsed, milliseconds(190));
  EXPECT_LT(elapsed, milliseconds(1000));
}

TEST(Probe, ClosedPortIsRefused) {
  // Bind port 0 to learn a free port, then close it so that nothing listens there.
  std::uint16_t port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  const ProbeResult r = probe(local(port), milliseconds(2000));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.message, "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

}  // namespace
}  // namespace kurz::health
