#include "options.h"

#include <gtest/gtest.h>

#include "url.h"

namespace kurz::load {
namespace {

ParseResult parse(std::vector<std::string> args) { return parse_options(args); }

TEST(OptionsTest, TheDocumentedInterface) {
  const auto r = parse({"--base-url", "http://127.0.0.1:8080", "--mode", "rate", "--rate", "200",
                        "--duration", "3", "--warmup=0", "--connections", "16", "--mix",
                        "redirect=1", "--links", "10", "--out", "x.json"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->mode, Mode::kRate);
  EXPECT_DOUBLE_EQ(r.options->rate, 200);
  EXPECT_DOUBLE_EQ(r.options->duration_s, 3);
  EXPECT_DOUBLE_EQ(r.options->warmup_s, 0);
  EXPECT_EQ(r.options->connections, 16);
  EXPECT_EQ(r.options->links, 10);
  EXPECT_EQ(r.options->out, "x.json");
}

TEST(OptionsTest, UsageErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--mode", "rate", "--rate", "5"},
      {"--base-url", "http://x", "--mode", "fast"},
      {"--base-url", "http://x", "--mode", "rate"},
      {"--base-url", "http://x", "--mode", "rate", "--rate", "-1"},
      {"--base-url", "http://x", "--mode", "saturate", "--rate", "10"},
      {"--base-url", "http://x", "--mode", "saturate", "--duration", "0"},
      {"--base-url", "http://x", "--mode", "saturate", "--connections", "many"},
      {"--base-url", "http://x", "--mode", "saturate", "--links"},
      {"--base-url", "http://x", "--mode", "saturate", "--bogus", "1"},
      {"--base-url", "http://x", "--mode", "saturate", "--codes", "f", "--links", "5"},
      {"--base-url", "http://x", "--mode", "saturate", "--mix", "redirect=a"},
  };
  for (const auto& args : bad) {
    const auto r = parse(args);
    EXPECT_FALSE(r.options) << (args.empty() ? "(none)" : args.back());
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(UrlTest, Parses) {
  std::string error;
  auto u = BaseUrl::parse("http://127.0.0.1:8080/", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->prefix, "");
  EXPECT_EQ(u->text, "http://127.0.0.1:8080");
  u = BaseUrl::parse("http://lb.marathon.mesos/kurz/", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->prefix, "/kurz");
  EXPECT_EQ(u->host_header(), "lb.marathon.mesos");
  u = BaseUrl::parse("http://[::1]:9000", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header(), "[::1]:9000");
  for (const char* bad : {"https://x", "ftp://x", "http://", "http://x:0", "http://x:99999",
                          "http://x:", "http://x/?q=1", "127.0.0.1:80"}) {
    EXPECT_FALSE(BaseUrl::parse(bad, error)) << bad;
  }
}

}  // namespace
}  // namespace kurz::load
