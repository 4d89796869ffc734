// hyparquet-writer exports its modules under `./src/*.js` with their types under `./types/*.d.ts`, a mapping that
// this project's `node10` module resolution does not read: the modules the Parquet footer and pages use (and the
// tests' reference encoder), typed.
declare module 'hyparquet-writer/src/bloom.js' {
  export { writeBlooms } from 'hyparquet-writer/types/bloom';
}
declare module 'hyparquet-writer/src/indexes.js' {
  export { writeIndexes } from 'hyparquet-writer/types/indexes';
}
declare module 'hyparquet-writer/src/metadata.js' {
  export { writeMetadata } from 'hyparquet-writer/types/metadata';
}
declare module 'hyparquet-writer/src/datapage.js' {
  export { writePageHeader } from 'hyparquet-writer/types/datapage';
}
declare module 'hyparquet-writer/src/snappy.js' {
  export { snappyCompress } from 'hyparquet-writer/types/snappy';
}
declare module 'hyparquet-writer/src/encoding.js' {
  export { writeRleBitPackedHybrid } from 'hyparquet-writer/types/encoding';
}
