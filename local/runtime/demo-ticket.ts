import { deflateSync } from 'node:zlib';
import type { SandboxZendesk } from '../sandbox/zendesk.js';

export const DEMO_TICKET_ID = '1001';

function crc32(buffer: Buffer): number {
  let crc = ~0;
  for (const byte of buffer) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG of width x height pixels in one colour (the sandbox's "screenshots"). */
export function makePng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small valid one-page PDF with a line of text (the sandbox's "bank slips"). */
export function makePdf(text: string): Buffer {
  const stream = `BT /F1 18 Tf 40 100 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/**
 * The demo ticket: a named PDF, an extension-less PNG and an extension-less PDF (the vault detects their
 * types from the bytes), and an inline screenshot pasted into a reply.
 */
export async function seedDemoTicket(sandbox: SandboxZendesk, ticketId = DEMO_TICKET_ID): Promise<void> {
  sandbox.createTicket({ id: Number(ticketId), status: 'open', tags: ['vault_archive'] });
  sandbox.addComment(Number(ticketId), {
    body: 'Here are my ID card and my bank slip.',
    attachments: [
      { fileName: 'bank-slip.PDF', contentType: 'application/pdf', data: makePdf('Bank slip 2026-11') },
      { fileName: 'id-card-front', contentType: 'application/octet-stream', data: makePng(64, 40, [40, 90, 200]) },
    ],
  });
  sandbox.addComment(Number(ticketId), {
    body: 'And the signed form, plus a screenshot of the error.',
    attachments: [
      { fileName: 'signed form', contentType: 'application/octet-stream', data: makePdf('Signed form') },
      { fileName: 'image.png', contentType: 'image/png', data: makePng(32, 32, [220, 40, 40]), inline: true },
    ],
  });
}
