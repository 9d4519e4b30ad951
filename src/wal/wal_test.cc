#include "wal/wal.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wal/internal/format.h"

namespace waggle {
namespace {

constexpr char kDir[] = "/wal";

std::string Payload(int thread, int i, size_t pad = 0) {
  return "t" + std::to_string(thread) + "-" + std::to_string(i) + "-" + std::string(pad, 'x');
}

struct Replayed {
  std::vector<std::string> records;
  std::vector<uint64_t> seqs;
  ReplayStats stats;
};

Replayed ReplayAll(Wal* wal) {
  Replayed out;
  auto stats = wal->Replay([&](uint64_t seq, std::string_view record) {
    out.records.emplace_back(record);
    out.seqs.push_back(seq);
    return OkStatus();
  });
  EXPECT_TRUE(stats.ok()) << stats.status();
  if (stats.ok()) out.stats = *stats;
  return out;
}

WalOptions Options(Env* env, WalSyncPolicy policy = WalSyncPolicy::kFsync) {
  WalOptions o;
  o.dir = kDir;
  o.env = env;
  o.sync_policy = policy;
  return o;
}

std::unique_ptr<Wal> MustOpen(const WalOptions& o) {
  auto wal = Wal::Open(o);
  EXPECT_TRUE(wal.ok()) << wal.status();
  return wal.ok() ? std::move(*wal) : nullptr;
}

// Forwards to a MemEnv; file Syncs can be gated (held until released), delayed, or failed
// by number, so tests control exactly when a group's sync finishes.
class ControlledEnv final : public Env {
 public:
  std::unique_ptr<MemEnv> mem = NewMemEnv();

  void HoldSyncs(bool hold) {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = hold;
    cv_.notify_all();
  }
  void FailSyncNumber(int n) { fail_sync_number_ = n; }
  void DelaySyncs(int micros) { delay_micros_ = micros; }
  int syncs() const { return syncs_.load(); }
  int held() const { return held_.load(); }

  Status SyncHook() {
    {
      std::unique_lock<std::mutex> l(mu_);
      ++held_;
      cv_.wait(l, [&] { return !hold_; });
      --held_;
    }
    if (delay_micros_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_micros_));
    int n = ++syncs_;
    if (n == fail_sync_number_) return absl::InternalError("fdatasync: injected failure");
    return OkStatus();
  }

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    ASSIGN_OR_RETURN(auto f, mem->NewWritableFile(p));
    return std::unique_ptr<WritableFile>(std::make_unique<File>(this, std::move(f)));
  }
  StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    ASSIGN_OR_RETURN(auto f, mem->NewAppendableFile(p));
    return std::unique_ptr<WritableFile>(std::make_unique<File>(this, std::move(f)));
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return mem->NewRandomAccessFile(p);
  }
  StatusOr<std::string> ReadFile(const std::string& p) override { return mem->ReadFile(p); }
  Status WriteFileAtomic(const std::string& p, std::string_view d) override {
    return mem->WriteFileAtomic(p, d);
  }
  bool FileExists(const std::string& p) override { return mem->FileExists(p); }
  StatusOr<uint64_t> FileSize(const std::string& p) override { return mem->FileSize(p); }
  StatusOr<std::vector<std::string>> ListDir(const std::string& d) override {
    return mem->ListDir(d);
  }
  Status CreateDirs(const std::string& d) override { return mem->CreateDirs(d); }
  Status RemoveFile(const std::string& p) override { return mem->RemoveFile(p); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return mem->RenameFile(f, t);
  }
  Status SyncDir(const std::string& d) override { return mem->SyncDir(d); }
  int64_t NowUnixNanos() override { return mem->NowUnixNanos(); }
  int64_t MonotonicNanos() override { return mem->MonotonicNanos(); }

 private:
  class File final : public WritableFile {
   public:
    File(ControlledEnv* env, std::unique_ptr<WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view d) override { return f_->Append(d); }
    Status Sync() override {
      RETURN_IF_ERROR(env_->SyncHook());
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }
    uint64_t Size() const override { return f_->Size(); }

   private:
    ControlledEnv* env_;
    std::unique_ptr<WritableFile> f_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::atomic<int> held_{0};
  std::atomic<int> syncs_{0};
  std::atomic<int> fail_sync_number_{-1};
  std::atomic<int> delay_micros_{0};
};

