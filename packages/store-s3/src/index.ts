export type { S3Credentials, S3StoreOptions } from './s3-store.js';
export { S3Store } from './s3-store.js';
export { s3StoreScheme } from './s3-store-scheme.js';
