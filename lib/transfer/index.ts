export { download, upload, type DownloadOptions, type DownloadResult, type UploadOptions, type UploadResult, type UploadSource, type ReopenableSource, type TransferProgress } from './transfer';
export { openFileSource, recyclingFileStream, type FileSource, type OpenedSource } from './source';
