#include "xray/internal/datagram_batch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace waggle::xray_internal {
namespace {

// Every datagram is followed by kPadding spaces inside the buffer.
void ExpectPadded(const DatagramBatch& batch, size_t i) {
  const std::string_view d = batch[i];
  EXPECT_EQ(std::string_view(d.data() + d.size(), DatagramBatch::kPadding),
            std::string(DatagramBatch::kPadding, ' '))
      << "datagram " << i;
}

TEST(DatagramBatch, SlotsWrittenInPlaceAndJoinedSpillsKeepTheirOrder) {
  DatagramBatch batch;
  constexpr size_t kSlot = 256;
  char* slots = batch.Reserve(3 * kSlot);
  std::memcpy(slots, "first", 5);
  std::memcpy(slots + kSlot, "second-head", 11);
  std::memcpy(slots + 2 * kSlot, "third", 5);
  batch.Commit(3 * kSlot);
  batch.Add(0, 5);
  batch.AppendJoined(kSlot, 11, "+tail");  // copied to the end, after the slots
  batch.Add(2 * kSlot, 5);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0], "first");
  EXPECT_EQ(batch[1], "second-head+tail");
  EXPECT_EQ(batch[2], "third");
  EXPECT_EQ(batch[1].data(), batch[0].data() + 3 * kSlot);
  for (size_t i = 0; i < batch.size(); ++i) ExpectPadded(batch, i);
  EXPECT_EQ(batch.used_bytes(), 3 * kSlot + 16 + DatagramBatch::kPadding);
}

TEST(DatagramBatch, GrowingMovesWhatIsHeldAndClearKeepsTheBuffer) {
  DatagramBatch batch;
  std::string big(5000, 'b');
  batch.Append("small");
  for (int i = 0; i < 100; ++i) batch.Append(big);  // many regrowths
  ASSERT_EQ(batch.size(), 101u);
  EXPECT_EQ(batch[0], "small");
  EXPECT_EQ(batch[100], big);
  ExpectPadded(batch, 0);
  ExpectPadded(batch, 100);
  const size_t capacity = batch.capacity_bytes();
  EXPECT_GE(capacity, batch.used_bytes());
  batch.Clear();
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(batch.used_bytes(), 0u);
  EXPECT_EQ(batch.capacity_bytes(), capacity);
  batch.Append("again");
  EXPECT_EQ(batch[0], "again");
}

}  // namespace
}  // namespace waggle::xray_internal
