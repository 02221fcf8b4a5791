// The Pistache glue: the handler every connection goes through, and Server's lifecycle.
#include "kurz/platform/server.h"

#include <dirent.h>
#include <netinet/in.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "connections.h"
#include "kurz/platform/log.h"
#include "request_guard.h"
#include "server_state.h"

// Pistache::Http::Handler::onInput (the HTTP parser) is private, so a subclass that needs to see
// the raw bytes first (our request-size guard) cannot call it with a qualified name, and a call
// through a member pointer would dispatch back to the override. It is an exported function of
// libpistache, so we call it by its symbol. Debian's libpistache 0.0.5 on the Itanium C++ ABI; the
// server tests (keep-alive, 413) fail loudly if this ever stops holding.
void pistache_http_handler_on_input(
    Pistache::Http::Handler* self, const char* buffer, std::size_t len,
    const std::shared_ptr<Pistache::Tcp::Peer>&
        peer) __asm__("_ZN8Pistache4Http7Handler7onInputEPKcmRKSt10shared_ptrINS_3Tcp4PeerEE");
// Likewise its onConnection (it gives the connection its parser), for the connection bound.
void pistache_http_handler_on_connection(
    Pistache::Http::Handler* self,
    const std::shared_ptr<Pistache::Tcp::Peer>&
        peer) __asm__("_ZN8Pistache4Http7Handler12onConnectionERKSt10shared_ptrINS_3Tcp4PeerEE");

namespace kurz::platform {
namespace {

// No reply may put CR, LF or NUL into a header (response splitting: a stored or echoed value that
// starts a header or a body of its own). Such a reply is replaced by a 500 and logged; the
// route's code has a bug or its data was tampered with.
bool header_safe(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}
void refuse_header_injection(Reply& reply, const std::string& request_id) {
  bool safe = header_safe(reply.content_type);
  for (const auto& [name, value] : reply.headers) {
    safe = safe && header_safe(name) && header_safe(value) && !name.empty();
  }
  if (safe) return;
  log::error("reply refused: CR, LF or NUL in a header", {{"request_id", request_id}});
  reply = Reply::error(500, "internal", "internal error");
}

namespace Http = Pistache::Http;
using Clock = std::chrono::steady_clock;

Method method_of(Http::Method method) {
  switch (method) {
    case Http::Method::Get:
      return Method::Get;
    case Http::Method::Head:
      return Method::Head;
    case Http::Method::Post:
      return Method::Post;
    case Http::Method::Put:
      return Method::Put;
    case Http::Method::Patch:
      return Method::Patch;
    case Http::Method::Delete:
      return Method::Delete;
    case Http::Method::Options:
      return Method::Options;
    default:
      return Method::Other;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class PistacheHeaders : public HeaderSource {
 public:
  explicit PistacheHeaders(const Http::Header::Collection& headers) : headers_(headers) {}
  std::optional<std::string> get(std::string_view name) const override {
    const std::string key(name);
    if (const auto raw = headers_.tryGetRaw(key)) return raw->value();
    // The one typed header on the hot path (every redirect records it): no stream needed.
    if (iequals(name, Http::Header::UserAgent::Name)) {
      const auto agent = headers_.tryGet<Http::Header::UserAgent>();
      return agent ? std::optional<std::string>(agent->agent()) : std::nullopt;
    }
    // Headers Pistache knows are parsed into typed objects; write them back as text.
    if (const auto typed = headers_.tryGet(key)) {
      std::ostringstream out;
      typed->write(out);
      return out.str();
    }
    return std::nullopt;
  }

 private:
  const Http::Header::Collection& headers_;
};

// Bytes received on a connection since its last complete request: the size guard.
// Also counts the connection's requests whose answer is not yet on the wire: a client that hangs
// up first leaves Pistache's send promise unsettled, so those are released on disconnection.
// The fields here belong to the connection's transport thread; the connection bound reads the
// inherited atomics from others.
struct PeerState : ConnectionActivity {
  std::size_t bytes = 0;
  bool rejected = false;
  RequestGuard framing;  // request smuggling and header tricks: refused before Pistache parses
  std::string peer_ip;   // formatted once per connection
};
constexpr const char* kPeerStateKey = "kurz.peer";
constexpr const char* kTicketKey = "kurz.connection";
thread_local bool t_request_completed = false;
thread_local std::shared_ptr<PeerState> t_peer;  // the connection onInput is parsing for

// One of `peer`'s requests is answered (or will never be): it leaves the in-flight count, once.
void settle(Server::State& state, PeerState& peer) {
  peer.touch();
  int unanswered = peer.unanswered.load();
  while (unanswered > 0) {
    if (peer.unanswered.compare_exchange_weak(unanswered, unanswered - 1)) {
      state.in_flight.fetch_sub(1);
      return;
    }
  }
}

// In the peer's data: when Pistache destroys the peer, its entry leaves the registry (if nothing
// removed it before; see Connections).
class Ticket {
 public:
  Ticket(std::shared_ptr<Connections> connections, const Pistache::Tcp::Peer* peer)
      : connections_(std::move(connections)), peer_(peer) {}
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  ~Ticket() { connections_->remove(peer_); }

 private:
  std::shared_ptr<Connections> connections_;
  const Pistache::Tcp::Peer* peer_;
};

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

// HTTP/1.1 keeps the connection unless the client says close; HTTP/1.0 closes unless it says
// keep-alive. Pistache 0.0.5 closes whenever the request has no Connection header (#940).
bool keep_alive(const Http::Request& request) {
  const auto connection = request.headers().tryGet<Http::Header::Connection>();
  if (request.version() == Http::Version::Http11) {
    return !connection || connection->control() != Http::ConnectionControl::Close;
  }
  return connection && connection->control() == Http::ConnectionControl::KeepAlive;
}

class KurzHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(KurzHandler)

  explicit KurzHandler(std::shared_ptr<Server::State> state) : state_(std::move(state)) {}

  void onInput(const char* buffer, size_t len,
               const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    auto guard = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey));
    if (!guard) {
      guard = std::make_shared<PeerState>();
      peer->putData(kPeerStateKey, guard);
    }
    // The rest of an oversized or refused request, or a refused or evicted connection: discard.
    if (guard->rejected || guard->evicted()) return;
    guard->touch();
    guard->bytes += len;
    if (guard->bytes > state_->options.max_request_bytes) {
      guard->rejected = true;
      reject(peer, 413, "payload_too_large",
             "the request exceeds " + std::to_string(state_->options.max_request_bytes) + " bytes");
      return;
    }
    const auto verdict = guard->framing.feed(std::string_view(buffer, len));
    if (verdict.status != 0) {
      // The requests before the refused head are parsed and answered; nothing after it is.
      if (verdict.pass > 0) parse(buffer, verdict.pass, peer, guard);
      guard->rejected = true;
      log::info("request refused", {{"status", std::to_string(verdict.status)},
                                    {"reason", verdict.message},
                                    {"client", peer->address().host()}});
      reject(peer, verdict.status, verdict.code, verdict.message);
      return;
    }
    parse(buffer, len, peer, guard);
  }

