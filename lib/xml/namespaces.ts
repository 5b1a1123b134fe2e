/** Namespace URIs used across ONVIF, with the prefixes we write them with. */
export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xml: 'http://www.w3.org/XML/1998/namespace',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  tns1: 'http://www.onvif.org/ver10/topics',
  tas: 'http://www.onvif.org/ver10/advancedsecurity/wsdl',
  ans: 'http://www.onvif.org/ver10/appmgmt/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tr2: 'http://www.onvif.org/ver20/media/wsdl',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tan: 'http://www.onvif.org/ver20/analytics/wsdl',
  tmd: 'http://www.onvif.org/ver10/deviceIO/wsdl',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsrfr: 'http://docs.oasis-open.org/wsrf/r-2',
  wsrfbf: 'http://docs.oasis-open.org/wsrf/bf-2',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsa2004: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsd: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
} as const;

/** Preferred prefix for each namespace when we serialise. */
export const PREFIX_FOR_NS: Record<string, string> = {
  [NS.soap]: 'env',
  [NS.soap11]: 'soap11',
  [NS.xsi]: 'xsi',
  [NS.xs]: 'xs',
  [NS.tds]: 'tds',
  [NS.tev]: 'tev',
  [NS.tt]: 'tt',
  [NS.ter]: 'ter',
  [NS.tns1]: 'tns1',
  [NS.tas]: 'tas',
  [NS.ans]: 'ans',
  [NS.trt]: 'trt',
  [NS.tr2]: 'tr2',
  [NS.timg]: 'timg',
  [NS.tptz]: 'tptz',
  [NS.tan]: 'tan',
  [NS.tmd]: 'tmd',
  [NS.dn]: 'dn',
  [NS.wsnt]: 'wsnt',
  [NS.wstop]: 'wstop',
  [NS.wsrfr]: 'wsrf-r',
  [NS.wsrfbf]: 'wsrf-bf',
  [NS.wsa]: 'wsa',
  [NS.wsa2004]: 'wsa',
  [NS.wsd]: 'd',
  [NS.wsse]: 'wsse',
  [NS.wsu]: 'wsu',
};

/**
 * Prefixes that real firmware uses without declaring them (QUIRKS.md §1: Reolink's `tad:`, probe
 * replies stripped of every xmlns). When a prefix is undeclared we bind it to the URI it
 * conventionally stands for; anything else gets a synthetic URI so lookups by local name still work.
 * No prototype, so a prefix such as `constructor` is unknown rather than a function.
 */
export const CONVENTIONAL_PREFIXES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  s: NS.soap, env: NS.soap, soap: NS.soap, 'SOAP-ENV': NS.soap, SOAP: NS.soap, soapenv: NS.soap,
  tds: NS.tds, tev: NS.tev, tt: NS.tt, ter: NS.ter, tns1: NS.tns1, tas: NS.tas, ans: NS.ans,
  trt: NS.trt, tr2: NS.tr2, timg: NS.timg, tptz: NS.tptz, tan: NS.tan, tad: 'http://www.onvif.org/ver10/analyticsdevice/wsdl',
  tmd: NS.tmd, dn: NS.dn, tdn: NS.dn, wsnt: NS.wsnt, wstop: NS.wstop, wsa: NS.wsa, wsa5: NS.wsa,
  wsadis: NS.wsa2004, d: NS.wsd, wsdd: NS.wsd, wsd: NS.wsd, wsse: NS.wsse, wsu: NS.wsu,
  xsi: NS.xsi, xs: NS.xs, xsd: NS.xs,
});

export const UNDECLARED_NS_PREFIX = 'urn:onvifq:undeclared:';