TEST(Wal, RoundTripManyRecords) {
  auto env = NewMemEnv();
  std::vector<std::string> written;
  {
    auto wal = MustOpen(Options(env.get()));
    std::mt19937 rng(1);
    for (int i = 0; i < 2000; ++i) {
      std::string rec = i % 100 == 0 ? std::string() : Payload(0, i, rng() % 3000);
      auto seq = wal->Append(rec);
      ASSERT_TRUE(seq.ok()) << seq.status();
      written.push_back(rec);
    }
    WalStats st = wal->Stats();
    EXPECT_EQ(st.records_written, 2000u);
    EXPECT_EQ(st.syncs, 2000u);  // single thread: one fsync per append
    EXPECT_GT(st.bytes_written, 2000u * 9);
    EXPECT_GE(st.disk_bytes, st.bytes_written);
    EXPECT_EQ(st.files, 1u);
    ASSERT_TRUE(wal->Close().ok());
    EXPECT_EQ(wal->Append("late").status().code(), absl::StatusCode::kFailedPrecondition);
  }
  auto wal = MustOpen(Options(env.get()));
  Replayed r = ReplayAll(wal.get());
  EXPECT_EQ(r.records, written);
  EXPECT_EQ(r.stats.records, 2000u);
  EXPECT_EQ(r.stats.files, 2u);  // the old file and the new empty one
  EXPECT_EQ(r.stats.torn_tail_bytes, 0u);
  EXPECT_EQ(r.stats.corrupt_records, 0u);
}

TEST(Wal, GroupCommitSharesOneSync) {
  ControlledEnv env;
  auto wal = MustOpen(Options(&env));
  const int base = env.syncs();
  env.HoldSyncs(true);
  std::thread first([&] { EXPECT_TRUE(wal->Append("first").ok()); });
  while (env.held() == 0) std::this_thread::yield();  // the leader is inside its fsync
  std::vector<std::thread> others;
  for (int t = 0; t < 7; ++t) {
    others.emplace_back([&, t] { EXPECT_TRUE(wal->Append(Payload(t, 0)).ok()); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let them queue up
  env.HoldSyncs(false);
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(env.syncs() - base, 2);  // one for "first", one for the group of seven
  EXPECT_EQ(wal->Stats().records_written, 8u);
  Replayed r = ReplayAll(wal.get());
  ASSERT_EQ(r.records.size(), 8u);
  EXPECT_EQ(r.records[0], "first");
}

TEST(Wal, ConcurrentAppendersBatchAndKeepPerThreadOrder) {
  ControlledEnv env;
  env.DelaySyncs(300);
  auto wal = MustOpen(Options(&env));
  constexpr int kThreads = 8, kPerThread = 150;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) ASSERT_TRUE(wal->Append(Payload(t, i, t * 10)).ok());
    });
  }
  for (auto& t : threads) t.join();
  WalStats st = wal->Stats();
  EXPECT_EQ(st.records_written, uint64_t{kThreads * kPerThread});
  EXPECT_LT(st.syncs, st.records_written / 2);
  EXPECT_GT(st.sync_nanos_total, 0u);
  EXPECT_GE(st.sync_nanos_total, st.last_sync_nanos);

  Replayed r = ReplayAll(wal.get());
  ASSERT_EQ(r.records.size(), size_t{kThreads * kPerThread});
  std::vector<int> next(kThreads, 0);
  for (const std::string& rec : r.records) {
    int t = rec[1] - '0';
    EXPECT_EQ(rec, Payload(t, next[t]++, t * 10));
  }
}

// Writes records 0..4 and returns the bytes of the (single) WAL file and the last frame start.
std::string FiveRecordFile(size_t* last_frame_start) {
  auto env = NewMemEnv();
  auto wal = MustOpen(Options(env.get()));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(wal->Append(Payload(0, i, 20)).ok());
  EXPECT_TRUE(wal->Close().ok());
  std::string bytes = *env->ReadFile(JoinPath(kDir, wal_internal::FileName(1)));
  *last_frame_start = bytes.size() - (wal_internal::kRecordHeaderSize + Payload(0, 4, 20).size());
  return bytes;
}

