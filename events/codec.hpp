#pragma once

#include "events/event.hpp"

#include <caf/expected.hpp>

#include <string>
#include <string_view>

namespace orchflow {

/// Current envelope format. Version 1 layout (little-endian integers):
/// u8 format | u32 crc32 of the rest | u64 global_seq | u64 seq | u64 pseq |
/// i64 ts | u16 v | u8 type length | type | u8 sub length | sub | JSON data.
/// Every format ever written stays decodable.
constexpr uint8_t envelope_format = 1;

/// Serializes an event for storage. `e.stream` must lie in its partition.
std::string encode_event(const event& e);

/// Deserializes a stored event of `partition`; verifies the checksum and
/// upcasts old schema versions. Never throws.
[[nodiscard]] caf::expected<event> decode_event(std::string_view partition,
                                                std::string_view bytes);

/// As decode_event, but leaves `data` null: the envelope only (checksum,
/// sequence numbers, type, stream), for callers that need positions.
[[nodiscard]] caf::expected<event>
decode_event_header(std::string_view partition, std::string_view bytes);

/// Brings an event of an older schema version to the current one, in place.
void upcast(event& e);

/// Returns `partition + '\0' + big-endian pseq`: bytewise order is log order.
std::string partition_key(std::string_view partition, uint64_t pseq);

/// Returns the big-endian encoding of `x`.
std::string be64(uint64_t x);

/// Decodes a big-endian u64 from the first 8 bytes of `x`.
uint64_t read_be64(std::string_view x);

/// CRC-32 (IEEE) of `data`.
uint32_t crc32(std::string_view data);

} // namespace orchflow
