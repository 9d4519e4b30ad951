#include "xray/internal/udp_receiver.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace waggle::xray_internal {
namespace {

TEST(UdpReceiver, CountsWhatTheKernelDroppedWhenTheBufferWasFull) {
  UdpReceiver receiver;
  StatusOr<std::string> bound =
      receiver.Open("127.0.0.1:0", 2048, /*receive_buffer_bytes=*/4096,
                    /*batch=*/64);
  ASSERT_TRUE(bound.ok()) << bound.status();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(
      static_cast<uint16_t>(std::stoi(bound->substr(bound->find(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  const std::string datagram(1000, 'x');
  constexpr int kSent = 200; // far more than a ~4-8 KiB buffer holds
  for (int i = 0; i < kSent; ++i) {
    ::sendto(fd, datagram.data(), datagram.size(), 0,
             reinterpret_cast<sockaddr *>(&to), sizeof(to));
  }
  // The few that fit are all there: one Receive (batch 64) takes them and
  // reports the rest as dropped. A sentinel then arrives with no new drops.
  DatagramBatch batch;
  ReceiveStats stats;
  ASSERT_TRUE(receiver.Receive(&batch, &stats));
  EXPECT_EQ(batch.size() + stats.kernel_dropped, static_cast<uint64_t>(kSent));
  ::sendto(fd, datagram.data(), datagram.size(), 0,
           reinterpret_cast<sockaddr *>(&to), sizeof(to));
  ASSERT_TRUE(receiver.Receive(&batch, &stats));
  const uint64_t received = batch.size(), dropped = stats.kernel_dropped;
  ::close(fd);
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(received + dropped, static_cast<uint64_t>(kSent) + 1);
}

TEST(UdpReceiver, ReceiveIfReadyReturnsAtOnceAndAppendsWhatIsWaiting) {
  UdpReceiver receiver;
  StatusOr<std::string> bound = receiver.Open("127.0.0.1:0", 2048, 1 << 16, 8);
  ASSERT_TRUE(bound.ok()) << bound.status();
  DatagramBatch batch;
  ReceiveStats stats;
  ASSERT_TRUE(receiver.ReceiveIfReady(&batch, &stats));  // nothing sent: no wait
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_EQ(stats.received, 0u);

  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(bound->substr(bound->find(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  for (const std::string& d : {std::string("first"), std::string("second"), std::string(3000, 'z'), std::string("third")}) {
    ::sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof(to));
  }
  ::close(fd);
  batch.Append("kept");  // Receive appends after what the batch holds
  ASSERT_TRUE(receiver.Receive(&batch, &stats));
  EXPECT_EQ(stats.received, 4u);
  EXPECT_EQ(stats.too_large, 1u);  // over the 2048-byte limit
  ASSERT_EQ(batch.size(), 4u);
  EXPECT_EQ(batch[0], "kept");
  EXPECT_EQ(batch[1], "first");
  EXPECT_EQ(batch[2], "second");
  EXPECT_EQ(batch[3], "third");
  // The oversized one counts as far as it was read: its slot, the limit plus one byte.
  EXPECT_EQ(stats.received_bytes, std::string("firstsecondthird").size() + 2049);
}

TEST(UdpReceiver, WakeEndsABlockedReceive) {
  UdpReceiver receiver;
  ASSERT_TRUE(receiver.Open("127.0.0.1:0", 2048, 1 << 16, 8).ok());
  receiver.Wake();
  DatagramBatch batch;
  ReceiveStats stats;
  EXPECT_FALSE(receiver.Receive(&batch, &stats));
  EXPECT_EQ(batch.size(), 0u);
}

TEST(UdpReceiver, DatagramsOverTheSlotAreJoinedFromTheOverflowInOrder) {
  UdpReceiver receiver;
  StatusOr<std::string> bound = receiver.Open("127.0.0.1:0", 9000, 1 << 20, 8);
  ASSERT_TRUE(bound.ok()) << bound.status();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(bound->substr(bound->find(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  std::string spilled(UdpReceiver::kInlineBytes + 3000, 'x');
  for (size_t i = 0; i < spilled.size(); ++i) spilled[i] = static_cast<char>('a' + i % 26);
  const std::string exact(UdpReceiver::kInlineBytes, 'e');  // fills its slot up to the padding
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  for (const std::string* d : {&exact, static_cast<const std::string*>(&spilled), &exact}) {
    ::sendto(fd, d->data(), d->size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
  ::close(fd);
  DatagramBatch batch;
  ReceiveStats stats;
  ASSERT_TRUE(receiver.Receive(&batch, &stats));
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0], exact);
  EXPECT_EQ(batch[1], spilled);
  EXPECT_EQ(batch[2], exact);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(std::string_view(batch[i].data() + batch[i].size(), DatagramBatch::kPadding),
              std::string(DatagramBatch::kPadding, ' '));
  }
}

TEST(NextReceivePause, IsTheLongestUnlessArrivalsWouldFillAQuarterOfTheBuffer) {
  using std::chrono::microseconds;
  const microseconds longest(1000);
  // 100 datagrams of 1,000 bytes (charged 2,024 each) in 1 ms: 202,400 bytes/ms.
  EXPECT_EQ(NextReceivePause(100, 100'000, microseconds(1000), 64 << 20, longest), longest);
  // A 208 KiB buffer holds a quarter (53,248 bytes) of that in 263 us.
  EXPECT_EQ(NextReceivePause(100, 100'000, microseconds(1000), 212'992, longest),
            microseconds(263));
  // Twice the rate, half the pause.
  EXPECT_EQ(NextReceivePause(200, 200'000, microseconds(1000), 212'992, longest),
            microseconds(131));
  // Nothing seen, or no time passed: nothing to go by.
  EXPECT_EQ(NextReceivePause(0, 0, microseconds(1000), 212'992, longest), longest);
  EXPECT_EQ(NextReceivePause(5, 5000, microseconds(0), 212'992, longest), longest);
}

} // namespace
} // namespace waggle::xray_internal