Replayed ReplayFiles(const std::vector<std::string>& files) {
  auto env = NewMemEnv();
  EXPECT_TRUE(env->CreateDirs(kDir).ok());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_TRUE(env->WriteFileAtomic(JoinPath(kDir, wal_internal::FileName(i + 1)), files[i]).ok());
  }
  auto wal = MustOpen(Options(env.get()));
  return ReplayAll(wal.get());
}

TEST(Wal, TornTailAtEveryOffsetOfLastRecord) {
  size_t last;
  const std::string file = FiveRecordFile(&last);
  for (size_t cut = last; cut < file.size(); ++cut) {
    Replayed r = ReplayFiles({file.substr(0, cut)});
    ASSERT_EQ(r.records.size(), 4u) << "cut at " << cut;
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.records[i], Payload(0, i, 20));
    EXPECT_EQ(r.stats.torn_tail_bytes, cut - last) << "cut at " << cut;
    EXPECT_EQ(r.stats.corrupt_records, 0u);
  }
  // Garbage instead of the tail of the last record is a torn tail too.
  for (size_t pos = last; pos < file.size(); ++pos) {
    std::string bad = file;
    bad[pos] ^= 0x5a;
    Replayed r = ReplayFiles({bad});
    EXPECT_EQ(r.records.size(), 4u) << "flip at " << pos;
    EXPECT_EQ(r.stats.torn_tail_bytes, file.size() - last);
  }
  EXPECT_EQ(ReplayFiles({file}).records.size(), 5u);
}

TEST(Wal, FileEndingInsideHeader) {
  size_t last;
  const std::string file = FiveRecordFile(&last);
  for (size_t cut = 0; cut < wal_internal::kFileHeaderSize; ++cut) {
    Replayed r = ReplayFiles({file, file.substr(0, cut)});
    EXPECT_EQ(r.records.size(), 5u);
    EXPECT_EQ(r.stats.torn_tail_bytes, cut);
    EXPECT_EQ(r.stats.corrupt_records, 0u);
  }
}

TEST(Wal, CrcMismatchInTheMiddleSkipsRestOfThatFile) {
  size_t last;
  const std::string file = FiveRecordFile(&last);
  // Record 1 starts after the header and record 0's frame; flip a payload byte of record 1.
  const size_t frame = wal_internal::kRecordHeaderSize + Payload(0, 0, 20).size();
  std::string bad = file;
  bad[wal_internal::kFileHeaderSize + frame + wal_internal::kRecordHeaderSize + 3] ^= 1;
  std::string second = file;  // a valid second file (its header carries seq 1: fix it)
  second = wal_internal::EncodeFileHeader(2) + file.substr(wal_internal::kFileHeaderSize);
  Replayed r = ReplayFiles({bad, second});
  ASSERT_EQ(r.records.size(), 6u);  // record 0 of file 1, all of file 2
  EXPECT_EQ(r.records[0], Payload(0, 0, 20));
  EXPECT_EQ(r.seqs[1], 2u);
  EXPECT_EQ(r.stats.corrupt_records, 1u);
  EXPECT_EQ(r.stats.torn_tail_bytes, 0u);
  // The same damage in the last file stops replay there, reported as corruption.
  r = ReplayFiles({bad});
  EXPECT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.stats.corrupt_records, 1u);
  // A corrupted length field cannot make replay allocate or read out of bounds.
  bad = file;
  wal_internal::PutFixed32(bad.data() + wal_internal::kFileHeaderSize + 4, 0xfffffff0u);
  r = ReplayFiles({bad});
  EXPECT_EQ(r.records.size(), 0u);
  // A file with a foreign magic is skipped whole.
  bad = file;
  bad[0] = 'X';
  r = ReplayFiles({bad});
  EXPECT_EQ(r.records.size(), 0u);
  EXPECT_EQ(r.stats.corrupt_records, 1u);
}

