/**
 * Renders an st_mode as `ls -l` and `casync list` do (`drwxr-xr-x`, `-rwsr-x---`,
 * `drwxrwxrwt`, `crw-rw-rw-`, `prw-r--r--`, `srwxr-xr-x`, `lrwxrwxrwx`).
 */
export function formatCatarMode(mode: number): string {
  const type = (mode >> 12) & 0o17;
  // POSIX sys/stat.h file type nibbles, printed as casync.c list mode does.
  // Indexed by the type nibble: 1 FIFO, 2 char, 4 dir, 6 block, 8 file, 10 symlink, 12 socket.
  const letter = '?pc?d?b?-?l?s???'.charAt(type);
  const rwx = (bits: number, special: boolean, on: string, off: string): string =>
    (bits & 4 ? 'r' : '-') +
    (bits & 2 ? 'w' : '-') +
    (special ? (bits & 1 ? on : off) : bits & 1 ? 'x' : '-');
  return (
    letter +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's', 'S') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's', 'S') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't', 'T')
  );
}