  // Pistache's parser on bytes the guards let through.
  void parse(const char* buffer, size_t len, const std::shared_ptr<Pistache::Tcp::Peer>& peer,
             const std::shared_ptr<PeerState>& guard) {
    t_request_completed = false;
    t_peer = guard;
    pistache_http_handler_on_input(this, buffer, len, peer);
    t_peer.reset();
    if (t_request_completed) guard->bytes = 0;
  }

  // The connection bound (see Connections): at max_connections open, the least recently active
  // connection with no request being answered is closed for the new one; when every one has a
  // request being answered, the new one is closed at once (no request read). So a flood of idle
  // or slow clients can neither exhaust file descriptors and memory nor lock out health checks.
  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    auto connection = std::make_shared<PeerState>();
    peer->putData(kPeerStateKey, connection);
    using Admitted = Connections::Admitted;
    const int fd = state_->connections->duplicate(peer->fd());  // none to spare: refused
    const auto admitted =
        fd < 0 ? Admitted::Refused : state_->connections->admit(peer.get(), connection, fd);
    if (admitted == Admitted::Refused) {
      connection->rejected = true;
      ::shutdown(peer->fd(), SHUT_RDWR);
      state_->connections_refused->Increment();
    } else {
      peer->putData(kTicketKey, std::make_shared<Ticket>(state_->connections, peer.get()));
      if (admitted == Admitted::Evicting) state_->connections_evicted->Increment();
    }
    if (admitted != Admitted::Yes) {
      const auto now =
          std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
      if (state_->connection_limit_logged.exchange(now) != now) {  // at most one line a second
        log::warn(admitted == Admitted::Evicting
                      ? "connection limit reached: closing the least recently active idle or "
                        "slow connection for each new one"
                      : "connection limit reached: every connection has a request being "
                        "answered; closing new connections",
                  {{"max_connections", std::to_string(state_->options.max_connections)},
                   {"client", peer->address().host()}});
      }
    }
    pistache_http_handler_on_connection(this, peer);
  }

