export { download, upload, type DownloadOptions, type DownloadResult, type UploadOptions, type UploadResult, type UploadSource, type TransferProgress } from './transfer';
export { openFileSource, type FileSource, type OpenedSource } from './source';
