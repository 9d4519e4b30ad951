// Wal implementation: a LevelDB-style writer queue with group commit.
//
// Every operation that touches the current file (append, rotate, background sync, close) is a
// Writer queued on writers_. The writer at the front is the leader: it takes the whole run of
// queued appends behind it (up to kMaxGroupBytes), writes them with one Append and, under
// kFsync, one Sync, with mu_ released, then completes every writer of the group with the
// result and hands leadership to the next queued writer. The state marked "leader-only" below
// is touched only by the current leader; leadership passes through mu_, which orders it.
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "wal/internal/format.h"
#include "wal/internal/reader.h"
#include "wal/wal.h"

namespace waggle {
namespace {

using wal_internal::FileReader;

// Bytes one group may write (the leader's own record is always taken, whatever its size).
constexpr size_t kMaxGroupBytes = 8 << 20;

enum class Op : uint8_t { kAppend, kRotate, kSync, kClose };

struct Writer {
  explicit Writer(Op o) : op(o) {}
  const Op op;
  std::string_view record;                            // kAppend: owned by the caller
  char header[wal_internal::kRecordHeaderSize] = {};  // kAppend: framing incl. CRC
  Status status;
  uint64_t seq = 0;  // file that holds the record (kAppend) or the new file (kRotate)
  bool done = false;
  absl::CondVar cv;
};

std::string ParentDir(const std::string& dir) {
  size_t end = dir.find_last_not_of('/');
  if (end == std::string::npos) return "";
  size_t slash = dir.find_last_of('/', end);
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : dir.substr(0, slash);
}

class WalImpl final : public Wal {
 public:
  explicit WalImpl(const WalOptions& options) : options_(options), env_(options.env) {}
  ~WalImpl() override { (void)Close(); }

  Status Init();
  StatusOr<ReplayStats> Replay(
      const std::function<Status(uint64_t, std::string_view)>& fn) override;
  StatusOr<uint64_t> Append(std::string_view record) override;
  StatusOr<uint64_t> Rotate() override;
  Status DeleteFilesBefore(uint64_t seq) override;
  WalStats Stats() const override;
  Status Close() override;

 private:
  // Queues `w`, waits until it is done (possibly leading a group) and returns its result.
  StatusOr<uint64_t> Submit(Writer* w) ABSL_LOCKS_EXCLUDED(mu_);
  // Performs the front writer's operation (and its group). REQUIRES: w is writers_.front().
  void Lead(Writer* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LeadAppendGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Leader-only (or Init): file operations, called without mu_.
  Status OpenNewFile() ABSL_LOCKS_EXCLUDED(mu_);
  Status SyncCurrent() ABSL_LOCKS_EXCLUDED(mu_);
  Status CloseCurrent() ABSL_LOCKS_EXCLUDED(mu_);

  void BackgroundSyncLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void StopBackgroundSync() ABSL_LOCKS_EXCLUDED(mu_);

  const WalOptions options_;
  Env* const env_;

  // Leader-only state.
  std::unique_ptr<WritableFile> file_;  // null after a failed rotation or Close
  uint64_t file_seq_ = 0;
  uint64_t file_bytes_ = 0;  // bytes in file_, header included
  bool file_has_records_ = false;
  bool poisoned_ = false;  // a write or sync failed: the next group starts a new file
  uint64_t next_seq_ = 1;
  std::string group_buf_;
  std::vector<Writer*> group_;

  mutable absl::Mutex mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_sync_thread_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t unsynced_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, uint64_t> files_ ABSL_GUARDED_BY(mu_);  // seq -> bytes, incl. current
  WalStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread sync_thread_;  // kBatch only
};

Status WalImpl::Init() {
  if (env_ == nullptr) return absl::InvalidArgumentError("WalOptions.env is required");
  if (options_.dir.empty()) return absl::InvalidArgumentError("WalOptions.dir is required");
  if (options_.max_record_bytes == 0) {
    return absl::InvalidArgumentError("WalOptions.max_record_bytes must be positive");
  }
  if (options_.sync_policy == WalSyncPolicy::kBatch && options_.sync_interval_ms <= 0) {
    return absl::InvalidArgumentError("WalOptions.sync_interval_ms must be positive");
  }
  RETURN_IF_ERROR(env_->CreateDirs(options_.dir));
  if (options_.sync_policy != WalSyncPolicy::kNone) {
    std::string parent = ParentDir(options_.dir);
    if (!parent.empty()) RETURN_IF_ERROR(env_->SyncDir(parent));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(options_.dir));
  for (const std::string& name : names) {
    uint64_t seq;
    if (!wal_internal::ParseFileName(name, &seq)) continue;
    const std::string path = JoinPath(options_.dir, name);
    ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env_->NewRandomAccessFile(path));
    FileReader reader(file.get(), options_.max_record_bytes);
    RETURN_IF_ERROR_CTX(reader.ReadHeader(seq).status(), path);  // format version check
    absl::MutexLock lock(&mu_);
    files_[seq] = file->Size();
    next_seq_ = std::max(next_seq_, seq + 1);
  }
  RETURN_IF_ERROR(OpenNewFile());
  if (options_.sync_policy == WalSyncPolicy::kBatch) {
    sync_thread_ = std::thread([this] { BackgroundSyncLoop(); });
  }
  return OkStatus();
}

Status WalImpl::OpenNewFile() {
  const bool durable = options_.sync_policy != WalSyncPolicy::kNone;
  RETURN_IF_ERROR(CloseCurrent());
  const uint64_t seq = next_seq_++;
  const std::string path = JoinPath(options_.dir, wal_internal::FileName(seq));
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env_->NewWritableFile(path));
  {
    absl::MutexLock lock(&mu_);
    files_[seq] = 0;  // tracked at once so DeleteFilesBefore removes even a failed file
  }
  const std::string header = wal_internal::EncodeFileHeader(seq);
  RETURN_IF_ERROR(file->Append(header));
  if (durable) {
    RETURN_IF_ERROR(file->Sync());
    RETURN_IF_ERROR(env_->SyncDir(options_.dir));
  }
  file_ = std::move(file);
  file_seq_ = seq;
  file_bytes_ = header.size();
  file_has_records_ = false;
  poisoned_ = false;
  absl::MutexLock lock(&mu_);
  files_[seq] = header.size();
  unsynced_bytes_ = 0;
  stats_.current_file_seq = seq;
  return OkStatus();
}

Status WalImpl::SyncCurrent() {
  if (file_ == nullptr || options_.sync_policy == WalSyncPolicy::kNone) return OkStatus();
  const int64_t start = env_->MonotonicNanos();
  Status s = file_->Sync();
  const uint64_t nanos =
      static_cast<uint64_t>(std::max<int64_t>(0, env_->MonotonicNanos() - start));
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    poisoned_ = true;
    return s;
  }
  ++stats_.syncs;
  stats_.sync_nanos_total += nanos;
  stats_.last_sync_nanos = nanos;
  unsynced_bytes_ = 0;
  return OkStatus();
}

