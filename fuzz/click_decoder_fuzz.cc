// The click-stream decoder (services/clickstream's decode_entries, both formats) on anything a
// stream could hold. An input that starts with "v2|" is a format 2 entry "v2|n|d" (the fields n
// and d, split at the next '|'); any other input describes a reply tree (type byte, then a
// length-prefixed string or a count of children; the seeds and regressions of the format 1
// decoder), decoded as format 1 and as format 2. Properties: no
// crash; one entry per [id, fields] element; decoded rows have a countable code, a count >= 1,
// and counts summing to at most n; and what was decoded encodes and decodes to the same rows
// (the consumer's checks of names are idempotent).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kurz/clickstream/stream.h"
#include "kurz/links/slug.h"
#include "kurz/redis/client.h"

namespace {

using kurz::redis::Reply;

struct Reader {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  std::string bytes(std::size_t n) {
    n = std::min(n, size - at);
    std::string out(reinterpret_cast<const char*>(data + at), n);
    at += n;
    return out;
  }
};

Reply read(Reader& in, int depth) {
  Reply reply;
  const std::uint8_t tag = in.byte();
  switch (tag % 6) {
    case 0:
      reply.type = Reply::Type::Nil;
      break;
    case 1:
      reply.type = Reply::Type::Integer;
      reply.integer = static_cast<std::int8_t>(in.byte());
      break;
    case 2:
      reply.type = Reply::Type::Error;
      reply.str = in.bytes(in.byte() % 32);
      break;
    case 3:
    case 4:
      reply.type = Reply::Type::String;
      reply.str = in.bytes(in.byte());
      break;
    default: {
      reply.type = Reply::Type::Array;
      const std::size_t n = depth < 4 ? in.byte() % 16 : 0;
      for (std::size_t i = 0; i < n && in.at < in.size; ++i)
        reply.elements.push_back(read(in, depth + 1));
    }
  }
  return reply;
}

// XREADGROUP's answer for one format 2 entry "1-0" whose `n` and `d` fields hold these texts.
Reply one_v2_entry(const std::string& clicks, const std::string& rows) {
  Reply fields;
  fields.type = Reply::Type::Array;
  for (const auto& text :
       {std::string("v"), std::string("2"), std::string("n"), clicks, std::string("d"), rows}) {
    Reply r;
    r.type = Reply::Type::String;
    r.str = text;
    fields.elements.push_back(std::move(r));
  }
  Reply id;
  id.type = Reply::Type::String;
  id.str = "1-0";
  Reply element;
  element.type = Reply::Type::Array;
  element.elements = {id, fields};
  Reply list;
  list.type = Reply::Type::Array;
  list.elements = {element};
  return list;
}

void check(const std::vector<kurz::clickstream::Entry>& entries) {
  using kurz::clickstream::Entry;
  for (const auto& entry : entries) {
    if (entry.kind != Entry::Kind::Clicks) {
      kurz::fuzz::require(entry.rows.empty(), "only decoded entries carry rows");
      continue;
    }
    std::uint64_t sum = 0;
    for (const auto& row : entry.rows) {
      kurz::fuzz::require(
          kurz::links::is_well_formed_code(row.code) && !kurz::links::is_reserved(row.code),
          "rows have a countable code");
      kurz::fuzz::require(row.count >= 1, "rows count at least one click");
      sum += row.count;
    }
    if (entry.stream == kurz::clickstream::Stream::V2) {
      kurz::fuzz::require(sum <= entry.clicks, "rows sum to at most n");
    } else {
      kurz::fuzz::require(sum <= 1, "a format 1 entry is one click");
    }
    if (entry.rows.empty()) continue;
    // Round trip: the rows as a producer would write them decode to themselves.
    const auto list = one_v2_entry(std::to_string(sum), kurz::clickstream::encode_rows(entry.rows));
    const auto again = kurz::clickstream::decode_entries(list, kurz::clickstream::Stream::V2);
    kurz::fuzz::require(
        again.size() == 1 && again[0].kind == Entry::Kind::Clicks && again[0].rows == entry.rows,
        "decoded rows round-trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kurz::clickstream::Stream;
  if (size >= 3 && data[0] == 'v' && data[1] == '2' && data[2] == '|') {
    const std::string text(reinterpret_cast<const char*>(data + 3), size - 3);
    const auto bar = text.find('|');
    const auto list = one_v2_entry(text.substr(0, bar),
                                   bar == std::string::npos ? std::string() : text.substr(bar + 1));
    const auto entries = kurz::clickstream::decode_entries(list, Stream::V2);
    kurz::fuzz::require(entries.size() == 1, "one entry");
    check(entries);
    return 0;
  }
  Reader in{data, size};
  Reply top;
  top.type = Reply::Type::Array;
  while (in.at < in.size && top.elements.size() < 64) top.elements.push_back(read(in, 1));
  std::size_t shaped = 0;
  for (const auto& e : top.elements) {
    shaped += e.type == Reply::Type::Array && e.elements.size() == 2;
  }
  for (const auto stream : {Stream::Legacy, Stream::V2}) {
    const auto entries = kurz::clickstream::decode_entries(top, stream);
    kurz::fuzz::require(entries.size() == shaped, "one entry per [id, fields] element");
    check(entries);
  }
  return 0;
}
