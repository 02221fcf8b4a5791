// The click stream's contract: the encoder and the decoder (untrusted input), and the producer
// script against a real redis-server.
#include "kurz/clickstream/stream.h"

#include <gtest/gtest.h>

#include "kurz/common/utf8.h"
#include "kurz/redis/client.h"
#include "redis_client_options.h"
#include "redis_server.h"

namespace kurz::clickstream {
namespace {

using kurz::redis::Reply;

Reply str(std::string value) {
  Reply r;
  r.type = Reply::Type::String;
  r.str = std::move(value);
  return r;
}

// [[id, [field, value, ...]]] with one entry.
Reply one_entry(const std::vector<std::string>& fields) {
  Reply list;
  list.type = Reply::Type::Array;
  for (const auto& f : fields) list.elements.push_back(str(f));
  Reply entry;
  entry.type = Reply::Type::Array;
  entry.elements = {str("1-0"), list};
  Reply all;
  all.type = Reply::Type::Array;
  all.elements = {entry};
  return all;
}

Entry decode_v2(const std::string& n, const std::string& d, const std::string& v = "2") {
  const auto entries = decode_entries(one_entry({"v", v, "n", n, "d", d}), Stream::V2);
  EXPECT_EQ(entries.size(), 1u);
  return entries.at(0);
}

common::ClickEvent at_day(std::int64_t day, std::string code, std::string referrer,
                          std::string agent) {
  return {common::TimePoint{} + std::chrono::hours(24 * day + 12), std::move(code),
          std::move(referrer), std::move(agent)};
}

TEST(ClickStreamContractTest, AggregatesInOrderOfFirstAppearanceAndRoundTrips) {
  const std::vector<common::ClickEvent> batch{
      at_day(20000, "abc", "https://A.example/x", "curl/8"),
      at_day(20000, "def", "", ""),
      at_day(20000, "abc", "http://a.example:8080/", "curl/8"),
      at_day(20001, "abc", "https://a.example/", "curl/8"),
      at_day(20000, "def", "", ""),
  };
  const auto rows = aggregate(batch);
  const std::vector<Row> expected{{"abc", 20000, "a.example", "curl/8", 2},
                                  {"def", 20000, "direct", "unknown", 2},
                                  {"abc", 20001, "a.example", "curl/8", 1}};
  EXPECT_EQ(rows, expected);
  const auto entry = decode_v2("5", encode_rows(rows));
  EXPECT_EQ(entry.kind, Entry::Kind::Clicks);
  EXPECT_EQ(entry.clicks, 5u);
  EXPECT_EQ(entry.rows, expected);
}

TEST(ClickStreamContractTest, NamesWithSeparatorsAndAnyBytesRoundTrip) {
  const std::vector<Row> rows{{"a-b_c", -3, "x,y;z", "ua;with,1;2;", 7},
                              {"zzz", 0, "other", "\xc3\xa9t\xc3\xa9", 1}};
  const auto entry = decode_v2("8", encode_rows(rows));
  ASSERT_EQ(entry.kind, Entry::Kind::Clicks);
  ASSERT_EQ(entry.rows, rows);
  EXPECT_EQ(entry.rows[0].user_agent, "ua;with,1;2;");
  EXPECT_EQ(entry.rows[1].user_agent, "\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(entry.rows[0].referrer, "x,y;z");
}

TEST(ClickStreamContractTest, MalformedEntriesAreMalformed) {
  const std::string good = encode_rows({{"abc", 1, "r.example", "ua", 3}});
  EXPECT_EQ(decode_v2("3", good).kind, Entry::Kind::Clicks);
  for (const auto& [n, d] : std::vector<std::pair<std::string, std::string>>{
           {"4", good},                          // n is not the sum
           {"2", good},                          // a count beyond n
           {"0", ""},                            // no clicks
           {"-3", good},                         // not a count
           {"3 ", good},                         // not a number
           {"99999999999999999999999", good},    // out of range
           {"3", good + "1"},                    // trailing bytes
           {"3", "3,1,3,9,2;abc"},               // lengths beyond the data
           {"3", "3,1,3,9,99999999999999999;"},  // huge length
           {"3", "3,9999999,3,0,0;abc"},         // a day out of range
           {"3", "0,1,3,0,0;abc3,1,3,0,0;abc"},  // a zero count
           {"3", "+3,1,3,0,0;abc"},              // a sign
           {"3", "3;1,3,0,0;abc"},               // the wrong separator
       }) {
    EXPECT_EQ(decode_v2(n, d).kind, Entry::Kind::Malformed) << n << " " << d;
  }
  // Without v on kurz:clicks:v2: malformed (no producer writes that); a deleted entry too.
  EXPECT_EQ(decode_entries(one_entry({"n", "3", "d", good}), Stream::V2).at(0).kind,
            Entry::Kind::Malformed);
}

TEST(ClickStreamContractTest, UnknownVersionsAreLeftForANewerConsumer) {
  EXPECT_EQ(decode_v2("3", "anything", "3").kind, Entry::Kind::Unknown);
  EXPECT_EQ(decode_v2("3", "", "").kind, Entry::Kind::Unknown);
  // A field v in kurz:clicks (format 1 has none).
  EXPECT_EQ(decode_entries(one_entry({"v", "2", "t", "1", "c", "abc"}), Stream::Legacy).at(0).kind,
            Entry::Kind::Unknown);
  // Format 1 without t or c: malformed, acknowledged (as the consumers before format 2 did).
  EXPECT_EQ(decode_entries(one_entry({"c", "abc"}), Stream::Legacy).at(0).kind,
            Entry::Kind::Malformed);
  const auto legacy = decode_entries(
      one_entry({"t", "86400000", "c", "abc", "r", "https://Q.example/", "u", ""}), Stream::Legacy);
  ASSERT_EQ(legacy.at(0).kind, Entry::Kind::Clicks);
  EXPECT_EQ(legacy.at(0).rows, (std::vector<Row>{{"abc", 1, "q.example", "unknown", 1}}));
}

TEST(ClickStreamContractTest, UntrustedNamesAreCheckedAgain) {
  const auto entry =
      decode_v2("4", encode_rows({{"abc", 1, "has space", std::string(300, 'u'), 1},
                                  {"top", 1, "r.example", "ua", 1},  // reserved: not countable
                                  {"a/b", 1, "r.example", "ua", 1},  // not a code
                                  {"abc", 1, "", "bad\xff", 1}}));
  ASSERT_EQ(entry.kind, Entry::Kind::Clicks);  // acknowledged; only the countable rows remain
  ASSERT_EQ(entry.rows.size(), 2u);
  EXPECT_EQ(entry.rows[0].referrer, "other");
  EXPECT_EQ(entry.rows[0].user_agent.size(), 200u);
  EXPECT_EQ(entry.rows[1].referrer, "direct");
  EXPECT_TRUE(common::is_valid_utf8(entry.rows[1].user_agent));
  EXPECT_EQ(entry.clicks, 4u);
}

TEST(ClickStreamContractTest, AppendBatchWritesOneEntryOncePerSequence) {
  testing::RedisServer server;
  kurz::redis::Client client(testing::client_options(server));
  const std::vector<common::ClickEvent> batch{at_day(1, "abc", "", ""), at_day(1, "abc", "", "")};
  EXPECT_TRUE(append_batch(client, "kurz:clicks:producer:t:1", 1, batch).value());
  EXPECT_FALSE(append_batch(client, "kurz:clicks:producer:t:1", 1, batch).value());
  EXPECT_FALSE(append_batch(client, "kurz:clicks:producer:t:1", 2, {}).value());
  EXPECT_EQ(client.command({"XLEN", std::string(kStream)}).value().integer, 1);
  EXPECT_EQ(client.command({"GET", std::string(kAppendedKey)}).value().str, "2");
  const auto read = client.command({"XRANGE", std::string(kStream), "-", "+"}).value();
  const auto entries = decode_entries(read, Stream::V2);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].rows, (std::vector<Row>{{"abc", 1, "direct", "unknown", 2}}));
  server.stop();
  const auto away = append_batch(client, "kurz:clicks:producer:t:1", 2, batch);
  ASSERT_FALSE(away.ok());
  EXPECT_EQ(away.error().kind, common::ErrorKind::Unavailable);
}

}  // namespace
}  // namespace kurz::clickstream
