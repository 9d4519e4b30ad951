// Env: the OS seam for files, durability and time.
//
// Everything the WAL and the store do to disk goes through an Env, so tests can substitute
// NewMemEnv(), an in-memory file system that can simulate a crash by dropping every byte
// not yet made durable by Sync() (LevelDB's fault-injection idea).
//
// Thread-safety: Env methods are thread-safe. A WritableFile or RandomAccessFile object is
// used by one thread at a time unless stated otherwise (RandomAccessFile::Read is thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace waggle {

// An append-only file.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes every appended byte durable (fdatasync). Bytes appended but not synced may be lost
  // on a crash, in whole or in part (a torn tail).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far.
  virtual uint64_t Size() const = 0;
};

// A file read at arbitrary offsets. Read is thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into scratch; returns a view of what was read (shorter
  // at end of file), which may point into scratch or into a mapping owned by the file.
  virtual StatusOr<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual uint64_t Size() const = 0;
};

// An exclusive advisory lock on a file, held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // Takes an exclusive lock on `path` (created if missing) without waiting; FailedPrecondition
  // when another process (or another lock in this one) holds it. The default Env keeps no
  // locks (returns a lock object that guards nothing).
  virtual StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path);

  // Creates or truncates `path` for appending.
  virtual StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending, keeping what is there.
  virtual StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Reads a whole file.
  virtual StatusOr<std::string> ReadFile(const std::string& path) = 0;
  // Writes `data` to `path` atomically and durably (temp file, sync, rename, sync dir).
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  virtual StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`.
  virtual StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Status CreateDirs(const std::string& dir) = 0;  // mkdir -p
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Makes directory entries (creations, renames, removals) in `dir` durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Wall-clock time in unix nanoseconds and a monotonic clock in nanoseconds.
  virtual int64_t NowUnixNanos() = 0;
  virtual int64_t MonotonicNanos() = 0;
};

// The process-wide POSIX Env. Never deleted.
Env* DefaultEnv();

// An in-memory Env for tests. Its files live as long as the MemEnv.
class MemEnv : public Env {
 public:
  // Simulates a power loss: every file loses the bytes appended since its last Sync()
  // (keeping a prefix of `keep_unsynced_bytes` of them, to model a torn write), and files
  // or renames whose directory was not synced since are undone.
  virtual void SimulateCrash(size_t keep_unsynced_bytes = 0) = 0;
  // Makes the next `n` Sync() calls fail with an IO error (0 restores normal behaviour).
  virtual void FailNextSyncs(int n) = 0;
  // Makes Append fail with ResourceExhausted once total bytes stored exceed `bytes` (0 = off).
  virtual void SetDiskLimit(uint64_t bytes) = 0;
};

std::unique_ptr<MemEnv> NewMemEnv();

// Joins path components with '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace waggle