  void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    state_->connections->remove(peer.get());
    if (auto guard = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey))) {
      const int unanswered = guard->unanswered.exchange(0);
      if (unanswered > 0) state_->in_flight.fetch_sub(static_cast<std::size_t>(unanswered));
    }
    Pistache::Tcp::Handler::onDisconnection(peer);
  }

  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    t_request_completed = true;
    const auto started = Clock::now();
    auto connection = t_peer ? t_peer : std::make_shared<PeerState>();
    if (!connection->begin_request()) return;  // evicted: its socket is shut down
    state_->in_flight.fetch_add(1);
    const std::string* route = &Server::State::kUnmatched;
    Reply reply;
    std::string request_id;
    std::string client;
    const PistacheHeaders headers(request.headers());
    std::string query;
    if (request.query().parameters_begin() != request.query().parameters_end()) {
      query = request.query().as_str();
      if (!query.empty() && query.front() == '?') query.erase(0, 1);
    }
    try {
      request_id = request_id_for(headers.get("X-Request-Id"));
      if (connection->peer_ip.empty()) connection->peer_ip = request.address().host();
      client = state_->proxies.empty()
                   ? connection->peer_ip
                   : state_->proxies.client(connection->peer_ip, headers.get("X-Forwarded-For"));
      Request view(method_of(request.method()), request.resource(), query, request.body(), headers,
                   client, request_id);
      reply = state_->dispatch(view, route);
      refuse_header_injection(reply, request_id);
      send(request, std::move(response), reply, request_id, connection);
      state_->record(view, *route, reply,
                     std::chrono::duration<double>(Clock::now() - started).count());
    } catch (const std::exception& e) {
      // Only the HTTP library can throw here (a peer gone mid-write); nothing to answer.
      log::warn("response not sent", {{"error", e.what()}, {"request_id", request_id}});
      settle(*state_, *connection);
    }
  }

 private:
  // Writes the answer's bytes ourselves, through the connection's own write queue: Pistache's
  // ResponseWriter serialises through ostreams and a header collection that lowercases, hashes
  // and allocates per header, about a fifth of a redirect's cost. What its send does besides,
  // and what we must keep: mark the connection idle again (its keep-alive timer then applies).
  void send(const Http::Request& request, Http::ResponseWriter response, Reply& reply,
            const std::string& request_id, const std::shared_ptr<PeerState>& connection) {
    const bool keep = keep_alive(request) && !state_->closing.load();
    const auto peer = response.peer();  // throws when the client is gone: the caller settles
    std::string wire;
    wire.reserve(192 + reply.body.size());
    wire += "HTTP/1.1 ";
    wire += std::to_string(reply.status);
    wire += ' ';
    wire += reason_phrase(reply.status);
    wire += "\r\n";
    append_header(wire, "X-Instance-Id", state_->options.instance_id);
    append_header(wire, "X-Request-Id", request_id);
    if (!reply.content_type.empty()) append_header(wire, "Content-Type", reply.content_type);
    for (const auto& [name, value] : reply.headers) append_header(wire, name, value);
    if (reply.status != 204 && reply.status != 304) {
      append_header(wire, "Content-Length", std::to_string(reply.body.size()));
    }
    wire += keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (request.method() != Http::Method::Head) wire += reply.body;

    peer->setIdle(true);
    const auto size = wire.size();
    auto state = state_;
    // HTTP/1.1 keeps the connection open unless the client said close; then it is ours to close
    // once the answer is out.
    std::weak_ptr<Pistache::Tcp::Peer> closing = keep ? nullptr : peer;
    peer->send(Pistache::RawBuffer(std::move(wire), size))
        .then(
            [state, closing, connection](ssize_t) {
              if (const auto open = closing.lock()) ::shutdown(open->fd(), SHUT_WR);
              settle(*state, *connection);
            },
            [state, connection](std::exception_ptr) { settle(*state, *connection); });
  }

  static void append_header(std::string& wire, std::string_view name, std::string_view value) {
    wire.append(name).append(": ");
    for (const char c : value) wire.push_back(c == '\r' || c == '\n' ? ' ' : c);
    wire += "\r\n";
  }

  // Answers 413 in the JSON error shape and half-closes: the client reads the answer, then EOF.
  // Answers `status` on a connection whose request is not parsed (too big, badly framed) and
  // closes it: the rest of what the client sends is discarded.
  void reject(const std::shared_ptr<Pistache::Tcp::Peer>& peer, int status, const std::string& code,
              const std::string& message_text) {
    const auto request_id = request_id_for(std::nullopt);
    const auto body = Reply::error(status, code, message_text).body;
    const std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                             std::string(reason_phrase(status)) +
                             "\r\nContent-Type: application/json\r\n"
                             "Connection: close\r\nX-Instance-Id: " +
                             state_->options.instance_id + "\r\nX-Request-Id: " + request_id +
                             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    const std::string message = head + body;
    // A few hundred bytes into a socket that has not been answered yet: fits its buffer.
    [[maybe_unused]] const auto sent =
        ::send(peer->fd(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(peer->fd(), SHUT_WR);
    state_->metrics.observe_http(Method::Other, "unmatched", 413, 0.0);
    log::info(
        "request rejected",
        {{"status", 413}, {"reason", "request too large"}, {"client", peer->address().host()}});
  }

  std::shared_ptr<Server::State> state_;
};

// Pistache offers no way to stop accepting without tearing down in-flight connections, so we
// find our listening socket and swap it for an inert descriptor: the kernel stops accepting at
// once (new connections are refused), Pistache's poller forgets it, and Pistache later closes
// the stand-in instead.
void stop_accepting(std::uint16_t port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    const int fd = std::atoi(entry->d_name);
    if (fd <= 2 || fd == dirfd(dir)) continue;
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening == 0) {
      continue;
    }
    sockaddr_storage address{};
    socklen_t address_len = sizeof(address);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_len) != 0) continue;
    std::uint16_t bound = 0;
    if (address.ss_family == AF_INET) {
      bound = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    } else if (address.ss_family == AF_INET6) {
      bound = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    }
    if (bound != port) continue;
    const int inert = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (inert >= 0) {
      ::dup2(inert, fd);
      ::close(inert);
    }
  }
  closedir(dir);
}

}  // namespace

