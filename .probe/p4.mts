import { CsvRecordSplitter } from '/work/main/src/ingest/readers/csv-record-splitter.js';
function run(max: number, parts: string[]) { const s = new CsvRecordSplitter(max); const out = []; for (const p of parts) out.push(...s.push(p)); out.push(...s.end()); return out; }
console.log(run(20, ['a,b\n"' + 'x'.repeat(30), 'x'.repeat(5) + '",c\nd,e\n']));
console.log(run(20, ['a,b\n"' + 'x'.repeat(10)+'\n'+'x'.repeat(20), 'x'.repeat(5) + '",c\nd,e\n']));
console.log(run(20, ['a,b\n' + 'x'.repeat(30), 'x'.repeat(5) + ',c\nd,e\n']));
