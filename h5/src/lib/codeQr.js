import QRCode from 'qrcode';

/** A data: URL of the registration code's QR, as the check-in desk scans it (the bare code). */
export function codeQrDataUrl(code) {
  return QRCode.toDataURL(String(code), { errorCorrectionLevel: 'M', margin: 2, width: 360, color: { dark: '#1f2329', light: '#ffffff' } });
}
