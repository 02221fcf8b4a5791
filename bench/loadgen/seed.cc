#include "seed.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "http_response.h"

namespace kurz::load {

namespace {

int to_ms(double seconds) { return static_cast<int>(std::ceil(seconds * 1000)); }

std::string excerpt(const std::string& body) {
  std::string out = body.substr(0, 200);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

BlockingClient::BlockingClient(const Address& address, double timeout_s)
    : address_(address), timeout_s_(timeout_s) {}

BlockingClient::~BlockingClient() { close(); }

void BlockingClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool BlockingClient::connect(std::string& error) {
  if (fd_ >= 0) return true;
  fd_ = socket(address_.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address_.storage), address_.length);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd_, POLLOUT, 0};
    rc = poll(&p, 1, to_ms(timeout_s_));
    if (rc == 0) {
      close();
      error = "cannot connect to " + address_.text + ": no answer within " +
              std::to_string(to_ms(timeout_s_)) + " ms";
      return false;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &length);
    rc = so_error == 0 ? 0 : -1;
    errno = so_error;
  }
  if (rc != 0) {
    error = "cannot connect to " + address_.text + ": " + std::strerror(errno);
    close();
    return false;
  }
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

std::optional<Reply> BlockingClient::exchange(const std::string& request, std::string& error) {
  if (!connect(error)) return std::nullopt;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(to_ms(timeout_s_));
  auto left_ms = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
  };
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, left_ms()) > 0) continue;
      error = "timed out sending to " + address_.text;
    } else {
      error = "sending to " + address_.text + ": " + std::strerror(errno);
    }
    close();
    return std::nullopt;
  }
  ResponseParser parser(true);
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    ResponseParser::Result result;
    if (n > 0) {
      result = parser.feed(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      result = parser.finish();
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left_ms()) > 0) continue;
      error = "no answer from " + address_.text + " within " + std::to_string(to_ms(timeout_s_)) +
              " ms";
      close();
      return std::nullopt;
    } else {
      error = "reading from " + address_.text + ": " + std::strerror(errno);
      close();
      return std::nullopt;
    }
    if (result == ResponseParser::Result::kNeedMore) continue;
    if (result == ResponseParser::Result::kError) {
      error = "bad response from " + address_.text + ": " + parser.error();
      close();
      return std::nullopt;
    }
    Reply reply{parser.status(), parser.body(), parser.location()};
    if (parser.close_after() || n == 0) close();
    return reply;
  }
}

bool check_reachable(const BaseUrl& url, const Address& address, double timeout_s,
                     std::string& error) {
  BlockingClient client(address, std::min(timeout_s, 5.0));
  if (client.connect(error)) return true;
  error = url.text + " is not reachable: " + error;
  return false;
}

std::optional<std::vector<Link>> seed_links(const Address& address, const RequestBuilder& builder,
                                            long count, double timeout_s, bool quiet,
                                            std::string& error) {
  BlockingClient client(address, timeout_s);
  std::vector<Link> links;
  links.reserve(static_cast<size_t>(count));
  const auto started = std::chrono::steady_clock::now();
  auto last_report = started;
  for (long i = 0; i < count; ++i) {
    const std::string target =
        builder.unique_target(0, static_cast<unsigned long long>(i)) + "-seed";
    std::string why;
    // One retry on a transport failure: a keep-alive connection the server had just closed.
    auto reply = client.exchange(builder.create(target), why);
    if (!reply) reply = client.exchange(builder.create(target), why);
    if (!reply) {
      error = "seeding link " + std::to_string(i + 1) + " of " + std::to_string(count) + ": " + why;
      return std::nullopt;
    }
    if (reply->status == 429) {
      error = "seeding: the target refused link " + std::to_string(i + 1) + " of " +
              std::to_string(count) +
              " with 429 (its creation limit per client: " + excerpt(reply->body) +
              "). Pass its API key (--api-key: kurz exempts it from the limit), start it with "
              "RATE_LIMIT_CREATES=0 (compose: KURZ_RATE_LIMIT_CREATES=0), seed fewer (--links " +
              std::to_string(i) + "), or pass --codes FILE";
      return std::nullopt;
    }
    if (reply->status != 201) {
      error = "seeding: POST /api/links answered " + std::to_string(reply->status) + " (" +
              excerpt(reply->body) +
              "), not 201. A server without kurz's API needs --links 0 or --codes FILE";
      return std::nullopt;
    }
    const auto json = nlohmann::json::parse(reply->body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("code") ||
        !json["code"].is_string() || !plain_code(json["code"].get<std::string>())) {
      error = "seeding: the 201 answer has no usable \"code\": " + excerpt(reply->body);
      return std::nullopt;
    }
    links.push_back({json["code"].get<std::string>(), target});
    const auto now = std::chrono::steady_clock::now();
    if (!quiet && now - last_report >= std::chrono::seconds(1)) {
      last_report = now;
      std::fprintf(stderr, "kurz-load: seeding: %zu of %ld links\n", links.size(), count);
    }
  }
  if (!quiet) {
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "kurz-load: seeded %zu links in %.2f s\n", links.size(), s);
  }
  return links;
}

}  // namespace kurz::load