TEST(Wal, UnknownFormatVersionIsRefusedOnOpen) {
  size_t last;
  std::string file = FiveRecordFile(&last);
  file[6] = 2;
  auto env = NewMemEnv();
  ASSERT_TRUE(env->CreateDirs(kDir).ok());
  ASSERT_TRUE(env->WriteFileAtomic(JoinPath(kDir, wal_internal::FileName(1)), file).ok());
  auto wal = Wal::Open(Options(env.get()));
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wal.status().message().find("version 2"), std::string::npos);
}

TEST(Wal, CrashLosesOnlyUnacknowledgedRecords) {
  for (size_t keep : {0, 1, 5, 9, 30, 100000}) {
    auto env = NewMemEnv();
    std::mutex mu;
    std::set<std::string> acked;
    {
      auto wal = MustOpen(Options(env.get()));
      std::atomic<int> total{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < 300; ++i) {
            std::string rec = Payload(t, i, (i * 37) % 200);
            if (!wal->Append(rec).ok()) continue;
            std::lock_guard<std::mutex> l(mu);
            acked.insert(rec);
            ++total;
          }
        });
      }
      while (total.load() < 200) std::this_thread::yield();
      env->SimulateCrash(keep);  // while appends are in flight
      for (auto& t : threads) t.join();
    }
    auto wal = MustOpen(Options(env.get()));
    Replayed r = ReplayAll(wal.get());
    std::set<std::string> replayed(r.records.begin(), r.records.end());
    for (const std::string& rec : acked) {
      EXPECT_TRUE(replayed.count(rec)) << "acknowledged record lost: " << rec << " keep=" << keep;
    }
    EXPECT_EQ(r.stats.corrupt_records, 0u);
  }
}

