// fuse-native 2.2 ships no types: this declares the part of its API this package uses
// (index.js and README of fuse-native 2.2.6). Handlers answer through `cb`: 0 or a result
// count for success, a negative errno (Fuse.EIO, ...) for failure.
declare module 'fuse-native' {
  namespace Fuse {
    /** What getattr hands back; times are Dates or milliseconds since the epoch. */
    interface FuseStat {
      mode: number;
      uid: number;
      gid: number;
      size: number;
      nlink?: number;
      rdev?: number;
      blksize?: number;
      blocks?: number;
      atime: Date | number;
      mtime: Date | number;
      ctime: Date | number;
    }

    type ErrCb = (code: number) => void;

    interface FuseOperations {
      getattr?(path: string, cb: (code: number, stat?: FuseStat) => void): void;
      readdir?(path: string, cb: (code: number, names?: string[]) => void): void;
      readlink?(path: string, cb: (code: number, target?: string) => void): void;
      open?(path: string, flags: number, cb: (code: number, fd?: number) => void): void;
      release?(path: string, fd: number, cb: ErrCb): void;
      read?(
        path: string,
        fd: number,
        buf: Buffer,
        len: number,
        pos: number,
        cb: (result: number) => void,
      ): void;
      write?(
        path: string,
        fd: number,
        buf: Buffer,
        len: number,
        pos: number,
        cb: (result: number) => void,
      ): void;
      getxattr?(
        path: string,
        name: string,
        position: number,
        cb: (code: number, value?: Buffer | null) => void,
      ): void;
      listxattr?(path: string, cb: (code: number, names?: string[]) => void): void;
      create?(path: string, mode: number, cb: (code: number, fd?: number) => void): void;
      truncate?(path: string, size: number, cb: ErrCb): void;
      ftruncate?(path: string, fd: number, size: number, cb: ErrCb): void;
      unlink?(path: string, cb: ErrCb): void;
      rename?(src: string, dest: string, cb: ErrCb): void;
      link?(src: string, dest: string, cb: ErrCb): void;
      symlink?(src: string, dest: string, cb: ErrCb): void;
      mkdir?(path: string, mode: number, cb: ErrCb): void;
      rmdir?(path: string, cb: ErrCb): void;
      mknod?(path: string, mode: number, dev: number, cb: ErrCb): void;
      chmod?(path: string, mode: number, cb: ErrCb): void;
      chown?(path: string, uid: number, gid: number, cb: ErrCb): void;
      utimens?(path: string, atime: number, mtime: number, cb: ErrCb): void;
      setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: ErrCb): void;
      removexattr?(path: string, name: string, cb: ErrCb): void;
    }

    interface FuseOptions {
      /** Milliseconds before an unanswered operation fails with ETIMEDOUT; false for none. */
      timeout?: number | false;
      force?: boolean;
      mkdir?: boolean;
      debug?: boolean;
      fsname?: string;
      subtype?: string;
      kernelCache?: boolean;
      maxRead?: number;
    }
  }

  class Fuse {
    constructor(mountpoint: string, ops: Fuse.FuseOperations, options?: Fuse.FuseOptions);
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static unmount(mountpoint: string, cb: (err: Error | null) => void): void;
    static EPERM: number;
    static ENOENT: number;
    static EIO: number;
    static EBADF: number;
    static EACCES: number;
    static EISDIR: number;
    static ENOTDIR: number;
    static EINVAL: number;
    static EROFS: number;
    static ENODATA: number;
    static ETIMEDOUT: number;
  }

  export = Fuse;
}
