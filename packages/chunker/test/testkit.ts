// @desync/testkit is not a devDependency of this package yet, so the tests reach its
// sources by path, from this one file; once package.json lists it, this becomes a
// re-export of '@desync/testkit'.
export {
  findCasync,
  makeTempDir,
  Prng,
  randomBytes,
  removeTempDir,
  requirePeer,
  runCasync,
  writeMixedFile,
  writeRandomFile,
} from '@desync/testkit';