TEST(Wal, SyncFailureReachesEveryWaiterOfTheGroup) {
  ControlledEnv env;
  auto wal = MustOpen(Options(&env));
  const int base = env.syncs();
  env.HoldSyncs(true);
  std::thread first([&] { EXPECT_TRUE(wal->Append("first").ok()); });
  while (env.held() == 0) std::this_thread::yield();
  env.FailSyncNumber(base + 2);  // the group's sync
  std::atomic<int> failed{0};
  std::vector<std::thread> others;
  for (int t = 0; t < 6; ++t) {
    others.emplace_back([&, t] {
      auto r = wal->Append(Payload(t, 0));
      if (!r.ok() && r.status().message().find("injected") != std::string_view::npos) ++failed;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  env.HoldSyncs(false);
  first.join();
  for (auto& t : others) t.join();
  EXPECT_EQ(failed.load(), 6);
  // The WAL recovers on a fresh file.
  const uint64_t old_seq = wal->Stats().current_file_seq;
  auto seq = wal->Append("after");
  ASSERT_TRUE(seq.ok()) << seq.status();
  EXPECT_GT(*seq, old_seq);
  Replayed r = ReplayAll(wal.get());
  EXPECT_EQ(r.records.front(), "first");
  EXPECT_EQ(r.records.back(), "after");
}

TEST(Wal, RotateAndDeleteFilesBefore) {
  auto env = NewMemEnv();
  WalOptions o = Options(env.get());
  o.max_file_bytes = 1000;
  auto wal = MustOpen(o);
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 100; ++i) {
    auto seq = wal->Append(Payload(0, i, 80));
    ASSERT_TRUE(seq.ok());
    if (!seqs.empty()) {
      EXPECT_GE(*seq, seqs.back());
    }
    seqs.push_back(*seq);
  }
  EXPECT_GT(seqs.back(), seqs.front() + 5);  // rotated automatically
  auto names = env->ListDir(kDir);
  ASSERT_TRUE(names.ok());
  for (const std::string& name : *names) {
    EXPECT_LE(*env->FileSize(JoinPath(kDir, name)), 1000u);
  }
  auto rotated = wal->Rotate();
  ASSERT_TRUE(rotated.ok());
  EXPECT_GT(*rotated, seqs.back());
  EXPECT_EQ(*wal->Append("x"), *rotated);

  const uint64_t cut = seqs[50];
  ASSERT_TRUE(wal->DeleteFilesBefore(cut).ok());
  Replayed r = ReplayAll(wal.get());
  for (uint64_t s : r.seqs) EXPECT_GE(s, cut);
  size_t expected = 1;  // "x"
  for (uint64_t s : seqs) expected += s >= cut;
  EXPECT_EQ(r.records.size(), expected);
  EXPECT_EQ(wal->Stats().files, r.stats.files);

  ASSERT_TRUE(wal->DeleteFilesBefore(~uint64_t{0}).ok());  // keeps the current file
  EXPECT_EQ(wal->Stats().files, 1u);
  r = ReplayAll(wal.get());
  EXPECT_EQ(r.records, std::vector<std::string>{"x"});
}

TEST(Wal, ReopenAppendsToANewFileAfterExistingOnes) {
  auto env = NewMemEnv();
  uint64_t first_seq;
  {
    auto wal = MustOpen(Options(env.get()));
    first_seq = *wal->Append("a");
    ASSERT_TRUE(wal->Append("b").ok());
  }  // destructor closes
  auto wal = MustOpen(Options(env.get()));
  auto seq = wal->Append("c");
  ASSERT_TRUE(seq.ok());
  EXPECT_GT(*seq, first_seq);
  Replayed r = ReplayAll(wal.get());
  EXPECT_EQ(r.records, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Wal, RejectsOversizedRecordsAndBadOptions) {
  auto env = NewMemEnv();
  WalOptions o = Options(env.get());
  o.max_record_bytes = 100;
  auto wal = MustOpen(o);
  EXPECT_EQ(wal->Append(std::string(101, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(wal->Append(std::string(100, 'x')).ok());
  o.env = nullptr;
  EXPECT_EQ(Wal::Open(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Wal, BatchPolicySyncsInTheBackground) {
  auto env = NewMemEnv();
  WalOptions o = Options(env.get(), WalSyncPolicy::kBatch);
  o.sync_interval_ms = 5;
  auto wal = MustOpen(o);
  ASSERT_TRUE(wal->Append("batched").ok());
  for (int i = 0; i < 400 && wal->Stats().syncs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(wal->Stats().syncs, 0u);
  env->SimulateCrash();
  wal.reset();
  wal = MustOpen(o);
  EXPECT_EQ(ReplayAll(wal.get()).records, std::vector<std::string>{"batched"});
}

TEST(Wal, NonePolicyNeverSyncs) {
  ControlledEnv env;
  auto wal = MustOpen(Options(&env, WalSyncPolicy::kNone));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wal->Append("r").ok());
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(env.syncs(), 0);
  EXPECT_EQ(wal->Stats().syncs, 0u);
}

TEST(Wal, DiskFullFailsAppendAndRecovers) {
  auto env = NewMemEnv();
  auto wal = MustOpen(Options(env.get()));
  ASSERT_TRUE(wal->Append("ok").ok());
  env->SetDiskLimit(*env->FileSize(JoinPath(kDir, wal_internal::FileName(1))) + 20);
  auto r = wal->Append(std::string(100, 'x'));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  env->SetDiskLimit(0);
  ASSERT_TRUE(wal->Append("again").ok());
  Replayed rep = ReplayAll(wal.get());
  EXPECT_EQ(rep.records, (std::vector<std::string>{"ok", "again"}));
  EXPECT_EQ(rep.stats.corrupt_records, 0u);
}

TEST(Wal, PosixRoundTripWithTornTail) {
  char tmpl[] = "/tmp/waggle_wal_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/wal";
  WalOptions o;
  o.dir = dir;
  o.env = DefaultEnv();
  {
    auto wal = MustOpen(o);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(wal->Append(Payload(0, i, 100)).ok());
  }
  const std::string path = JoinPath(dir, wal_internal::FileName(1));
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(*DefaultEnv()->FileSize(path) - 7)), 0);
  {
    auto wal = MustOpen(o);
    Replayed r = ReplayAll(wal.get());
    EXPECT_EQ(r.records.size(), 49u);
    EXPECT_EQ(r.stats.torn_tail_bytes,
              wal_internal::kRecordHeaderSize + Payload(0, 49, 100).size() - 7);
    EXPECT_EQ(wal->Stats().current_file_seq, 2u);
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace waggle
