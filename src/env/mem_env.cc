// MemEnv: an in-memory file system with crash simulation.
//
// Model. The live namespace `files_` maps a path to a FileState (shared with open handles).
// A second namespace `durable_` holds, per directory, the entries as of that directory's last
// SyncDir(). A FileState records how many of its bytes were made durable by Sync().
// SimulateCrash() replaces the live namespace with the durable one and cuts every file back to
// its synced length (plus an optional torn prefix of its unsynced bytes). Directories
// themselves are durable as soon as they are created. Handles opened before a crash fail
// with FailedPrecondition afterwards (the process that owned them is gone).
//
// Thread-safety: one mutex guards the namespaces and every file's bytes.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "env/env.h"

namespace waggle {
namespace {

struct FileState {
  std::string data;
  size_t synced = 0;  // INVARIANT: synced <= data.size()
};

// Strips trailing slashes (but keeps "/").
std::string Normalize(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

std::string ParentOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

class MemEnvImpl;

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(MemEnvImpl* env, std::shared_ptr<FileState> state, std::string path,
                  uint64_t generation)
      : env_(env), state_(std::move(state)), path_(std::move(path)), generation_(generation) {}
  Status Append(std::string_view data) override;
  Status Sync() override;
  Status Close() override {
    closed_ = true;
    return OkStatus();
  }
  uint64_t Size() const override;

 private:
  MemEnvImpl* const env_;
  const std::shared_ptr<FileState> state_;
  const std::string path_;
  const uint64_t generation_;
  bool closed_ = false;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(MemEnvImpl* env, std::shared_ptr<FileState> state)
      : env_(env), state_(std::move(state)) {}
  StatusOr<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const override;
  uint64_t Size() const override;

 private:
  MemEnvImpl* const env_;
  const std::shared_ptr<FileState> state_;
};

class MemEnvImpl final : public MemEnv {
 public:
  MemEnvImpl() { dirs_.insert("/"); }

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    std::string path = Normalize(p);
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckParentLocked(path, "open"));
    if (dirs_.count(path)) {
      return absl::FailedPreconditionError(absl::StrCat("open ", path, ": is a directory"));
    }
    auto state = std::make_shared<FileState>();
    files_[path] = state;
    return std::unique_ptr<WritableFile>(
        std::make_unique<MemWritableFile>(this, std::move(state), path, generation_));
  }

  StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    std::string path = Normalize(p);
    absl::MutexLock lock(&mu_);
    auto it = files_.find(path);
    std::shared_ptr<FileState> state;
    if (it != files_.end()) {
      state = it->second;
    } else {
      RETURN_IF_ERROR(CheckParentLocked(path, "open"));
      state = std::make_shared<FileState>();
      files_[path] = state;
    }
    return std::unique_ptr<WritableFile>(
        std::make_unique<MemWritableFile>(this, std::move(state), path, generation_));
  }

  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::shared_ptr<FileState> state, FindLocked(Normalize(p), "open"));
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<MemRandomAccessFile>(this, std::move(state)));
  }

  StatusOr<std::string> ReadFile(const std::string& p) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::shared_ptr<FileState> state, FindLocked(Normalize(p), "read"));
    return state->data;
  }

  Status WriteFileAtomic(const std::string& p, std::string_view data) override {
    std::string path = Normalize(p);
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckParentLocked(path, "open"));
    RETURN_IF_ERROR(CheckDiskLimitLocked(path, data.size()));
    auto state = std::make_shared<FileState>();
    state->data.assign(data);
    state->synced = data.size();
    files_[path] = state;
    SyncDirLocked(ParentOf(path));
    return OkStatus();
  }

  bool FileExists(const std::string& p) override {
    std::string path = Normalize(p);
    absl::MutexLock lock(&mu_);
    return files_.count(path) > 0 || dirs_.count(path) > 0;
  }

  StatusOr<uint64_t> FileSize(const std::string& p) override {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::shared_ptr<FileState> state, FindLocked(Normalize(p), "stat"));
    return state->data.size();
  }

  StatusOr<std::vector<std::string>> ListDir(const std::string& d) override {
    std::string dir = Normalize(d);
    absl::MutexLock lock(&mu_);
    if (!dirs_.count(dir)) {
      return absl::NotFoundError(absl::StrCat("opendir ", dir, ": no such directory"));
    }
    std::vector<std::string> out;
    auto add_children = [&](const auto& container) {
      for (const auto& entry : container) {
        const std::string& path = KeyOf(entry);
        if (path != dir && ParentOf(path) == dir) {
          out.push_back(path.substr(path.find_last_of('/') + 1));
        }
      }
    };
    add_children(files_);
    add_children(dirs_);
    return out;
  }

  Status CreateDirs(const std::string& d) override {
    std::string dir = Normalize(d);
    if (dir.empty()) return absl::InvalidArgumentError("CreateDirs: empty path");
    absl::MutexLock lock(&mu_);
    for (std::string p = dir; !p.empty() && p != "/"; p = ParentOf(p)) {
      if (files_.count(p)) {
        return absl::FailedPreconditionError(
            absl::StrCat("mkdir ", p, ": exists and is not a directory"));
      }
      dirs_.insert(p);
    }
    return OkStatus();
  }

  Status RemoveFile(const std::string& p) override {
    std::string path = Normalize(p);
    absl::MutexLock lock(&mu_);
    if (files_.erase(path) == 0) {
      return absl::NotFoundError(absl::StrCat("unlink ", path, ": no such file"));
    }
    return OkStatus();
  }

  Status RenameFile(const std::string& f, const std::string& t) override {
    std::string from = Normalize(f), to = Normalize(t);
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::shared_ptr<FileState> state, FindLocked(from, "rename"));
    RETURN_IF_ERROR(CheckParentLocked(to, "rename"));
    files_.erase(from);
    files_[to] = std::move(state);
    return OkStatus();
  }

  Status SyncDir(const std::string& d) override {
    std::string dir = Normalize(d);
    absl::MutexLock lock(&mu_);
    if (!dirs_.count(dir)) {
      return absl::NotFoundError(absl::StrCat("open ", dir, ": no such directory"));
    }
    SyncDirLocked(dir);
    return OkStatus();
  }

  int64_t NowUnixNanos() override { return absl::GetCurrentTimeNanos(); }
  int64_t MonotonicNanos() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void SimulateCrash(size_t keep_unsynced_bytes) override {
    absl::MutexLock lock(&mu_);
    files_ = durable_;
    for (auto& [path, state] : files_) {
      size_t keep = std::min(keep_unsynced_bytes, state->data.size() - state->synced);
      state->data.resize(state->synced + keep);
      state->synced = state->data.size();
    }
    ++generation_;
  }

  void FailNextSyncs(int n) override {
    absl::MutexLock lock(&mu_);
    fail_syncs_ = std::max(n, 0);
  }

  void SetDiskLimit(uint64_t bytes) override {
    absl::MutexLock lock(&mu_);
    disk_limit_ = bytes;
  }

  // Called by the file handles.
  Status AppendTo(FileState* state, const std::string& path, uint64_t generation,
                  std::string_view data) {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckGenerationLocked(path, generation));
    RETURN_IF_ERROR(CheckDiskLimitLocked(path, data.size()));
    state->data.append(data);
    return OkStatus();
  }
  Status SyncFile(FileState* state, const std::string& path, uint64_t generation) {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(CheckGenerationLocked(path, generation));
    if (fail_syncs_ > 0) {
      --fail_syncs_;
      return absl::InternalError(absl::StrCat("fdatasync ", path, ": injected I/O error"));
    }
    state->synced = state->data.size();
    return OkStatus();
  }
  uint64_t SizeOf(const FileState* state) const {
    absl::MutexLock lock(&mu_);
    return state->data.size();
  }
  StatusOr<std::string_view> ReadFrom(const FileState* state, uint64_t offset, size_t n,
                                      char* scratch) const {
    absl::MutexLock lock(&mu_);
    if (offset >= state->data.size()) return std::string_view(scratch, 0);
    size_t len = std::min<uint64_t>(n, state->data.size() - offset);
    std::copy_n(state->data.data() + offset, len, scratch);
    return std::string_view(scratch, len);
  }

 private:
  static const std::string& KeyOf(const std::string& s) { return s; }
  template <typename V>
  static const std::string& KeyOf(const std::pair<const std::string, V>& kv) { return kv.first; }

  Status CheckParentLocked(const std::string& path, const char* op) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string parent = ParentOf(path);
    if (parent.empty() || dirs_.count(parent)) return OkStatus();
    return absl::NotFoundError(absl::StrCat(op, " ", path, ": no such directory ", parent));
  }

  StatusOr<std::shared_ptr<FileState>> FindLocked(const std::string& path,
                                                  const char* op) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = files_.find(path);
    if (it == files_.end()) {
      return absl::NotFoundError(absl::StrCat(op, " ", path, ": no such file"));
    }
    return it->second;
  }

  Status CheckGenerationLocked(const std::string& path, uint64_t generation) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (generation == generation_) return OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": file handle opened before a simulated crash"));
  }

  Status CheckDiskLimitLocked(const std::string& path, size_t extra) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (disk_limit_ == 0) return OkStatus();
    std::set<const FileState*> seen;
    uint64_t used = 0;
    for (const auto* ns : {&files_, &durable_}) {
      for (const auto& [p, state] : *ns) {
        if (seen.insert(state.get()).second) used += state->data.size();
      }
    }
    if (used + extra <= disk_limit_) return OkStatus();
    return absl::ResourceExhaustedError(
        absl::StrCat("write ", path, ": no space left on device (simulated limit ", disk_limit_,
                     " bytes)"));
  }

  void SyncDirLocked(const std::string& dir) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto it = durable_.begin(); it != durable_.end();) {
      it = ParentOf(it->first) == dir ? durable_.erase(it) : std::next(it);
    }
    for (const auto& [path, state] : files_) {
      if (ParentOf(path) == dir) durable_[path] = state;
    }
  }

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<FileState>> durable_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_syncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t disk_limit_ ABSL_GUARDED_BY(mu_) = 0;
};

Status MemWritableFile::Append(std::string_view data) {
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("append to closed ", path_));
  return env_->AppendTo(state_.get(), path_, generation_, data);
}
Status MemWritableFile::Sync() {
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("sync of closed ", path_));
  return env_->SyncFile(state_.get(), path_, generation_);
}
uint64_t MemWritableFile::Size() const { return env_->SizeOf(state_.get()); }

StatusOr<std::string_view> MemRandomAccessFile::Read(uint64_t offset, size_t n,
                                                     char* scratch) const {
  return env_->ReadFrom(state_.get(), offset, n, scratch);
}
uint64_t MemRandomAccessFile::Size() const { return env_->SizeOf(state_.get()); }

}  // namespace

std::unique_ptr<MemEnv> NewMemEnv() { return std::make_unique<MemEnvImpl>(); }

}  // namespace waggle
