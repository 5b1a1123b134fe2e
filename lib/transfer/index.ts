export { download, upload, type DownloadOptions, type DownloadResult, type UploadOptions, type UploadResult, type UploadSource, type TransferProgress } from './transfer';
