// The click-stream decoder (stats' parse_stream_entries) on any reply shape Redis could send:
// the input bytes describe a reply tree (type byte, then a length-prefixed string or a count of
// children). Properties: no crash, one entry per well-shaped element, decoded events carry a
// code (whether it is countable is decided later, by countable()).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "kurz/redis/client.h"
#include "kurz/stats/redis/click_apply.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in{data, size};
  Reply top;
  top.type = Reply::Type::Array;
  while (in.at < in.size && top.elements.size() < 64) top.elements.push_back(read(in, 1));
  const auto entries = kurz::stats::redis::parse_stream_entries(top);
  std::size_t shaped = 0;
  for (const auto& e : top.elements) {
    shaped += e.type == Reply::Type::Array && e.elements.size() == 2;
  }
  kurz::fuzz::require(entries.size() == shaped, "one entry per [id, fields] element");
  for (const auto& entry : entries) {
    if (entry.event) {
      kurz::fuzz::require(!entry.event->code.empty(), "a decoded event has a code");
    }
  }
  return 0;
}
