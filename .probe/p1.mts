import { CsvRecordSplitter } from '/work/main/src/ingest/readers/csv-record-splitter.js';
import { readCsv } from '/work/main/src/ingest/readers/csv-reader.js';
const s = new CsvRecordSplitter(1024);
console.log(s.push('h1,h2\na,"b"'), s.end());
async function* gen(parts: string[]) { for (const p of parts) yield p; }
const out = [];
for await (const r of readCsv(gen(['h1,h2\r\n1,"x\r\ny"\r\n3,4\r\n']), 'f')) out.push(r);
console.log(JSON.stringify(out));
const out2 = [];
for await (const r of readCsv(gen(['h1,h2\n1,"a\r\nb"\n3,4\n5,6\n']), 'f')) out2.push(r);
console.log(JSON.stringify(out2));
const out3 = [];
for await (const r of readCsv(gen(['h1,h2\n1,2\r3,4\n5,6\n']), 'f')) out3.push(r);
console.log(JSON.stringify(out3));
