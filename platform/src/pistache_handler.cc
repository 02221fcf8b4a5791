// The Pistache glue: connections in, requests to the routes, answers out.
//
// Pistache 0.0.5 is used for what it does well (the reactor, the accept loop, the request parser,
// the read and keep-alive timeouts) and bypassed where it costs or misbehaves:
//   - its Http::Handler::onInput feeds the parser a whole read and resets it after the first
//     request, dropping any pipelined request behind it; it also builds a ResponseWriter (header
//     collection, timer, typed Connection header) per request that we never use. We drive the
//     parser ourselves, one request at a time, cut where the framing guard saw each request end.
//   - its ResponseWriter serialises through ostreams, and every write goes through the
//     transport's queue: an eventfd write, a reactor round and several epoll_ctl calls per
//     answer. We write the bytes (wire.h) straight to the socket when nothing of ours is queued
//     for the connection, and hand Pistache's queue only what the socket did not take.
#include "pistache_handler.h"

#include <pistache/peer.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "connections.h"
#include "kurz/platform/log.h"
#include "request_guard.h"
#include "wire.h"

// Pistache::Http::Handler::onConnection is private; it gives the connection its parser (which
// Pistache's timeouts read too). It is an exported function of libpistache, so we call it by its
// symbol: Debian's libpistache 0.0.5 on the Itanium C++ ABI; the server tests fail loudly if this
// ever stops holding.
void pistache_http_handler_on_connection(
    Pistache::Http::Handler* self,
    const std::shared_ptr<Pistache::Tcp::Peer>&
        peer) __asm__("_ZN8Pistache4Http7Handler12onConnectionERKSt10shared_ptrINS_3Tcp4PeerEE");

namespace kurz::platform {
namespace {

namespace Http = Pistache::Http;
using Clock = std::chrono::steady_clock;
using PeerPtr = std::shared_ptr<Pistache::Tcp::Peer>;

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

// ASCII case-insensitive equality (header names are ASCII; no locale, no libc call per byte).
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Whether Pistache parses this header into a typed object (its Header::Registry, read once);
// every other header it keeps raw.
bool typed_in_pistache(std::string_view name) {
  static const std::vector<std::string> typed = Http::Header::Registry::instance().headersList();
  for (const auto& known : typed) {
    if (iequals(name, known)) return true;
  }
  return false;
}

class PistacheHeaders : public HeaderSource {
 public:
  explicit PistacheHeaders(const Http::Header::Collection& headers) : headers_(headers) {}
  std::optional<std::string> get(std::string_view name) const override {
    // The one typed header on the hot path (every redirect records it): no stream needed.
    if (iequals(name, Http::Header::UserAgent::Name)) {
      const auto agent = headers_.tryGet<Http::Header::UserAgent>();
      return agent ? std::optional<std::string>(agent->agent()) : std::nullopt;
    }
    // A header Pistache does not type is kept raw. Pistache's own lookups copy and lowercase
    // the name (and tryGetRaw copies the header): a walk over the few raw headers is cheaper.
    if (!typed_in_pistache(name)) {
      for (const auto& [key, raw] : headers_.rawList()) {
        if (iequals(key, name)) return raw.value();
      }
      return std::nullopt;
    }
    // Headers Pistache knows are parsed into typed objects; write them back as text.
    if (const auto typed = headers_.tryGet(std::string(name))) {
      std::ostringstream out;
      typed->write(out);
      return out.str();
    }
    return std::nullopt;
  }

