// The POSIX Env: plain file descriptors, pread, fdatasync, directory fsync.
//
// Every syscall is retried on EINTR; every failure becomes a Status naming the operation,
// the path and strerror(errno).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"
#include "env/env.h"

namespace waggle {
namespace {

Status ErrnoStatus(const char* op, const std::string& path, int err) {
  std::string msg = absl::StrCat(op, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT: return absl::NotFoundError(msg);
    case EEXIST: return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM: return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT: return absl::ResourceExhaustedError(msg);
    default: return absl::InternalError(msg);
  }
}

// Returns the directory part of `path` ("." when there is none).
std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

int RetryOpen(const char* path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

void CloseQuietly(int fd) {
  if (fd >= 0) ::close(fd);  // close() must not be retried on EINTR (Linux).
}

Status WriteAll(int fd, const std::string& path, std::string_view data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return OkStatus();
}

Status SyncFd(int fd, const std::string& path, bool data_only) {
  int rc;
  do {
    rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return ErrnoStatus(data_only ? "fdatasync" : "fsync", path, errno);
  return OkStatus();
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixWritableFile() override { CloseQuietly(fd_); }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("append to closed ", path_));
    Status s = WriteAll(fd_, path_, data);
    // Partial writes still advanced the file; Size() stays the count of acknowledged bytes.
    if (s.ok()) size_ += data.size();
    return s;
  }
  Status Sync() override {
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat("sync of closed ", path_));
    return SyncFd(fd_, path_, /*data_only=*/true);
  }
  Status Close() override {
    if (fd_ < 0) return OkStatus();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc < 0 && errno != EINTR) return ErrnoStatus("close", path_, errno);
    return OkStatus();
  }
  uint64_t Size() const override { return size_; }

 private:
  int fd_;
  const std::string path_;
  uint64_t size_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(int fd, std::string path, uint64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixRandomAccessFile() override { CloseQuietly(fd_); }

  StatusOr<std::string_view> Read(uint64_t offset, size_t n, char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("pread", path_, errno);
      }
      if (r == 0) break;  // end of file
      got += static_cast<size_t>(r);
    }
    return std::string_view(scratch, got);
  }
  uint64_t Size() const override { return size_; }

 private:
  int fd_;
  const std::string path_;
  uint64_t size_;
};

StatusOr<uint64_t> FdSize(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return ErrnoStatus("fstat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

// flock(2) on an open descriptor: released when the descriptor closes (also on a crash).
class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { CloseQuietly(fd_); }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 public:
  StatusOr<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    int fd = RetryOpen(path.c_str(), O_RDWR | O_CREAT);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
      int err = errno;
      CloseQuietly(fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            absl::StrCat(path, " is locked: another waggle process is using this data directory"));
      }
      return ErrnoStatus("flock", path, err);
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = RetryOpen(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(fd, path, 0));
  }

  StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    int fd = RetryOpen(path.c_str(), O_WRONLY | O_CREAT | O_APPEND);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    StatusOr<uint64_t> size = FdSize(fd, path);
    if (!size.ok()) {
      CloseQuietly(fd);
      return size.status();
    }
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(fd, path, *size));
  }

  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = RetryOpen(path.c_str(), O_RDONLY);
    if (fd < 0) return ErrnoStatus("open", path, errno);
    StatusOr<uint64_t> size = FdSize(fd, path);
    if (!size.ok()) {
      CloseQuietly(fd);
      return size.status();
    }
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<PosixRandomAccessFile>(fd, path, *size));
  }

  StatusOr<std::string> ReadFile(const std::string& path) override {
    ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, NewRandomAccessFile(path));
    std::string out(file->Size(), '\0');
    ASSIGN_OR_RETURN(std::string_view got, file->Read(0, out.size(), out.data()));
    out.resize(got.size());  // the file may have shrunk meanwhile
    return out;
  }

  Status WriteFileAtomic(const std::string& path, std::string_view data) override {
    const std::string tmp = path + ".tmp";
    int fd = RetryOpen(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return ErrnoStatus("open", tmp, errno);
    Status s = WriteAll(fd, tmp, data);
    if (s.ok()) s = SyncFd(fd, tmp, /*data_only=*/false);
    if (::close(fd) < 0 && s.ok() && errno != EINTR) s = ErrnoStatus("close", tmp, errno);
    if (s.ok() && ::rename(tmp.c_str(), path.c_str()) < 0) s = ErrnoStatus("rename", tmp, errno);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
    return SyncDir(DirName(path));
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  StatusOr<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return ErrnoStatus("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("opendir", dir, errno);
    std::vector<std::string> out;
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name != "." && name != "..") out.emplace_back(name);
      errno = 0;
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("readdir", dir, err);
    return out;
  }

  Status CreateDirs(const std::string& dir) override {
    if (dir.empty()) return absl::InvalidArgumentError("CreateDirs: empty path");
    size_t pos = 0;
    while (pos != std::string::npos) {
      pos = dir.find('/', pos + 1);
      std::string prefix = dir.substr(0, pos);
      if (prefix.empty()) continue;
      if (::mkdir(prefix.c_str(), 0755) == 0) continue;
      int err = errno;
      struct stat st;
      if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      if (err == EEXIST) return absl::FailedPreconditionError(
          absl::StrCat("mkdir ", prefix, ": exists and is not a directory"));
      return ErrnoStatus("mkdir", prefix, err);
    }
    return OkStatus();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) < 0) return ErrnoStatus("unlink", path, errno);
    return OkStatus();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) < 0) {
      return ErrnoStatus("rename", absl::StrCat(from, " -> ", to), errno);
    }
    return OkStatus();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = RetryOpen(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return ErrnoStatus("open", dir, errno);
    Status s = SyncFd(fd, dir, /*data_only=*/false);
    CloseQuietly(fd);
    return s;
  }

  int64_t NowUnixNanos() override { return ClockNanos(CLOCK_REALTIME); }
  int64_t MonotonicNanos() override { return ClockNanos(CLOCK_MONOTONIC); }

 private:
  static int64_t ClockNanos(clockid_t clock) {
    struct timespec ts;
    ::clock_gettime(clock, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
};

}  // namespace

Env* DefaultEnv() {
  static Env* const env = new PosixEnv();  // never deleted, by contract
  return env;
}

}  // namespace waggle
