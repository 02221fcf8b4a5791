// In-process tests of the HTTP server on port 0, through a raw-socket client.
#include "kurz/platform/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http_client.h"

namespace kurz::platform {
namespace {

using kurz::testing::http;
using kurz::testing::HttpConnection;
using namespace std::chrono_literals;

// A figure from the Prometheus text, or -1 when the series is missing.
// True when `connection` is open and served: a round trip on it succeeds. What a test says of a
// connection that must stay open, observed rather than "not closed within a few ms" (a check a
// wrong close passes by merely arriving late). `unfinished_head`: the connection has sent a
// request head without its final empty line, which the round trip completes.
bool answers(HttpConnection& connection, bool unfinished_head = false) {
  try {
    if (unfinished_head) {
      connection.send_raw("\r\n");
      return connection.read_response().status == 200;
    }
    return connection.request("GET", "/echo/alive").status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

double metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// 16 MB: more than loopback's socket buffers take at once (a few MB each way), so a client that
// does not read gets part of the answer straight from the socket and the rest through the queue.
const std::string& big_body() {
  static const std::string body = [] {
    std::string text(16 << 20, ' ');
    for (std::size_t i = 0; i < text.size(); ++i)
      text[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    return text;
  }();
  return body;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}, const std::function<void(Router&)>& more = {}) {
    options.service = "test";
    options.version = "0";
    options.stage = "1";
    options.instance_id = "instance-a";
    options.threads = 2;
    Router router;
    router.get("/echo/:name", [](const Request& request) {
      return Reply::text(200, "hello " + request.param("name"));
    });
    router.post("/echo", [](const Request& request) {
      return Reply::text(200, std::string(request.body()));
    });
    router.get("/boom",
               [](const Request&) -> Reply { throw std::runtime_error("secret internal detail"); });
    router.get("/slow", [this](const Request&) {
      slow_started_ = true;
      std::this_thread::sleep_for(600ms);
      return Reply::text(200, "slow done");
    });
    router.get("/big", [](const Request&) { return Reply::text(200, big_body()); });
    router.get("/split", [](const Request& request) {
      return Reply::redirect("http://example.com/" + request.query("to").value_or(""));
    });
    if (more) more(router);
    server_ = std::make_unique<Server>(options, std::move(router), metrics_, health_);
    server_->start();
  }
  std::uint16_t port() const { return server_->port(); }

  Metrics metrics_{"test", "0", "1"};
  health::Registry health_;
  std::unique_ptr<Server> server_;
  std::atomic<bool> slow_started_{false};
};

TEST_F(ServerTest, RoutesAndCommonHeaders) {
  start();
  const auto response = http(port(), "GET", "/echo/w%C3%B6rld");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello w\xC3\xB6rld");
  EXPECT_EQ(response.header("X-Instance-Id"), "instance-a");
  ASSERT_TRUE(response.header("X-Request-Id"));
  EXPECT_EQ(response.header("X-Request-Id")->size(), 16u);
  EXPECT_EQ(response.header("Content-Type"), "text/plain; charset=utf-8");
}

TEST_F(ServerTest, PlainRequestIdIsKeptHostileOneReplaced) {
  start();
  EXPECT_EQ(
      http(port(), "GET", "/echo/x", "", {{"X-Request-Id", "abc-123"}}).header("X-Request-Id"),
      "abc-123");
  const auto replaced = http(port(), "GET", "/echo/x", "", {{"X-Request-Id", "a b\"<script>"}});
  EXPECT_NE(replaced.header("X-Request-Id"), "a b\"<script>");
}

TEST_F(ServerTest, UnknownRouteIs404Json) {
  start();
  const auto response = http(port(), "GET", "/nope/nope");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("Content-Type"), "application/json");
  EXPECT_EQ(response.body, R"({"error":{"code":"not_found","message":"no such resource"}})");
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  start();
  const auto response = http(port(), "DELETE", "/echo/x");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET");
  EXPECT_NE(response.body.find("method_not_allowed"), std::string::npos);
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutDetails) {
  start();
  const auto response = http(port(), "GET", "/boom");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_NE(response.body.find("\"internal\""), std::string::npos);
  EXPECT_EQ(http(port(), "GET", "/echo/alive").status, 200);
}

TEST_F(ServerTest, HeaderValuesWithCrLfOrNulAreRefused) {
  start();
  EXPECT_EQ(http(port(), "GET", "/split?to=fine").status, 302);
  for (const std::string query : {"%0D%0ASet-Cookie:%20a=b", "%0ASet-Cookie:%20a=b", "a%00b"}) {
    const auto response = http(port(), "GET", "/split?to=" + query);
    EXPECT_EQ(response.status, 500) << query;
    EXPECT_FALSE(response.header("Set-Cookie")) << query;
    EXPECT_FALSE(response.header("Location")) << query;
  }
  EXPECT_EQ(http(port(), "GET", "/echo/alive").status, 200);
}

TEST_F(ServerTest, SmugglingAndHeaderTricksGetA4xxAndReachNoHandler) {
  std::atomic<int> posts{0};
  ServerOptions options;
  start(options, [&posts](Router& router) {
    router.post("/count", [&posts](const Request&) {
      ++posts;
      return Reply::text(200, "counted");
    });
  });
  const std::string body = "hello";
  const std::vector<std::pair<std::string, int>> cases = {
      {"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\nPOST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
       400},
      {"POST /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       501},
      {"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\nhello",
       400},
      {"POST /count HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", 400},
      {"POST /count HTTP/1.1\nHost: x\nContent-Length: 0\n\n", 400},
      {std::string("POST /count HTTP/1.1\r\nHost: x\r\nX: a") + '\0' +
           "\r\nContent-Length: 0\r\n\r\n",
       400},
      {"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n", 400},
      {"POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
  };
  for (const auto& [raw, status] : cases) {
    HttpConnection connection(port());
    connection.send_raw(raw);
    const auto response = connection.read_response();
    EXPECT_EQ(response.status, status) << raw;
    EXPECT_EQ(response.header("Content-Type"), "application/json");
    EXPECT_TRUE(connection.closed_by_peer(2s)) << raw;
  }
  std::string many = "GET /echo/x HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 500; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  HttpConnection connection(port());
  connection.send_raw(many + "\r\n");
  EXPECT_EQ(connection.read_response().status, 431);
  EXPECT_EQ(posts.load(), 0);
  // A good request on the same server still counts once.
  EXPECT_EQ(http(port(), "POST", "/count", "x").status, 200);
  EXPECT_EQ(posts.load(), 1);
}

// A refused request is counted under the status it got, once, whatever refused it.
TEST_F(ServerTest, RefusedRequestsAreCountedUnderTheirOwnStatus) {
  ServerOptions options;
  options.max_request_bytes = 4096;
  start(options);
  const auto refused = [this](const std::string& raw) {
    HttpConnection connection(port());
    connection.send_raw(raw);
    const auto status = connection.read_response().status;
    EXPECT_TRUE(connection.closed_by_peer(2s)) << raw;
    return status;
  };
  EXPECT_EQ(refused("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n0\r\n\r\n"),
            400);
  EXPECT_EQ(refused("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  std::string many = "GET /echo/x HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(refused(many + "\r\n"), 431);
  EXPECT_EQ(refused("GET /echo/x HTTP/1.1\r\nX-Filler: " + std::string(5000, 'a') + "\r\n\r\n"),
            413);
  const auto metrics = http(port(), "GET", "/metrics").body;
  for (const int status : {400, 501, 431, 413}) {
    EXPECT_EQ(metric(metrics, R"(http_requests_total{method="OTHER",route="unmatched",status=")" +
                                  std::to_string(status) + R"("})"),
              1)
        << status << "\n"
        << metrics;
  }
}

// Several requests in one packet: each is answered, in order, on the same connection.
TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  HttpConnection connection(port());
  std::string batch;
  for (int i = 0; i < 5; ++i)
    batch += "GET /echo/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody";
  batch += "HEAD /echo/h HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "GET /echo/last HTTP/1.1\r\nHost: x\r\n\r\n";
  connection.send_raw(batch);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(connection.read_response().body, "hello " + std::to_string(i));
  EXPECT_EQ(connection.read_response().body, "body");
  const auto head = connection.read_response(true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "7");
  EXPECT_EQ(connection.read_response().body, "hello last");
  EXPECT_FALSE(connection.closed_by_peer(100ms));
  EXPECT_EQ(connection.request("GET", "/echo/again").body, "hello again");
}

// Nothing after a request that asked to close is answered.
TEST_F(ServerTest, PipelinedRequestsStopAtConnectionClose) {
  start();
  HttpConnection connection(port());
  connection.send_raw(
      "GET /echo/a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /echo/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
      "GET /echo/c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(connection.read_response().body, "hello a");
  const auto closing = connection.read_response();
  EXPECT_EQ(closing.body, "hello b");
  EXPECT_EQ(closing.header("Connection"), "close");
  EXPECT_TRUE(connection.closed_by_peer(2s));
}

// An answer larger than the socket takes goes out partly at once and the rest through the write
// queue; the answers behind it wait their turn; all arrive intact and in order.
TEST_F(ServerTest, ALargeAnswerArrivesIntactAndInOrder) {
  start();
  HttpConnection connection(port(), 20s);
  connection.send_raw(
      "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /echo/after HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(200ms);  // not reading: the socket fills
  connection.send_raw("GET /echo/later HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto big = connection.read_response();
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(big.body.size(), big_body().size());
  EXPECT_TRUE(big.body == big_body());
  EXPECT_EQ(connection.read_response().body, "hello after");
  EXPECT_EQ(connection.read_response().body, "hello later");
  EXPECT_EQ(connection.request("GET", "/echo/still").body, "hello still");
  // Each left the in-flight count once written (the last may be settling as we read it).
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (server_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server_->in_flight(), 0u);
}

TEST_F(ServerTest, ASlowClientGets408AndOthersAreServedMeanwhile) {
  ServerOptions options;
  options.request_read_timeout = 400ms;
  start(options);
  HttpConnection slow_head(port());
  slow_head.send_raw("GET /echo/x HTTP/1.1\r\nHost: x\r\n");  // never finished
  HttpConnection slow_body(port());
  slow_body.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(http(port(), "GET", "/health/live").status, 200);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(slow_head.read_response().status, 408);
  EXPECT_EQ(slow_body.read_response().status, 408);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_TRUE(slow_head.closed_by_peer(2s));
  EXPECT_TRUE(slow_body.closed_by_peer(2s));
  // Pistache closes timed-out connections without telling the handler: they still leave the
  // open count (which the connection bound relies on).
  const auto metrics = http(port(), "GET", "/metrics").body;
  EXPECT_EQ(metric(metrics, "kurz_http_connections_open"), 1) << metrics;
}

// At the bound, a new connection is admitted and the least recently active held connection
// (here: idle keep-alive ones, never used or used longest ago) is closed for it.
TEST_F(ServerTest, AtTheBoundTheLeastRecentlyActiveIdleConnectionIsEvicted) {
  ServerOptions options;
  options.max_connections = 8;
  start(options);
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<HttpConnection>(port()));
    // A round trip each: a clear order of activity, whichever transport thread runs which.
    EXPECT_EQ(held.back()->request("GET", "/echo/" + std::to_string(i)).status, 200);
  }
  std::this_thread::sleep_for(100ms);
  HttpConnection health(port());
  EXPECT_EQ(health.request("GET", "/health/live").status, 200);
  EXPECT_TRUE(held[0]->closed_by_peer(2s));
  // The others are still served (in order of age, which keeps held[1] the least recently active
  // and `health`, used next, the most).
  for (int i = 1; i < 8; ++i) EXPECT_TRUE(answers(*held[i])) << i;
  auto metrics = health.request("GET", "/metrics").body;
  EXPECT_EQ(metric(metrics, "kurz_http_connections_evicted_total"), 1) << metrics;
  EXPECT_EQ(metric(metrics, "kurz_http_connections_refused_total"), 0) << metrics;
  EXPECT_EQ(metric(metrics, "kurz_http_connections_open"), 8) << metrics;

  // Activity counts, not age: held[1] answers a request, so held[2] is now the oldest.
  EXPECT_EQ(held[1]->request("GET", "/echo/still").status, 200);
  HttpConnection another(port());
  EXPECT_EQ(another.request("GET", "/health/live").status, 200);
  EXPECT_TRUE(held[2]->closed_by_peer(2s));
  metrics = another.request("GET", "/metrics").body;
  EXPECT_EQ(metric(metrics, "kurz_http_connections_evicted_total"), 2) << metrics;
  EXPECT_EQ(metric(metrics, "kurz_http_connections_open"), 8) << metrics;
  EXPECT_TRUE(answers(*held[1]));
  for (int i = 3; i < 8; ++i) EXPECT_TRUE(answers(*held[i])) << i;
  EXPECT_EQ(held[1]->request("GET", "/echo/again").status, 200);
}

// A slow head (slowloris) holds a slot but has no request being answered: evictable too.
TEST_F(ServerTest, AtTheBoundASlowHeadIsEvicted) {
  ServerOptions options;
  options.max_connections = 4;
  start(options);
  std::vector<std::unique_ptr<HttpConnection>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<HttpConnection>(port()));
    slow.back()->send_raw("GET /echo/x HTTP/1.1\r\nHost: x\r\n");  // never finished
    std::this_thread::sleep_for(50ms);  // an order of activity even on a busy machine
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(http(port(), "GET", "/health/live").status, 200);
  EXPECT_TRUE(slow[0]->closed_by_peer(2s));
  // The other slow heads are still held: finished now, they are answered.
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(answers(*slow[i], true)) << i;
}

// That a connection with a request being answered is never evicted is tested on the registry
// itself (connections_test.cc): here, a request being answered holds its transport thread (a
// handler runs there, and Pistache 0.0.5 spins on a socket that cannot take more of an answer),
// and Pistache picks a new connection's thread by its descriptor number, out of a test's hands.

TEST_F(ServerTest, HeadHasNoBody) {
  start();
  HttpConnection connection(port());
  const auto response = connection.request("HEAD", "/echo/x");
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(connection.request("GET", "/echo/y").body, "hello y");
}

// Pistache 0.0.5 answers "Connection: Close" to every HTTP/1.1 request without an explicit
// keep-alive header and closes the connection (upstream #940); clients such as wrk, HAProxy and
// Prometheus send no such header.
TEST_F(ServerTest, Http11KeepsTheConnectionWithoutAHeader) {
  start();
  HttpConnection connection(port());
  const auto first = connection.request("GET", "/echo/one");
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.header("Connection").value_or(""), "Close");
  EXPECT_FALSE(connection.closed_by_peer(200ms));
  const auto second = connection.request("GET", "/echo/two");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "hello two");
}

TEST_F(ServerTest, ClientAskingToCloseIsClosed) {
  start();
  HttpConnection connection(port());
  const auto response = connection.request("GET", "/echo/x", "", {{"Connection", "close"}});
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(connection.closed_by_peer(2000ms));
}

TEST_F(ServerTest, Http10ClosesUnlessAskedToKeep) {
  start();
  HttpConnection connection(port());
  connection.send_raw("GET /echo/x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(connection.read_response().status, 200);
  EXPECT_TRUE(connection.closed_by_peer(2000ms));
}

TEST_F(ServerTest, OversizedRequestIs413JsonAndServerLives) {
  ServerOptions options;
  options.max_request_bytes = 4096;
  start(options);
  HttpConnection connection(port());
  const std::string body(20000, 'x');
  connection.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n");
  try {
    connection.send_raw(body);
  } catch (const std::exception&) {
    // The server may close before the whole body is sent; the answer is still readable.
  }
  const auto response = connection.read_response();
  EXPECT_EQ(response.status, 413);
  EXPECT_NE(response.body.find("payload_too_large"), std::string::npos);
  const std::string ok_body(3000, 'y');
  EXPECT_EQ(http(port(), "POST", "/echo", ok_body).body, ok_body);
}

TEST_F(ServerTest, HugeHeadersAre413) {
  ServerOptions options;
  options.max_request_bytes = 4096;
  start(options);
  const auto response = http(port(), "GET", "/echo/x", "", {{"X-Filler", std::string(10000, 'a')}});
  EXPECT_EQ(response.status, 413);
}

TEST_F(ServerTest, ManyRequestsOnOneConnectionResetTheSizeGuard) {
  ServerOptions options;
  options.max_request_bytes = 4096;
  start(options);
  HttpConnection connection(port());
  const std::string body(1000, 'z');
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(connection.request("POST", "/echo", body).status, 200) << i;
  }
}

TEST_F(ServerTest, MetricsByRouteTemplate) {
  start();
  http(port(), "GET", "/echo/a");
  http(port(), "GET", "/echo/b");
  http(port(), "GET", "/does/not/exist");
  const auto metrics = http(port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(
      metrics.body.find(R"(http_requests_total{method="GET",route="/echo/:name",status="200"} 2)"),
      std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(route="unmatched",status="404")"), std::string::npos);
  EXPECT_EQ(metrics.body.find("/echo/a"), std::string::npos);
  EXPECT_NE(metrics.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(metrics.body.find("kurz_build_info"), std::string::npos);
}

TEST_F(ServerTest, InfoAndHealth) {
  ServerOptions options;
  options.threads_source = "a \"quoted\" reason";
  start(options);
  EXPECT_EQ(http(port(), "GET", "/info").body,
            R"({"service":"test","version":"0","stage":"1","instance":"instance-a",)"
            R"("threads":{"http":2,"source":"a \"quoted\" reason"}})");
  // Under the service's own name too (the edges route /info/<service> to it); any other: 404.
  EXPECT_EQ(http(port(), "GET", "/info/test").body, http(port(), "GET", "/info").body);
  const auto other = http(port(), "GET", "/info/links");
  EXPECT_EQ(other.status, 404);
  EXPECT_NE(other.body.find("\"not_found\""), std::string::npos);
  EXPECT_EQ(http(port(), "GET", "/info/").status, 404);
  EXPECT_EQ(http(port(), "GET", "/health/live").status, 200);
  EXPECT_EQ(http(port(), "GET", "/health/ready").status, 200);
  server_->begin_shutdown();
  const auto ready = http(port(), "GET", "/health/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("shutting down"), std::string::npos);
  EXPECT_EQ(http(port(), "GET", "/health/live").status, 200);
}

// Pistache's Endpoint::shutdown() drops in-flight responses (upstream #1018): ours drains.
TEST_F(ServerTest, ShutdownDrainsInFlightRequests) {
  ServerOptions options;
  options.shutdown_delay = 100ms;
  start(options);
  auto slow = std::async(std::launch::async, [this] { return http(port(), "GET", "/slow"); });
  while (!slow_started_) std::this_thread::sleep_for(1ms);
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->shutdown());
  EXPECT_GE(std::chrono::steady_clock::now() - stopping, 100ms);
  const auto response = slow.get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "slow done");
  EXPECT_THROW(HttpConnection{port()}, std::runtime_error);
}

// A client that hangs up while its answer is still being written leaves Pistache's send promise
// unsettled; the request must still leave the in-flight count, or every shutdown would wait for
// the whole drain timeout.
TEST_F(ServerTest, ClientHangingUpMidAnswerDoesNotHoldTheDrain) {
  ServerOptions options;
  options.drain_timeout = 5000ms;
  start(options);
  for (int i = 0; i < 3; ++i) {
    HttpConnection connection(port());
    connection.send_raw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(100ms);  // the answer is queued; nobody reads it
  }
  for (int i = 0; i < 2; ++i) {
    HttpConnection connection(port());
    connection.send_raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    while (!slow_started_) std::this_thread::sleep_for(1ms);
    slow_started_ = false;  // gone before its handler answers
  }
  std::this_thread::sleep_for(1300ms);  // both slow handlers have answered into closed sockets
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (server_->in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server_->in_flight(), 0u);
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->shutdown());
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 1s);
}

TEST_F(ServerTest, ShutdownDelayKeepsServing) {
  ServerOptions options;
  options.shutdown_delay = 400ms;
  start(options);
  auto stopping = std::async(std::launch::async, [this] { return server_->shutdown(); });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(http(port(), "GET", "/health/ready").status, 503);
  EXPECT_EQ(http(port(), "GET", "/echo/still").status, 200);
  EXPECT_TRUE(stopping.get());
}

}  // namespace
}  // namespace kurz::platform
