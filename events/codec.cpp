#include "events/codec.hpp"

#include "events/error.hpp"
#include "events/json_util.hpp"

#include <cstring>
#include <zlib.h>

namespace orchflow {

namespace {

template<class T>
void put(std::string& out, T x) {
  char buf[sizeof(T)];
  std::memcpy(buf, &x, sizeof(T)); // the format is little-endian; so is x86
  out.append(buf, sizeof(T));
}

template<class T>
bool get(std::string_view& in, T& x) {
  if (in.size() < sizeof(T))
    return false;
  std::memcpy(&x, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

bool get_str(std::string_view& in, std::string_view& x) {
  uint8_t len = 0;
  if (!get(in, len) || in.size() < len)
    return false;
  x = in.substr(0, len);
  in.remove_prefix(len);
  return true;
}

caf::error corrupt(std::string_view partition, const char* what) {
  return caf::make_error(ec::corrupt_record, "stored event of "
                                                 + std::string{partition}
                                                 + " is " + what);
}

} // namespace

uint32_t crc32(std::string_view data) {
  // zlib's CRC-32 (IEEE): the same checksum, computed many bytes at a time.
  return static_cast<uint32_t>(
      ::crc32_z(0L, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

std::string be64(uint64_t x) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(x & 0xFF);
    x >>= 8;
  }
  return out;
}

uint64_t read_be64(std::string_view x) {
  uint64_t result = 0;
  for (size_t i = 0; i < 8 && i < x.size(); ++i)
    result = (result << 8) | static_cast<unsigned char>(x[i]);
  return result;
}

std::string partition_key(std::string_view partition, uint64_t pseq) {
  std::string key;
  key.reserve(partition.size() + 9);
  key.append(partition);
  key.push_back('\0');
  key += be64(pseq);
  return key;
}

std::string encode_event(const event& e) {
  auto part = partition_of(e.stream);
  std::string_view sub;
  if (e.stream.size() > part.size())
    sub = std::string_view{e.stream}.substr(part.size() + 1);
  std::string body;
  body.reserve(64 + e.type.size() + sub.size());
  put(body, e.global_seq);
  put(body, e.seq);
  put(body, e.pseq);
  put(body, e.ts);
  put(body, e.v);
  put(body, static_cast<uint8_t>(e.type.size()));
  body += e.type;
  put(body, static_cast<uint8_t>(sub.size()));
  body += sub;
  body += dump_safe(e.data);
  std::string out;
  out.reserve(body.size() + 5);
  put(out, envelope_format);
  put(out, crc32(body));
  out += body;
  return out;
}

namespace {

caf::expected<event> decode(std::string_view partition, std::string_view bytes,
                            bool with_data) {
  uint8_t format = 0;
  uint32_t crc = 0;
  if (!get(bytes, format) || !get(bytes, crc))
    return corrupt(partition, "truncated");
  if (format != envelope_format)
    return corrupt(partition, "in an unknown envelope format");
  if (crc32(bytes) != crc)
    return corrupt(partition, "damaged (checksum mismatch)");
  event e;
  std::string_view type;
  std::string_view sub;
  if (!get(bytes, e.global_seq) || !get(bytes, e.seq) || !get(bytes, e.pseq)
      || !get(bytes, e.ts) || !get(bytes, e.v) || !get_str(bytes, type)
      || !get_str(bytes, sub))
    return corrupt(partition, "truncated");
  e.type = type;
  e.stream = partition;
  if (!sub.empty()) {
    e.stream += '/';
    e.stream += sub;
  }
  if (!with_data)
    return e;
  e.data = nlohmann::json::parse(bytes, nullptr, false);
  if (e.data.is_discarded())
    return corrupt(partition, "not valid JSON");
  upcast(e);
  return e;
}

} // namespace

caf::expected<event> decode_event(std::string_view partition,
                                  std::string_view bytes) {
  return decode(partition, bytes, true);
}

caf::expected<event> decode_event_header(std::string_view partition,
                                         std::string_view bytes) {
  return decode(partition, bytes, false);
}

void upcast(event&) {
  // Every event type is still at schema version 1. When a type's data
  // changes, bump its version where it is written and add the conversion
  // from the old version here, so that old logs keep replaying.
}

} // namespace orchflow