Status WalImpl::CloseCurrent() {
  if (file_ == nullptr) return OkStatus();
  Status s;
  if (!poisoned_) {
    bool unsynced;
    {
      absl::MutexLock lock(&mu_);
      unsynced = unsynced_bytes_ > 0;
    }
    if (unsynced) s = SyncCurrent();
  }
  Status c = file_->Close();
  file_.reset();
  return s.ok() ? c : s;
}

StatusOr<uint64_t> WalImpl::Append(std::string_view record) {
  if (record.size() > options_.max_record_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("WAL record of ", record.size(),
                                                   " bytes exceeds max_record_bytes (",
                                                   options_.max_record_bytes, ")"));
  }
  Writer w(Op::kAppend);
  w.record = record;
  wal_internal::EncodeRecordHeader(record, w.header);  // CRC outside the lock, in parallel
  return Submit(&w);
}

StatusOr<uint64_t> WalImpl::Rotate() {
  Writer w(Op::kRotate);
  return Submit(&w);
}

StatusOr<uint64_t> WalImpl::Submit(Writer* w) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("WAL is closed");
  writers_.push_back(w);
  while (!w->done && w != writers_.front()) w->cv.Wait(&mu_);
  if (!w->done) Lead(w);
  if (!writers_.empty()) writers_.front()->cv.Signal();
  if (!w->status.ok()) return w->status;
  return w->seq;
}

void WalImpl::Lead(Writer* w) {
  if (closed_) {
    w->status = absl::FailedPreconditionError("WAL is closed");
  } else if (w->op == Op::kAppend) {
    LeadAppendGroup();
    return;
  } else {
    mu_.Unlock();
    Status s;
    switch (w->op) {
      case Op::kRotate: s = OpenNewFile(); break;
      case Op::kSync: s = SyncCurrent(); break;
      case Op::kClose: s = CloseCurrent(); break;
      case Op::kAppend: break;
    }
    const uint64_t seq = file_seq_;
    mu_.Lock();
    if (w->op == Op::kRotate && !s.ok()) poisoned_ = true;
    if (w->op == Op::kClose) closed_ = true;
    w->status = s;
    w->seq = seq;
  }
  w->done = true;
  writers_.pop_front();
}

