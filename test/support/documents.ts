/**
 * Small real documents for the files-as-text tests, built here from the formats' specifications
 * (no binary fixtures checked in): a one-page PDF 1.4 with a text object (ISO 32000-1 §7.5 file
 * structure, §9.4 text objects; one or more pages) and a minimal docx (ECMA-376 part 1: content types, the package
 * relationship and word/document.xml) in a stored (uncompressed) zip (PKWARE APPNOTE 4.3).
 */
import { crc32, deflateRawSync } from 'node:zlib';

/** A valid PDF: one page showing each of `lines`, or one page per entry of `pages`. */
export function pdfWithText(lines: string[], ...morePages: string[][]): Buffer {
  const pdfString = (text: string) => text.replace(/[\\()]/g, (c) => `\\${c}`);
  const pages = [lines, ...morePages];
  const streams = pages.map((page) =>
    [
      'BT /F1 12 Tf 72 720 Td 14 TL',
      ...page.map((line) => `(${pdfString(line)}) Tj T*`),
      'ET',
    ].join('\n'),
  );
  // Objects: 1 catalog, 2 pages, 3 font, then per page its page object and content stream.
  const pageRef = (i: number) => `${4 + 2 * i} 0 R`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${pages.map((_, i) => pageRef(i)).join(' ')}] /Count ${pages.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    ...streams.flatMap((stream, i) => [
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${5 + 2 * i} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`,
      `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
    ]),
  ];
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) body += `${String(offset).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

/** A zip of `files` (name → content); `deflate` compresses them (method 8), else stored. */
export function zip(files: Record<string, Buffer | string>, deflate = false): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const stored = deflate ? deflateRawSync(data) : data;
    const nameBytes = Buffer.from(name, 'utf8');
    const header = (central: boolean) => {
      const fixed = Buffer.alloc(central ? 46 : 30);
      let p = 0;
      fixed.writeUInt32LE(central ? 0x02014b50 : 0x04034b50, p);
      p += 4;
      if (central) {
        fixed.writeUInt16LE(20, p); // version made by
        p += 2;
      }
      fixed.writeUInt16LE(20, p); // version needed
      fixed.writeUInt16LE(0, p + 2); // flags
      fixed.writeUInt16LE(deflate ? 8 : 0, p + 4); // method
      fixed.writeUInt32LE(0, p + 6); // time + date
      fixed.writeUInt32LE(crc32(data), p + 10);
      fixed.writeUInt32LE(stored.length, p + 14);
      fixed.writeUInt32LE(data.length, p + 18);
      fixed.writeUInt16LE(nameBytes.length, p + 22);
      fixed.writeUInt16LE(0, p + 24); // extra length
      if (central) {
        // comment length, disk, internal and external attributes, local header offset
        fixed.writeUInt32LE(offset, p + 36);
      }
      return Buffer.concat([fixed, nameBytes]);
    };
    const local = Buffer.concat([header(false), stored]);
    locals.push(local);
    centrals.push(header(true));
    offset += local.length;
  }
  const central = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length, 8);
  end.writeUInt16LE(centrals.length, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, central, end]);
}

/** A minimal Word document with one paragraph per entry of `paragraphs`. */
export function docxWithText(paragraphs: string[]): Buffer {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
  return zip({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="${W}"><w:body>${paragraphs
      .map((p) => `<w:p><w:r><w:t xml:space="preserve">${esc(p)}</w:t></w:r></w:p>`)
      .join('')}</w:body></w:document>`,
  });
}