 private:
  const Http::Header::Collection& headers_;
};

// What we keep per connection. The fields here belong to the connection's transport thread
// (Pistache runs a connection's input, its handlers and its write completions there); the
// connection bound reads the inherited atomics from others.
struct PeerState : ConnectionActivity {
  std::size_t bytes = 0;  // bytes of the request still arriving: the size guard
  bool closing = false;   // refused, or answered with Connection: close: input is discarded
  RequestGuard framing;   // request smuggling and header tricks: refused before Pistache parses
  std::vector<std::size_t> ends;  // where the current input's requests end (reused)
  std::shared_ptr<Http::RequestParser> parser;
  std::string peer_ip;  // formatted once per connection
  // Answers handed to Pistache's write queue and not yet written. While any is, later answers
  // queue behind it (a direct write would overtake it). Written on the transport thread (Pistache
  // settles a write there too); atomic for a flush at shutdown, which may run elsewhere.
  std::atomic<int> queued{0};
};
constexpr const char* kPeerStateKey = "kurz.peer";
constexpr const char* kTicketKey = "kurz.connection";

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
// removed it before; see Connections). A reactor thread makes the ticket and Pistache's listener
// thread destroys it, the peer handed over through Pistache's own lock-free queue: `made_` states
// that ordering in our code, where ThreadSanitizer sees it, rather than leaving it to a library
// it does not instrument.
class Ticket {
 public:
  Ticket(std::shared_ptr<Connections> connections, const Pistache::Tcp::Peer* peer)
      : connections_(std::move(connections)), peer_(peer) {
    made_.store(true, std::memory_order_release);
  }
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;
  ~Ticket() {
    if (made_.load(std::memory_order_acquire)) connections_->remove(peer_);
  }

 private:
  std::shared_ptr<Connections> connections_;
  const Pistache::Tcp::Peer* peer_;
  std::atomic<bool> made_{false};
};

// No reply may put CR, LF or NUL into a header (response splitting: a stored or echoed value that
// starts a header or a body of its own). Such a reply is replaced by a 500 and logged; the
// route's code has a bug or its data was tampered with. (The serialiser neutralises them too.)
bool header_safe(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}
void refuse_header_injection(Reply& reply, std::string_view request_id) {
  bool safe = header_safe(reply.content_type);
  for (const auto& [name, value] : reply.headers) {
    safe = safe && header_safe(name) && header_safe(value) && !name.empty();
  }
  if (safe) return;
  log::error("reply refused: CR, LF or NUL in a header", {{"request_id", std::string(request_id)}});
  reply = Reply::error(500, "internal", "internal error");
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

  // The connection bound (see Connections): at max_connections open, the least recently active
  // connection with no request being answered is closed for the new one; when every one has a
  // request being answered, the new one is closed at once (no request read). So a flood of idle
  // or slow clients can neither exhaust file descriptors and memory nor lock out health checks.
  void onConnection(const PeerPtr& peer) override {
    auto connection = std::make_shared<PeerState>();
    peer->putData(kPeerStateKey, connection);
    using Admitted = Connections::Admitted;
    const int fd = state_->connections->duplicate(peer->fd());  // none to spare: refused
    const auto admitted =
        fd < 0 ? Admitted::Refused : state_->connections->admit(peer.get(), connection, fd);
    if (admitted == Admitted::Refused) {
      connection->closing = true;
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
    connection->parser = Http::Handler::getParser(peer);
  }

  void onDisconnection(const PeerPtr& peer) override {
    state_->connections->remove(peer.get());
    if (auto connection = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey))) {
      const int unanswered = connection->unanswered.exchange(0);
      if (unanswered > 0) state_->in_flight.fetch_sub(static_cast<std::size_t>(unanswered));
    }
    Pistache::Tcp::Handler::onDisconnection(peer);
  }