ServerOptions ServerOptions::from(const ServiceConfig& config, std::string stage) {
  ServerOptions options;
  options.service = config.service;
  options.version = kurz_version();
  options.stage = std::move(stage);
  options.instance_id = config.instance_id;
  options.address = config.listen_address;
  options.port = config.port;
  options.threads = config.http_threads;
  options.max_request_bytes = config.max_request_bytes;
  options.request_read_timeout = config.request_read_timeout;
  options.max_connections = config.max_connections;
  options.shutdown_delay = config.shutdown_delay;
  options.drain_timeout = config.drain_timeout;
  options.access_log = config.access_log;
  options.access_log_sample = config.access_log_sample;
  options.access_log_slow = config.access_log_slow;
  options.trusted_proxies = config.trusted_proxies;
  return options;
}

const std::string& kurz_version() {
  static const std::string version = KURZ_VERSION;
  return version;
}

Server::Server(ServerOptions options, Router router, Metrics& metrics, health::Registry& health)
    : state_(std::make_shared<State>(std::move(options), std::move(router), metrics, health)) {
  state_->connections =
      std::make_shared<Connections>(state_->options.max_connections, state_->connections_open);
}

Server::~Server() {
  if (state_->endpoint && !state_->stopped) {
    state_->options.shutdown_delay = std::chrono::milliseconds(0);
    shutdown();
  }
  // The endpoint's handlers hold the state: release them to break the cycle.
  state_->endpoint.reset();
}

void Server::start() {
  auto& options = state_->options;
  const auto proxies = TrustedProxies::parse(options.trusted_proxies);
  if (!proxies)
    throw std::runtime_error("malformed trusted proxy list: " + options.trusted_proxies);
  state_->proxies = *proxies;
  const Pistache::Address address(options.address, Pistache::Port(options.port));
  state_->endpoint = std::make_unique<Http::Endpoint>(address);
  // Pistache's own limit sits above ours so that our guard answers first, in our error shape.
  auto endpoint_options = Http::Endpoint::options()
                              .threads(static_cast<int>(options.threads))
                              .flags(Pistache::Tcp::Options::ReuseAddr)
                              .maxRequestSize(options.max_request_bytes + 4096)
                              .maxResponseSize(64 * 1024 * 1024)
                              .headerTimeout(options.request_read_timeout)
                              .bodyTimeout(options.request_read_timeout)
                              .backlog(1024);
  state_->endpoint->init(endpoint_options);
  state_->endpoint->setHandler(Http::make_handler<KurzHandler>(state_));
  try {
    state_->endpoint->serveThreaded();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + options.address + ":" +
                             std::to_string(options.port) + ": " + e.what());
  }
  state_->port = static_cast<std::uint16_t>(state_->endpoint->getPort());
  state_->lifecycle->started = true;
}

std::uint16_t Server::port() const { return state_->port; }

std::size_t Server::in_flight() const { return state_->in_flight.load(); }

void Server::begin_shutdown() { state_->lifecycle->draining = true; }

bool Server::shutdown() {
  if (!state_->endpoint || state_->stopped) return true;
  begin_shutdown();
  std::this_thread::sleep_for(state_->options.shutdown_delay);
  state_->closing = true;
  stop_accepting(state_->port);
  const auto deadline = Clock::now() + state_->options.drain_timeout;
  while (state_->in_flight.load() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const bool drained = state_->in_flight.load() == 0;
  state_->endpoint->shutdown();
  state_->stopped = true;
  return drained;
}

}  // namespace kurz::platform
