/** TLS configuration of a device (Profile Q §8.3, Advanced Security `tas` + SetNetworkProtocols). */
export {
  Keystore, explainKeystoreError, readKeystoreCapabilities,
  type KeystoreCapabilities, type KeystoreInventory, type KeystoreCertificate, type KeyInfo, type CertificationPathInfo, type DnInput,
} from './keystore';
export {
  enableHttps, renewCertificate, certificateReport,
  type CertificateSource, type CertificateSourceParams, type EnableHttpsParams, type RenewCertificateParams, type HttpsResult,
  type CertificateReportParams, type CertificateReport,
} from './tasks';
export { certificateInfo, fingerprintOf, signCsr, packPkcs12, choosePkcs12Encryption, type CertificateInfo } from './crypto';
export { servedCertificates } from './probe';