  // Runs on the connection's transport thread (Pistache's reactor calls it for every read).
  void onInput(const char* buffer, size_t len, const PeerPtr& peer) override {
    auto connection = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey));
    if (!connection || !connection->parser) return;  // never seen through onConnection
    // The rest of a refused request, after a Connection: close answer, or an evicted one: discard.
    if (connection->closing || connection->evicted()) return;
    connection->touch();
    const std::string_view input(buffer, len);
    const auto verdict = connection->framing.feed(input, &connection->ends);
    // The requests before a refused head are parsed and answered; nothing after it is.
    const std::size_t pass = verdict.status != 0 ? verdict.pass : len;
    std::size_t at = 0;
    for (const std::size_t end : connection->ends) {
      if (!take(input.substr(at, end - at), true, peer, *connection)) return;
      at = end;
    }
    if (at < pass && !take(input.substr(at, pass - at), false, peer, *connection)) return;
    if (verdict.status != 0)
      refuse(peer, *connection, verdict.status, verdict.code, verdict.message);
  }

  // Only Pistache's own onInput calls this, and ours replaces it.
  void onRequest(const Http::Request& request, Http::ResponseWriter response) override {
    const auto peer = response.peer();
    auto connection = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey));
    if (connection) handle(request, peer, *connection);
  }

 private:
  // Bytes of one request (all of it when `complete`, else its start) to Pistache's parser; the
  // request is handled once parsed. False when the connection takes nothing more.
  bool take(std::string_view bytes, bool complete, const PeerPtr& peer, PeerState& connection) {
    // CRLFs before a request line are allowed (RFC 9112 2.2) and dropped by the guard; Pistache's
    // request-line step would misread them.
    if (connection.bytes == 0) {
      while (bytes.size() >= 2 && bytes[0] == '\r' && bytes[1] == '\n') bytes.remove_prefix(2);
      if (bytes.empty()) return true;
    }
    connection.bytes += bytes.size();
    if (connection.bytes > state_->options.max_request_bytes) {
      refuse(peer, connection, 413, "payload_too_large",
             "the request exceeds " + std::to_string(state_->options.max_request_bytes) + " bytes");
      return false;
    }
    auto& parser = *connection.parser;
    Http::Private::State parsed = Http::Private::State::Again;
    try {
      if (!parser.feed(bytes.data(), bytes.size())) {
        refuse(peer, connection, 413, "payload_too_large", "the request is too large");
        return false;
      }
      parsed = parser.parse();
    } catch (const Http::HttpError& e) {
      const int status = e.code() >= 400 && e.code() < 600 ? e.code() : 400;
      refuse(peer, connection, status, status == 501 ? "not_implemented" : "bad_request",
             e.reason());
      return false;
    } catch (const std::exception& e) {
      refuse(peer, connection, 400, "bad_request", e.what());
      return false;
    }
    if (parsed != Http::Private::State::Done) {
      if (!complete) return true;
      // The guard saw the request end here, Pistache's parser did not: refuse what could be
      // read two ways.
      refuse(peer, connection, 400, "bad_request", "the request's framing is ambiguous");
      return false;
    }
    connection.bytes = 0;
    peer->setIdle(false);  // a request is being answered: Pistache's timeout gives it a 408
    handle(parser.request, peer, connection);
    parser.reset();
    return !connection.closing;
  }

  void handle(const Http::Request& request, const PeerPtr& peer, PeerState& connection) {
    const auto started = Clock::now();
    if (!connection.begin_request()) return;  // evicted: its socket is shut down
    state_->in_flight.fetch_add(1);
    const std::string* route = &Server::State::kUnmatched;
    const PistacheHeaders headers(request.headers());
    std::string_view query;
    std::string query_text;
    if (request.query().parameters_begin() != request.query().parameters_end()) {
      query_text = request.query().as_str();
      query = query_text;
      if (!query.empty() && query.front() == '?') query.remove_prefix(1);
    }
    std::string request_id;
    try {
      request_id = request_id_for(headers.get("X-Request-Id"));
      if (connection.peer_ip.empty()) connection.peer_ip = peer->address().host();
      std::string forwarded;
      std::string_view client = connection.peer_ip;
      if (!state_->proxies.empty()) {
        forwarded = state_->proxies.client(connection.peer_ip, headers.get("X-Forwarded-For"));
        client = forwarded;
      }
      Request view(method_of(request.method()), request.resource(), query, request.body(), headers,
                   client, request_id);
      Reply reply = state_->dispatch(view, route);
      refuse_header_injection(reply, request_id);
      const bool keep = keep_alive(request) && !state_->closing.load();
      std::string wire;
      wire::append_answer(
          wire, reply,
          {state_->options.instance_id, request_id, keep, request.method() == Http::Method::Head});
      // Counted and logged before the answer leaves: whoever reads the answer sees it counted.
      state_->record(view, *route, reply,
                     std::chrono::duration<double>(Clock::now() - started).count());
      peer->setIdle(true);                   // its keep-alive timer applies again
      if (!keep) connection.closing = true;  // nothing after this request is read
      write(peer, connection, std::move(wire), !keep, true);
    } catch (const std::exception& e) {
      // Only the HTTP library can throw here (a peer gone mid-write); nothing to answer.
      log::warn("response not sent", {{"error", e.what()}, {"request_id", request_id}});
      settle(*state_, connection);
    }
  }

  // Writes an answer's bytes, in order with the connection's earlier answers: straight to the
  // socket when none is queued, the rest (or all) through Pistache's write queue. `close`: shut
  // the connection's writing side once the answer is out (the client reads it, then EOF).
  // `settles`: the answer is a request's, which leaves the in-flight count once written.
  void write(const PeerPtr& peer, PeerState& connection, std::string wire, bool close,
             bool settles) {
    const int fd = peer->fd();
    if (connection.queued.load(std::memory_order_relaxed) == 0) {
      const ssize_t sent = ::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent == static_cast<ssize_t>(wire.size())) {
        if (close) ::shutdown(fd, SHUT_WR);
        if (settles) settle(*state_, connection);
        return;
      }
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        // The client is gone (reset, or its side shut): Pistache sees it on its next read.
        if (settles) settle(*state_, connection);
        return;
      }
      if (sent > 0) wire.erase(0, static_cast<std::size_t>(sent));
    }
    // The socket's buffer is full, or earlier answers are still queued: Pistache's queue writes
    // the rest when the socket can take it.
    connection.queued.fetch_add(1, std::memory_order_relaxed);
    const auto size = wire.size();
    auto state = state_;
    auto shared = std::static_pointer_cast<PeerState>(peer->tryGetData(kPeerStateKey));
    std::weak_ptr<Pistache::Tcp::Peer> closing = close ? peer : nullptr;
    peer->send(Pistache::RawBuffer(std::move(wire), size))
        .then(
            [state, shared, closing, settles](ssize_t) {
              shared->queued.fetch_sub(1, std::memory_order_relaxed);
              if (const auto open = closing.lock()) ::shutdown(open->fd(), SHUT_WR);
              if (settles) settle(*state, *shared);
            },
            [state, shared, settles](const std::exception_ptr&) {
              shared->queued.fetch_sub(1, std::memory_order_relaxed);
              if (settles) settle(*state, *shared);
            });
  }

  // Answers `status` on a connection whose request is not parsed (too big, badly framed) and
  // closes it: the rest of what the client sends is discarded. Counted under its real status.
  void refuse(const PeerPtr& peer, PeerState& connection, int status, std::string_view code,
              const std::string& message) {
    connection.closing = true;
    const auto request_id = request_id_for(std::nullopt);
    // Batched like access lines: a flood of malformed requests costs no write() per line.
    log::access("request refused", {{"status", status},
                                    {"reason", message},
                                    {"client", peer->address().host()},
                                    {"request_id", request_id}});
    auto wire = wire::answer(Reply::error(status, code, message),
                             {state_->options.instance_id, request_id, false, false});
    state_->metrics.observe_http(Method::Other, Server::State::kUnmatched, status, 0.0);
    write(peer, connection, std::move(wire), true, false);
  }

  std::shared_ptr<Server::State> state_;
};

}  // namespace

std::shared_ptr<Http::Handler> make_handler(std::shared_ptr<Server::State> state) {
  return Http::make_handler<KurzHandler>(std::move(state));
}

}  // namespace kurz::platform