void WalImpl::LeadAppendGroup() {
  group_.clear();
  size_t bytes = 0;
  for (Writer* w : writers_) {
    if (w->op != Op::kAppend) break;
    const size_t frame = wal_internal::kRecordHeaderSize + w->record.size();
    if (!group_.empty() && bytes + frame > kMaxGroupBytes) break;
    group_.push_back(w);
    bytes += frame;
  }
  mu_.Unlock();

  Status s;
  if (file_ == nullptr || poisoned_ ||
      (file_has_records_ && file_bytes_ + bytes > options_.max_file_bytes)) {
    s = OpenNewFile();
    if (!s.ok()) poisoned_ = true;
  }
  if (s.ok()) {
    group_buf_.clear();
    group_buf_.reserve(bytes);
    for (const Writer* w : group_) {
      group_buf_.append(w->header, sizeof(w->header));
      group_buf_.append(w->record);
    }
    s = file_->Append(group_buf_);
    if (s.ok()) {
      file_bytes_ += bytes;
      file_has_records_ = true;
    } else {
      poisoned_ = true;  // the file may now end in a partial frame
    }
  }
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    unsynced_bytes_ += bytes;
    files_[file_seq_] = file_bytes_;
  }
  if (s.ok() && options_.sync_policy == WalSyncPolicy::kFsync) s = SyncCurrent();
  const uint64_t seq = file_seq_;
  if (!s.ok() && group_buf_.capacity() > kMaxGroupBytes) std::string().swap(group_buf_);

  mu_.Lock();
  if (s.ok()) {
    stats_.bytes_written += bytes;
    stats_.records_written += group_.size();
  }
  for (Writer* w : group_) {
    writers_.pop_front();
    w->status = s;
    w->seq = seq;
    w->done = true;
    if (w != group_.front()) w->cv.Signal();
  }
}

StatusOr<ReplayStats> WalImpl::Replay(
    const std::function<Status(uint64_t, std::string_view)>& fn) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(options_.dir));
  std::map<uint64_t, std::string> files;
  for (const std::string& name : names) {
    uint64_t seq;
    if (wal_internal::ParseFileName(name, &seq)) files[seq] = JoinPath(options_.dir, name);
  }
  ReplayStats stats;
  for (const auto& [seq, path] : files) {
    ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env_->NewRandomAccessFile(path));
    ++stats.files;
    FileReader reader(file.get(), options_.max_record_bytes);
    ASSIGN_OR_RETURN(FileReader::Result r, reader.ReadHeader(seq));
    std::string_view record;
    while (r == FileReader::Result::kRecord) {
      ASSIGN_OR_RETURN(r, reader.Next(&record));
      if (r != FileReader::Result::kRecord) break;
      RETURN_IF_ERROR(fn(seq, record));
      ++stats.records;
    }
    if (r == FileReader::Result::kTorn) stats.torn_tail_bytes += reader.remaining_bytes();
    if (r == FileReader::Result::kCorrupt) ++stats.corrupt_records;  // rest of file skipped
  }
  return stats;
}

Status WalImpl::DeleteFilesBefore(uint64_t seq) {
  std::vector<std::pair<uint64_t, uint64_t>> doomed;
  {
    absl::MutexLock lock(&mu_);
    const uint64_t limit = std::min(seq, stats_.current_file_seq);  // never the current file
    for (auto it = files_.begin(); it != files_.end() && it->first < limit;) {
      doomed.emplace_back(*it);
      it = files_.erase(it);
    }
  }
  Status result;
  for (const auto& [file_seq, bytes] : doomed) {
    Status s = env_->RemoveFile(JoinPath(options_.dir, wal_internal::FileName(file_seq)));
    if (!s.ok() && !absl::IsNotFound(s)) {
      absl::MutexLock lock(&mu_);
      files_[file_seq] = bytes;
      if (result.ok()) result = s;
    }
  }
  if (!doomed.empty() && options_.sync_policy != WalSyncPolicy::kNone) {
    Status s = env_->SyncDir(options_.dir);
    if (result.ok()) result = s;
  }
  return result;
}

WalStats WalImpl::Stats() const {
  absl::MutexLock lock(&mu_);
  WalStats out = stats_;
  out.files = files_.size();
  out.disk_bytes = 0;
  for (const auto& [seq, bytes] : files_) out.disk_bytes += bytes;
  return out;
}

Status WalImpl::Close() {
  StopBackgroundSync();
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return OkStatus();
  }
  Writer w(Op::kClose);
  StatusOr<uint64_t> r = Submit(&w);
  if (absl::IsFailedPrecondition(r.status())) return OkStatus();  // closed concurrently
  return r.status();
}

void WalImpl::BackgroundSyncLoop() {
  const absl::Duration interval = absl::Milliseconds(options_.sync_interval_ms);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_sync_thread_), interval);
      if (stop_sync_thread_) return;
      if (unsynced_bytes_ == 0) continue;
    }
    Writer w(Op::kSync);
    (void)Submit(&w);  // a failure poisons the file; appends then move to a new one
  }
}

void WalImpl::StopBackgroundSync() {
  if (!sync_thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_sync_thread_ = true;
  }
  sync_thread_.join();
}

}  // namespace

StatusOr<std::unique_ptr<Wal>> Wal::Open(const WalOptions& options) {
  auto wal = std::make_unique<WalImpl>(options);
  RETURN_IF_ERROR_CTX(wal->Init(), absl::StrCat("opening WAL in ", options.dir));
  return std::unique_ptr<Wal>(std::move(wal));
}

}  // namespace waggle
