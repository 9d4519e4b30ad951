#include "xray/xray_daemon.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <atomic>
#include <thread>

#include "store/testing/fake_store.h"

namespace waggle::xray {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

constexpr std::string_view kHeader = "{\"format\":\"json\",\"version\":1}\n";

std::string Segment(std::string_view id, std::string_view name) {
  return std::string(kHeader) + R"({"name":")" + std::string(name) + R"(","id":")" +
         std::string(id) +
         R"(","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":100,"end_time":101})";
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    XrayDaemonOptions options;
    options.listen = "127.0.0.1:0";
    options.max_datagram_bytes = 2048;
    daemon_ = std::make_unique<XrayDaemon>(options, &ingester_, &metrics_);
    StatusOr<std::string> bound = daemon_->Start();
    ASSERT_TRUE(bound.ok()) << bound.status();
    ASSERT_EQ(bound->rfind("127.0.0.1:", 0), 0u) << *bound;
    port_ = static_cast<uint16_t>(std::stoi(bound->substr(bound->find(':') + 1)));
    ASSERT_NE(port_, 0);
    socket_.open(udp::v4());
  }

  void Send(std::string_view datagram) {
    socket_.send_to(asio::buffer(datagram.data(), datagram.size()),
                    udp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  }

  bool WaitForRows(size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (store_.rows().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  uint64_t Count(const std::string& result) {
    return metrics_.GetCounter("waggle_xray_datagrams_total", "", {{"result", result}})->Value();
  }

  testing::FakeStore store_;
  Metrics metrics_;
  SegmentIngester ingester_{&store_, &metrics_};
  std::unique_ptr<XrayDaemon> daemon_;
  uint16_t port_ = 0;
  asio::io_context io_;
  udp::socket socket_{io_};
};

TEST_F(DaemonTest, StoresSegmentsAndSurvivesBadDatagrams) {
  Send(std::string(kHeader) + std::string(3000, 'x'));                      // too large
  Send("garbage without a newline");                                        // no header
  Send("{\"format\":\"xml\",\"version\":1}\n{}");                           // bad header
  Send(std::string(kHeader));                                               // empty document
  Send(std::string(kHeader) + "{\"name\":\"x\"}");                          // bad document
  Send("{\"format\": \"JSON\", \"version\": 1}\n" + Segment("4d5e6f7081920314", "good").substr(kHeader.size()));
  ASSERT_TRUE(WaitForRows(1));
  Send(Segment("4d5e6f7081920315", "good-2"));
  ASSERT_TRUE(WaitForRows(2));
  std::vector<Span> rows = store_.rows();
  EXPECT_EQ(rows[0].name, "good");
  EXPECT_EQ(rows[1].name, "good-2");
  // Rows are visible once appended; a worker counts its datagrams after that. Stop joins the
  // workers, so every count is final.
  daemon_->Stop();
  EXPECT_EQ(Count("too_large"), 1u);
  EXPECT_EQ(Count("bad_frame"), 3u);
  EXPECT_EQ(Count("bad_document"), 1u);
  EXPECT_EQ(Count("accepted"), 2u);
}

TEST_F(DaemonTest, StopProcessesQueuedDatagramsAndIsIdempotent) {
  for (int i = 0; i < 50; ++i) {
    char id[17];
    std::snprintf(id, sizeof(id), "%016x", i + 1);
    Send(Segment(id, "burst"));
  }
  ASSERT_TRUE(WaitForRows(50));
  daemon_->Stop();
  daemon_->Stop();
  EXPECT_EQ(store_.rows().size(), 50u);
}

// A sender that never pauses keeps the socket busy, so the receive thread never blocks in the
// kernel where Wake would reach it: Stop must still end it.
TEST_F(DaemonTest, StopsWhileDatagramsKeepArriving) {
  std::atomic<bool> sending{true};
  std::atomic<uint64_t> sent{0};
  std::thread sender([&] {
    udp::socket socket(io_);
    socket.open(udp::v4());
    const std::string datagram = Segment("4d5e6f7081920314", "flood");
    const udp::endpoint to(asio::ip::make_address("127.0.0.1"), port_);
    boost::system::error_code ignored;
    while (sending.load()) {
      socket.send_to(asio::buffer(datagram), to, 0, ignored);
      sent.fetch_add(1);
    }
  });
  ASSERT_TRUE(WaitForRows(1));
  while (sent.load() < 20'000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto start = std::chrono::steady_clock::now();
  daemon_->Stop();
  const auto took = std::chrono::steady_clock::now() - start;
  sending.store(false);
  sender.join();
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_GT(Count("accepted"), 0u);
}

TEST(XrayDaemon, BindFailureIsAnError) {
  testing::FakeStore store;
  Metrics metrics;
  SegmentIngester ingester(&store, &metrics);
  XrayDaemonOptions options;
  options.listen = "not-an-address";
  XrayDaemon daemon(options, &ingester, &metrics);
  EXPECT_FALSE(daemon.Start().ok());
}

}  // namespace
}  // namespace waggle::xray
