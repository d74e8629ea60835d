#include "events/codec.hpp"
#include "events/error.hpp"

#include <gtest/gtest.h>

namespace orchflow {
namespace {

event sample() {
  auto e = make_event("task.completed", 1763890000123,
                      {{"output", "héllo \"world\""}, {"n", 3}});
  e.stream = "run_abc/T2";
  e.seq = 4;
  e.pseq = 9;
  e.global_seq = 1234567;
  return e;
}

TEST(CodecTest, RoundTripKeepsEveryField) {
  auto e = sample();
  auto bytes = encode_event(e);
  auto back = decode_event("run_abc", bytes);
  ASSERT_TRUE(back) << render(back.error());
  EXPECT_EQ(back->stream, "run_abc/T2");
  EXPECT_EQ(back->seq, 4u);
  EXPECT_EQ(back->pseq, 9u);
  EXPECT_EQ(back->global_seq, 1234567u);
  EXPECT_EQ(back->type, "task.completed");
  EXPECT_EQ(back->v, 1);
  EXPECT_EQ(back->ts, 1763890000123);
  EXPECT_EQ(back->data, e.data);
}

TEST(CodecTest, RootStreamHasNoSuffix) {
  auto e = sample();
  e.stream = "run_abc";
  auto back = decode_event("run_abc", encode_event(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->stream, "run_abc");
}

TEST(CodecTest, EveryFlippedByteIsDetected) {
  auto bytes = encode_event(sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5A);
    auto back = decode_event("run_abc", damaged);
    EXPECT_FALSE(back) << "flip at byte " << i << " went unnoticed";
  }
}

TEST(CodecTest, TruncationIsDetected) {
  auto bytes = encode_event(sample());
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode_event("run_abc", bytes.substr(0, n)));
}

TEST(CodecTest, VersionOneBytesStayReadable) {
  // A record written by format 1 on 2026-11-23: must decode forever.
  auto e = make_event("run.created", 1763890000000, {{"task", "x"}});
  e.stream = "run_fixture";
  e.seq = 1;
  e.pseq = 1;
  e.global_seq = 1;
  auto bytes = encode_event(e);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 1);
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u); // the CRC-32 check value
}

TEST(CodecTest, KeysSortInLogOrder) {
  EXPECT_LT(partition_key("run_a", 9), partition_key("run_a", 10));
  EXPECT_LT(partition_key("run_a", 255), partition_key("run_a", 256));
  EXPECT_LT(partition_key("run_a", 1), partition_key("run_b", 1));
  EXPECT_EQ(read_be64(be64(0x0102030405060708ull)), 0x0102030405060708ull);
}

} // namespace
} // namespace orchflow
