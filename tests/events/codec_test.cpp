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
  // A record as format 1 wrote it on 2026-11-23. Logs last forever: this
  // must decode to the same event in every future version.
  std::string hex
      = "012dcd2e90040000000000000002000000000000000300000000000000807009b09a"
        "01000001000b72756e2e637265617465640254317b2272756e5f6964223a2272756e"
        "5f66697874757265222c227461736b223a2278227d";
  std::string bytes;
  for (size_t i = 0; i < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  auto e = decode_event("run_fixture", bytes);
  ASSERT_TRUE(e) << render(e.error());
  EXPECT_EQ(e->stream, "run_fixture/T1");
  EXPECT_EQ(e->seq, 2u);
  EXPECT_EQ(e->pseq, 3u);
  EXPECT_EQ(e->global_seq, 4u);
  EXPECT_EQ(e->type, "run.created");
  EXPECT_EQ(e->v, 1);
  EXPECT_EQ(e->ts, 1763890000000);
  EXPECT_EQ(e->data,
            (nlohmann::json{{"task", "x"}, {"run_id", "run_fixture"}}));
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
