// Calls Node's fs lacks: a node's Linux inode flags (chattr(1): FS_IOC_GETFLAGS) for
// casync's EXCLUDE_NODUMP, utimensat with nanoseconds without following symlinks (libuv
// rounds times to microseconds), and fallocate (extract allocates a range before writing it).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <node_api.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char message[512];
  // Shaped like Node's fs errors: code (e.g. ENOENT), errno, syscall, path.
  const char *name = strerrorname_np(err);
  snprintf(message, sizeof message, "%s: %s, %s '%s'", name ? name : "EIO", strerror(err), syscall, path);
  napi_value msg, code, number, error, value;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &code);
  napi_create_int32(env, -err, &number);
  napi_create_error(env, code, msg, &error);
  napi_set_named_property(env, error, "errno", number);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "path", value);
  napi_throw(env, error);
  return NULL;
}

// Copies a string or Buffer argument into `path` (NUL-terminated); false (with a JS
// exception pending) when it is neither or too long.
static bool read_path(napi_env env, napi_value value, char *path, size_t size, const char *fn) {
  bool is_buffer = false;
  size_t len = 0;
  napi_is_buffer(env, value, &is_buffer);
  if (is_buffer) {
    void *data;
    napi_get_buffer_info(env, value, &data, &len);
    if (len >= size) {
      throw_errno(env, ENAMETOOLONG, fn, "");
      return false;
    }
    memcpy(path, data, len);
    path[len] = 0;
    return true;
  }
  if (napi_get_value_string_utf8(env, value, path, size, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "path must be a string or Buffer");
    return false;
  }
  return true;
}

// getFlags(path: string | Buffer): number — the inode flags, or 0 where the filesystem or
// node type has none (ENOTTY, EOPNOTSUPP, ENOSYS), like lsattr on such nodes.
static napi_value get_flags(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4097];
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "getFlags(path): path is required");
    return NULL;
  }
  if (!read_path(env, argv[0], path, sizeof path, "open")) return NULL;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open", path);
  int flags = 0;
  int r = ioctl(fd, FS_IOC_GETFLAGS, &flags);
  int err = errno;
  close(fd);
  if (r < 0) {
    if (err == ENOTTY || err == EOPNOTSUPP || err == ENOSYS || err == EINVAL) flags = 0;
    else return throw_errno(env, err, "ioctl FS_IOC_GETFLAGS", path);
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)flags, &result);
  return result;
}

// setTimesNs(path: string | Buffer, sec: number, nsec: number): sets atime and mtime of the
// node itself (a symlink is not followed) to sec.nsec.
static napi_value set_times_ns(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[4097];
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "setTimesNs(path, sec, nsec): three arguments are required");
    return NULL;
  }
  if (!read_path(env, argv[0], path, sizeof path, "utimensat")) return NULL;
  int64_t sec = 0;
  int64_t nsec = 0;
  napi_get_value_int64(env, argv[1], &sec);
  napi_get_value_int64(env, argv[2], &nsec);
  struct timespec times[2];
  times[0].tv_sec = (time_t)sec;
  times[0].tv_nsec = (long)nsec;
  times[1] = times[0];
  if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) < 0) return throw_errno(env, errno, "utimensat", path);
  return NULL;
}

// allocate(fd: number, offset: number, length: number): boolean — fallocate(2) mode 0 of a
// range inside the file's size: one call reserves the blocks that buffered writes would
// otherwise reserve page by page. Errors a write would meet too (ENOSPC, EDQUOT, EIO, EFBIG,
// EBADF) throw; any other answer (EOPNOTSUPP, ENOSYS, ENODEV, a file system's own refusal)
// is false: the caller just writes.
static napi_value allocate(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "allocate(fd, offset, length): three arguments are required");
    return NULL;
  }
  int32_t fd = -1;
  int64_t offset = 0;
  int64_t length = 0;
  napi_get_value_int32(env, argv[0], &fd);
  napi_get_value_int64(env, argv[1], &offset);
  napi_get_value_int64(env, argv[2], &length);
  bool done = true;
  if (length > 0) {
    int r;
    do r = fallocate(fd, 0, (off_t)offset, (off_t)length);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      int err = errno;
      if (err != ENOSPC && err != EDQUOT && err != EIO && err != EFBIG && err != EBADF) done = false;
      else {
        char what[32];
        snprintf(what, sizeof what, "fd %d", fd);
        return throw_errno(env, err, "fallocate", what);
      }
    }
  }
  napi_value result;
  napi_get_boolean(env, done, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "getFlags", NAPI_AUTO_LENGTH, get_flags, NULL, &fn);
  napi_set_named_property(env, exports, "getFlags", fn);
  napi_create_function(env, "setTimesNs", NAPI_AUTO_LENGTH, set_times_ns, NULL, &fn);
  napi_set_named_property(env, exports, "setTimesNs", fn);
  napi_create_function(env, "allocate", NAPI_AUTO_LENGTH, allocate, NULL, &fn);
  napi_set_named_property(env, exports, "allocate", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
